"""The command line: wiring only. Root options, the command groups, and the one error handler."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from astroctl import __version__, render
from astroctl.commands import lifecycle, matrix
from astroctl.commands.options import State
from astroctl.errors import AstroctlError

app = typer.Typer(
    name="astroctl",
    help="Release management for an Airflow-based runtime distribution.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(matrix.app, name="matrix")
app.command("lifecycle")(lifecycle.lifecycle)

_state = State()


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"astroctl {__version__}\n")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    matrix_path: Annotated[
        Path | None,
        typer.Option(
            "--matrix",
            help="The matrix file (default: $ASTROCTL_MATRIX, data/compatibility.toml above the "
            "working directory, then the embedded default).",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    _state.matrix_option = matrix_path
    _state.debug = debug
    ctx.obj = _state


def main(argv: Sequence[str] | None = None) -> None:
    """Run astroctl; an :class:`AstroctlError` becomes its message on stderr and its exit code."""
    global _state
    _state = State()
    try:
        app(args=list(argv) if argv is not None else None, prog_name="astroctl")
    except AstroctlError as exc:
        if _state.debug:
            import traceback

            traceback.print_exc()
        render.error(exc.message)
        raise SystemExit(exc.exit_code) from None
