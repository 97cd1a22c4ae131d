"""The table engine: a :class:`Grid` of plain strings drawn for a terminal, a pipe or markdown.

Rich is imported only when a table needs it; piped tables that need no wrapping are drawn by hand,
byte-identical to what rich would draw.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from astroctl.render import streams


@dataclass(frozen=True)
class Grid:
    """A titled table of plain strings: the common form of every tabular result."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


_UNBOUNDED = 10_000


def draw(grids: Sequence[Grid]) -> None:
    terminal = streams.stdout_is_terminal()
    for index, grid in enumerate(grids):
        if index:
            streams.out("\n")
        plain = None if terminal else _plain_table(grid, _columns())
        if plain is None:
            _rich_print(grid, terminal=terminal)
        else:
            streams.out(plain)


def _columns() -> int | None:
    text = os.environ.get("COLUMNS", "")
    return int(text) if text.isdigit() else None


def _plain_table(grid: Grid, limit: int | None) -> str | None:
    """A piped table drawn without rich, the same bytes rich draws when nothing wraps.

    Piped output is drawn at its natural width (or within COLUMNS when set), without trailing
    blanks, so it greps, diffs and pastes cleanly. None when rich must lay it out: a cell needs
    wrapping, or holds text whose display width is not its length.
    """
    cells = (grid.columns, *grid.rows)
    if not all(cell.isascii() and cell.isprintable() for row in cells for cell in row):
        return None
    widths = _natural_widths(grid)
    inner = sum(widths) + 3 * (len(widths) - 1)
    if (limit is not None and inner + 2 > limit) or len(grid.title) > inner + 2:
        return None
    lines = [grid.title.rstrip(), ""] if grid.title else []
    lines.append(_plain_row(grid.columns, widths))
    lines.append(" " + "\u2500" * inner)
    lines.extend(_plain_row(row, widths) for row in grid.rows)
    return "\n".join(lines).strip("\n") + "\n"


def _natural_widths(grid: Grid) -> list[int]:
    """Each column's width when nothing wraps: its longest cell, header included."""
    cells = (grid.columns, *grid.rows)
    return [max(len(row[i]) for row in cells) for i in range(len(grid.columns))]


def _plain_row(row: Sequence[str], widths: Sequence[int]) -> str:
    return (
        " " + "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
    ).rstrip()


def _rich_print(grid: Grid, *, terminal: bool) -> None:
    from rich.console import Console

    if terminal:
        console = Console(file=sys.stdout, highlight=False, emoji=False)
        console.print(_rich_table(grid, _fit_widths(grid, console.width)))
        return
    width = _columns()
    table = _rich_table(grid, None if width is None else _fit_widths(grid, width))
    console = Console(file=sys.stdout, highlight=False, emoji=False, width=width or _UNBOUNDED)
    if width is None:
        console = Console(
            file=sys.stdout, highlight=False, emoji=False, width=console.measure(table).maximum
        )
    with console.capture() as captured:
        console.print(table)
    lines = [line.rstrip() for line in captured.get().splitlines()]
    streams.out("\n".join(lines).strip("\n") + "\n")


def _fit_widths(grid: Grid, limit: int) -> list[int] | None:
    """Column widths that fit ``limit`` columns, wrapping only at spaces; None when all fits.

    The widest columns give way first: every column is capped at one level, the highest that
    fits, but never below its longest word. Narrow columns keep their natural width. (Rich's
    own squeeze shrinks every column alike, folding words and cropping the last column.)
    """
    count = len(grid.columns)
    natural = _natural_widths(grid)
    cells = (grid.columns, *grid.rows)
    words = [max(len(w) for row in cells for w in (row[i].split() or [""])) for i in range(count)]
    room = limit - 3 * (count - 1) - 2
    if sum(natural) <= room:
        return None

    def capped(level: int) -> list[int]:
        return [min(n, max(level, w)) for n, w in zip(natural, words, strict=True)]

    low, high = 0, max(natural)
    while low < high:  # the highest level whose widths still fit
        middle = (low + high + 1) // 2
        if sum(capped(middle)) <= room:
            low = middle
        else:
            high = middle - 1
    widths = capped(low)
    spare = room - sum(widths)
    for i in sorted(range(count), key=lambda i: natural[i] - widths[i], reverse=True):
        grow = min(spare, natural[i] - widths[i])  # what the cap's rounding left unused
        widths[i] += max(grow, 0)
        spare -= max(grow, 0)
    return widths


def _rich_table(grid: Grid, widths: Sequence[int] | None = None) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=Text(grid.title) if grid.title else None,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        pad_edge=False,
    )
    for position, column in enumerate(grid.columns):
        table.add_column(
            Text(column),
            width=None if widths is None else widths[position],
            overflow="fold",
        )
    for row in grid.rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def markdown(grid: Grid) -> str:
    def line(cells: Iterable[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    parts = [f"## {grid.title}", ""] if grid.title else []
    parts.append(line(grid.columns))
    parts.append("|" + "|".join("---" for _ in grid.columns) + "|")
    parts.extend(line(row) for row in grid.rows)
    return "\n".join(parts)
