"""The release notes of one release (SPEC section 7), in the style of Astro Runtime's.

A release's notes are one markdown section::

    ## Astro Runtime 9.2.0

    - Release date: October 12, 2023
    - Airflow version: 2.7.2
    - Yanked: serious scheduler performance problems      (a yanked release only)
    - Package changes: unknown; 6.8.0 records no ...      (pins missing on either side)

    ### Airflow 2.7.2                                      (Airflow changed)
    ### Breaking changes                                   (breaking notes, removals, downgrades)
    ### Backported Airflow bug fixes                       (backport notes)
    ### Additional improvements                            (features, improvements, packages)
    ### Bug fixes                                          (bugfix notes)
    ### Security fixes                                     (security notes, CVE ids linked)

Only the sections that have items appear, always in that order, every item one list item.
Backports get their own section, as in the real notes (which call it "Backported Airflow bug
fixes" or "Early access Airflow bug fixes"), placed where the real notes place it: before the
improvements.

What goes where:

- ``Airflow X.Y.Z``: when Airflow changed against the previous release (always for the first
  release of a line, which has none), with a link to Apache Airflow's notes for that version; a
  local build such as ``2.7.2+astro.1`` links its public version's notes.
- ``Breaking changes``: breaking notes, then an Airflow downgrade, a default Python or OS that
  changed, a Python distribution or an architecture removed, then every package removed or
  downgraded.
- ``Additional improvements``: feature and improvement notes, in the order given; then every
  change of a maintained package (``[packages.NAME] maintained = true``), linked to its changelog;
  then a Python distribution or an architecture added; then the other packages' changes, by
  name: "Upgraded `apache-airflow-providers-amazon` to 8.10.0.", "Added ...", "Changed ..."
  (a change that is no upgrade, such as a local build).

The package changes are :func:`astroctl.matrix.diff.diff_releases` against ``previous``: the
caller passes the previous release of the line (``release.history.predecessor``); with none, no
package is listed. Nor are they when one of the two releases records no package at all: the real
history lacks the provider tables of a few releases, and "removed every package" would be false.

User text (notes, yank reasons, the OS name) is escaped, never interpreted: see :func:`escape`.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Any

from astroctl.matrix.diff import AIRFLOW_PACKAGE, PackageChange, ReleaseDiff, diff_releases
from astroctl.matrix.model import ChangeKind, Matrix, NoteType, Release, ReleaseNote
from astroctl.release.fragments import CVE_ID
from astroctl.versions import InvalidVersion, parse_pep440

HEADING = "## Astro Runtime "
AIRFLOW_NOTES_URL = "https://airflow.apache.org/docs/apache-airflow/{version}/release_notes.html"
CVE_URL = "https://www.cve.org/CVERecord?id={id}"

BREAKING = "Breaking changes"
BACKPORTS = "Backported Airflow bug fixes"
IMPROVEMENTS = "Additional improvements"
BUG_FIXES = "Bug fixes"
SECURITY = "Security fixes"
# Sections by the note types they take, in the order they appear (after the Airflow section).
SECTION_ORDER = (BREAKING, BACKPORTS, IMPROVEMENTS, BUG_FIXES, SECURITY)
_SECTION_OF: Mapping[NoteType, str] = MappingProxyType(
    {
        NoteType.BREAKING: BREAKING,
        NoteType.BACKPORT: BACKPORTS,
        NoteType.FEATURE: IMPROVEMENTS,
        NoteType.IMPROVEMENT: IMPROVEMENTS,
        NoteType.BUGFIX: BUG_FIXES,
        NoteType.SECURITY: SECURITY,
    }
)
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# -- escaping -----------------------------------------------------------------------------------
# Line breaks of any kind, and runs of blank space, become one space: a note is one list item.
_BLANKS = re.compile(r"[ \t\n\r\v\f\x1c-\x1f\x85\u2028\u2029]+")
# Characters markdown (CommonMark, GitHub's extensions) may read as markup anywhere in a line:
# emphasis, code, links and images, raw HTML and autolinks, headings, tables, strikethrough, math.
_MARKUP = re.compile(r"[\\`*_\[\]<>#|~$!]")
# '&' only where it would start an entity reference (``&lt;``, ``&#60;``).
_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
# At the start of an item: a bullet or an ordered-list marker would open a nested list.
_LEADING_MARKER = re.compile(r"^([-+]|[0-9]+[.)])")
# What a terminal or an editor would act on instead of showing (as render.streams escapes them):
# the C0 controls, DEL and the C1 controls, and the bidi controls.
_CONTROL_TABLE: Mapping[int, str] = MappingProxyType(
    {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}
    | {
        code: f"\\u{code:04x}"
        for code in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
    }
)
_BACKTICKS = re.compile(r"`+")
# Characters a link destination may not hold as they are; everything else stays readable.
_URL_SAFE = ":/?#[]@!$&'*+,;=%-._~"


def escape(text: str, *, item: bool = False) -> str:
    r"""``text`` as markdown that renders as exactly that text, on one line.

    - every run of blank space or line breaks (``\n``, ``\r``, tab, form feed, the Unicode line
      and paragraph separators) becomes one space, and the ends are stripped: a note is one list
      item, never a paragraph break or a new block;
    - ``\ ` * _ [ ] < > # | ~ $ !`` are backslash-escaped everywhere, so no emphasis, code
      span, link, image (a ``!`` before a CVE link astroctl adds), raw HTML, autolink, heading,
      table cell, strikethrough or math can form; HTML such as ``<script>`` shows as text;
    - ``&`` is escaped where it would start an entity (``\&lt;`` shows as ``&lt;``);
    - with ``item`` (the text starts a list item), a leading ``-``, ``+`` or ``1.`` / ``1)`` is
      escaped, so it opens no nested list (``#``, ``>``, ``*`` and fences are escaped anyway);
    - control characters (C0, DEL, C1, bidi controls) are shown as escapes, ESC as ``\x1b``.
    """
    flat = _BLANKS.sub(" ", text).strip()
    marked = _MARKUP.sub(lambda m: "\\" + m.group(0), flat)
    marked = _ENTITY.sub(r"\\&", marked)
    if item:
        marked = _LEADING_MARKER.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], marked)
    return marked.translate(_CONTROL_TABLE)


def code(text: str) -> str:
    """``text`` as a code span, whatever backticks it holds."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def link(title: str, url: str) -> str:
    """A markdown link; ``title`` is markdown already, ``url`` is made a safe destination."""
    return f"[{title}]({safe_url(url)})"


def safe_url(url: str) -> str:
    """``url`` with spaces, parentheses, angle brackets and other unsafe characters encoded."""
    return urllib.parse.quote(url, safe=_URL_SAFE)


# -- the structured notes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A ``###`` section: its title and its list items, both markdown."""

    title: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Link:
    """A link the notes carry: Airflow's release notes, a package changelog, a CVE record."""

    title: str
    url: str


@dataclass(frozen=True)
class ReleaseNotes:
    """The notes of one release, before they are drawn as markdown or JSON."""

    version: str
    previous: str | None
    date: date | None
    airflow: str
    airflow_changed: bool
    yanked: str | None
    sections: tuple[Section, ...]
    changes: tuple[PackageChange, ...]  # the diff against ``previous``, Airflow included
    prerelease: bool = False
    links: tuple[Link, ...] = ()
    # The previous release, this one or both, when it records no package at all (the real
    # history has no provider table for a few releases): package changes are then not listed,
    # since "every package removed" would be false, and the notes say they are unknown.
    unrecorded: tuple[str, ...] = ()


def release_notes(
    matrix: Matrix,
    release: Release,
    previous: Release | None,
    notes: Sequence[ReleaseNote] | None = None,
) -> ReleaseNotes:
    """The notes of ``release``: its change notes (default: ``release.notes``) and its changes
    against ``previous``, the previous release of its line (None for a line's first release)."""
    diff = diff_releases(previous, release) if previous is not None else None
    unrecorded = _unrecorded(previous, release)
    if diff is not None and unrecorded:
        diff = replace(diff, changes=tuple(c for c in diff.changes if c.package == AIRFLOW_PACKAGE))
    builder = _Builder(matrix)
    for note in release.notes if notes is None else notes:
        builder.note(note)
    airflow_changed = diff is None or diff.airflow is not None
    if airflow_changed:
        builder.airflow(release, diff)
    if previous is not None and diff is not None:
        builder.platform(previous, release)
        builder.packages(diff)
    sections = builder.sections()
    return ReleaseNotes(
        version=release.name,
        previous=previous.name if previous is not None else None,
        date=release.released,
        airflow=release.airflow,
        airflow_changed=airflow_changed,
        yanked=release.yanked,
        sections=sections,
        changes=diff.changes if diff is not None else (),
        prerelease=release.is_prerelease,
        links=_in_order(builder.links, sections),
        unrecorded=unrecorded,
    )


def to_markdown(notes: ReleaseNotes) -> str:
    """The release's changelog section, ending in one newline."""
    lines = [
        f"{HEADING}{notes.version}",
        "",
        f"- Release date: {long_date(notes.date)}",
        f"- Airflow version: {escape(notes.airflow)}",
    ]
    if notes.yanked is not None:
        lines.append(f"- Yanked: {escape(notes.yanked)}")
    if notes.unrecorded:
        which = " and ".join(notes.unrecorded)
        verb = "records" if len(notes.unrecorded) == 1 else "record"
        lines.append(f"- Package changes: unknown; {which} {verb} no package versions")
    for section in notes.sections:
        lines.extend(("", f"### {section.title}", ""))
        lines.extend(f"- {item}" for item in section.items)
    return "\n".join(lines) + "\n"


def to_json(notes: ReleaseNotes) -> dict[str, Any]:
    """The notes as JSON data; section titles and items are markdown."""
    return {
        "version": notes.version,
        "previous": notes.previous,
        "date": notes.date.isoformat() if notes.date is not None else None,
        "airflow": notes.airflow,
        "airflow_changed": notes.airflow_changed,
        "prerelease": notes.prerelease,
        "yanked": notes.yanked,
        "sections": [{"title": s.title, "items": list(s.items)} for s in notes.sections],
        "changes": [
            {"package": c.package, "from": c.old, "to": c.new, "change": c.kind.value}
            for c in notes.changes
        ],
        "unrecorded": list(notes.unrecorded),
        "links": [{"title": link.title, "url": link.url} for link in notes.links],
    }


def combine(notes_list: Iterable[Iterable[ReleaseNote]]) -> tuple[ReleaseNote, ...]:
    """The notes of several releases as one list, each note once, in first-seen order.

    Promoting ``X.Y.Z-rc.N`` makes ``X.Y.Z``, whose notes are its release candidates' notes
    combined: pass the candidates' ``notes`` oldest first. Two notes are the same when their type
    and their text, blank space collapsed, are.
    """
    seen: dict[tuple[NoteType, str], ReleaseNote] = {}
    for notes in notes_list:
        for note in notes:
            seen.setdefault((note.type, _BLANKS.sub(" ", note.text).strip()), note)
    return tuple(seen.values())


def long_date(day: date | None) -> str:
    """``October 12, 2023`` (English, whatever the locale); ``unreleased`` for no date."""
    if day is None:
        return "unreleased"
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def airflow_notes_url(airflow: str) -> str:
    """Apache Airflow's release notes of a version; a local build links its public version."""
    try:
        public = parse_pep440(airflow).public
    except InvalidVersion:
        public = airflow.partition("+")[0]
    return AIRFLOW_NOTES_URL.format(version=urllib.parse.quote(public, safe=""))


# -- building -----------------------------------------------------------------------------------


@dataclass
class _Builder:
    """Collects the items of each section and the links they make."""

    matrix: Matrix
    items: dict[str, list[str]] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)

    def add(self, section: str, item: str) -> None:
        self.items.setdefault(section, []).append(item)

    def link(self, title: str, url: str) -> str:
        """A markdown link; ``title`` is plain text."""
        found = Link(title, url)
        if found not in self.links:
            self.links.append(found)
        return link(escape(title), url)

    def sections(self) -> tuple[Section, ...]:
        order = [t for t in self.items if t not in SECTION_ORDER] + list(SECTION_ORDER)
        return tuple(Section(t, tuple(self.items[t])) for t in order if self.items.get(t))

    def airflow(self, release: Release, diff: ReleaseDiff | None) -> None:
        change = diff.airflow if diff is not None else None
        version = escape(release.airflow)
        if change is None or change.old is None:
            text = f"Astro Runtime {release.name} is based on Airflow {version}."
        else:
            verb = _AIRFLOW_VERBS.get(change.kind, "Changed")
            text = f"{verb} Airflow from {escape(change.old)} to {version}."
            if change.kind is ChangeKind.DOWNGRADE:
                self.add(BREAKING, f"Downgraded Airflow from {escape(change.old)} to {version}.")
        public = _public(release.airflow)
        if "+" in release.airflow:
            text += f" Airflow {version} is a local build of Airflow {escape(public)}."
        title = f"Apache Airflow {public} release notes"
        text += f" See the {self.link(title, airflow_notes_url(release.airflow))}."
        self.add(f"Airflow {version}", text)

    def note(self, note: ReleaseNote) -> None:
        self.add(_SECTION_OF[note.type], self.linked_cves(escape(note.text, item=True)))

    def linked_cves(self, text: str) -> str:
        """Every CVE id in (escaped) ``text`` linked to its record."""

        def record(match: re.Match[str]) -> str:
            cve = match.group(0).upper()
            return self.link(match.group(0), CVE_URL.format(id=cve))

        return CVE_ID.sub(record, text)

    def platform(self, previous: Release, release: Release) -> None:
        """Python, OS and architecture changes: removals break, additions improve."""
        if previous.python != release.python:
            self.add(
                BREAKING, f"Changed the default Python from {previous.python} to {release.python}."
            )
        if previous.os != release.os:
            self.add(
                BREAKING,
                f"Changed the base image's OS from {escape(previous.os)} to {escape(release.os)}.",
            )
        for python in _gone(previous.python_versions, release.python_versions):
            self.add(BREAKING, f"Removed the Python {escape(python)} distribution.")
        for arch in _gone(previous.architectures, release.architectures):
            self.add(BREAKING, f"Removed the images for the {escape(arch)} architecture.")
        for python in _gone(release.python_versions, previous.python_versions):
            self.add(_PLATFORM, f"Added a Python {escape(python)} distribution.")
        for arch in _gone(release.architectures, previous.architectures):
            self.add(_PLATFORM, f"Added images for the {escape(arch)} architecture.")

    def packages(self, diff: ReleaseDiff) -> None:
        replaced = {r.old_package: r.new_package for r in diff.renames}
        maintained: list[str] = []
        others: list[str] = []
        for change in diff.changes:
            if change.package == AIRFLOW_PACKAGE:
                continue
            facts = self.matrix.facts(change.package)
            item = _package_item(change, replaced.get(change.package))
            if facts.maintained and facts.changelog and change.new is not None:
                changelog = self.link(f"{change.package} changelog", facts.changelog)
                item += f" See the {changelog} for a complete list of changes."
            breaking = change.kind in (ChangeKind.REMOVED, ChangeKind.DOWNGRADE)
            if breaking:
                self.add(BREAKING, item)
            else:
                (maintained if facts.maintained else others).append(item)
        platform = self.items.pop(_PLATFORM, [])
        for item in (*maintained, *platform, *others):
            self.add(IMPROVEMENTS, item)


# A holding place for platform additions, which go after the maintained packages' changes.
_PLATFORM = "\0platform"
_AIRFLOW_VERBS: Mapping[ChangeKind, str] = MappingProxyType(
    {
        ChangeKind.MAJOR: "Upgraded",
        ChangeKind.MINOR: "Upgraded",
        ChangeKind.PATCH: "Upgraded",
        ChangeKind.DOWNGRADE: "Downgraded",
    }
)


def _package_item(change: PackageChange, replacement: str | None) -> str:
    name = code(change.package)
    old, new = escape(change.old or ""), escape(change.new or "")
    if change.kind is ChangeKind.ADDED:
        return f"Added {name} {new}."
    if change.kind is ChangeKind.REMOVED:
        tail = f", replaced by {code(replacement)}" if replacement else ""
        return f"Removed {name} (was {old}){tail}."
    if change.kind is ChangeKind.DOWNGRADE:
        return f"Downgraded {name} from {old} to {new}."
    if change.is_upgrade:
        return f"Upgraded {name} to {new}."
    return f"Changed {name} from {old} to {new}."


def _in_order(links: Iterable[Link], sections: Iterable[Section]) -> tuple[Link, ...]:
    """The links in the order they first appear in the sections."""
    body = "\n".join(item for section in sections for item in section.items)
    return tuple(sorted(links, key=lambda found: body.find(f"]({safe_url(found.url)})")))


def _unrecorded(previous: Release | None, release: Release) -> tuple[str, ...]:
    """The releases of the two compared that pin no package: their package changes are unknown."""
    if previous is None:
        return ()
    return tuple(r.name for r in (previous, release) if not r.packages)


def _gone(before: Iterable[str], after: Iterable[str]) -> list[str]:
    """What ``before`` has that ``after`` has not, in ``before``'s order."""
    kept = set(after)
    return [value for value in before if value not in kept]


def _public(airflow: str) -> str:
    try:
        return parse_pep440(airflow).public
    except InvalidVersion:
        return airflow.partition("+")[0]


__all__ = [
    "AIRFLOW_NOTES_URL",
    "BACKPORTS",
    "BREAKING",
    "BUG_FIXES",
    "CVE_URL",
    "HEADING",
    "IMPROVEMENTS",
    "SECTION_ORDER",
    "SECURITY",
    "Link",
    "ReleaseNotes",
    "Section",
    "airflow_notes_url",
    "code",
    "combine",
    "escape",
    "link",
    "long_date",
    "release_notes",
    "safe_url",
    "to_json",
    "to_markdown",
]
