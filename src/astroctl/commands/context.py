"""What every command shares: the context object, the shared options and their parsing.

The context object is built once in the root callback and handed to every command. It carries
the root options, the matrix (located and loaded on first use) and the seams, so a test can hand
a command a fake instead of the real one. No module globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from astroctl.commands.completion import complete_format, complete_selector
from astroctl.errors import InputError
from astroctl.render import streams
from astroctl.render.output import Format

if TYPE_CHECKING:
    from astroctl.matrix.model import Matrix
    from astroctl.matrix.selectors import Selection
    from astroctl.matrix.store import MatrixSource
    from astroctl.seams.http import HttpClient
    from astroctl.seams.process import ProcessRunner

FORMATS = tuple(f.value for f in Format)

FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="Output format: table, json or markdown.",
        metavar="FORMAT",
        autocompletion=complete_format,
    ),
]

FlavorOption = Annotated[
    str | None,
    typer.Option(
        "--flavor",
        metavar="NAME",
        help="An image flavor of the release, such as slim (default: the standard image).",
        show_default=False,
    ),
]

RELEASE_HELP = "The release: 9.2.0, 9.2, 9 or latest."


def selector_argument(
    help_text: str = RELEASE_HELP, *, metavar: str = "SELECTOR", show_default: bool = False
) -> Any:
    """The positional argument that names releases, completed from the matrix."""
    return typer.Argument(
        metavar=metavar,
        help=help_text,
        show_default=show_default,
        autocompletion=complete_selector,
    )


# Counts are read as text and checked here, so a bad one gets astroctl's own message.
_MAX_COUNT_DIGITS = 9


@dataclass
class Context:
    """What every command shares: the root options, the matrix, the seams.

    The seams are built on first use (a command that runs no program and fetches nothing pays
    nothing for them); a test hands fakes in through ``process`` and ``http``.
    """

    matrix_option: Path | None = None
    debug: bool = False
    process: ProcessRunner | None = field(default=None, repr=False)
    http: HttpClient | None = field(default=None, repr=False)
    _source: MatrixSource | None = field(default=None, repr=False)
    _loaded: tuple[MatrixSource, Matrix] | None = field(default=None, repr=False)

    def runner(self) -> ProcessRunner:
        """The one subprocess runner; streamed child output goes to stderr."""
        if self.process is None:
            from astroctl.seams.process import Runner

            self.process = Runner(echo=streams.note)
        return self.process

    def client(self) -> HttpClient:
        """The one HTTP client; retries are announced on stderr."""
        if self.http is None:
            from astroctl.seams.http import Http

            self.http = Http(notify=streams.note)
        return self.http

    def source(self) -> MatrixSource:
        """Where the matrix is (located once per run)."""
        if self._source is None:
            from astroctl.matrix import store

            self._source = store.locate(self.matrix_option)
        return self._source

    def close(self) -> None:
        """Release what the seams hold (the HTTP connection pool)."""
        if self.http is not None:
            self.http.close()

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


def output_format(text: str) -> Format:
    """The ``--format`` value, case-insensitive; anything else names what is accepted."""
    try:
        return Format(text.strip().lower())
    except ValueError:
        raise InputError(
            f"--format {text!r} is not a format; use one of {', '.join(FORMATS)}"
        ) from None


def fresh_limit(*, offline: bool, refresh: bool) -> float:
    """How long a cached page may be used without asking (seconds): 0 with ``--refresh``, else
    ``$ASTROCTL_CACHE_TTL`` (default 600). ``--offline`` and ``--refresh`` contradict."""
    if offline and refresh:
        raise InputError("--offline and --refresh contradict each other; pass one of them")
    if refresh:
        return 0.0
    from astroctl.seams.cache import cache_ttl

    return cache_ttl()


def count(option: str, text: str | None) -> int | None:
    """A positive whole number given to ``option`` (None when the option is absent)."""
    if text is None:
        return None
    digits = text.strip()
    if digits.startswith("-") and digits[1:].isascii() and digits[1:].isdigit():
        raise InputError(f"{option} must be at least 1 (got {digits})")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > _MAX_COUNT_DIGITS:
        raise InputError(f"{option} {text!r} is not a whole number such as 4")
    value = int(digits)
    if value < 1:
        raise InputError(f"{option} must be at least 1 (got {value})")
    return value


class Command(TyperCommand):
    """A command whose help lists arguments by their metavar alone (``SELECTOR...``), not by
    a Python type (``<list[str]>``)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """``[OPTIONS] FROM TO``, ``[SELECTOR]``, ``[SELECTOR]...``: required arguments bare,
        optional ones in brackets (Typer would brace the required ones: ``{FROM}``)."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name != "argument":
                pieces.extend(param.get_usage_pieces(ctx))
                continue
            name = param.metavar or (param.name or "").upper()
            piece = name if param.required else f"[{name}]"
            pieces.append(f"{piece}..." if param.nargs != 1 else piece)
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                name = record[0].split(" <", 1)[0]
                arguments.append((f"{name}..." if param.nargs == -1 else name, record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
