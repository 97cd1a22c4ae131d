"""The one render layer: results become a rich table, JSON or markdown on stdout.

stdout carries only the payload; warnings and errors go to stderr (:func:`warn`, :func:`error`).
User text is never parsed as rich markup. Rich is imported only when a table is drawn.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only annotations: the render layer loads no core module at start-up
    from astroctl.compat import AirflowLookup, LineParity
    from astroctl.environment import ReleaseEnv
    from astroctl.lifecycle import Lifecycle
    from astroctl.model import Matrix, Release


class Format(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


@dataclass(frozen=True)
class Grid:
    """A titled table of plain strings: the common form of every tabular result."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


# -- stderr -----------------------------------------------------------------------------------


def warn(message: str) -> None:
    sys.stderr.write(f"astroctl: warning: {message}\n")


def error(message: str) -> None:
    sys.stderr.write(f"astroctl: error: {message}\n")


def note(message: str) -> None:
    sys.stderr.write(f"{message}\n")


# -- primitives -------------------------------------------------------------------------------


def _emit(fmt: Format, grids: Sequence[Grid], payload: Any, markdown: str | None = None) -> None:
    if fmt is Format.json:
        sys.stdout.write(json.dumps(payload, indent=2, default=_json_default) + "\n")
    elif fmt is Format.markdown:
        text = markdown if markdown is not None else "\n\n".join(_markdown(g) for g in grids)
        sys.stdout.write(text.rstrip("\n") + "\n")
    else:
        _tables(grids)


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


_UNBOUNDED = 10_000


def _tables(grids: Sequence[Grid]) -> None:
    terminal = sys.stdout.isatty() or os.environ.get("FORCE_COLOR") is not None
    for index, grid in enumerate(grids):
        if index:
            sys.stdout.write("\n")
        plain = None if terminal else _plain_table(grid, _columns())
        if plain is None:
            _rich_print(grid, terminal=terminal)
        else:
            sys.stdout.write(plain)


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
    sys.stdout.write("\n".join(lines).strip("\n") + "\n")


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


