"""Release selectors (SPEC section 3): ``9.2.0`` exact, ``9.2``, ``9``, ``latest``.

A prefix picks the highest matching final release, skipping yanked ones unless every match is
yanked (then the highest yanked one, with a warning). Prereleases match only when spelled exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from astroctl.errors import SelectorError
from astroctl.matrix.model import Matrix, Release
from astroctl.versions import (
    MAX_DIGITS,
    RuntimeVersionError,
    has_long_number,
    parse_runtime,
    shown,
)

# ASCII digits only (never \d: int('٩') == 9) and at most MAX_DIGITS of them (int() refuses
# more than 4300); a longer number is refused with its own message.
_NUMBER = rf"(0|[1-9][0-9]{{0,{MAX_DIGITS - 1}}})"
_PREFIX = re.compile(rf"{_NUMBER}(?:\.{_NUMBER})?")


@dataclass(frozen=True)
class Selection:
    """The release a selector picked, and a warning for stderr when it picked a yanked one."""

    selector: str
    release: Release
    warning: str | None = None


def select(matrix: Matrix, selector: str) -> Selection:
    """Resolve one selector against the matrix, or raise :class:`SelectorError` (exit 2)."""
    text = selector.strip()
    if text == "latest":
        return _highest(matrix.releases, selector, "any release")
    prefix = _PREFIX.fullmatch(text)
    if prefix is not None:
        major = int(prefix.group(1))
        minor = None if prefix.group(2) is None else int(prefix.group(2))
        candidates = _matching(matrix, major, minor)
        if not candidates:
            raise SelectorError(_nothing(matrix, selector))
        return _highest(candidates, selector, f"{text}.x")
    return _exact(matrix, selector, text)


def select_all(matrix: Matrix, selector: str) -> tuple[Release, ...]:
    """Every release a selector covers, yanked and prereleases included (for listings)."""
    text = selector.strip()
    if text == "latest":
        return matrix.releases
    prefix = _PREFIX.fullmatch(text)
    if prefix is None:
        return (_exact(matrix, selector, text).release,)
    minor = None if prefix.group(2) is None else int(prefix.group(2))
    found = tuple(
        r
        for r in matrix.releases
        if r.major == int(prefix.group(1)) and (minor is None or r.version.minor == minor)
    )
    if not found:
        raise SelectorError(_nothing(matrix, selector))
    return found


def _matching(matrix: Matrix, major: int, minor: int | None) -> list[Release]:
    return [
        r
        for r in matrix.releases
        if r.major == major and (minor is None or r.version.minor == minor)
    ]


def _highest(candidates: Iterable[Release], selector: str, scope: str) -> Selection:
    finals = sorted((r for r in candidates if not r.is_prerelease), key=lambda r: r.version)
    if not finals:
        raise SelectorError(
            f"no final release matches {shown(selector)} (prereleases only when spelled exactly)"
        )
    good = [r for r in finals if not r.is_yanked]
    if good:
        return Selection(selector, good[-1])
    chosen = finals[-1]
    return Selection(
        selector,
        chosen,
        f"every release of {scope} is yanked; using {chosen.name} (yanked: {chosen.yanked})",
    )


def _exact(matrix: Matrix, selector: str, text: str) -> Selection:
    try:
        wanted = parse_runtime(text)
    except RuntimeVersionError:
        if has_long_number(text):
            raise SelectorError(
                f"{shown(selector)} is not a release selector: "
                f"a number in it has more than {MAX_DIGITS} digits"
            ) from None
        raise SelectorError(
            f"{shown(selector)} is not a release selector; use a version (9.2.0, 9.3.0-rc.1), "
            "a line prefix (9.2, 9) or 'latest'"
        ) from None
    for release in matrix.releases:
        if release.version == wanted:
            warning = None
            if release.is_yanked:
                warning = f"{release.name} is yanked: {release.yanked}"
            return Selection(selector, release, warning)
    raise SelectorError(_nothing(matrix, selector))


def _nothing(matrix: Matrix, selector: str) -> str:
    if not matrix.releases:
        return f"no release matches {shown(selector)}: the matrix has no releases"
    major_text = selector.strip().split(".")[0]
    same_line = [r for r in matrix.releases if str(r.major) == major_text]
    if same_line:
        hint = f"line {major_text} has {same_line[0].name} to {same_line[-1].name}"
    else:
        majors = sorted({r.major for r in matrix.releases})
        hint = f"the matrix has lines {majors[0]} to {majors[-1]}"
    return f"no release matches {shown(selector)}; {hint}"
