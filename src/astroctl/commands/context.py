"""The context object: built once in the root callback, handed to every command.

It carries the root options, the matrix (located and loaded on first use) and the seams, so a
test can hand a command a fake runner or client instead of the real one. No module globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from astroctl.render import streams
from astroctl.render.output import Format

if TYPE_CHECKING:
    from astroctl.matrix.model import Matrix
    from astroctl.matrix.selectors import Selection
    from astroctl.matrix.store import MatrixSource

FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        help="Output format: table, json or markdown.",
        case_sensitive=False,
        metavar="FORMAT",
    ),
]


@dataclass
class Context:
    """What every command shares: the root options, the matrix, the seams."""

    matrix_option: Path | None = None
    debug: bool = False
    _loaded: tuple[MatrixSource, Matrix] | None = field(default=None, repr=False)

    def source(self) -> MatrixSource:
        from astroctl.matrix import store

        return store.locate(self.matrix_option)

    def load(self) -> tuple[MatrixSource, Matrix]:
        if self._loaded is None:
            from astroctl.matrix import store

            source = self.source()
            self._loaded = (source, store.load(source.path))
        return self._loaded

    def matrix(self) -> Matrix:
        return self.load()[1]


def context(ctx: typer.Context) -> Context:
    """The context the root callback built (a fresh default one when a command runs alone)."""
    found = ctx.find_object(Context)
    return found if found is not None else Context()


def announce(selection: Selection) -> None:
    """A selection's warning (a yanked release was picked) goes to stderr."""
    if selection.warning:
        streams.warn(selection.warning)
