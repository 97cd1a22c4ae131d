"""The table engine: a :class:`Grid` of plain strings drawn for a terminal, a pipe or markdown.

Every title, header and cell is first made safe with :func:`streams.printable`: a control
character (ESC, the other C0 controls, DEL, C1, the bidi overrides) is shown as its escape, so
text from the matrix never reaches a terminal as a command. Then the table is laid out for a
width: the terminal's, or ``COLUMNS`` when piped (a pipe without ``COLUMNS`` is unbounded).

A value is never split. A cell of an ordinary column (a version, a date, a tag, a name, a list
of versions, a cron expression) stays on one line. Only *prose* columns wrap, and only at
spaces: the columns a view names in :attr:`Grid.wrap`, or by default those with a cell that
reads as prose, at least ``_PROSE_WIDTH`` columns of mostly words (descriptions, yank reasons;
not a formula such as ``= workers * max_tasks_per_worker``). Headers wrap at spaces too ("End
of maintenance" may take two lines), never inside a word. So each column has a minimum width:
its widest cell (its longest word for prose), and its header's longest word.

1. **Natural**: the table fits with every column as wide as its widest cell. A piped table of
   ASCII text is then drawn by hand, byte for byte what rich draws, without importing rich.
2. **Fitted**: the minimums fit. The widest columns give way first: every column is capped at
   one level, the highest that fits, but never below its minimum; narrow columns keep their
   natural width. The widths are computed here and given to rich as fixed column widths,
   because rich's own squeeze (``Table._collapse_widths``, then an even cut of every column)
   ignores the longest word and folds versions and dates.
3. **Records**: the minimums do not fit. The table becomes a list of records, one block per
   row, separated by a blank line (psql's ``\\x auto`` does the same)::

       Version:            9.17.0
       Yanked:             a reason that is longer than the line wraps at
                           spaces under itself

   A value that does not fit beside the labels goes on the next line, indented. A single word
   wider than the whole line (a 61-character variable name at 60 columns) is still not split:
   its line overflows and the terminal soft-wraps it, which keeps it whole for copy and grep.

The title is not part of the table: it takes its own lines, wrapped at spaces within the width.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from astroctl.render import streams

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class Grid:
    """A titled table of plain strings: the common form of every tabular result."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    wrap: frozenset[str] | None = field(default=None, kw_only=True)
    """The headers of the prose columns, whose cells may wrap at spaces; None: guess them."""

    def __post_init__(self) -> None:
        if self.wrap is not None and not self.wrap <= set(self.columns):
            unknown = ", ".join(sorted(self.wrap - set(self.columns)))
            raise ValueError(f"Grid.wrap names columns the grid does not have: {unknown}")


_UNBOUNDED = 10_000
_PROSE_WIDTH = 30  # a cell this wide, mostly words, reads as running text, not as a value
_GAP = 3  # between two columns: padding, a blank rule, padding
_EDGES = 2  # the blank left and right edges of the table
_INDENT = "   "  # a record value too wide to sit beside its label goes under it, indented
_RULE = "\u2500"


def draw(grids: Sequence[Grid]) -> None:
    """Draw ``grids`` on stdout, one after another, for a terminal or a pipe."""
    console = _terminal()
    width = console.width if console is not None else _columns()
    for index, grid in enumerate(grids):
        if index:
            streams.out("\n")
        _draw(_printable(grid), width, console)


def _terminal() -> Console | None:
    """The rich console of a terminal on stdout; None when stdout is piped."""
    if not streams.stdout_is_terminal():
        return None
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, emoji=False)


def _columns() -> int | None:
    text = os.environ.get("COLUMNS", "")
    return int(text) if text.isdigit() and int(text) > 0 else None


def _printable(grid: Grid) -> Grid:
    safe = streams.printable
    return Grid(
        safe(grid.title),
        tuple(safe(column) for column in grid.columns),
        tuple(tuple(safe(cell) for cell in row) for row in grid.rows),
        wrap=None if grid.wrap is None else frozenset(safe(column) for column in grid.wrap),
    )


def _draw(grid: Grid, width: int | None, console: Console | None) -> None:
    natural = _natural_widths(grid)
    if width is None or _table_width(natural) <= width:
        widths: list[int] | None = None
    else:
        widths = _fit_widths(grid, width)
        if widths is None:
            _print_records(grid, width, console)
            return
    if console is not None:
        _print_table(grid, widths, width, console)
        return
    plain = _plain_table(grid, width) if widths is None else None
    streams.out(plain if plain is not None else _rich_text(grid, widths, width))


