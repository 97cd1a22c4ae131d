"""A release's packages (``providers list``) and the changes between two releases (``diff``).

Pure: no I/O. The classification itself is :mod:`astroctl.matrix.diff`'s; this module chooses
the image (the standard one, or a flavor such as 11.x's ``slim``), attaches the matrix's facts
about each package, and counts the changes for a summary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from astroctl.errors import InputError
from astroctl.matrix.diff import ReleaseDiff, diff_releases
from astroctl.matrix.model import ChangeKind, Matrix, Release


@dataclass(frozen=True)
class ListedPackage:
    """One pinned package and what the matrix knows about it."""

    package: str
    version: str
    maintained: bool = False
    runtime_only: bool = False
    index: str | None = None  # served from this index instead of the public one


@dataclass(frozen=True)
class PackageListing:
    """The packages of one image of a release, sorted by name."""

    release: Release
    flavor: str | None  # None: the standard image
    packages: tuple[ListedPackage, ...]

    @property
    def maintained(self) -> int:
        return sum(p.maintained for p in self.packages)

    @property
    def runtime_only(self) -> int:
        return sum(p.runtime_only for p in self.packages)


def flavored(release: Release, flavor: str | None) -> Release:
    """``release`` with the packages of ``flavor`` (None: the standard image, as it is).

    Raises :class:`InputError` when the release has no such flavor, naming those it has.
    """
    if flavor is None:
        return release
    pins = release.flavors.get(flavor)
    if pins is None:
        if release.flavors:
            known = ", ".join(sorted(release.flavors))
            raise InputError(f"{release.name} has no flavor {flavor!r}; its flavors: {known}")
        raise InputError(f"{release.name} has no flavor {flavor!r}; it has only the standard image")
    return dataclasses.replace(release, packages=MappingProxyType(dict(pins)))


def list_packages(matrix: Matrix, release: Release, flavor: str | None = None) -> PackageListing:
    """The packages ``release`` pins (in ``flavor``'s image, if given) with their facts."""
    image = flavored(release, flavor)
    packages = []
    for name in sorted(image.packages):
        facts = matrix.facts(name)
        packages.append(
            ListedPackage(
                name,
                image.packages[name],
                maintained=facts.maintained,
                runtime_only=facts.runtime_only,
                index=facts.index,
            )
        )
    return PackageListing(release, flavor, tuple(packages))


def compare(
    old: Release,
    new: Release,
    *,
    include_unchanged: bool = False,
    flavor: str | None = None,
) -> ReleaseDiff:
    """The classified changes from ``old`` to ``new`` (of ``flavor``'s image, if given)."""
    return diff_releases(
        flavored(old, flavor), flavored(new, flavor), include_unchanged=include_unchanged
    )


def counts(diff: ReleaseDiff) -> Mapping[ChangeKind, int]:
    """How many changes of each kind, only kinds present, in :class:`ChangeKind` order."""
    return MappingProxyType({kind: len(changes) for kind, changes in diff.by_kind.items()})


__all__ = [
    "ListedPackage",
    "PackageListing",
    "compare",
    "counts",
    "flavored",
    "list_packages",
]
