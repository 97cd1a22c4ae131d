"""``release audit`` (SPEC section 4): every release judged against its predecessor.

Each release is checked (:func:`astroctl.release.policy.check`) against the release it followed
(:func:`astroctl.release.history.predecessor`) under the policy in force on its release date, so
a release of 2022 is judged by the rules of 2022 (dated ``[[policy.rules]]``). A release with no
predecessor is not judged: it is the first release of its line (a major release by definition),
or no lower release of its line was released on or before it. A release with package pins whose
predecessor has none is judged against the last release before it that has pins
(:func:`astroctl.release.history.baseline`; the check's ``over`` names the releases spanned).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from astroctl.matrix.model import Matrix, Release
from astroctl.release.history import baselines
from astroctl.release.policy import Check, check


@dataclass(frozen=True)
class Skip:
    """A release the audit did not judge, and why (``first`` for the first release of a line)."""

    release: Release
    reason: str
    first: bool = True


@dataclass(frozen=True)
class Audit:
    """The audit's checks, in the order of the releases audited, and the releases skipped."""

    entries: tuple[Check, ...]
    skipped: tuple[Skip, ...] = ()

    @property
    def violations(self) -> tuple[Check, ...]:
        """The releases that bumped less than their changes required."""
        return tuple(entry for entry in self.entries if not entry.ok)

    @property
    def ok(self) -> bool:
        return not self.violations


def audit(matrix: Matrix, releases: Sequence[Release] | None = None) -> Audit:
    """Judge ``releases`` (default: every release of the matrix, in version order) against their
    predecessors under ``matrix.policy``."""
    entries: list[Check] = []
    skipped: list[Skip] = []
    chosen = matrix.releases if releases is None else tuple(releases)
    for release, base in zip(chosen, baselines(matrix, chosen), strict=True):
        if base.release is None:
            skipped.append(_skip(matrix, release))
        else:
            entries.append(check(base.release, release, matrix.policy, over=base.over))
    return Audit(tuple(entries), tuple(skipped))


def _skip(matrix: Matrix, release: Release) -> Skip:
    lower = [
        other
        for other in matrix.releases_of(release.major)
        if not other.is_prerelease and other.version < release.version
    ]
    if not lower:
        return Skip(release, f"first release of line {release.major}")
    return Skip(
        release,
        f"no lower release of line {release.major} was released on or before it "
        f"({release.released})",
        first=False,
    )


__all__ = ["Audit", "Skip", "audit"]
