"""The next version of a line: semver bumps, release candidates, and the base they start from.

Versions only ever go up within a line, and a release never reuses a version: the next patch of
9.10 is 9.10.3 even when 9.17.0 exists, and a minor of line 9 starts from the highest 9.x.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from astroctl.errors import InputError
from astroctl.matrix.model import Level, Matrix, Release
from astroctl.versions import RuntimeVersion, parse_runtime

PRERELEASE_LABELS = ("rc",)
_RC = re.compile(r"rc\.([0-9]{1,9})")


def line_releases(matrix: Matrix, line: str | None) -> tuple[Release, ...]:
    """The releases of a line selector (``9``, ``9.10``), or of the highest line with releases.

    Raises :class:`InputError` for an unknown line, naming the lines there are.
    """
    if not matrix.releases:
        raise InputError("the matrix has no releases to start from")
    if line is None:
        major = matrix.releases[-1].major
        return matrix.releases_of(major)
    parts = line.strip().split(".")
    if not 1 <= len(parts) <= 2 or not all(
        p.isascii() and p.isdigit() and len(p) < 10 for p in parts
    ):
        raise InputError(f"line {line!r} is not a line such as 9 or 9.10")
    major = int(parts[0])
    minor = int(parts[1]) if len(parts) == 2 else None
    found = tuple(r for r in matrix.releases_of(major) if minor is None or r.version.minor == minor)
    if not found:
        majors = sorted({r.major for r in matrix.releases})
        known = f"lines {majors[0]} to {majors[-1]}" if majors else "no lines"
        raise InputError(f"line {line!r} has no releases; the matrix has {known}")
    return found


def base_of(releases: Sequence[Release]) -> Release:
    """The release a new one starts from: the highest final release (yanked ones count: a
    version is never reused), or the highest prerelease when there is no final."""
    finals = [r for r in releases if not r.is_prerelease]
    return max(finals or releases, key=lambda r: r.version)


def core(version: RuntimeVersion) -> tuple[int, int, int]:
    return (version.major, version.minor, version.patch)


def next_core(base: RuntimeVersion, level: Level, highest_major: int) -> tuple[int, int, int]:
    """MAJOR.MINOR.PATCH after ``base`` at ``level`` (a major starts after the highest line)."""
    if level is Level.MAJOR:
        return (highest_major + 1, 0, 0)
    if level is Level.MINOR:
        return (base.major, base.minor + 1, 0)
    return (base.major, base.minor, base.patch + 1)


def candidate_number(version: RuntimeVersion) -> int | None:
    """N of an ``-rc.N`` prerelease; None for a final release or another prerelease."""
    if version.prerelease is None:
        return None
    match = _RC.fullmatch(version.prerelease)
    return int(match.group(1)) if match else None


def next_version(matrix: Matrix, target: tuple[int, int, int], pre: str | None) -> RuntimeVersion:
    """``target`` itself, or its next release candidate (``-rc.1``, then ``-rc.2`` ...).

    Refuses a version the matrix already has (a final release of ``target``, for a candidate).
    """
    text = ".".join(map(str, target))
    existing = {r.version for r in matrix.releases}
    final = parse_runtime(text)
    if final in existing:
        raise InputError(f"{text} already exists; a release never reuses a version")
    if pre is None:
        return final
    if pre not in PRERELEASE_LABELS:
        raise InputError(f"--pre {pre!r} is not a prerelease label; use rc")
    numbers = [
        n
        for r in matrix.releases
        if core(r.version) == target and (n := candidate_number(r.version)) is not None
    ]
    return parse_runtime(f"{text}-{pre}.{max(numbers, default=0) + 1}")


def candidates_of(matrix: Matrix, target: tuple[int, int, int]) -> tuple[Release, ...]:
    """The release candidates of ``target``, in order."""
    return tuple(
        r
        for r in matrix.releases
        if core(r.version) == target and candidate_number(r.version) is not None
    )
