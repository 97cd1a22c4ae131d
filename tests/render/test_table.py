"""The table engine on its own: the plain path matches rich, widths never split a word, any grid
at any width keeps every word whole, and markdown rows survive whatever the cells hold."""

from __future__ import annotations

import io
import re
import sys
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astroctl.render import table as render
from astroctl.render.streams import printable
from astroctl.render.table import Grid

RULE = "\u2500"

_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=0, max_size=24
)
# Words for the layout properties: no colon (a record label ends with one), no blank.
_word = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
    min_size=1,
    max_size=14,
)
_cell = st.lists(_word, max_size=8).map(" ".join)


@st.composite
def grids(draw: st.DrawFn) -> Grid:
    columns = draw(st.lists(_text.filter(bool), min_size=1, max_size=6))
    rows = draw(
        st.lists(
            st.lists(_text, min_size=len(columns), max_size=len(columns)).map(tuple),
            max_size=6,
        )
    )
    title = draw(st.one_of(st.just(""), _text))
    return Grid(title, tuple(columns), tuple(rows))


@st.composite
def worded_grids(draw: st.DrawFn) -> Grid:
    columns = draw(st.lists(_cell.filter(bool), min_size=1, max_size=7))
    rows = draw(
        st.lists(
            st.lists(_cell, min_size=len(columns), max_size=len(columns)).map(tuple), max_size=5
        )
    )
    wrap = draw(st.one_of(st.none(), st.frozensets(st.sampled_from(columns))))
    return Grid(draw(_cell), tuple(columns), tuple(rows), wrap=wrap)


def drawn(grid: Grid, monkeypatch: pytest.MonkeyPatch, columns: int | None) -> str:
    """What ``draw`` writes to a pipe, with COLUMNS set to ``columns`` (or unset)."""
    out = io.StringIO()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", out)
        patch.delenv("FORCE_COLOR", raising=False)
        if columns is None:
            patch.delenv("COLUMNS", raising=False)
        else:
            patch.setenv("COLUMNS", str(columns))
        render.draw([grid])
    return out.getvalue()


def tokens(text: str, headers: set[str]) -> list[str]:
    """The words of drawn output: rules left out, a record label's colon taken off."""
    found = []
    for word in text.split():
        if set(word) == {RULE}:
            continue
        found.append(word[:-1] if word.endswith(":") and word[:-1] in headers else word)
    return found


# -- the natural table: the plain path and rich draw the same bytes ---------------------------


@settings(max_examples=150, deadline=None)
@given(grid=grids())
def test_plain_table_matches_rich_byte_for_byte(grid: Grid) -> None:
    plain = render._plain_table(grid)
    assert plain is not None
    assert plain == render._rich_text(grid, None, None)


def test_the_title_takes_its_own_line_even_when_wider_than_the_table() -> None:
    grid = Grid("Releases shipping Airflow 9.17.0", ("a",), (("b",),))
    plain = render._plain_table(grid)
    assert plain is not None
    assert plain.splitlines()[0] == "Releases shipping Airflow 9.17.0"
    assert plain == render._rich_text(grid, None, None)


def test_plain_table_gives_way_to_rich_for_wide_characters() -> None:
    grid = Grid("", ("name",), (("\u5bbd\u5b57\u7b26",),))
    assert render._plain_table(grid) is None


def test_wide_characters_count_as_two_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    grid = Grid("", ("name", "note"), (("\u5bbd\u5b57\u7b26", "x"),))
    lines = drawn(grid, monkeypatch, 200).splitlines()
    assert lines[0] == " name     note"
    assert lines[2] == " \u5bbd\u5b57\u7b26   x"


def test_rich_path_never_reads_user_text_as_markup() -> None:
    grid = Grid("[bold]title[/bold]", ("[red]col",), (("[link=x]a cell wider than the title",),))
    text = render._rich_text(grid, None, 200)
    assert "[bold]title[/bold]" in text
    assert "[red]col" in text
    assert "[link=x]a cell" in text


# -- widths: prose wraps at spaces, values never ----------------------------------------------


@settings(max_examples=200, deadline=None)
@given(grid=worded_grids(), limit=st.integers(min_value=10, max_value=160))
def test_fitted_widths_never_go_below_a_columns_minimum(grid: Grid, limit: int) -> None:
    widths = render._fit_widths(grid, limit)
    minimum = render._minimum_widths(grid)
    natural = render._natural_widths(grid)
    room = limit - 3 * (len(grid.columns) - 1) - 2
    if widths is None:
        assert sum(minimum) > room
        return
    assert sum(widths) <= room
    for low, width, high in zip(minimum, widths, natural, strict=True):
        assert low <= width <= high


