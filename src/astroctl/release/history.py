"""A line's release history: which release each release followed (SPEC 4, ``release audit``).

Order is by version, but real dates are out of order (9.10.1 and 9.10.2 shipped after 9.11.0),
so "the release before X" is not simply the next lower version. A release's **predecessor** is the
highest lower version of the same major line that was released on or before it:

- Dates: a lower version counts when it was released on or before the release, or when either
  date is unknown (an unreleased entry follows the highest lower version of its line). Two
  releases of the same day may follow each other (5.2.0 and 5.2.1).
- Prereleases are never predecessors. A release candidate is judged against the last final
  release of its line, as its final will be; ``9.3.0`` follows ``9.2.x``, not its own
  ``9.3.0-rc.N``, whose content it has.
- Yanked releases are predecessors like any other: they shipped, and what followed them changed
  what their users ran.
- Other lines never count: 9.17.0 shipped after 11.0.0, and each is judged within its own line.

The package pins of some documented releases are unknown (the docs have no package table for
them: 4.2.8, 5.0.11, 5.0.12, 5.5.0, 6.8.0-6.10.0). A release with no pins at all is "pins
unknown", not "every package removed": :func:`baseline` steps over such releases so that the next
release with pins is compared with the last one before it that has pins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from astroctl.matrix.model import Matrix, Release


def has_pins(release: Release) -> bool:
    """Whether the release's package pins are known (it pins at least one package)."""
    return bool(release.packages)


def predecessor(matrix: Matrix, release: Release) -> Release | None:
    """The release ``release`` followed: the highest lower final version of its line released
    on or before it (rules: the module docstring); None when there is none."""
    return _predecessor(matrix.releases_of(release.major), release)


def line_history(matrix: Matrix, major: int) -> tuple[tuple[Release, Release | None], ...]:
    """Every release of line ``major`` with its predecessor, in version order."""
    return tuple((release, predecessor(matrix, release)) for release in matrix.releases_of(major))


@dataclass(frozen=True)
class Baseline:
    """What a release is judged against: its predecessor, or, when the release has pins and
    its predecessor has none, the last release before it that has pins (``over`` lists the
    pin-less releases stepped over, oldest first)."""

    release: Release | None
    over: tuple[Release, ...] = ()


def baseline(matrix: Matrix, release: Release) -> Baseline:
    """The release to judge ``release`` against (see :class:`Baseline`).

    A release without pins is judged against its predecessor (its package changes are unknown
    and not rated); a release with pins is judged against the nearest release up its chain of
    predecessors that has pins, if there is one, else against its predecessor.
    """
    return _baseline(matrix.releases_of(release.major), release)


def baselines(matrix: Matrix, releases: Sequence[Release]) -> tuple[Baseline, ...]:
    """The :func:`baseline` of each of ``releases``, reading each line of the matrix once."""
    lines = {major: matrix.releases_of(major) for major in {r.major for r in releases}}
    return tuple(_baseline(lines[release.major], release) for release in releases)


def _baseline(line: Sequence[Release], release: Release) -> Baseline:
    first = _predecessor(line, release)
    if first is None or not has_pins(release):
        return Baseline(first)
    current: Release | None = first
    over: list[Release] = []
    while current is not None and not has_pins(current):
        over.append(current)
        current = _predecessor(line, current)
    if current is None:
        return Baseline(first)
    return Baseline(current, tuple(reversed(over)))


def _predecessor(line: Sequence[Release], release: Release) -> Release | None:
    """``release``'s predecessor among ``line``, the releases of its line."""
    candidates = (
        other
        for other in line
        if not other.is_prerelease
        and other.version < release.version
        and _not_after(other, release)
    )
    return max(candidates, key=lambda other: other.version, default=None)


def _not_after(earlier: Release, later: Release) -> bool:
    if earlier.released is None or later.released is None:
        return True
    return earlier.released <= later.released


__all__ = ["Baseline", "baseline", "baselines", "has_pins", "line_history", "predecessor"]
