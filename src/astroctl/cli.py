"""The command line: wiring only. Root options, the command groups, and the one error handler."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, NoReturn

import typer
from typer._click import exceptions as usage

from astroctl import __version__
from astroctl.commands.context import Command, Context
from astroctl.errors import EXIT_FAILED, EXIT_USAGE, AstroctlError
from astroctl.render import streams

# The commands in the order help lists them. A run registers only the one it names (importing
# the others' modules and building their options costs start-up time); help, completion and an
# unknown command get them all.
COMMANDS = (
    "matrix",
    "lifecycle",
    "providers",
    "constraints",
    "release",
    "notes",
    "changes",
    "tags",
    "build",
    "publish",
)


# name -> (module under astroctl.commands, its typer app) for the groups, and
# name -> (module, function, summary constant) for the single commands.
_GROUPS = MappingProxyType(
    {
        "matrix": ("matrix", "app"),
        "providers": ("providers", "app"),
        "constraints": ("constraints", "app"),
        "release": ("release", "app"),
        "changes": ("notes", "changes_app"),
    }
)
_SINGLE = MappingProxyType(
    {
        "lifecycle": ("lifecycle", "lifecycle", "SUMMARY"),
        "notes": ("notes", "notes", "NOTES_SUMMARY"),
        "tags": ("images", "tags", "TAGS_SUMMARY"),
        "build": ("images", "build", "BUILD_SUMMARY"),
        "publish": ("images", "publish", "PUBLISH_SUMMARY"),
    }
)


def _register(app: typer.Typer, name: str) -> None:
    if name in _GROUPS:
        module_name, attribute = _GROUPS[name]
        module = importlib.import_module(f"astroctl.commands.{module_name}")
        app.add_typer(getattr(module, attribute), name=name)
        return
    module_name, function, summary = _SINGLE[name]
    module = importlib.import_module(f"astroctl.commands.{module_name}")
    app.command(name, cls=Command, short_help=getattr(module, summary))(getattr(module, function))


def build_app(names: Sequence[str] = COMMANDS) -> typer.Typer:
    """The Typer app with the root options and the given commands."""
    app = typer.Typer(
        name="astroctl",
        help="Release management for an Airflow-based runtime distribution.",
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(root)
    for name in names:
        _register(app, name)
    return app


ROOT_OPTIONS = ("--matrix", "--debug", "--version")


def _version(value: bool) -> None:
    if value:
        streams.out(f"astroctl {__version__}\n")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    matrix_path: Annotated[
        Path | None,
        typer.Option(
            "--matrix",
            metavar="PATH",
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
    """Release management for an Airflow-based runtime distribution."""
    shared = Context(matrix_option=matrix_path, debug=debug)
    ctx.call_on_close(shared.close)
    ctx.obj = shared


def main(argv: Sequence[str] | None = None) -> None:
    """Run astroctl; an :class:`AstroctlError` becomes its message on stderr and its exit code.

    A usage error (an unknown option, a missing argument) is reported the same way, exit 2.
    An output that cannot be written (a full disk, a closed pipe) is an operation that failed:
    exit 1 with one line, or silently for a reader that stopped reading (``| head``).
    """
    args = list(argv) if argv is not None else sys.argv[1:]
    debug = _root_flag(args, "--debug")  # read before parsing: a usage error honours it too
    try:
        try:
            app = build_app(_needed(args))
            code = app(args=args, prog_name="astroctl", standalone_mode=False)
        finally:
            streams.flush()
    except BrokenPipeError:
        streams.silence_stdout()
        raise SystemExit(EXIT_FAILED) from None
    except AstroctlError as exc:
        _fail(exc, exc.message, exc.exit_code, debug=debug)
    except usage.NoArgsIsHelpError as exc:
        streams.note(exc.format_message().rstrip("\n"))  # the help, on stderr as for bad usage
        raise SystemExit(EXIT_USAGE) from None
    except usage.UsageError as exc:
        _fail(exc, usage_message(exc, args), EXIT_USAGE, debug=debug)
    except (typer.Abort, KeyboardInterrupt):
        _fail(KeyboardInterrupt(), "interrupted", 130, debug=False)
    except OSError as exc:  # only output is left unconverted: every seam raises AstroctlError
        streams.silence_stdout()
        _fail(exc, f"cannot write the output: {exc.strerror or exc}", EXIT_FAILED, debug=debug)
    except Exception as exc:  # a bug: still one plain line, the traceback with --debug only
        _fail(
            exc,
            f"internal error: {type(exc).__name__}: {exc} (a bug in astroctl; run again "
            "with --debug for the traceback, and report it)",
            EXIT_FAILED,
            debug=debug,
        )
    if isinstance(code, int) and code:
        raise SystemExit(code)


def usage_message(exc: usage.UsageError, args: Sequence[str]) -> str:
    """One plain line for a usage error: what was wrong, what is accepted, where help is."""
    command = exc.ctx.command_path if exc.ctx is not None else "astroctl"
    hint = f"see '{command} --help'"
    if isinstance(exc, usage.NoSuchOption):
        name = exc.option_name
        if name in ROOT_OPTIONS and command != "astroctl":
            given = _option_with_value(args, name)
            rest = command.removeprefix("astroctl ")
            return (
                f"{name} is a root option: put it before the command, as in "
                f"'astroctl {given} {rest} ...'"
            )
        close = sorted(exc.possibilities or ())
        suggestion = f"; did you mean {' or '.join(close)}?" if close else ""
        return f"'{command}' has no option {name}{suggestion} ({hint})"
    if isinstance(exc, usage.MissingParameter):
        return f"{exc.format_message().rstrip('.')} ({hint})"
    text = exc.format_message().strip()
    for noise in ("Value error, ", "Error: "):
        text = text.replace(noise, "")
    return f"{text.rstrip('.')} ({hint})"


def _needed(args: Sequence[str]) -> Sequence[str]:
    """The one command a run names, or every command (help, completion, a typo)."""
    if os.environ.get("_ASTROCTL_COMPLETE"):
        return COMMANDS
    if _root_flag(args, "--version"):
        return ()  # eager: it prints and exits before any command is looked at
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--matrix":
            skip = True
        elif not arg.startswith("-"):
            return (arg,) if arg in COMMANDS else COMMANDS
    return COMMANDS


def _root_flag(args: Sequence[str], flag: str) -> bool:
    """Whether ``flag`` is given among the root options (before the command)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--matrix":
            skip = True
        elif not arg.startswith("-"):
            return False
        elif arg == flag:
            return True
    return False


def _option_with_value(args: Sequence[str], name: str) -> str:
    """``--matrix x`` as the user typed it (for a hint that can be pasted)."""
    for index, arg in enumerate(args):
        if arg == name:
            value = args[index + 1] if index + 1 < len(args) and name == "--matrix" else ""
            return f"{name} {value}".strip()
        if arg.startswith(f"{name}="):
            return arg
    return name


def _fail(exc: BaseException, message: str, code: int, *, debug: bool) -> NoReturn:
    if debug:
        streams.traceback(exc)
    streams.error(message)
    raise SystemExit(code) from None
