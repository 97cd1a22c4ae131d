"""The plain piped-table path draws exactly what rich draws, so output never depends on the path."""

from __future__ import annotations

import io
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astroctl.render import table as render
from astroctl.render.table import Grid
from tests.helpers import Invoke

_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=0, max_size=24
)


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


def _rich(grid: Grid, monkeypatch: pytest.MonkeyPatch) -> str:
    out = io.StringIO()
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stdout", out)
        render._rich_print(grid, terminal=False)
    return out.getvalue()


@settings(max_examples=150, deadline=None)
@given(grid=grids())
def test_plain_table_matches_rich_byte_for_byte(grid: Grid) -> None:
    plain = render._plain_table(grid, None)
    if plain is None:  # a title wider than the table: rich wraps it
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.delenv("COLUMNS", raising=False)
        assert plain == _rich(grid, monkeypatch)


def test_plain_table_gives_way_to_rich_when_it_must_wrap() -> None:
    grid = Grid("t", ("name", "description"), (("x", "a long description " * 5),))
    assert render._plain_table(grid, None) is not None
    assert render._plain_table(grid, 40) is None


def test_plain_table_gives_way_to_rich_for_wide_characters() -> None:
    grid = Grid("", ("name",), (("\u5bbd\u5b57\u7b26",),))
    assert render._plain_table(grid, None) is None


def test_rich_path_never_reads_user_text_as_markup(monkeypatch: pytest.MonkeyPatch) -> None:
    grid = Grid("[bold]title[/bold]", ("[red]col",), (("[link=x]a cell wider than the title",),))
    monkeypatch.setenv("COLUMNS", "200")
    drawn = _rich(grid, monkeypatch)
    assert "[bold]title[/bold]" in drawn
    assert "[red]col" in drawn
    assert "[link=x]a cell" in drawn


def _words(grid: Grid, i: int) -> int:
    return max(len(w) for row in (grid.columns, *grid.rows) for w in (row[i].split() or [""]))


def _natural(grid: Grid, i: int) -> int:
    return max(len(row[i]) for row in (grid.columns, *grid.rows))


@settings(max_examples=200, deadline=None)
@given(grid=grids(), limit=st.integers(min_value=10, max_value=160))
def test_fitted_widths_wrap_at_spaces_only_and_fit_when_they_can(grid: Grid, limit: int) -> None:
    widths = render._fit_widths(grid, limit)
    count = len(grid.columns)
    room = limit - 3 * (count - 1) - 2
    if widths is None:
        assert sum(_natural(grid, i) for i in range(count)) <= room
        return
    for i, width in enumerate(widths):
        assert _words(grid, i) <= width <= _natural(grid, i)
    if sum(_words(grid, i) for i in range(count)) <= room:
        assert sum(widths) <= room


def test_the_widest_column_gives_way_first() -> None:
    grid = Grid("", ("name", "value", "description"), (("a", "*/5 * * * *", "word " * 40),))
    widths = render._fit_widths(grid, 80)
    assert widths is not None
    assert widths[:2] == [4, 11]  # the narrow columns keep their natural width
    assert sum(widths) == 80 - 3 * 2 - 2


def test_the_parity_table_fits_an_80_column_terminal_without_breaking_words(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    shown = invoke("matrix", "show")
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    for token in ("2023-09-30", "2025-10-31", "(bullseye)", "Airflow", "Channel", "stable"):
        assert token in shown.stdout
