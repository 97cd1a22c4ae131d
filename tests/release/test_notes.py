"""Release notes (SPEC section 7): the sections, what goes where, escaping, goldens."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from astroctl.matrix import store
from astroctl.matrix.model import Matrix, NoteType, Release, ReleaseNote
from astroctl.release.history import predecessor
from astroctl.release.notes import (
    BACKPORTS,
    BREAKING,
    BUG_FIXES,
    IMPROVEMENTS,
    SECURITY,
    ReleaseNotes,
    airflow_notes_url,
    code,
    combine,
    escape,
    long_date,
    release_notes,
    safe_url,
    to_json,
    to_markdown,
)
from tests.factories import build, document, release
from tests.helpers import SNAPSHOT, assert_golden

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CHANGELOG_URL = "https://example.org/providers/CHANGELOG.md"
# CommonMark with GitHub's tables and strikethrough: the renderer the notes are read in.
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
ONE_ITEM = [
    "bullet_list_open",
    "list_item_open",
    "paragraph_open",
    "inline",
    "paragraph_close",
    "list_item_close",
    "bullet_list_close",
]


def by_name(matrix: Matrix) -> dict[str, Release]:
    return {r.name: r for r in matrix.releases}


def notes_of(matrix: Matrix, version: str, **kwargs: Any) -> ReleaseNotes:
    target = by_name(matrix)[version]
    return release_notes(matrix, target, predecessor(matrix, target), **kwargs)


def section(notes: ReleaseNotes, title: str) -> tuple[str, ...]:
    found = [s.items for s in notes.sections if s.title == title]
    assert len(found) == 1, f"no single section {title!r} in {[s.title for s in notes.sections]}"
    return found[0]


# -- goldens (the frozen real history) -----------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot() -> Matrix:
    return store.load(SNAPSHOT)


@pytest.mark.parametrize(
    ("version", "previous"),
    [
        ("9.2.0", "9.1.0"),  # Airflow patch, maintained package, a package added, yanked
        ("6.0.4", "6.0.3"),  # arm64 images added
        ("11.0.0", None),  # a line's first release: no predecessor
        ("9.11.0", "9.10.0"),  # not 9.10.2, which shipped later
        ("9.10.1", "9.10.0"),  # shipped after 9.11.0
        ("9.10.2", "9.10.1"),
    ],
)
def test_notes_of_real_releases(snapshot: Matrix, version: str, previous: str | None) -> None:
    notes = notes_of(snapshot, version)
    assert notes.previous == previous
    assert_golden(f"notes/{version}.md", to_markdown(notes))
    assert_golden(f"notes/{version}.json", json.dumps(to_json(notes), indent=2) + "\n")


def test_notes_with_every_kind_of_note(snapshot: Matrix) -> None:
    """9.2.0 with change notes of every type (texts after the real 9.2.0 notes), one hostile."""
    notes = [
        ReleaseNote(NoteType.BREAKING, "Removed the `airflow.contrib` shims."),
        ReleaseNote(NoteType.FEATURE, "Added the Astro Python SDK's *dataframe* operator."),
        ReleaseNote(NoteType.IMPROVEMENT, "The scheduler re-parses DAGs every 30 seconds."),
        ReleaseNote(NoteType.BUGFIX, "Fixed tasks stuck in `queued` (#34567)."),
        ReleaseNote(
            NoteType.BACKPORT, "Fixed a deadlock when clearing DAG runs (apache/airflow#33456)"
        ),
        ReleaseNote(NoteType.SECURITY, "Fixed CVE-2023-4863 and CVE-2023-44487 in the base image."),
        ReleaseNote(NoteType.BUGFIX, "- <b>hostile</b>\n## not a heading\n[link](javascript:x)"),
    ]
    result = notes_of(snapshot, "9.2.0", notes=notes)
    assert_golden("notes/9.2.0_notes.md", to_markdown(result))
    assert_golden("notes/9.2.0_notes.json", json.dumps(to_json(result), indent=2) + "\n")


# -- layout ---------------------------------------------------------------------------------------


PROVIDER = "apache-airflow-providers-amazon"


BASE = {"apache-airflow-providers-base": "1.0.0"}


def entry(version: str, airflow: str, day: date | None = None, **fields: Any) -> dict[str, Any]:
    """A release entry that pins a package (unless given ``packages``), released on ``day``."""
    fields.setdefault("packages", dict(BASE))
    if day is not None:
        fields["released"] = day
    return release(version, airflow, **fields)


def small(*entries: dict[str, Any], **top: Any) -> Matrix:
    return build(document(*entries, **top))


def two(old: dict[str, Any], new: dict[str, Any], **top: Any) -> ReleaseNotes:
    """The notes of 9.1.0 against 9.0.0, each release given as extra release fields."""
    matrix = small(
        entry("9.0.0", old.pop("airflow", "2.9.0"), date(2024, 1, 1), **old),
        entry("9.1.0", new.pop("airflow", "2.9.0"), date(2024, 2, 1), **new),
        **top,
    )
    return notes_of(matrix, "9.1.0")


def test_the_heading_bullets_and_the_section_order() -> None:
    notes = [
        ReleaseNote(NoteType.SECURITY, "s"),
        ReleaseNote(NoteType.BUGFIX, "b"),
        ReleaseNote(NoteType.IMPROVEMENT, "i"),
        ReleaseNote(NoteType.FEATURE, "f"),
        ReleaseNote(NoteType.BACKPORT, "p"),
        ReleaseNote(NoteType.BREAKING, "x"),
    ]
    matrix = small(
        entry("9.0.0", "2.9.0", date(2024, 1, 1)),
        entry("9.1.0", "2.9.1", date(2024, 2, 1)),
    )
    result = notes_of(matrix, "9.1.0", notes=notes)
    titles = [s.title for s in result.sections]
    assert titles == ["Airflow 2.9.1", BREAKING, BACKPORTS, IMPROVEMENTS, BUG_FIXES, SECURITY]
    assert section(result, IMPROVEMENTS) == ("i", "f")  # in the order given
    text = to_markdown(result)
    assert text.startswith(
        "## Astro Runtime 9.1.0\n\n- Release date: February 1, 2024\n- Airflow version: 2.9.1\n\n"
        "### Airflow 2.9.1\n\n- Upgraded Airflow from 2.9.0 to 2.9.1. See the [Apache Airflow "
        "2.9.1 release notes](https://airflow.apache.org/docs/apache-airflow/2.9.1/"
        "release_notes.html).\n\n### Breaking changes\n\n- x\n\n### Backported Airflow bug fixes"
    )
    assert text.endswith("### Security fixes\n\n- s\n")
    assert not text.endswith("\n\n")


def test_the_release_notes_default_to_the_releases_own() -> None:
    mine = {"notes": [{"type": "bugfix", "text": "Fixed the thing."}]}
    assert section(two({}, mine), BUG_FIXES) == ("Fixed the thing.",)
    assert two({}, mine).sections and not two({}, {}).sections


def test_a_release_without_changes_has_only_its_bullets() -> None:
    result = two({}, {})
    assert result.sections == () and result.changes == ()
    assert not result.airflow_changed
    assert to_markdown(result) == (
        "## Astro Runtime 9.1.0\n\n- Release date: February 1, 2024\n- Airflow version: 2.9.0\n"
    )


def test_package_changes_go_where_they_belong() -> None:
    facts = {
        "astronomer-providers": {"maintained": True, "changelog": CHANGELOG_URL},
        "openlineage-airflow": {"maintained": True},  # maintained, no changelog known
    }
    old = {
        "astronomer-providers": "1.17.3",
        "openlineage-airflow": "1.0.0",
        PROVIDER: "8.6.0",
        "apache-airflow-providers-google": "10.9.0",
        "apache-airflow-providers-http": "4.5.2",
        "apache-airflow-providers-cncf-kubernetes": "7.0.0",
        "apache-airflow-providers-old": "1.0.0",
    }
    new = {
        "astronomer-providers": "1.18.0",
        "openlineage-airflow": "1.1.0",
        PROVIDER: "8.7.1",
        "apache-airflow-providers-google": "10.7.0",
        "apache-airflow-providers-cncf-kubernetes": "7.0.0+astro.2",
        "apache-airflow-providers-openlineage": "1.1.0",
        "apache-airflow-providers-old": "1.0.0",
    }
    result = two({"packages": old}, {"packages": new}, packages=facts)
    assert section(result, BREAKING) == (
        "Downgraded `apache-airflow-providers-google` from 10.9.0 to 10.7.0.",
        "Removed `apache-airflow-providers-http` (was 4.5.2).",
    )
    assert section(result, IMPROVEMENTS) == (
        f"Upgraded `astronomer-providers` to 1.18.0. See the [astronomer-providers changelog]"
        f"({CHANGELOG_URL}) for a complete list of changes.",
        "Upgraded `openlineage-airflow` to 1.1.0.",
        "Upgraded `apache-airflow-providers-amazon` to 8.7.1.",
        "Changed `apache-airflow-providers-cncf-kubernetes` from 7.0.0 to 7.0.0+astro.2.",
        "Added `apache-airflow-providers-openlineage` 1.1.0.",
    )
    assert [(c.package, c.kind.value) for c in result.changes] == [
        ("apache-airflow-providers-amazon", "minor"),
        ("apache-airflow-providers-cncf-kubernetes", "other"),
        ("apache-airflow-providers-google", "downgrade"),
        ("apache-airflow-providers-http", "removed"),
        ("apache-airflow-providers-openlineage", "added"),
        ("astronomer-providers", "minor"),
        ("openlineage-airflow", "minor"),
    ]
    assert [link.url for link in result.links] == [CHANGELOG_URL]


def test_a_maintained_package_removed_or_renamed_is_breaking() -> None:
    facts = {"openlineage-airflow": {"maintained": True, "changelog": CHANGELOG_URL}}
    result = two(
        {"packages": {"openlineage-airflow": "1.1.0"}},
        {"packages": {"apache-airflow-providers-openlineage": "1.1.0"}},
        packages=facts,
    )
    assert section(result, BREAKING) == (
        "Removed `openlineage-airflow` (was 1.1.0), replaced by "
        "`apache-airflow-providers-openlineage`.",
    )
    assert section(result, IMPROVEMENTS) == ("Added `apache-airflow-providers-openlineage` 1.1.0.",)


def test_a_maintained_package_added_links_its_changelog() -> None:
    facts = {"astronomer-providers": {"maintained": True, "changelog": CHANGELOG_URL + " (x)"}}
    result = two({}, {"packages": {"astronomer-providers": "1.0.0"}}, packages=facts)
    encoded = CHANGELOG_URL + "%20%28x%29"
    assert section(result, IMPROVEMENTS) == (
        f"Added `astronomer-providers` 1.0.0. See the [astronomer-providers changelog]"
        f"({encoded}) for a complete list of changes.",
    )


@pytest.mark.parametrize(
    ("old", "new", "breaking", "improvements"),
    [
        (
            {"python": "3.11"},
            {"python": "3.10"},
            ("Changed the default Python from 3.11 to 3.10.",),
            (),
        ),
        (
            {"python_versions": ["3.10", "3.11"]},
            {"python_versions": ["3.11", "3.12"]},
            ("Removed the Python 3.10 distribution.",),
            ("Added a Python 3.12 distribution.",),
        ),
        (
            {"architectures": ["amd64"]},
            {"architectures": ["amd64", "arm64"]},
            (),
            ("Added images for the arm64 architecture.",),
        ),
        (
            {"architectures": ["amd64", "arm64"]},
            {"architectures": ["amd64"]},
            ("Removed the images for the arm64 architecture.",),
            (),
        ),
        (
            {"os": "Debian 11 (bullseye)"},
            {"os": "Debian 12 (bookworm) <beta>"},
            (
                "Changed the base image's OS from Debian 11 (bullseye) to "
                "Debian 12 (bookworm) \\<beta\\>.",
            ),
            (),
        ),
    ],
)
def test_platform_changes(
    old: dict[str, Any],
    new: dict[str, Any],
    breaking: tuple[str, ...],
    improvements: tuple[str, ...],
) -> None:
    result = two(old, new)
    titles = {s.title: s.items for s in result.sections}
    assert titles.get(BREAKING, ()) == breaking
    assert titles.get(IMPROVEMENTS, ()) == improvements


def test_platform_additions_come_between_maintained_and_other_packages() -> None:
    facts = {"astronomer-providers": {"maintained": True}}
    result = two(
        {"architectures": ["amd64"], "packages": {"astronomer-providers": "1.0", PROVIDER: "1.0"}},
        {"packages": {"astronomer-providers": "1.1", PROVIDER: "1.1"}},
        packages=facts,
    )
    assert section(result, IMPROVEMENTS) == (
        "Upgraded `astronomer-providers` to 1.1.",
        "Added images for the arm64 architecture.",
        f"Upgraded `{PROVIDER}` to 1.1.",
    )


@pytest.mark.parametrize(
    ("old", "new", "item"),
    [
        ("2.9.0", "2.9.1", "Upgraded Airflow from 2.9.0 to 2.9.1. See the [Apache Airflow 2.9.1"),
        (
            "2.9.1",
            "2.9.1+astro.1",
            "Changed Airflow from 2.9.1 to 2.9.1+astro.1. Airflow 2.9.1+astro.1 is a local build "
            "of Airflow 2.9.1. See the [Apache Airflow 2.9.1 release notes]"
            "(https://airflow.apache.org/docs/apache-airflow/2.9.1/release_notes.html).",
        ),
        ("2.9.2", "2.9.1", "Downgraded Airflow from 2.9.2 to 2.9.1."),
    ],
)
def test_the_airflow_section(old: str, new: str, item: str) -> None:
    matrix = small(
        entry("9.0.0", old, date(2024, 1, 1)),
        entry("9.1.0", new, date(2024, 2, 1)),
    )
    result = notes_of(matrix, "9.1.0")
    assert result.airflow_changed
    assert result.sections[0].title == f"Airflow {new}"
    assert result.sections[0].items[0].startswith(item)
    assert result.changes[0].package == "apache-airflow"
    if new < old:
        assert section(result, BREAKING) == (f"Downgraded Airflow from {old} to {new}.",)


def test_a_lines_first_release_is_based_on_its_airflow() -> None:
    matrix = small(entry("9.0.0", "2.9.0", date(2024, 1, 1)))
    result = notes_of(matrix, "9.0.0")
    assert result.previous is None and result.airflow_changed and result.changes == ()
    assert result.sections[0].items[0].startswith("Astro Runtime 9.0.0 is based on Airflow 2.9.0.")


def test_airflow_notes_url() -> None:
    assert airflow_notes_url("2.7.2+astro.1") == (
        "https://airflow.apache.org/docs/apache-airflow/2.7.2/release_notes.html"
    )
    assert airflow_notes_url("2.07.2").endswith("/2.7.2/release_notes.html")
    assert airflow_notes_url("not a version+x").endswith("/not%20a%20version/release_notes.html")


def test_security_notes_link_every_cve_once() -> None:
    text = "Fixed CVE-2023-4863, cve-2023-44487 and CVE-2023-4863 again (not XCVE-2023-1111)."
    result = two({}, {"notes": [{"type": "security", "text": text}]})
    assert section(result, SECURITY) == (
        "Fixed [CVE-2023-4863](https://www.cve.org/CVERecord?id=CVE-2023-4863), "
        "[cve-2023-44487](https://www.cve.org/CVERecord?id=CVE-2023-44487) and "
        "[CVE-2023-4863](https://www.cve.org/CVERecord?id=CVE-2023-4863) again "
        "(not XCVE-2023-1111).",
    )
    assert [link.title for link in result.links] == ["CVE-2023-4863", "cve-2023-44487"]


def test_a_yanked_prerelease_and_an_unreleased_one() -> None:
    matrix = small(
        entry("9.0.0", "2.9.0", date(2024, 1, 1)),
        entry("9.1.0-rc.1", "2.9.0", yanked="broke *everything*\nreally"),
        entry("9.1.0-rc.2", "2.9.0"),
    )
    yanked = notes_of(matrix, "9.1.0-rc.1")
    assert yanked.prerelease and yanked.previous == "9.0.0"
    assert to_markdown(yanked) == (
        "## Astro Runtime 9.1.0-rc.1\n\n- Release date: unreleased\n- Airflow version: 2.9.0\n"
        "- Yanked: broke \\*everything\\* really\n"
    )
    assert to_json(yanked)["yanked"] == "broke *everything*\nreally"
    assert to_json(notes_of(matrix, "9.1.0-rc.2"))["date"] is None


def test_unknown_pins_are_not_every_package_removed() -> None:
    result = two({"packages": {PROVIDER: "1.0"}}, {"airflow": "2.9.1", "packages": {}})
    assert result.unrecorded == ("9.1.0",)
    assert [c.package for c in result.changes] == ["apache-airflow"]
    assert BREAKING not in [s.title for s in result.sections]
    assert "- Package changes: unknown; 9.1.0 records no package versions\n" in to_markdown(result)
    both = two({"packages": {}}, {"packages": {}})
    assert both.unrecorded == ("9.0.0", "9.1.0")
    assert "9.0.0 and 9.1.0 record no package versions" in to_markdown(both)


def test_the_json_form() -> None:
    facts = {"astronomer-providers": {"maintained": True, "changelog": CHANGELOG_URL}}
    result = two(
        {"packages": {"astronomer-providers": "1.0.0"}},
        {
            "airflow": "2.9.1",
            "yanked": "bad",
            "packages": {"astronomer-providers": "1.0.1"},
            "notes": [{"type": "security", "text": "CVE-2024-0001"}],
        },
        packages=facts,
    )
    data = to_json(result)
    assert list(data) == [
        "version",
        "previous",
        "date",
        "airflow",
        "airflow_changed",
        "prerelease",
        "yanked",
        "sections",
        "changes",
        "unrecorded",
        "links",
    ]
    assert data["version"] == "9.1.0" and data["previous"] == "9.0.0"
    assert data["date"] == "2024-02-01" and data["yanked"] == "bad"
    assert data["changes"] == [
        {"package": "apache-airflow", "from": "2.9.0", "to": "2.9.1", "change": "patch"},
        {"package": "astronomer-providers", "from": "1.0.0", "to": "1.0.1", "change": "patch"},
    ]
    assert [s["title"] for s in data["sections"]] == ["Airflow 2.9.1", IMPROVEMENTS, SECURITY]
    assert [link["url"] for link in data["links"]] == [
        airflow_notes_url("2.9.1"),
        CHANGELOG_URL,
        "https://www.cve.org/CVERecord?id=CVE-2024-0001",
    ]
    json.dumps(data)  # plain JSON data


def test_combine_keeps_each_note_once_in_first_seen_order() -> None:
    a = ReleaseNote(NoteType.BUGFIX, "Fixed A.")
    b = ReleaseNote(NoteType.FEATURE, "Added B.")
    a_again = ReleaseNote(NoteType.BUGFIX, "Fixed  A.\n")
    a_other_type = ReleaseNote(NoteType.BACKPORT, "Fixed A.")
    assert combine([[a, b], [a_again, a_other_type], []]) == (a, b, a_other_type)
    assert combine([]) == ()


def test_long_date_ignores_the_locale() -> None:
    assert long_date(date(2024, 3, 5)) == "March 5, 2024"
    assert long_date(None) == "unreleased"


# -- escaping -------------------------------------------------------------------------------------


def plain(children: list[Token]) -> str:
    """The text a line of inline tokens shows."""
    return "".join(c.content for c in children if c.type == "text")


BIDI = frozenset((0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)))


def shown_text(text: str) -> str:
    """What a note must render as: blank runs one space, controls as escapes (``\\x1b``)."""
    flat = re.sub(r"[ \t\n\r\v\f\x1c-\x1f\x85\u2028\u2029]+", " ", text).strip()
    out = []
    for char in flat:
        code_point = ord(char)
        if code_point < 0x20 or 0x7F <= code_point < 0xA0:
            out.append(f"\\x{code_point:02x}")
        elif code_point in BIDI:
            out.append(f"\\u{code_point:04x}")
        else:
            out.append(char)
    return "".join(out)


def assert_one_literal_item(markdown_item: str, text: str) -> None:
    tokens = MARKDOWN.parse(markdown_item)
    assert [t.type for t in tokens] == ONE_ITEM, markdown_item
    children = tokens[3].children or []
    kinds = {c.type for c in children}
    assert kinds <= {"text", "link_open", "link_close"}, (markdown_item, kinds)
    for child in children:
        if child.type == "link_open":
            assert str(child.attrs["href"]).startswith("https://www.cve.org/CVERecord?id=CVE-")
    assert plain(children) == shown_text(text)


HOSTILE = [
    "- starts like a list item",
    "+ plus",
    "* star",
    "1. ordered",
    "2024) paren",
    "2024.",
    "# heading",
    "###### six",
    "> quote",
    "```fence\ncode\n```",
    "~~~",
    "    indented code",
    "---",
    "***",
    "___",
    "a\n===",
    "a\n---",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "**bold** __bold__ *em* _em_ ~~strike~~ `code` ``co`de``",
    "[link](https://evil.example) ![img](x.png) [ref][1]\n[1]: https://evil.example",
    "<script>alert(1)</script> <b>bold</b> <!-- comment --> <https://auto.link>",
    "&lt;&amp;&#60;&#x3C;&copy; AT&T",
    "back\\slash\\ and \\*escaped\\*",
    "trailing backslash \\",
    "trailing spaces for a hard break  \nnext",
    "$x^2$ math $$y$$",
    "line\r\nbreaks\rand\u2028separators\u2029too\x85",
    "\x1b[31mred\x1b[0m bell\x07 nul\x00 del\x7f c1\x9b",
    "bidi \u202ereversed\u202c and \u2066isolate\u2069",
    "\t tabbed \t",
    "CVE-2024-12345 in a [CVE-2024-99999](https://evil.example)",
    "<div>\nblock html\n</div>",
    "\\",
    "-",
    "1.",
    "\u00a0nbsp\u00a0",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_one_literal_item(text: str) -> None:
    assert_one_literal_item(f"- {escape(text, item=True)}\n", text)


def test_escape_keeps_ordinary_text_readable() -> None:
    assert escape("Upgraded to 2.7.2 (see https://example.org/a-b?c=d).") == (
        "Upgraded to 2.7.2 (see https://example.org/a-b?c=d)."
    )
    assert escape("1. only at the start of an item") == "1. only at the start of an item"
    assert escape("1. only at the start of an item", item=True) == (
        "1\\. only at the start of an item"
    )


def test_code_spans_hold_any_backticks() -> None:
    assert code("name") == "`name`"
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    for text in ("a`b", "`x`", "``"):
        tokens = MARKDOWN.parseInline(code(text))
        assert tokens[0].children is not None
        assert [c.content for c in tokens[0].children if c.type == "code_inline"] == [text]


def test_safe_url_encodes_what_would_end_a_link() -> None:
    assert safe_url("https://x.org/a b(c)<d>") == "https://x.org/a%20b%28c%29%3Cd%3E"
    assert safe_url("https://x.org/p?q=1&r=2#frag") == "https://x.org/p?q=1&r=2#frag"


def note_texts() -> st.SearchStrategy[str]:
    markup = st.sampled_from(
        [
            *"\\`*_[]<>#|~$&;!()-+.=:/ 0123456789aZ\n\r\t\x00\x1b\x85\u2028\u202e\u00a0",
            *("CVE-2024-1234", "&amp;", "```", "<b>", "](x)", "1.", "- ", "    "),
        ]
    )
    return st.one_of(st.text(), st.lists(markup, max_size=30).map("".join)).filter(
        lambda t: bool(t.strip())
    )


@PROPERTY
@given(note_texts(), st.sampled_from(list(NoteType)))
def test_any_note_renders_as_exactly_one_list_item(text: str, kind: NoteType) -> None:
    matrix = small(entry("9.0.0", "2.9.0", date(2024, 1, 1)))
    result = release_notes(matrix, matrix.releases[0], None, [ReleaseNote(kind, text)])
    markdown = to_markdown(result)
    tokens = MARKDOWN.parse(markdown)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    # the release, Airflow, the note's section: no heading injected, none lost
    assert headings == ["Astro Runtime 9.0.0", *(s.title for s in result.sections)]
    assert len(headings) == 3
    lists = [i for i, t in enumerate(tokens) if t.type == "bullet_list_open"]
    last = tokens[lists[-1] :]
    assert [t.type for t in last] == ONE_ITEM
    children = last[3].children or []
    assert {c.type for c in children} <= {"text", "link_open", "link_close"}
    assert plain(children) == shown_text(text)


def test_the_hostile_golden_renders_its_note_literally(snapshot: Matrix) -> None:
    hostile = "- <b>hostile</b>\n## not a heading\n[link](javascript:x)"
    result = notes_of(snapshot, "9.2.0", notes=[ReleaseNote(NoteType.BUGFIX, hostile)])
    (item,) = section(result, BUG_FIXES)
    assert item == "\\- \\<b\\>hostile\\</b\\> \\#\\# not a heading \\[link\\](javascript:x)"
    assert_one_literal_item(f"- {item}\n", hostile)


def test_notes_do_not_change_the_release(snapshot: Matrix) -> None:
    target = by_name(snapshot)["9.2.0"]
    with_notes = replace(target, notes=(ReleaseNote(NoteType.BUGFIX, "own"),))
    previous = predecessor(snapshot, target)
    assert section(release_notes(snapshot, with_notes, previous), BUG_FIXES) == ("own",)
    override = release_notes(snapshot, with_notes, previous, [])
    assert BUG_FIXES not in [s.title for s in override.sections]


def test_breaking_changes_list_notes_then_airflow_platform_and_packages() -> None:
    result = two(
        {"airflow": "2.9.1", "python": "3.10", "packages": {PROVIDER: "2.0"}},
        {
            "airflow": "2.9.0",
            "packages": {PROVIDER: "1.0"},
            "notes": [{"type": "breaking", "text": "Dropped the old API."}],
        },
    )
    assert section(result, BREAKING) == (
        "Dropped the old API.",
        "Downgraded Airflow from 2.9.1 to 2.9.0.",
        "Changed the default Python from 3.10 to 3.11.",
        f"Downgraded `{PROVIDER}` from 2.0 to 1.0.",
    )


def test_a_bang_before_a_cve_does_not_make_an_image() -> None:
    """Found by the property above: '!CVE-...' became '![CVE-...](url)', an image."""
    matrix = small(entry("9.0.0", "2.9.0", date(2024, 1, 1)))
    note = ReleaseNote(NoteType.SECURITY, "!CVE-2024-1234")
    markdown = to_markdown(release_notes(matrix, matrix.releases[0], None, [note]))
    tokens = MARKDOWN.parse(markdown)
    inline = [c.type for t in tokens for c in (t.children or [])]
    assert "image" not in inline
    assert "link_open" in inline
