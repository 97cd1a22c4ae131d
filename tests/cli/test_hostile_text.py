"""Text from the matrix reaches the user as text: never as terminal control, never as broken
markdown, and non-ASCII as UTF-8 in JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.factories import document, release, toml_text
from tests.helpers import Invoke

ESC = "\x1b"
REASON = f"broke {ESC}[31mred{ESC}[0m and\rcarriage\x07bell\nsecond line | pipe — café"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.toml"
    doc = document(release("9.0.0", yanked=REASON), release("9.1.0", yanked="Säule — ∞"))
    path.write_text(toml_text(doc), encoding="utf-8")
    return path


def test_json_keeps_non_ascii_as_utf8(invoke: Invoke, hostile: Path) -> None:
    result = invoke("matrix", "show", "--all", "--format", "json", matrix=hostile)
    assert result.exit_code == 0, result.stderr
    assert "Säule — ∞" in result.stdout
    for escaped in ("\\u00e4", "\\u2014", "\\u221e", "\\u00e9"):  # ä — ∞ é
        assert escaped not in result.stdout
    assert json.loads(result.stdout)["releases"][0]["yanked"] == REASON  # exact, escaped by JSON


@pytest.mark.parametrize("columns", ["60", "80", "120", "200"])
def test_tables_show_control_characters_escaped(
    invoke: Invoke, hostile: Path, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    result = invoke("matrix", "show", "--all", matrix=hostile)
    assert result.exit_code == 0, result.stderr
    for control in (ESC, "\r", "\x07"):
        assert control not in result.stdout
    assert "\\x1b" in result.stdout.replace("\n", "").replace(" ", "")


def test_warnings_show_control_characters_escaped(invoke: Invoke, hostile: Path) -> None:
    result = invoke("matrix", "show", "9.0.0", "--format", "json", matrix=hostile)
    assert result.exit_code == 0
    assert "9.0.0 is yanked" in result.stderr
    for control in (ESC, "\r", "\x07"):
        assert control not in result.stderr
    assert result.stderr.count("\n") == 1  # the reason's newline cannot start a second line


def test_markdown_rows_survive_newlines_and_pipes(invoke: Invoke, hostile: Path) -> None:
    result = invoke("matrix", "show", "--all", "--format", "markdown", matrix=hostile)
    assert result.exit_code == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 9.")]
    assert len(rows) == 2
    header = next(line for line in result.stdout.splitlines() if line.startswith("| Version"))
    cells = header.count(" | ")
    for row in rows:
        assert row.endswith(" |")
        assert row.replace("\\|", "").count(" | ") == cells
        assert ESC not in row
