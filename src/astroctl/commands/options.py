"""What every command shares: the root options' state and the --format option."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from astroctl import render

if TYPE_CHECKING:
    from astroctl.model import Matrix
    from astroctl.selectors import Selection
    from astroctl.store import MatrixSource

FormatOption = Annotated[
    render.Format,
    typer.Option("--format", "-f", help="Output format.", case_sensitive=False),
]


@dataclass
class State:
    """Set by the root callback; commands ask it for the matrix."""

    matrix_option: Path | None = None
    debug: bool = False
    _loaded: tuple[MatrixSource, Matrix] | None = field(default=None, repr=False)

    def source(self) -> MatrixSource:
        from astroctl import store

        return store.locate(self.matrix_option)

    def load(self) -> tuple[MatrixSource, Matrix]:
        if self._loaded is None:
            from astroctl import store

            source = self.source()
            self._loaded = (source, store.load(source.path))
        return self._loaded

    def matrix(self) -> Matrix:
        return self.load()[1]


def state(ctx: typer.Context) -> State:
    found = ctx.find_object(State)
    return found if found is not None else State()


def announce(selection: Selection) -> None:
    """A selection's warning (a yanked release was picked) goes to stderr."""
    if selection.warning:
        render.warn(selection.warning)
