"""``astroctl constraints``: a release's constraint set, from Airflow's and the release's pins."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from astroctl.commands.context import (
    Command,
    FlavorOption,
    FormatOption,
    announce,
    context,
    fresh_limit,
    output_format,
    selector_argument,
)
from astroctl.errors import InputError
from astroctl.render import streams

if TYPE_CHECKING:
    from astroctl.matrix.model import Release
    from astroctl.matrix.store import MatrixSource

# Core modules are imported inside the command: start-up loads only what the command uses.

app = typer.Typer(
    help="Resolve, check and hash the constraint set of a release.",
    short_help="Resolve, check and hash the constraint set of a release.",
    no_args_is_help=True,
)


@app.callback()
def constraints() -> None:
    """Resolve, check and hash the constraint set of a release."""


STDOUT = "-"


@app.command(
    "resolve",
    cls=Command,
    short_help="Write a release's constraints: Airflow's, with the release's pins on top.",
)
def resolve(
    ctx: typer.Context,
    selector: Annotated[
        str,
        selector_argument(),
    ],
    python: Annotated[
        str | None,
        typer.Option(
            "--python",
            metavar="X.Y",
            help="A Python distribution of the release (default: its default Python).",
            show_default=False,
        ),
    ] = None,
    flavor: FlavorOption = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="Where constraints-<python>.txt (constraints-<flavor>-<python>.txt with "
            "--flavor) is written (default: the working directory; '-': print the file on "
            "stdout).",
            show_default=False,
        ),
    ] = None,
    hashes: Annotated[
        bool,
        typer.Option(
            "--hashes",
            help="Add the sha256 of every file of each pinned version that uv lists for linux "
            "amd64 and arm64 (pip's hash-checking format).",
        ),
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Prove with uv that the whole set installs on each architecture of the release "
            "(linux amd64 and arm64) for that Python; exit 3 when it does not. Pins with no "
            "wheel there (built from source) are warned about.",
        ),
    ] = False,
    wheels_only: Annotated[
        bool,
        typer.Option(
            "--wheels-only",
            help="With --check (implied): a pin with no wheel for an architecture and that "
            "Python (pip would build it from source) fails the check (exit 3), instead of a "
            "warning.",
        ),
    ] = False,
    upstream: Annotated[
        str | None,
        typer.Option(
            "--upstream",
            metavar="URL|none",
            help="The upstream constraints ({airflow} and {python} substituted; default: the "
            "matrix's [upstream] constraints_url); 'none': resolve the whole set with uv from "
            "apache-airflow and the release's pins, as of the release date.",
            show_default=False,
        ),
    ] = None,
    index_url: Annotated[
        str | None,
        typer.Option(
            "--index-url",
            metavar="URL",
            help="The package index uv resolves against (default: $PIP_INDEX_URL, then the "
            "matrix's [upstream] index_url); $PIP_EXTRA_INDEX_URL adds extra indexes. "
            "Credentials come from netrc ($NETRC or ~/.netrc), never from this URL.",
            show_default=False,
        ),
    ] = None,
    exclude_newer: Annotated[
        str | None,
        typer.Option(
            "--exclude-newer",
            metavar="DATE|none",
            help="uv sees only files uploaded by the end of this day, UTC (default: the release "
            "date; none: no cutoff).",
            show_default=False,
        ),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Answer from the caches of earlier runs (astroctl's and uv's)."
        ),
    ] = False,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh",
            help="Fetch the upstream file again (and revalidate the pages asked), even when "
            "cached less than $ASTROCTL_CACHE_TTL seconds ago (default 600).",
        ),
    ] = False,
    fmt: FormatOption = "table",
) -> None:
    """Write constraints-<python>.txt for a release: Airflow's published constraints for its
    Airflow and Python with the release's pins on top (each override reported), under a header
    naming its inputs and their digests; --check and --hashes run uv for each architecture.
    With --flavor, the set of that image (its pins in place of the release's), written as
    constraints-<flavor>-<python>.txt."""
    from astroctl.matrix import selectors
    from astroctl.providers import constraints as core
    from astroctl.providers.target import choose_index
    from astroctl.render import constraints as views
    from astroctl.seams.cache import DiskCache, default_cache_dir
    from astroctl.seams.urls import refuse_credentials
    from astroctl.seams.uv import Uv

    style = output_format(fmt)
    fresh_for = fresh_limit(offline=offline, refresh=refresh)
    directory = _directory(output)
    if upstream is not None:
        refuse_credentials(upstream, "--upstream")
    shared = context(ctx)
    source, matrix = shared.load()
    selection = selectors.select(matrix, selector)
    announce(selection)
    release = selection.release
    options = core.Options(
        python=python,
        flavor=flavor,
        upstream=upstream,
        check=check or wheels_only,
        hashes=hashes,
        wheels_only=wheels_only,
        offline=offline,
        exclude_newer=_cutoff(exclude_newer, release),
        fresh_for=fresh_for,
    )
    result = core.resolve(
        matrix,
        release,
        options,
        http=shared.client(),  # built on first use: offline, only the caches are read
        uv=Uv(shared.runner(), versions=DiskCache(default_cache_dir())),
        index=choose_index(index_url, os.environ, matrix),
        matrix_label=_label(source),
        notify=streams.warn,
    )
    if directory is None:
        views.printed(result)
        return
    path = core.write(result, directory)
    views.resolution(result, style, path=_shown(path))


def _directory(output: str | None) -> Path | None:
    """The output directory (None: stdout), checked before any work is done."""
    if output == STDOUT:
        return None
    directory = Path(output) if output else Path.cwd()
    if not directory.is_dir():
        raise InputError(f"--output {output}: no such directory")
    return directory


def _cutoff(text: str | None, release: Release) -> date | None:
    """--exclude-newer: a date, 'none', or the release date (None for an unreleased entry)."""
    if text is None:
        return release.released
    if text.strip().lower() == "none":
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"--exclude-newer {text!r} is not a date such as 2023-10-12, or none"
        ) from None


def _label(source: MatrixSource) -> str:
    """The matrix file as the header names it: relative to the working directory if below it."""
    if not source.writable:
        return "the embedded default matrix"
    return _shown(source.path)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
