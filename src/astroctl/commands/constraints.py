"""``astroctl constraints``: resolve a release's constraint set (in progress)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Resolve, check and hash the constraint set of a release.",
    short_help="Resolve, check and hash the constraint set of a release.",
    no_args_is_help=True,
)


@app.callback()
def constraints() -> None:
    """Resolve, check and hash the constraint set of a release."""
