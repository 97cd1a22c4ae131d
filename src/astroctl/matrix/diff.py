"""The classified package changes between two releases (SPEC section 4, ``providers diff``).

Pure: no I/O, no printing. ``providers diff``, release notes and the versioning policy (SPEC
section 5) all read the same :class:`ReleaseDiff`.

Classification of a package whose version goes from ``a`` to ``b`` (PEP 440):

- ``unchanged``: ``a == b`` as versions (``1.2 == 1.2.0``); listed only on request.
- ``other``: not comparable as major/minor/patch. The epochs differ, or the release segments are
  equal (missing components count as zero) and ``a`` and ``b`` differ only by their pre, post, dev
  or local parts: ``7.0.0 -> 7.0.0+astro.2``, ``1.0 -> 1.0.post1``, ``2.0.0rc1 -> 2.0.0``. This
  holds in both directions: ``7.0.0+astro.2 -> 7.0.0`` is ``other``, not a downgrade, because the
  public release did not go back.
- ``downgrade``: ``b``'s release segment is lower than ``a``'s (``3.0.2 -> 2.2.0``).
- ``major`` / ``minor`` / ``patch``: ``b``'s release segment is higher; the first component that
  differs names the kind: the first is major, the second minor, any later one patch
  (``1.2.3 -> 1.2.4`` and ``1.2.3 -> 1.2.3.1`` are patch). Pre-releases count by their release
  segment: ``1.9 -> 2.0.0rc1`` is major.

So ``b``'s kind against ``a`` mirrors ``a``'s against ``b``: an upgrade one way is a downgrade the
other, and ``other`` and ``unchanged`` stay what they are.

Apache Airflow is the package ``apache-airflow``, its version the release's ``airflow`` field
(which wins over an ``apache-airflow`` pin in the release's packages, should one be there). Only
the standard image is compared; flavors (such as 11.x's slim image) are not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from types import MappingProxyType

from packaging.version import InvalidVersion, Version

from astroctl.errors import InputError
from astroctl.matrix.model import ChangeKind, Release
from astroctl.versions import normalize_name, parse_pep440

AIRFLOW_PACKAGE = "apache-airflow"

# The upgrade kinds, by the index of the first release component that went up.
_UPGRADES = (ChangeKind.MAJOR, ChangeKind.MINOR)

# Affixes that name the ecosystem rather than the package: what is left is a package's core name,
# and a removed and an added package with the same core look like a rename
# (``openlineage-airflow`` -> ``apache-airflow-providers-openlineage``). Longest first.
_PREFIXES = (
    "apache-airflow-providers-",
    "astronomer-providers-",
    "airflow-providers-",
    "airflow-provider-",
    "apache-airflow-",
    "airflow-",
)
_SUFFIXES = ("-airflow-provider", "-airflow-providers", "-provider", "-airflow")


@dataclass(frozen=True)
class PackageChange:
    """One package's change: ``old`` is None when it was added, ``new`` when it was removed."""

    package: str
    old: str | None
    new: str | None
    kind: ChangeKind

    @property
    def is_upgrade(self) -> bool:
        return self.kind in (ChangeKind.MAJOR, ChangeKind.MINOR, ChangeKind.PATCH)


@dataclass(frozen=True)
class Rename:
    """A removed package and an added one that look like the same package under a new name."""

    old_package: str
    new_package: str


@dataclass(frozen=True)
class ReleaseDiff:
    """The package changes from ``old`` to ``new``, Airflow first, then by package name."""

    old: Release
    new: Release
    changes: tuple[PackageChange, ...]
    # Suspected renames; each one's packages are also in ``changes`` as removed and added.
    renames: tuple[Rename, ...] = ()

    @property
    def by_kind(self) -> Mapping[ChangeKind, tuple[PackageChange, ...]]:
        """The changes grouped by kind, only kinds present, in :class:`ChangeKind` order."""
        groups = {
            kind: tuple(c for c in self.changes if c.kind is kind)
            for kind in ChangeKind
            if any(c.kind is kind for c in self.changes)
        }
        return MappingProxyType(groups)

    @property
    def airflow(self) -> PackageChange | None:
        """Airflow's change, if it is listed (changed, or unchanged on request)."""
        return self.get(AIRFLOW_PACKAGE)

    def get(self, package: str) -> PackageChange | None:
        """The change of ``package``, or None when it is not listed."""
        return next((c for c in self.changes if c.package == package), None)