def test_a_value_column_is_as_wide_as_its_widest_value() -> None:
    grid = Grid(
        "",
        ("Variable", "Value", "Description"),
        (("A", "*/5 * * * *", "Schedule of the monitoring DAG, every 5 minutes by default"),),
    )
    assert render._prose(grid) == [False, False, True]
    assert render._minimum_widths(grid) == [8, 11, 11]  # "*/5 * * * *"; "Description"


def test_a_formula_is_a_value_not_prose() -> None:
    grid = Grid("", ("Value",), (("= workers * max_tasks_per_worker * 2",),))
    assert render._prose(grid) == [False]


def test_a_view_names_its_prose_columns() -> None:
    grid = Grid("", ("OS", "Why"), (("Debian bookworm in its slim variant", "bad"),))
    assert render._prose(grid) == [True, False]
    assert render._prose(Grid("", grid.columns, grid.rows, wrap=frozenset({"Why"}))) == [
        False,
        True,
    ]


def test_wrap_must_name_columns_of_the_grid() -> None:
    with pytest.raises(ValueError, match="Nope"):
        Grid("", ("a",), (), wrap=frozenset({"Nope"}))


def test_the_widest_column_gives_way_first() -> None:
    grid = Grid("", ("name", "value", "description"), (("a", "*/5 * * * *", "word " * 40),))
    widths = render._fit_widths(grid, 80)
    assert widths is not None
    assert widths[:2] == [4, 11]  # the narrow columns keep their natural width
    assert sum(widths) == 80 - 3 * 2 - 2


def test_a_long_header_wraps_before_a_value_does(monkeypatch: pytest.MonkeyPatch) -> None:
    grid = Grid(
        "",
        ("Runtime", "Channel", "Latest", "End of maintenance", "Days left", "Status"),
        (("9", "lts", "9.17.0", "2025-01-31", "-663", "end of maintenance"),),
    )
    lines = drawn(grid, monkeypatch, 80).splitlines()
    assert lines[0].split() == ["End", "of"]
    assert lines[1].split() == [
        "Runtime",
        "Channel",
        "Latest",
        "maintenance",
        "Days",
        "left",
        "Status",
    ]
    assert lines[3].endswith("end of maintenance")
    assert max(len(line) for line in lines) <= 80


# -- any grid at any width: every word whole, every line within the width ----------------------


def _overflow_allowed(line: str, grid: Grid) -> bool:
    """A line may pass the width only to keep one thing whole: a word, a value, a label."""
    text = line.strip()
    values = {row[i] for row in grid.rows for i, p in enumerate(render._prose(grid)) if not p}
    return len(text.split()) <= 1 or text in values or text[:-1] in grid.columns


@settings(max_examples=300, deadline=None)
@given(grid=worded_grids(), width=st.integers(min_value=8, max_value=200))
def test_any_grid_at_any_width_keeps_every_word_whole(grid: Grid, width: int) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        text = drawn(grid, monkeypatch, width)
    headers = {word for column in grid.columns for word in column.split()}
    expected = Counter(grid.title.split())
    expected.update(word for row in grid.rows for cell in row for word in cell.split())
    found = Counter(tokens(text, headers))
    assert found >= expected  # every word of the grid, whole (records repeat the headers)
    assert set(found) <= set(expected) | headers  # and no fragment of one
    if grid.rows:
        assert set(found) >= headers
    for line in text.splitlines():
        assert len(line) <= width or _overflow_allowed(line, grid), (width, line)
    for i, prose in enumerate(render._prose(grid)):
        for row in grid.rows:
            if not prose and row[i]:
                assert any(row[i] in line for line in text.splitlines()), row[i]


def test_a_table_too_wide_for_its_minimums_becomes_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grid = Grid(
        "Releases",
        ("Version", "OS", "End of maintenance", "Yanked"),
        (
            ("9.17.0", "Debian 11.3 (bullseye)", "2025-01-31", ""),
            ("9.2.0", "Debian 11.3 (bullseye)", "2025-01-31", "serious scheduler problems " * 2),
        ),
        wrap=frozenset({"Yanked"}),
    )
    assert drawn(grid, monkeypatch, 44) == (
        "Releases\n"
        "\n"
        " Version:            9.17.0\n"
        " OS:                 Debian 11.3 (bullseye)\n"
        " End of maintenance: 2025-01-31\n"
        " Yanked:\n"
        "\n"
        " Version:            9.2.0\n"
        " OS:                 Debian 11.3 (bullseye)\n"
        " End of maintenance: 2025-01-31\n"
        " Yanked:             serious scheduler\n"
        "                     problems serious\n"
        "                     scheduler problems\n"
    )


