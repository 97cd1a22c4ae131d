"""The command line: wiring only. Root options, the command groups, and the one error handler."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from astroctl import __version__, render
from astroctl.commands import lifecycle, matrix
from astroctl.commands.options import State
from astroctl.errors import EXIT_FAILED, AstroctlError

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
    """Run astroctl; an :class:`AstroctlError` becomes its message on stderr and its exit code.

    An output that cannot be written (a full disk, a closed pipe) is an operation that failed:
    exit 1 with one line, or silently for a reader that stopped reading (``| head``).
    """
    global _state
    _state = State()
    try:
        try:
            app(args=list(argv) if argv is not None else None, prog_name="astroctl")
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        raise SystemExit(EXIT_FAILED) from None
    except AstroctlError as exc:
        _fail(exc, exc.message, exc.exit_code)
    except OSError as exc:  # only output is left unconverted: every seam raises AstroctlError
        _silence_stdout()
        _fail(exc, f"cannot write the output: {exc.strerror or exc}", EXIT_FAILED)


def _fail(exc: BaseException, message: str, code: int) -> NoReturn:
    if _state.debug:
        import traceback

        traceback.print_exception(exc)
    render.error(message)
    raise SystemExit(code) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file: nothing will flush it at exit
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)