# -- measures -----------------------------------------------------------------------------------


def _cells(text: str) -> int:
    """The display width of ``text`` in terminal cells (wide characters take two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _longest_word(text: str) -> int:
    return max((_cells(word) for word in text.split()), default=0)


def _table_width(widths: Sequence[int]) -> int:
    return sum(widths) + _GAP * (len(widths) - 1) + _EDGES


def _natural_widths(grid: Grid) -> list[int]:
    """Each column's width when nothing wraps: its widest cell, header included."""
    cells = (grid.columns, *grid.rows)
    return [max(_cells(row[i]) for row in cells) for i in range(len(grid.columns))]


def _prose(grid: Grid) -> list[bool]:
    """Which columns hold running text that may wrap at spaces (see :attr:`Grid.wrap`)."""
    if grid.wrap is not None:
        return [column in grid.wrap for column in grid.columns]
    return [any(_reads_as_prose(row[i]) for row in grid.rows) for i in range(len(grid.columns))]


def _reads_as_prose(text: str) -> bool:
    """Long text made mostly of words: a description, a reason; not a formula or a cron line."""
    words = text.split()
    worded = sum(word[0].isalpha() for word in words)
    return _cells(text) >= _PROSE_WIDTH and len(words) >= 3 and 4 * worded >= 3 * len(words)


def _minimum_widths(grid: Grid) -> list[int]:
    """The narrowest each column can be without splitting a word or wrapping a value."""
    widths = []
    for i, prose in enumerate(_prose(grid)):
        measure = _longest_word if prose else _cells
        cells = max((measure(row[i]) for row in grid.rows), default=0)
        widths.append(max(cells, _longest_word(grid.columns[i])))
    return widths


def _fit_widths(grid: Grid, limit: int) -> list[int] | None:
    """Column widths for a table at most ``limit`` wide; None when even the minimums exceed it.

    The widest columns give way first: every column is capped at one level, the highest that
    fits, but never below its minimum. Narrow columns keep their natural width. (Rich's own
    squeeze shrinks every column alike, below the longest word, folding words.)
    """
    natural = _natural_widths(grid)
    minimum = _minimum_widths(grid)
    room = limit - _table_width([0] * len(natural))
    if sum(minimum) > room:
        return None

    def capped(level: int) -> list[int]:
        return [min(n, max(level, m)) for n, m in zip(natural, minimum, strict=True)]

    low, high = 0, max(natural)
    while low < high:  # the highest level whose widths still fit
        middle = (low + high + 1) // 2
        if sum(capped(middle)) <= room:
            low = middle
        else:
            high = middle - 1
    widths = capped(low)
    spare = room - sum(widths)
    for i in sorted(range(len(widths)), key=lambda i: natural[i] - widths[i], reverse=True):
        grow = max(min(spare, natural[i] - widths[i]), 0)  # what the cap's rounding left unused
        widths[i] += grow
        spare -= grow
    return widths


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines at most ``width`` wide, broken only at spaces; a longer word overflows."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and _cells(line) + 1 + _cells(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]


def _title_lines(title: str, width: int | None) -> list[str]:
    if not title.strip():
        return []
    return [title.rstrip()] if width is None or _cells(title) <= width else _wrap(title, width)


def _print_title(title: str, width: int | None, console: Console) -> None:
    """The title in the terminal's style, and the blank line under it."""
    lines = _title_lines(title, width)
    if lines:
        from rich.text import Text

        console.print(Text("\n".join(lines), style="table.title"), soft_wrap=True)
        console.print()


def _print_table(
    grid: Grid, widths: Sequence[int] | None, width: int | None, console: Console
) -> None:
    """The table in the terminal's style: the same lines as a pipe gets, trailing blanks aside."""
    _print_title(grid.title, width, console)
    with console.capture() as captured:
        console.print(_rich_table(grid, widths))
    lines = captured.get().splitlines()
    while lines and not lines[-1].strip():  # the blank bottom edge
        lines.pop()
    while lines and not lines[0].strip():  # the blank top edge
        lines.pop(0)
    streams.out("".join(f"{line}\n" for line in lines))


# -- the natural and fitted table ------------------------------------------------------------------