def _markdown(grid: Grid) -> str:
    def line(cells: Iterable[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    parts = [f"## {grid.title}", ""] if grid.title else []
    parts.append(line(grid.columns))
    parts.append("|" + "|".join("---" for _ in grid.columns) + "|")
    parts.extend(line(row) for row in grid.rows)
    return "\n".join(parts)


def _day(value: date | None) -> str:
    return value.isoformat() if value else "-"


def _list(values: Iterable[str]) -> str:
    return " ".join(values)


# -- matrix -----------------------------------------------------------------------------------


def release_json(release: Release) -> dict[str, Any]:
    """A release as JSON, line defaults applied (the SPEC's matrix show fields and more)."""
    return {
        "version": release.name,
        "airflow": release.airflow,
        "python": release.python,
        "python_versions": list(release.python_versions),
        "os": release.os,
        "architectures": list(release.architectures),
        "released": _day(release.released) if release.released else None,
        "yanked": release.yanked,
        "prerelease": release.is_prerelease,
        "channel": release.channel,
        "end_of_maintenance": release.end_of_maintenance.isoformat(),
        "packages": dict(release.packages),
        "flavors": {name: dict(pins) for name, pins in release.flavors.items()},
    }


def parity(matrix: Matrix, rows: Sequence[LineParity], fmt: Format) -> None:
    """The default view of ``matrix show``: one row per major line."""
    grid = Grid(
        "Astro Runtime lines",
        (
            "Line",
            "Airflow",
            "Python",
            "Python dists",
            "OS",
            "Arch",
            "Channel",
            "Maintained until",
        ),
        tuple(
            (
                str(row.major),
                row.airflow or "-",
                row.python,
                _list(row.python_versions),
                row.os,
                _list(row.architectures),
                row.channel,
                row.end_of_maintenance.isoformat(),
            )
            for row in rows
        ),
    )
    payload = {
        "lines": [
            {
                "line": row.major,
                "airflow": row.airflow,
                "python": row.python,
                "python_versions": list(row.python_versions),
                "os": row.os,
                "architectures": list(row.architectures),
                "channel": row.channel,
                "end_of_maintenance": row.end_of_maintenance.isoformat(),
                "releases": row.releases,
                "latest": row.latest,
            }
            for row in rows
        ],
        "releases": [release_json(r) for r in matrix.releases],
    }
    _emit(fmt, [grid], payload, _seed_markdown(rows))


def _seed_markdown(rows: Sequence[LineParity]) -> str:
    """The seed document's three tables: parity, Python versioning, system distribution."""

    def architectures(values: Sequence[str]) -> str:
        return " and ".join(value.upper() for value in values)

    grids = [
        Grid(
            "Astro Runtime and Apache Airflow parity",
            ("Astro Runtime", "Apache Airflow version"),
            tuple((str(r.major), r.airflow or "-") for r in rows),
        ),
        Grid(
            "Python versioning",
            ("Astro Runtime", "Python version", "Python distributions"),
            tuple((str(r.major), r.python, _list(r.python_versions)) for r in rows),
        ),
        Grid(
            "System distribution",
            ("Astro Runtime", "Operating System (OS)", "Architecture"),
            tuple((str(r.major), r.os, architectures(r.architectures)) for r in rows),
        ),
    ]
    return "\n\n".join(_markdown(g) for g in grids)


def _release_grid(title: str, releases: Sequence[Release]) -> Grid:
    return Grid(
        title,
        (
            "Version",
            "Airflow",
            "Python",
            "Python distributions",
            "OS",
            "Architectures",
            "Released",
            "Channel",
            "End of maintenance",
            "Yanked",
        ),
        tuple(
            (
                r.name,
                r.airflow,
                r.python,
                _list(r.python_versions),
                r.os,
                _list(r.architectures),
                _day(r.released),
                r.channel,
                r.end_of_maintenance.isoformat(),
                r.yanked or "",
            )
            for r in releases
        ),
    )


def releases(items: Sequence[Release], fmt: Format) -> None:
    """``matrix show --all`` or with selectors: one row per release."""
    _emit(
        fmt,
        [_release_grid("Astro Runtime releases", items)],
        {"releases": [release_json(r) for r in items]},
    )


def lookup(result: AirflowLookup, fmt: Format) -> None:
    _emit(
        fmt,
        [_release_grid(f"Releases shipping Airflow {result.airflow}", result.releases)],
        {"airflow": result.airflow, "releases": [release_json(r) for r in result.releases]},
    )


def env(result: ReleaseEnv, fmt: Format) -> None:
    grid = Grid(
        f"Default environment of Astro Runtime {result.release}",
        ("Variable", "Value", "Description"),
        tuple(
            (v.name, v.value if v.value is not None else f"= {v.formula}", v.description)
            for v in result.variables
        ),
    )
    payload = {
        "release": result.release,
        "env": [
            {
                "name": v.name,
                "value": v.value,
                "formula": v.formula,
                "description": v.description,
            }
            for v in result.variables
        ],
    }
    _emit(fmt, [grid], payload)


def lifecycle(result: Lifecycle, fmt: Format) -> None:
    grid = Grid(
        f"Maintenance on {result.on.isoformat()}",
        ("Runtime", "Channel", "Latest", "End of maintenance", "Days left", "Status"),
        tuple(
            (
                str(row.major),
                row.channel,
                row.latest or "-",
                row.end_of_maintenance.isoformat(),
                str(row.days_left),
                row.status,
            )
            for row in result.lines
        ),
    )
    payload = {
        "on": result.on.isoformat(),
        "lines": [
            {
                "line": row.major,
                "channel": row.channel,
                "latest": row.latest,
                "end_of_maintenance": row.end_of_maintenance.isoformat(),
                "days_left": row.days_left,
                "status": row.status,
            }
            for row in result.lines
        ],
    }
    _emit(fmt, [grid], payload)


def validation(path: str, matrix: Matrix | None, problems: Sequence[str], fmt: Format) -> None:
    """``matrix validate``: a summary on success; the problems themselves go to stderr."""
    payload: dict[str, Any] = {"file": path, "valid": not problems, "problems": list(problems)}
    if matrix is not None:
        pins = sum(len(r.packages) for r in matrix.releases)
        payload.update(lines=len(matrix.lines), releases=len(matrix.releases), pins=pins)
    if fmt is Format.json:
        _emit(fmt, [], payload)
    elif matrix is not None:
        sys.stdout.write(
            f"{path}: valid ({payload['releases']} releases, {payload['lines']} lines, "
            f"{payload['pins']} package pins)\n"
        )
