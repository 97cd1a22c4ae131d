"""Write newer package versions into an unreleased entry (``providers update``).

A plan, then apply: :func:`plan_update` is pure and returns the whole matrix as it will be;
:func:`apply_update` is the only writer (atomically, through the matrix store, never to the
embedded default). A released entry is never changed: the pins go into an unreleased entry
(one without a ``released`` date), or into a new one that starts from the selected release's
content (``--new``; its version is chosen by the caller).

A flavor (such as 11.x's ``slim`` image) is a subset of the standard image: a package it pins
gets the same new version.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from astroctl.errors import InputError
from astroctl.matrix import store
from astroctl.matrix.diff import PackageChange, diff_releases
from astroctl.matrix.model import Matrix, Release
from astroctl.matrix.store import MatrixSource
from astroctl.versions import RuntimeVersion


@dataclass(frozen=True)
class UpdatePlan:
    """What ``providers update`` will write."""

    base: Release  # the release the pins were read from
    entry: Release  # the entry as it will be written
    created: bool  # a new entry, rather than an unreleased one updated in place
    changes: tuple[PackageChange, ...]  # the package changes from ``base`` to ``entry``
    matrix: Matrix  # the whole matrix after the update

    @property
    def empty(self) -> bool:
        """Nothing to write: no package changes and no entry to create."""
        return not self.changes and not self.created


def require_unreleased(release: Release, *, new: bool) -> None:
    """Refuse to change a released entry in place (``new``: a new entry is made from it)."""
    if not new and release.released is not None:
        raise InputError(
            f"{release.name} was released on {release.released.isoformat()}; a released entry "
            "is never changed: use --new to start the next version from it, or select an "
            "unreleased entry"
        )


def plan_update(
    matrix: Matrix,
    release: Release,
    pins: Mapping[str, str],
    *,
    version: RuntimeVersion | None = None,
) -> UpdatePlan:
    """The matrix with ``pins`` (package -> new version) written into ``release`` or, with
    ``version``, into a new unreleased entry of that version with ``release``'s content.

    Raises :class:`InputError` when ``release`` is released and no ``version`` is given, or when
    ``version`` is taken.
    """
    require_unreleased(release, new=version is not None)
    if version is not None and any(r.version == version for r in matrix.releases):
        raise InputError(f"{version} already exists; a release never reuses a version")
    unknown = sorted(set(pins) - set(release.packages))
    if unknown:
        raise InputError(f"{release.name} does not pin {', '.join(unknown)}")
    entry = dataclasses.replace(
        release,
        packages=_pinned(release.packages, pins),
        flavors=MappingProxyType(
            {name: _pinned(packages, pins) for name, packages in release.flavors.items()}
        ),
    )
    if version is not None:
        entry = dataclasses.replace(entry, version=version, released=None, yanked=None, notes=())
    others = (r for r in matrix.releases if r.version != entry.version)
    releases = tuple(sorted((*others, entry), key=lambda r: r.version))
    changes = diff_releases(release, entry).changes
    return UpdatePlan(
        release, entry, version is not None, changes, dataclasses.replace(matrix, releases=releases)
    )


def _pinned(packages: Mapping[str, str], pins: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({name: pins.get(name, pin) for name, pin in packages.items()})


def apply_update(source: MatrixSource, plan: UpdatePlan) -> None:
    """Write the plan's matrix to its file, atomically; the text is checked to read back as a
    valid matrix first. Refuses the embedded default."""
    source.require_writable()
    store.loads(store.dumps(plan.matrix), str(source.path))
    store.save(source, plan.matrix)


__all__ = ["UpdatePlan", "apply_update", "plan_update", "require_unreleased"]
