"""Every view at 60, 80, 120 and 200 columns, piped: no value split, no line wider than the width.

The grids a view draws are caught on their way to the table engine, so the checks compare the
output with the very cells it was drawn from: every word of every cell appears whole (a version
split as ``9.1`` / ``7.0`` would leave fragments that are no word of the grid); every cell of a
column that is not prose (prose: descriptions, yank reasons) appears whole on one line; and only
a single word wider than the whole line (a 61-character variable name at 60 columns) may pass
the width.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest

from astroctl.render import table
from astroctl.render.table import Grid
from tests.helpers import SNAPSHOT, Invoke

RULE = "\u2500"
PROSE = {"Description", "Yanked"}  # the columns of running text; any other cell is one value
WIDTHS = (60, 80, 120, 200)
VIEWS = {
    "matrix show": ("matrix", "show"),
    "matrix show --all": ("matrix", "show", "--all"),
    "matrix show 9 11": ("matrix", "show", "9", "11"),
    "matrix lookup --airflow 2.7": ("matrix", "lookup", "--airflow", "2.7"),
    "matrix env": ("matrix", "env", "9.17.0"),
    "lifecycle": ("lifecycle", "--on", "2024-06-15"),
}


def drawn(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, args: Sequence[str], width: int
) -> tuple[str, list[Grid]]:
    """The view's stdout at ``width`` columns (piped), and the grids it drew."""
    grids: list[Grid] = []
    real = table.draw

    def spy(given: Sequence[Grid]) -> None:
        grids.extend(given)
        real(given)

    monkeypatch.setattr(table, "draw", spy)
    monkeypatch.setenv("COLUMNS", str(width))
    result = invoke(*args, matrix=SNAPSHOT)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert grids
    return result.stdout, grids


def words(text: str, headers: set[str]) -> Counter[str]:
    """The words of drawn output: rules left out, a record label's colon taken off."""
    found: Counter[str] = Counter()
    for word in text.split():
        if set(word) != {RULE}:
            found[word[:-1] if word.endswith(":") and word[:-1] in headers else word] += 1
    return found


def check(stdout: str, grids: Sequence[Grid], width: int) -> None:
    headers = {word for grid in grids for column in grid.columns for word in column.split()}
    expected: Counter[str] = Counter()
    for grid in grids:
        expected.update(grid.title.split())
        expected.update(headers)
        expected.update(word for row in grid.rows for cell in row for word in cell.split())
    found = words(stdout, headers)
    assert found >= expected, expected - found  # every word whole ...
    assert set(found) <= set(expected), set(found) - set(expected)  # ... and no fragment
    lines = stdout.splitlines()
    for line in lines:
        assert len(line) <= width or len(line.split()) == 1, (width, line)
    for grid in grids:
        for i, column in enumerate(grid.columns):
            for row in grid.rows:
                if column not in PROSE:
                    assert any(row[i] in line for line in lines), row[i]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("view", list(VIEWS))
def test_no_view_splits_a_value_at_any_width(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, view: str, width: int
) -> None:
    stdout, grids = drawn(invoke, monkeypatch, VIEWS[view], width)
    check(stdout, grids, width)


def test_the_issue_cases_at_80_columns(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    """``matrix show 9 11`` kept 9.17.0 and Version whole; ``matrix env`` took 109 lines."""
    shown, _ = drawn(invoke, monkeypatch, ("matrix", "show", "9", "11"), 80)
    lines = shown.splitlines()
    assert " Version:              9.17.0" in lines
    assert " Version:              11.8.0" in lines
    env, grids = drawn(invoke, monkeypatch, ("matrix", "env", "9.17.0"), 80)
    assert len(env.splitlines()) < 50
    (grid,) = grids
    description = grid.rows[0][2]
    assert description.startswith("Seconds the scheduler waits")
    prose = [line[14:] for line in env.splitlines()[4:7]]
    assert " ".join(prose) == description  # wrapped at spaces, under its label


def test_a_long_description_wraps_in_its_column_at_120(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, (grid,) = drawn(invoke, monkeypatch, ("matrix", "env", "9.17.0"), 120)
    lines = env.splitlines()
    assert lines[2].split() == ["Variable", "Value", "Description"]  # still a table
    start = lines[2].index("Description")
    column = [line[start:].strip() for line in lines[4:] if line[start:].strip()]
    assert " ".join(column).startswith(grid.rows[0][2])
    assert max(len(line) for line in lines) <= 120
    assert any("   */5 * * * *   " in line for line in lines)  # a cron line is a value
    assert any("   = workers * max_tasks_per_worker   " in line for line in lines)  # a formula too


def test_lifecycle_at_80_wraps_a_header_not_a_status(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdout, (grid,) = drawn(invoke, monkeypatch, VIEWS["lifecycle"], 80)
    lines = stdout.splitlines()
    assert lines[2].split() == ["End", "of"]
    assert lines[3].split()[-3:] == ["Days", "left", "Status"]
    assert len(lines) == 5 + len(grid.rows)  # one line per row: no status wrapped
    for line, row in zip(lines[5:], grid.rows, strict=True):
        assert line.endswith(f"   {row[-1]}")


def test_200_columns_draws_the_natural_tables(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    for view in ("matrix show", "matrix show 9 11", "lifecycle"):
        stdout, grids = drawn(invoke, monkeypatch, VIEWS[view], 200)
        assert stdout.splitlines()[2].split()[0] == grids[0].columns[0], view  # a header row
        assert len(stdout.splitlines()) == len(grids[0].rows) + 4
