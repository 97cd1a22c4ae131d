"""CHANGELOG.md: parse, upsert, render, the whole history, and the committed file."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from astroctl.errors import InputError
from astroctl.matrix import store
from astroctl.matrix.model import Matrix, Release
from astroctl.release.changelog import (
    DEFAULT_PREAMBLE,
    Changelog,
    ChangelogSection,
    Difference,
    Drift,
    check,
    differences,
    generate,
    load,
    parse,
    remove,
    render,
    upsert,
    write,
)
from astroctl.release.history import predecessor
from astroctl.release.notes import ReleaseNotes, Section, escape, to_markdown
from astroctl.versions import parse_runtime
from tests.factories import build, document, release
from tests.helpers import MATRIX, REPO, SNAPSHOT

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CHANGELOG = REPO / "CHANGELOG.md"


def section(version: str, body: str = "- Release date: unreleased") -> str:
    return f"## Astro Runtime {version}\n\n{body}\n"


def text_of(*versions: str, preamble: str = DEFAULT_PREAMBLE) -> str:
    return render(Changelog(preamble, tuple(ChangelogSection(v, section(v)) for v in versions)))


def history(matrix: Matrix) -> str:
    return generate(matrix, lambda r: predecessor(matrix, r))


@pytest.fixture(scope="module")
def snapshot() -> Matrix:
    return store.load(SNAPSHOT)


# -- parsing -------------------------------------------------------------------------------------


def test_the_default_preamble_keeps_the_files_wording() -> None:
    assert DEFAULT_PREAMBLE == (
        "# Astro Runtime release notes\n\nNewest first. This file is the runtime's release log, "
        "written by astroctl's release commands;\ncode changes to astroctl itself are described "
        "in its commit messages, not here.\n"
    )


@pytest.mark.parametrize("text", ["", "\n\n", "  \n"])
def test_an_empty_file_is_a_new_changelog(text: str) -> None:
    assert parse(text, "CHANGELOG.md") == Changelog(DEFAULT_PREAMBLE, ())


def test_parse_and_render_round_trip() -> None:
    text = text_of("9.11.0", "9.10.2", "9.10.1", "9.3.0-rc.1", "9.2.0")
    changelog = parse(text, "CHANGELOG.md")
    assert changelog.versions == ("9.11.0", "9.10.2", "9.10.1", "9.3.0-rc.1", "9.2.0")
    assert changelog.preamble == DEFAULT_PREAMBLE
    assert changelog.get("9.10.1") == ChangelogSection("9.10.1", section("9.10.1"))
    assert changelog.get("1.0.0") is None
    assert render(changelog) == text


def test_blank_lines_and_line_endings_are_normalised() -> None:
    messy = (
        "\n\n# Title\r\n\r\nProse.\r\n\n\n\n## Astro Runtime 9.2.0\r\n\n- a\n\n\n"
        "## Astro Runtime 9.1.0\n- b"
    )
    changelog = parse(messy, "CHANGELOG.md")
    assert render(changelog) == (
        "# Title\n\nProse.\n\n## Astro Runtime 9.2.0\n\n- a\n\n## Astro Runtime 9.1.0\n- b\n"
    )
    assert parse(render(changelog), "x") == changelog


def test_section_text_is_kept_as_written() -> None:
    body = (
        "Some prose.\n\n### Airflow 2.7.2\n\n#### Details\n\n```text\n## Astro Runtime 1.0.0\n"
        "# not a title\n```\n\n~~~~\n## inside tildes\n~~~\n~~~~\n\n- item"
    )
    text = f"# T\n\n```\n## fenced in the preamble\n```\n\n{section('9.2.0', body)}"
    changelog = parse(text, "CHANGELOG.md")
    assert changelog.versions == ("9.2.0",)
    assert render(changelog) == text


def test_inline_backticks_do_not_open_a_fence() -> None:
    text = "# T\n\n```not a fence```\n\n## Astro Runtime 9.2.0\n"
    assert parse(text, "x").versions == ("9.2.0",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "# T\n\n## Astro Runtime 9.2\n",
            r"CHANGELOG\.md: line 3: '9\.2' is not a semantic version",
        ),
        ("# T\n\n## Astro Runtime 9.2.0+b\n", r"line 3: .*build metadata"),
        ("# T\n\n## Astro Runtime v9.2.0\n", r"line 3: 'v9\.2\.0' is not a semantic"),
        ("# T\n\n## Unreleased\n\n- x\n", r"line 3: '## Unreleased' is not a release heading"),
        (
            "# T\n\n## Astro Runtime 9.2.0\n\n## Notes\n",
            r"line 5: '## Notes' is not a release heading .*would be lost",
        ),
        (
            "# T\n\n## Astro Runtime 9.2.0\n\n## Astro Runtime 9.2.0\n",
            r"line 5: a second section for 9\.2\.0 \(the first is at line 3\)",
        ),
        (
            "# T\n\n## Astro Runtime 9.1.0\n\n## Astro Runtime 9.2.0\n",
            r"line 5: 9\.2\.0 comes after 9\.1\.0; sections go newest first by version",
        ),
        (
            "# T\n\n## Astro Runtime 9.3.0-rc.1\n\n## Astro Runtime 9.3.0\n",
            r"line 5: 9\.3\.0 comes after 9\.3\.0-rc\.1",
        ),
        ("# T\n\n### Bug fixes\n\n## Astro Runtime 9.2.0\n", r"line 3: a heading before the first"),
        ("Prose first.\n\n# T\n", r"line 1: expected the file's '# ' title .*'Prose first\.'"),
        ("## Astro Runtime 9.2.0\n", r"line 1: the file has no '# ' title"),
        ("# T\n\n# Another\n", r"line 3: a second '# ' title"),
        ("# T\n\n## Astro Runtime 9.2.0\n\n# Another\n", r"line 5: a second '# ' title"),
    ],
)
def test_what_parse_refuses(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse(text, "CHANGELOG.md")


# -- upsert and remove ---------------------------------------------------------------------------


def test_upsert_inserts_by_version_never_by_date() -> None:
    # 9.10.1 and 9.10.2 shipped after 9.11.0: by version they still go below it
    changelog = parse(text_of("9.11.0", "9.10.0"), "x")
    changelog = upsert(changelog, "9.10.1", section("9.10.1"))
    changelog = upsert(changelog, "9.10.2", section("9.10.2"))
    changelog = upsert(changelog, "10.0.0", section("10.0.0"))
    changelog = upsert(changelog, "4.0.0", section("4.0.0"))
    assert changelog.versions == ("10.0.0", "9.11.0", "9.10.2", "9.10.1", "9.10.0", "4.0.0")


def test_upsert_replaces_a_section_and_is_idempotent() -> None:
    changelog = parse(text_of("9.2.0", "9.1.0"), "x")
    new = section("9.2.0", "- Release date: October 12, 2023\n\n### Bug fixes\n\n- fixed")
    once = upsert(changelog, "9.2.0", new)
    assert once.get("9.2.0") == ChangelogSection("9.2.0", new)
    assert upsert(once, "9.2.0", new) == once
    assert upsert(once, "9.2.0", "\n\n" + new + "\n\n\n") == once  # blank lines do not count
    assert render(upsert(parse(render(once), "x"), "9.2.0", new)) == render(once)


def test_a_final_release_folds_its_prereleases_in() -> None:
    changelog = parse(text_of("9.3.0-rc.2", "9.3.0-rc.1", "9.2.0"), "x")
    assert upsert(changelog, "9.3.1-rc.1", section("9.3.1-rc.1")).versions == (
        "9.3.1-rc.1",
        "9.3.0-rc.2",
        "9.3.0-rc.1",
        "9.2.0",
    )
    assert upsert(changelog, "9.3.0", section("9.3.0")).versions == ("9.3.0", "9.2.0")
    # a prerelease of a version already final goes below it
    final = upsert(changelog, "9.3.0", section("9.3.0"))
    assert upsert(final, "9.3.0-rc.3", section("9.3.0-rc.3")).versions == (
        "9.3.0",
        "9.3.0-rc.3",
        "9.2.0",
    )


@pytest.mark.parametrize(
    ("version", "markdown", "message"),
    [
        ("9.2", section("9.2.0"), "'9.2' is not a semantic version"),
        ("9.2.0", section("9.1.0"), "the section of 9.2.0 is headed 9.1.0"),
        ("9.2.0", "- no heading\n", "must be one section .* got 0 release headings"),
        ("9.2.0", "Prose.\n\n" + section("9.2.0"), "must be one section"),
        ("9.2.0", section("9.2.0") + "\n" + section("9.1.0"), "got 2 release headings"),
        ("9.2.0", section("9.2.0") + "\n## Other\n", "is not a release heading"),
        ("9.2.0", section("9.2.0") + "\n# Title\n", "a second '# ' title"),
    ],
)
def test_upsert_refuses_a_bad_section(version: str, markdown: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        upsert(Changelog(DEFAULT_PREAMBLE, ()), version, markdown)


def test_remove() -> None:
    changelog = parse(text_of("9.3.0-rc.1", "9.2.0"), "x")
    assert remove(changelog, "9.3.0-rc.1").versions == ("9.2.0",)
    assert remove(changelog, "1.0.0") == changelog
    with pytest.raises(InputError):
        remove(changelog, "nine")


# -- files ---------------------------------------------------------------------------------------


def test_load_and_write(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    assert load(path) == Changelog(DEFAULT_PREAMBLE, ())
    text = text_of("9.2.0")
    write(path, text)
    assert path.read_text(encoding="utf-8") == text
    assert load(path).versions == ("9.2.0",)
    assert [p.name for p in tmp_path.iterdir()] == ["CHANGELOG.md"]


def test_load_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_text("# T\n\n## Astro Runtime nine\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"{path}: line 3:"):
        load(path)


def test_load_refuses_what_is_not_a_utf8_regular_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="a directory; a changelog is a regular file"):
        load(tmp_path)
    bad = tmp_path / "latin.md"
    bad.write_bytes(b"# Caf\xe9\n")
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 5\)"):
        load(bad)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.md"
        os.mkfifo(fifo)
        with pytest.raises(InputError, match="not a regular file"):
            load(fifo)


# -- the whole history ---------------------------------------------------------------------------


def test_the_whole_history(snapshot: Matrix) -> None:
    text = history(snapshot)
    changelog = parse(text, "generated")
    assert len(changelog.sections) == len(snapshot.releases) == 119
    versions = [parse_runtime(v) for v in changelog.versions]
    assert versions == sorted(versions, reverse=True)
    assert changelog.versions[:3] == ("11.8.0", "11.7.0", "11.6.0")
    assert changelog.versions.index("9.11.0") < changelog.versions.index("9.10.2")
    assert render(changelog) == text
    assert text.startswith(DEFAULT_PREAMBLE + "\n## Astro Runtime 11.8.0\n")


def test_generate_is_fast(snapshot: Matrix) -> None:
    """``notes --check`` must stay well under a second: generating 119 sections takes ~0.03 s."""
    started = time.perf_counter()
    text = history(snapshot)
    parse(text, "generated")
    assert time.perf_counter() - started < 0.5


def test_a_prerelease_is_listed_until_its_final_exists() -> None:
    day = date(2024, 1, 1)
    candidates = build(
        document(
            release("9.0.0", "2.9.0", released=day),
            release("9.1.0-rc.1", "2.9.1", released=day),
            release("9.1.0-rc.2", "2.9.1", released=day),
        )
    )
    assert parse(history(candidates), "x").versions == ("9.1.0-rc.2", "9.1.0-rc.1", "9.0.0")
    promoted = build(
        document(
            release("9.0.0", "2.9.0", released=day),
            release("9.1.0-rc.1", "2.9.1", released=day),
            release("9.1.0", "2.9.1", released=day),
        )
    )
    assert parse(history(promoted), "x").versions == ("9.1.0", "9.0.0")


def test_check_lists_what_differs(tmp_path: Path, snapshot: Matrix) -> None:
    path = tmp_path / "CHANGELOG.md"

    def previous(r: Release) -> Release | None:
        return predecessor(snapshot, r)

    assert len(check(path, snapshot, previous)) == 119  # no file: every section is missing
    write(path, history(snapshot))
    assert check(path, snapshot, previous) == []
    changelog = load(path)
    edited = upsert(changelog, "9.2.0", section("9.2.0", "- edited by hand"))
    edited = remove(edited, "6.0.4")
    edited = upsert(edited, "12.0.0", section("12.0.0"))
    write(path, render(edited).replace(DEFAULT_PREAMBLE, "# Own title\n\nOwn words.\n"))
    assert differences(path, snapshot, previous) == (
        Difference("12.0.0", Drift.EXTRA),
        Difference("9.2.0", Drift.DIFFERS),
        Difference("6.0.4", Drift.MISSING),
    )
    assert check(path, snapshot, previous) == ["12.0.0", "9.2.0", "6.0.4"]


def test_the_committed_changelog_is_the_matrixs() -> None:
    """What ``notes --check`` checks: CHANGELOG.md is exactly the committed matrix's history.

    After a change to data/compatibility.toml that is not a release, regenerate it with
    ``.venv/bin/python -c 'from tests.release.test_changelog import regenerate; regenerate()'``.
    """
    matrix = store.load(MATRIX)
    expected = history(matrix)
    assert CHANGELOG.read_text(encoding="utf-8") == expected, "regenerate CHANGELOG.md"
    assert check(CHANGELOG, matrix, lambda r: predecessor(matrix, r)) == []


def regenerate() -> None:
    """Rewrite CHANGELOG.md from data/compatibility.toml (for a maintainer, not a test)."""
    write(CHANGELOG, history(store.load(MATRIX)))


# -- properties ----------------------------------------------------------------------------------

VERSIONS = st.builds(
    lambda major, minor, patch, rc: f"{major}.{minor}.{patch}" + (f"-rc.{rc}" if rc else ""),
    st.integers(4, 12),
    st.integers(0, 12),
    st.integers(0, 3),
    st.one_of(st.none(), st.integers(1, 3)),
)
TEXTS = st.text(min_size=1).filter(lambda t: bool(t.strip()))


def notes_section(version: str, text: str, yanked: str | None) -> str:
    notes = ReleaseNotes(
        version=version,
        previous=None,
        date=None,
        airflow="2.9.0",
        airflow_changed=False,
        yanked=yanked,
        sections=(Section("Bug fixes", (escape(text, item=True),)),),
        changes=(),
    )
    return to_markdown(notes)


@PROPERTY
@given(st.lists(st.tuples(VERSIONS, TEXTS, st.one_of(st.none(), TEXTS)), max_size=12))
def test_upsert_keeps_version_order_and_round_trips(
    entries: list[tuple[str, str, str | None]],
) -> None:
    changelog = Changelog(DEFAULT_PREAMBLE, ())
    for version, text, yanked in entries:
        markdown = notes_section(version, text, yanked)
        changelog = upsert(changelog, version, markdown)
        assert upsert(changelog, version, markdown) == changelog  # idempotent
        assert changelog.get(version) == ChangelogSection(version, markdown)
    versions = [parse_runtime(v) for v in changelog.versions]
    assert versions == sorted(set(versions), reverse=True)  # newest first, each once
    text = render(changelog)
    assert parse(text, "x") == changelog
    assert render(parse(text, "x")) == text


@PROPERTY
@given(VERSIONS, TEXTS)
def test_any_note_survives_the_changelog(version: str, text: str) -> None:
    markdown = notes_section(version, text, None)
    changelog = upsert(parse(text_of("1.0.0"), "x"), version, markdown)
    reread = parse(render(changelog), "x")
    assert reread.get(version) == ChangelogSection(version, markdown)
    # the note is one line of its section, its only list item under "Bug fixes"
    body = markdown.split("### Bug fixes\n\n", 1)[1]
    assert body == f"- {escape(text, item=True)}\n"
