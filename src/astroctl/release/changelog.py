"""CHANGELOG.md: the runtime's release notes, one section per release, newest first.

The file is a preamble (a ``# `` title and a paragraph or two) and then one section per release,
each starting ``## Astro Runtime <version>`` and running to the next. Sections are ordered by
version (semver precedence), never by date: 9.10.1 shipped after 9.11.0 and is listed below it.

:func:`parse` refuses, naming the file and the line, what it could not write back without losing
or misplacing something: a file that does not open with a ``# `` title, a heading before the
first release, a ``## `` heading that is not ``## Astro Runtime <semver>``, a second title, the
same version twice, and sections out of order. Anything else inside a section is its text, kept
as it is (hand-written prose, ``###`` subsections, fenced code holding ``##`` lines). Blank lines
between sections are normalised to one, and line endings to ``\\n``; so ``render(parse(x)) == x``
for every file astroctl wrote, and :func:`upsert` twice is :func:`upsert` once.

A final release folds its prereleases in (SPEC section 7): upserting ``9.3.0`` drops the
sections of ``9.3.0-rc.1``, ``9.3.0-rc.2``..., and :func:`generate` lists a prerelease only until
its final release exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from astroctl.errors import InputError
from astroctl.matrix.model import Matrix, Release
from astroctl.release import notes as release_notes
from astroctl.seams import fs
from astroctl.versions import RuntimeVersion, RuntimeVersionError, parse_runtime, shown

DEFAULT_PREAMBLE = (
    "# Astro Runtime release notes\n"
    "\n"
    "Newest first. This file is the runtime's release log, written by astroctl's release "
    "commands;\n"
    "code changes to astroctl itself are described in its commit messages, not here.\n"
)
MAX_BYTES = 64 * 1024 * 1024
HEADING = release_notes.HEADING  # "## Astro Runtime "
# An ATX heading (CommonMark allows up to three spaces of indentation).
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]|$)")
# The start of a fenced code block: its fence (``` or ~~~, three or more).
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")

PreviousOf = Callable[[Release], Release | None]


@dataclass(frozen=True)
class ChangelogSection:
    """One release's section: its version and its text (heading included, one final newline)."""

    version: str
    text: str


@dataclass(frozen=True)
class Changelog:
    """The preamble (title and paragraphs, one final newline) and the sections, newest first."""

    preamble: str
    sections: tuple[ChangelogSection, ...]

    def get(self, version: str) -> ChangelogSection | None:
        return next((s for s in self.sections if s.version == version), None)

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(s.version for s in self.sections)


class Drift(StrEnum):
    """How a changelog's section differs from the one the matrix gives."""

    MISSING = "missing"  # the release has no section
    EXTRA = "extra"  # a section for a release the matrix does not have
    DIFFERS = "differs"  # the section's text is not the generated one


@dataclass(frozen=True)
class Difference:
    version: str
    drift: Drift


# -- parsing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """A run of lines: the preamble (``version`` None) or a release's section."""

    version: RuntimeVersion | None
    line: int  # 1-based number of its first line
    lines: tuple[str, ...]


def parse(text: str, source: str) -> Changelog:
    """Read a changelog's text; ``source`` names it in errors.

    An empty (or blank) text is a new changelog: the default preamble and no sections.
    Raises :class:`InputError` naming ``source`` and the line for what it refuses (module doc).
    """
    if not text.strip():
        return Changelog(DEFAULT_PREAMBLE, ())
    blocks = _blocks(text.split("\n"), source)
    preamble, *sections = blocks
    _check_preamble(preamble, source)
    _check_order(sections, source)
    return Changelog(
        _joined(preamble.lines),
        tuple(ChangelogSection(str(b.version), _joined(b.lines)) for b in sections),
    )


def _blocks(lines: list[str], source: str) -> list[_Block]:
    """The preamble block, then one block per ``## Astro Runtime`` heading."""
    blocks: list[_Block] = []
    start: int = 1
    version: RuntimeVersion | None = None
    current: list[str] = []
    titles = 0
    for number, line, level in _headings(lines):
        if level == 2:
            blocks.append(_Block(version, start, tuple(current)))
            start, version, current = number, _heading_version(line, number, source), [line]
            continue
        if level == 1:
            titles += 1
            if titles > 1 or blocks:
                raise InputError(f"{source}: line {number}: a second '# ' title")
        elif level is not None and not blocks:
            raise InputError(
                f"{source}: line {number}: a heading before the first release section "
                f"({shown(line.strip())}); only the title and prose may come before it"
            )
        current.append(line)
    blocks.append(_Block(version, start, tuple(current)))
    return blocks