def classify(old: str | Version, new: str | Version) -> ChangeKind:
    """The kind of change from version ``old`` to version ``new`` (rules: the module docstring).

    Raises :class:`InputError` when a text is not a PEP 440 version.
    """
    a, b = _version(old), _version(new)
    if a == b:
        return ChangeKind.UNCHANGED
    if a.epoch != b.epoch:
        return ChangeKind.OTHER
    for index, (x, y) in enumerate(zip_longest(a.release, b.release, fillvalue=0)):
        if x != y:
            if y < x:
                return ChangeKind.DOWNGRADE
            return _UPGRADES[index] if index < len(_UPGRADES) else ChangeKind.PATCH
    return ChangeKind.OTHER  # equal release segments: only pre, post, dev or local parts differ


def diff_releases(old: Release, new: Release, *, include_unchanged: bool = False) -> ReleaseDiff:
    """The classified changes of every package (Airflow included) from ``old`` to ``new``.

    Unchanged packages are listed only with ``include_unchanged``. Raises :class:`InputError` when
    a pinned version is not PEP 440 (a validated matrix never has one).
    """
    before, after = _pins(old), _pins(new)
    changes: list[PackageChange] = []
    for package in sorted(before.keys() | after.keys(), key=_order):
        a, b = before.get(package), after.get(package)
        if a is None:
            kind = ChangeKind.ADDED
        elif b is None:
            kind = ChangeKind.REMOVED
        else:
            try:
                kind = classify(a, b)
            except InputError as exc:
                raise InputError(f"{package} ({old.name} -> {new.name}): {exc}") from exc
        if kind is not ChangeKind.UNCHANGED or include_unchanged:
            changes.append(PackageChange(package, a, b, kind))
    return ReleaseDiff(old, new, tuple(changes), find_renames(changes))


def find_renames(changes: Sequence[PackageChange]) -> tuple[Rename, ...]:
    """Every removed package paired with each added package of the same core name.

    The core name is the name without an ecosystem prefix (``apache-airflow-providers-``,
    ``astronomer-providers-``, ``airflow-provider(s)-``, ``apache-airflow-``, ``airflow-``) and
    suffix (``-airflow``, ``-provider``, ``-airflow-provider(s)``). Airflow itself is never part of
    a rename. Sorted by old then new name.
    """
    removed = [c.package for c in changes if c.kind is ChangeKind.REMOVED]
    added = [c.package for c in changes if c.kind is ChangeKind.ADDED]
    pairs = (
        Rename(gone, came)
        for gone in removed
        for came in added
        if AIRFLOW_PACKAGE not in (gone, came) and core_name(gone) == core_name(came)
    )
    return tuple(sorted(pairs, key=lambda r: (r.old_package, r.new_package)))


def core_name(package: str) -> str:
    """A package's name without ecosystem affixes: ``openlineage-airflow`` -> ``openlineage``."""
    name = normalize_name(package)
    core = name
    for prefix in _PREFIXES:
        if core.startswith(prefix):
            core = core.removeprefix(prefix)
            break
    for suffix in _SUFFIXES:
        if core.endswith(suffix):
            core = core.removesuffix(suffix)
            break
    return core or name


def _pins(release: Release) -> dict[str, str]:
    """A release's package pins with Airflow's version as the ``apache-airflow`` pin."""
    pins = dict(release.packages)
    pins[AIRFLOW_PACKAGE] = release.airflow
    return pins


def _order(package: str) -> tuple[bool, str]:
    return (package != AIRFLOW_PACKAGE, package)


def _version(value: str | Version) -> Version:
    if isinstance(value, Version):
        return value
    try:
        return parse_pep440(value)
    except InvalidVersion:
        raise InputError(f"{value!r} is not a PEP 440 version") from None


__all__ = [
    "AIRFLOW_PACKAGE",
    "PackageChange",
    "ReleaseDiff",
    "Rename",
    "classify",
    "core_name",
    "diff_releases",
    "find_renames",
]
