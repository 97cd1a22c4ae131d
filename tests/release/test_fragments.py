"""Change fragments: ``changes/<name>.<type>.md`` read strictly, written atomically."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from astroctl.errors import InputError, OperationError
from astroctl.matrix.model import NoteType, ReleaseNote
from astroctl.release.fragments import (
    Fragment,
    add_fragment,
    cve_ids,
    read_fragments,
    slug,
    to_notes,
)


def write(directory: Path, name: str, text: str | bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# -- reading ------------------------------------------------------------------------------------


def test_a_missing_directory_has_no_fragments(tmp_path: Path) -> None:
    assert read_fragments(tmp_path / "changes") == ()


def test_fragments_are_read_sorted_by_name_then_type(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    write(changes, "zeta.bugfix.md", "Fixed the scheduler.\n")
    write(changes, "alpha.feature.md", "  New operator.  \n\n")
    write(changes, "alpha.breaking.md", "Dropped Python 3.8.")
    write(changes, "mid.dotted.name.security.md", "\ufeffPatched CVE-2024-1234.")
    found = read_fragments(changes)
    assert [(f.name, f.type, f.text) for f in found] == [
        ("alpha", NoteType.BREAKING, "Dropped Python 3.8."),
        ("alpha", NoteType.FEATURE, "New operator."),
        ("mid.dotted.name", NoteType.SECURITY, "Patched CVE-2024-1234."),
        ("zeta", NoteType.BUGFIX, "Fixed the scheduler."),
    ]
    assert found[0].path == changes / "alpha.breaking.md"
    assert to_notes(found)[3] == ReleaseNote(NoteType.BUGFIX, "Fixed the scheduler.")


def test_dotfiles_readme_and_other_files_are_not_fragments(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    write(changes, ".gitkeep", "")
    write(changes, ".draft.bugfix.md", "")
    write(changes, "README.md", "# How to write a fragment\n")
    write(changes, "notes.txt", "scratch")
    (changes / "archive").mkdir()
    write(changes, "ok.bugfix.md", "Fixed.")
    assert [f.name for f in read_fragments(changes)] == ["ok"]


def test_an_unknown_type_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    path = write(changes, "parser.bugfx.md", "Fixed.")
    with pytest.raises(InputError) as caught:
        read_fragments(changes)
    message = str(caught.value)
    assert str(path) in message
    assert "did you mean 'bugfix'?" in message
    assert "breaking, feature, improvement, bugfix, security, backport" in message


def test_an_unknown_type_without_a_close_match_lists_the_types(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    write(changes, "parser.zzz.md", "Fixed.")
    with pytest.raises(InputError, match=r"unknown change type 'zzz' \(known: breaking,"):
        read_fragments(changes)


def test_a_markdown_file_without_a_type_is_refused(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    write(changes, "notes.md", "Fixed.")
    with pytest.raises(InputError, match=r"notes\.md: not named <name>\.<type>\.md"):
        read_fragments(changes)


def test_a_fragment_without_the_md_suffix_is_refused(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    write(changes, "parser.bugfix", "Fixed.")
    with pytest.raises(InputError, match=r"did you mean parser\.bugfix\.md\?"):
        read_fragments(changes)


@pytest.mark.parametrize("content", ["", "  \n\t\n", "\ufeff\n"])
def test_an_empty_fragment_is_refused(tmp_path: Path, content: str) -> None:
    changes = tmp_path / "changes"
    path = write(changes, "empty.bugfix.md", content)
    with pytest.raises(InputError, match=f"{path}: the change fragment is empty"):
        read_fragments(changes)


def test_a_non_utf8_fragment_is_refused(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    path = write(changes, "latin.bugfix.md", "Fixed caf\xe9".encode("latin-1"))
    with pytest.raises(InputError, match=rf"{path}: not UTF-8 text \(byte 9\)"):
        read_fragments(changes)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads anything")
def test_an_unreadable_fragment_is_refused(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    path = write(changes, "secret.bugfix.md", "Fixed.")
    path.chmod(0)
    try:
        with pytest.raises(InputError, match=f"{path}: cannot read .*permission denied"):
            read_fragments(changes)
    finally:
        path.chmod(0o644)


def test_a_directory_named_like_a_fragment_is_refused(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    (changes / "odd.bugfix.md").mkdir(parents=True)
    with pytest.raises(InputError, match=r"odd\.bugfix\.md: a directory; a change fragment is"):
        read_fragments(changes)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    changes.mkdir()
    os.mkfifo(changes / "pipe.bugfix.md")
    with pytest.raises(InputError, match=r"pipe\.bugfix\.md: not a regular file"):
        read_fragments(changes)


def test_a_socket_is_refused(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    changes.mkdir()
    path = changes / "s.bugfix.md"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
    except OSError:  # a path too long for a socket address
        pytest.skip("cannot bind a unix socket here")
    try:
        with pytest.raises(InputError, match=r"s\.bugfix\.md: cannot read"):
            read_fragments(changes)
    finally:
        server.close()


def test_a_symlink_to_a_fragment_is_read(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    target = write(tmp_path, "elsewhere.txt", "Fixed elsewhere.")
    changes.mkdir()
    (changes / "link.bugfix.md").symlink_to(target)
    assert [f.text for f in read_fragments(changes)] == ["Fixed elsewhere."]


def test_a_file_where_the_directory_should_be_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "changes", "not a directory")
    with pytest.raises(InputError, match=f"{path}: not a directory"):
        read_fragments(path)


def test_a_huge_fragment_is_refused(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    write(changes, "huge.bugfix.md", "x" * (1024 * 1024 + 1))
    with pytest.raises(InputError, match="larger than 1024 KiB"):
        read_fragments(changes)


# -- writing ------------------------------------------------------------------------------------


def test_add_names_the_fragment_after_its_first_words(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    path = add_fragment(changes, NoteType.BUGFIX, "  Fixed the DAG parser's crash on empty files\n")
    assert path == changes / "fixed-the-dag-parser-s-crash.bugfix.md"
    assert path.read_text(encoding="utf-8") == "Fixed the DAG parser's crash on empty files\n"
    assert read_fragments(changes) == (
        Fragment(path, path.name.split(".")[0], NoteType.BUGFIX, path.read_text().strip()),
    )


def test_add_makes_a_taken_name_unique_across_types(tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    first = add_fragment(changes, NoteType.BUGFIX, "Fixed it")
    second = add_fragment(changes, NoteType.BUGFIX, "Fixed it")
    third = add_fragment(changes, NoteType.FEATURE, "Fixed it!")
    assert [p.name for p in (first, second, third)] == [
        "fixed-it.bugfix.md",
        "fixed-it-2.bugfix.md",
        "fixed-it-3.feature.md",
    ]
    assert len(read_fragments(changes)) == 3


def test_add_without_slug_material_uses_the_type(tmp_path: Path) -> None:
    path = add_fragment(tmp_path, NoteType.SECURITY, "修复 — ¿?")
    assert path.name == "security.security.md"


def test_add_with_a_name(tmp_path: Path) -> None:
    path = add_fragment(tmp_path / "new" / "changes", NoteType.FEATURE, "Text", name="PR-123")
    assert path.name == "PR-123.feature.md"
    with pytest.raises(InputError, match="named 'PR-123' exists already"):
        add_fragment(tmp_path / "new" / "changes", NoteType.BUGFIX, "Other", name="PR-123")


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden", "trailing.", "x" * 101])
def test_add_refuses_a_bad_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match="is not a fragment name"):
        add_fragment(tmp_path, NoteType.FEATURE, "Text", name=name)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_add_refuses_an_empty_text(tmp_path: Path, text: str) -> None:
    with pytest.raises(InputError, match="a bugfix change needs a text"):
        add_fragment(tmp_path / "changes", NoteType.BUGFIX, text)
    assert not (tmp_path / "changes").exists()


def test_add_reports_a_directory_it_cannot_create(tmp_path: Path) -> None:
    blocker = write(tmp_path, "file", "x")
    with pytest.raises(OperationError, match="cannot create the directory"):
        add_fragment(blocker / "changes", NoteType.BUGFIX, "Fixed")


def test_add_leaves_no_temporary_file(tmp_path: Path) -> None:
    add_fragment(tmp_path, NoteType.BUGFIX, "Fixed")
    assert [p.name for p in tmp_path.iterdir()] == ["fixed.bugfix.md"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fix the DAG", "fix-the-dag"),
        ("Café crème brûlée", "cafe-creme-brulee"),
        ("one two three four five six seven", "one-two-three-four-five-six"),
        ("a" * 60, "a" * 40),
        ("supercalifragilistic expialidocious-and-more", "supercalifragilistic-expialidocious-and"),
        ("***", ""),
    ],
)
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected


# -- CVE ids ------------------------------------------------------------------------------------


def test_cve_ids_are_found_once_each_in_order() -> None:
    text = "Fixed CVE-2024-12345 and cve-2023-1234; again CVE-2024-12345."
    assert cve_ids(text) == ("CVE-2024-12345", "CVE-2023-1234")


@pytest.mark.parametrize(
    "text",
    ["CVE-24-1234", "CVE-2024-123", "XCVE-2024-1234", "CVE-2024-١٢٣٤", "no id", "2-CVE-2024-1234"],
)
def test_cve_ids_need_a_whole_id(text: str) -> None:
    assert cve_ids(text) == ()