def _headings(lines: list[str]) -> Iterator[tuple[int, str, int | None]]:
    """Each line (its ``\\r`` dropped) with its number and its heading level, None if not one.

    Lines inside fenced code blocks are never headings.
    """
    fence: str | None = None
    for index, raw in enumerate(lines):
        line = raw.removesuffix("\r")
        opening = _FENCE.match(line)
        if fence is not None:
            if opening is not None and _closes(opening.group(1), fence, line):
                fence = None
            yield index + 1, line, None
        elif opening is not None and not (
            opening.group(1)[0] == "`" and "`" in line[opening.end() :]
        ):
            fence = opening.group(1)
            yield index + 1, line, None
        else:
            heading = _ATX.match(line)
            yield index + 1, line, len(heading.group(1)) if heading else None


def _closes(run: str, fence: str, line: str) -> bool:
    """Whether ``line`` (starting with ``run``) closes a code block opened by ``fence``."""
    return run[0] == fence[0] and len(run) >= len(fence) and not line.strip().strip(run[0])


def _heading_version(line: str, number: int, source: str) -> RuntimeVersion:
    if not line.startswith(HEADING):
        raise InputError(
            f"{source}: line {number}: {shown(line.strip())} is not a release heading "
            f"('{HEADING}<version>'); other '## ' headings would be lost when the file is written"
        )
    text = line.removeprefix(HEADING).rstrip()
    try:
        return parse_runtime(text)
    except RuntimeVersionError as exc:
        raise InputError(f"{source}: line {number}: {exc}") from None


def _check_preamble(preamble: _Block, source: str) -> None:
    for number, line in enumerate(preamble.lines, start=1):
        if not line.strip():
            continue
        if _ATX.match(line) is None or not line.lstrip().startswith("# "):
            raise InputError(
                f"{source}: line {number}: expected the file's '# ' title before anything else, "
                f"got {shown(line.strip())}"
            )
        return
    raise InputError(f"{source}: line 1: the file has no '# ' title before its first release")


def _check_order(sections: list[_Block], source: str) -> None:
    seen: dict[RuntimeVersion, int] = {}
    newer: RuntimeVersion | None = None
    for block in sections:
        version = block.version
        if version is None:  # only the preamble has none
            continue
        if version in seen:
            raise InputError(
                f"{source}: line {block.line}: a second section for {version} "
                f"(the first is at line {seen[version]})"
            )
        seen[version] = block.line
        if newer is not None and version > newer:
            raise InputError(
                f"{source}: line {block.line}: {version} comes after {newer}; "
                "sections go newest first by version"
            )
        newer = version


def _joined(lines: Iterable[str]) -> str:
    """Lines as text without leading or trailing blank lines, ending in one newline."""
    kept = [line.removesuffix("\r") for line in lines]
    while kept and not kept[-1].strip():
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return "".join(f"{line}\n" for line in kept)


# -- changing and writing -----------------------------------------------------------------------


def upsert(changelog: Changelog, version: str, section_markdown: str) -> Changelog:
    """``changelog`` with ``version``'s section inserted, or replaced, in version order.

    ``section_markdown`` must be that release's section (``## Astro Runtime <version>`` first,
    no other ``#``/``##`` heading). A final release's prereleases' sections are dropped: their
    notes fold into it. Raises :class:`InputError` for a bad version or section.
    """
    wanted = _version(version)
    section = _section(section_markdown, wanted)
    kept = [
        s
        for s in changelog.sections
        if s.version != section.version and not _folds_into(parse_runtime(s.version), wanted)
    ]
    position = next((i for i, s in enumerate(kept) if parse_runtime(s.version) < wanted), len(kept))
    kept.insert(position, section)
    return Changelog(changelog.preamble, tuple(kept))


def remove(changelog: Changelog, version: str) -> Changelog:
    """``changelog`` without ``version``'s section (unchanged when it has none)."""
    wanted = _version(version)
    kept = tuple(s for s in changelog.sections if parse_runtime(s.version) != wanted)
    return Changelog(changelog.preamble, kept)