def test_a_record_value_too_wide_for_its_place_goes_under_its_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grid = Grid("", ("Variable", "Description"), (("A" * 50, "word " * 12),))
    assert drawn(grid, monkeypatch, 40) == (
        " Variable:\n"
        f"   {'A' * 50}\n"
        " Description: word word word word word\n"
        "              word word word word word\n"
        "              word word\n"
    )


def test_a_terminal_draws_the_same_records_in_style(monkeypatch: pytest.MonkeyPatch) -> None:
    grid = Grid("T", ("Version", "OS"), (("9.17.0", "Debian 11.3 (bullseye)"),))
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setenv("COLUMNS", "32")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    render.draw([grid])
    styled = out.getvalue()
    assert "\x1b[1m" in styled  # bold labels, as the table's headers are
    plain = re.sub(r"\x1b\[[0-9;]*m", "", styled)
    assert plain == drawn(grid, monkeypatch, 32)
    assert plain.splitlines()[2] == " Version: 9.17.0"


# -- control characters and markdown -----------------------------------------------------------


def test_cells_show_control_characters_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    grid = Grid("t\x1b]0;owned\x07", ("a\tb",), (("red \x1b[31mX\x9b2J\x7f line\nbreak",),))
    for columns in (None, 20, 200):
        text = drawn(grid, monkeypatch, columns)
        assert not {char for char in text if ord(char) < 32 or 0x7F <= ord(char) < 0xA0} - {"\n"}
        assert "\\x1b[31mX\\x9b2J\\x7f" in text.replace("\n", "").replace(" ", "")
        assert "t\\x1b]0;owned\\x07" in text


def _gfm_cells(row: str, *, pairs: bool) -> list[str]:
    """A GFM table row split into cells, read the two ways parsers do.

    ``pairs``: a backslash escapes whatever character follows it (so ``\\\\|`` ends a cell);
    otherwise only a backslash right before a pipe escapes it.
    """
    assert row.startswith("| ") and row.endswith(" |"), row
    cells, cell, chars = [], "", iter(row[1:-1])
    for char in chars:
        if char == "\\" and pairs:
            cell += char + next(chars, "")
        elif char == "|" and cell.endswith("\\"):
            cell += char
        elif char == "|":
            cells.append(cell)
            cell = ""
        else:
            cell += char
    return [*cells, cell]


def _unescape(cell: str) -> str:
    return re.sub(r"\\([\\|])", r"\1", cell.strip())


@settings(max_examples=200, deadline=None)
@given(
    columns=st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=4),
    data=st.data(),
)
def test_markdown_rows_survive_any_text(columns: list[str], data: st.DataObject) -> None:
    hostile = st.text(alphabet=st.sampled_from("ab |\\\n\r\x1b\x85\u2028"), max_size=12)
    rows = data.draw(
        st.lists(st.lists(hostile, min_size=len(columns), max_size=len(columns)), max_size=4)
    )
    grid = Grid("", tuple(columns), tuple(tuple(row) for row in rows))
    lines = render.markdown(grid).split("\n")
    assert len(lines) == len(rows) + 2
    assert lines == render.markdown(grid).splitlines()  # no character Python reads as a break
    for line, row in zip([lines[0], *lines[2:]], [grid.columns, *grid.rows], strict=True):
        assert len(_gfm_cells(line, pairs=False)) == len(row)
        cells = _gfm_cells(line, pairs=True)
        assert len(cells) == len(row)
        for cell, text in zip(cells, row, strict=True):
            assert "\n" not in cell and "\r" not in cell and "\x1b" not in cell
            if printable(text) == text and text == text.strip() and "\\" not in text:
                assert _unescape(cell) == text


def test_markdown_shows_a_line_break_as_br_and_escapes_the_rest() -> None:
    grid = Grid("a | b", ("x",), (("one\ntwo\r\nthree | \\| \x1b[0m",),))
    assert render.markdown(grid).splitlines() == [
        "## a \\| b",
        "",
        "| x |",
        "|---|",
        "| one<br>two<br>three \\| \\\\\\| \\x1b[0m |",
    ]
