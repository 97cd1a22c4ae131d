"""The command line: wiring only. Root options, the command groups, and the one error handler."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from astroctl import __version__
from astroctl.commands import lifecycle, matrix
from astroctl.commands.context import Context
from astroctl.errors import EXIT_FAILED, AstroctlError
from astroctl.render import streams

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


def _version(value: bool) -> None:
    if value:
        streams.out(f"astroctl {__version__}\n")
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
    ctx.obj = Context(matrix_option=matrix_path, debug=debug)


def main(argv: Sequence[str] | None = None) -> None:
    """Run astroctl; an :class:`AstroctlError` becomes its message on stderr and its exit code.

    An output that cannot be written (a full disk, a closed pipe) is an operation that failed:
    exit 1 with one line, or silently for a reader that stopped reading (``| head``).
    """
    args = list(argv) if argv is not None else sys.argv[1:]
    debug = "--debug" in args  # read before parsing: a usage error must honour it too
    try:
        try:
            app(args=args, prog_name="astroctl")
        finally:
            streams.flush()
    except BrokenPipeError:
        streams.silence_stdout()
        raise SystemExit(EXIT_FAILED) from None
    except AstroctlError as exc:
        _fail(exc, exc.message, exc.exit_code, debug=debug)
    except OSError as exc:  # only output is left unconverted: every seam raises AstroctlError
        streams.silence_stdout()
        _fail(exc, f"cannot write the output: {exc.strerror or exc}", EXIT_FAILED, debug=debug)


def _fail(exc: BaseException, message: str, code: int, *, debug: bool) -> NoReturn:
    if debug:
        streams.traceback(exc)
    streams.error(message)
    raise SystemExit(code) from None