def render(changelog: Changelog) -> str:
    """The changelog's text: the preamble, then each section after one blank line."""
    parts = [changelog.preamble] if changelog.preamble else []
    parts.extend(section.text for section in changelog.sections)
    return "\n".join(parts)


def load(path: Path) -> Changelog:
    """The changelog at ``path``; a new one (default preamble, no section) when there is none."""
    try:
        text = _read_text(path)
    except FileNotFoundError:
        return Changelog(DEFAULT_PREAMBLE, ())
    return parse(text, str(path))


def write(path: Path, text: str) -> None:
    """Write the changelog's text atomically."""
    fs.write_text(path, text)


# -- the whole history --------------------------------------------------------------------------


def sections_of(matrix: Matrix, previous_of: PreviousOf) -> tuple[ChangelogSection, ...]:
    """Every release's section, newest first; a prerelease only while its final is not there."""
    finals = {_triple(r.version) for r in matrix.releases if not r.is_prerelease}
    shown_releases = [
        r for r in matrix.releases if not (r.is_prerelease and _triple(r.version) in finals)
    ]
    return tuple(
        ChangelogSection(
            release.name,
            release_notes.to_markdown(
                release_notes.release_notes(matrix, release, previous_of(release))
            ),
        )
        for release in sorted(shown_releases, key=lambda r: r.version, reverse=True)
    )


def generate(matrix: Matrix, previous_of: PreviousOf, preamble: str = DEFAULT_PREAMBLE) -> str:
    """The whole CHANGELOG.md for every release of ``matrix``, newest first.

    ``previous_of`` gives the release a release's notes are written against: the previous
    release of its line, ``lambda r: history.predecessor(matrix, r)``.
    """
    return render(Changelog(preamble, sections_of(matrix, previous_of)))


def differences(path: Path, matrix: Matrix, previous_of: PreviousOf) -> tuple[Difference, ...]:
    """How the changelog at ``path`` differs from :func:`generate`'s, section by section.

    The preamble is the file's own and is not compared. Newest first.
    """
    actual = {s.version: s.text for s in load(path).sections}
    expected = {s.version: s.text for s in sections_of(matrix, previous_of)}
    found: list[Difference] = []
    for version in expected.keys() | actual.keys():
        if version not in actual:
            found.append(Difference(version, Drift.MISSING))
        elif version not in expected:
            found.append(Difference(version, Drift.EXTRA))
        elif actual[version] != expected[version]:
            found.append(Difference(version, Drift.DIFFERS))
    return tuple(sorted(found, key=lambda d: parse_runtime(d.version), reverse=True))


def check(path: Path, matrix: Matrix, previous_of: PreviousOf) -> list[str]:
    """The versions whose section in ``path`` is missing, extra or differs; empty when current."""
    return [d.version for d in differences(path, matrix, previous_of)]


# -- helpers ------------------------------------------------------------------------------------


def _version(text: str) -> RuntimeVersion:
    try:
        return parse_runtime(text)
    except RuntimeVersionError as exc:
        raise InputError(str(exc)) from None


def _section(markdown: str, version: RuntimeVersion) -> ChangelogSection:
    """Check a release's section text and normalise its blank lines."""
    source = f"the section of {version}"
    blocks = _blocks(markdown.split("\n"), source)
    preamble, *sections = blocks
    if _joined(preamble.lines) or len(sections) != 1:
        raise InputError(
            f"{source} must be one section starting '{HEADING}{version}', "
            f"got {len(sections)} release headings"
        )
    if sections[0].version != version:
        raise InputError(f"{source} is headed {sections[0].version}")
    return ChangelogSection(str(version), _joined(sections[0].lines))


def _triple(version: RuntimeVersion) -> tuple[int, int, int]:
    return (version.major, version.minor, version.patch)


def _folds_into(candidate: RuntimeVersion, final: RuntimeVersion) -> bool:
    """Whether ``candidate`` is a prerelease of the final release ``final``."""
    return (
        final.prerelease is None
        and candidate.prerelease is not None
        and _triple(candidate) == _triple(final)
    )


def _read_text(path: Path) -> str:
    return fs.read_text(path, what="changelog", limit=MAX_BYTES)


__all__ = [
    "DEFAULT_PREAMBLE",
    "Changelog",
    "ChangelogSection",
    "Difference",
    "Drift",
    "check",
    "differences",
    "generate",
    "load",
    "parse",
    "remove",
    "render",
    "sections_of",
    "upsert",
    "write",
]