def _plain_table(grid: Grid, width: int | None = None) -> str | None:
    """A piped table at its natural width drawn without rich, the same bytes rich draws.

    Without trailing blanks, so it greps, diffs and pastes cleanly. None when the text is not
    all ASCII (its display width is not its length): rich draws it.
    """
    cells = (grid.title, *grid.columns, *(cell for row in grid.rows for cell in row))
    if not all(cell.isascii() and cell.isprintable() for cell in cells):
        return None
    widths = _natural_widths(grid)
    title = _title_lines(grid.title, width)
    lines = [*title, ""] if title else []
    lines.append(_plain_row(grid.columns, widths))
    lines.append(" " + _RULE * (_table_width(widths) - _EDGES))
    lines.extend(_plain_row(row, widths) for row in grid.rows)
    return "\n".join(lines).strip("\n") + "\n"


def _plain_row(row: Sequence[str], widths: Sequence[int]) -> str:
    return (
        " " + "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
    ).rstrip()


def _rich_text(grid: Grid, widths: Sequence[int] | None, width: int | None) -> str:
    """The table drawn by rich for a pipe: ``width`` wide at most, without trailing blanks."""
    from rich.console import Console

    title = _title_lines(grid.title, width)
    table = _rich_table(grid, widths)
    console = Console(highlight=False, emoji=False, width=width or _UNBOUNDED)
    if width is None:
        width = console.measure(table).maximum
        console = Console(highlight=False, emoji=False, width=width)
    with console.capture() as captured:
        console.print(table)
    lines = [*title, *(line.rstrip() for line in captured.get().splitlines())]
    return "\n".join(lines).strip("\n") + "\n"


def _rich_table(grid: Grid, widths: Sequence[int] | None = None) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for position, column in enumerate(grid.columns):
        table.add_column(Text(column), width=None if widths is None else widths[position])
    for row in grid.rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


# -- records -----------------------------------------------------------------------------------


def _records(grid: Grid, width: int) -> list[tuple[str, str]]:
    """The grid as a list of records: (label, value) lines, a blank line between records."""
    labels = [f"{column}:" for column in grid.columns]
    room = 1 + max(_cells(label) for label in labels) + 1  # " Label:" and one blank at least
    lines: list[tuple[str, str]] = []
    for index, row in enumerate(grid.rows):
        if index:
            lines.append(("", ""))
        for label, cell, prose in zip(labels, row, _prose(grid), strict=True):
            lines.extend(_field(label, cell, prose, room, width))
    return lines


def _field(label: str, cell: str, prose: bool, room: int, width: int) -> list[tuple[str, str]]:
    """One field of a record: its value beside its label, or under it when it does not fit."""
    label = " " + label
    needed = _longest_word(cell) if prose else _cells(cell)
    if needed <= width - room:
        values = _wrap(cell, width - room) if prose else [cell]
        pads = [label + " " * (room - _cells(label)), *(" " * room for _ in values[1:])]
        return list(zip(pads, values, strict=True))
    values = _wrap(cell, width - len(_INDENT)) if prose else [cell]
    return [(label, ""), *((_INDENT, value) for value in values)]


def _print_records(grid: Grid, width: int, console: Console | None) -> None:
    title = _title_lines(grid.title, width)
    records = _records(grid, width)
    if console is None:
        lines = [*title, ""] if title else []
        lines.extend((label + value).rstrip() for label, value in records)
        streams.out("\n".join(lines) + "\n")
        return
    from rich.text import Text

    _print_title(grid.title, width, console)
    for label, value in records:
        console.print(Text.assemble((label, "table.header"), value), soft_wrap=True)


# -- markdown ----------------------------------------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PIPE = re.compile(r"(\\*)\|")


def markdown(grid: Grid) -> str:
    """The grid as a GitHub-flavoured markdown table, one line per row whatever the cells hold.

    A line break in a cell becomes ``<br>``, a pipe ``\\|`` (the backslashes before it doubled,
    so none of them can unescape it), and any other control character its escape.
    """

    def cell(text: str) -> str:
        parts = (streams.printable(part) for part in _LINE_BREAK.split(text))
        return _PIPE.sub(lambda m: m.group(1) * 2 + "\\|", "<br>".join(parts))

    def line(cells: Iterable[str]) -> str:
        return "| " + " | ".join(cell(text) for text in cells) + " |"

    parts = [f"## {cell(grid.title)}", ""] if grid.title else []
    parts.append(line(grid.columns))
    parts.append("|" + "|".join("---" for _ in grid.columns) + "|")
    parts.extend(line(row) for row in grid.rows)
    return "\n".join(parts)
