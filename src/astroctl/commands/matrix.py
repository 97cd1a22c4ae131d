"""``astroctl matrix``: show, validate and query the compatibility matrix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from astroctl.commands.context import (
    Command,
    FormatOption,
    announce,
    context,
    count,
    output_format,
    selector_argument,
)
from astroctl.render import matrix as views
from astroctl.render import streams

if TYPE_CHECKING:
    from astroctl.matrix.model import Release

# Core modules are imported inside each command: start-up loads only what the command uses.

app = typer.Typer(
    help="Show, validate and query the compatibility matrix.",
    short_help="Show, validate and query the compatibility matrix.",
    no_args_is_help=True,
)

# The option that supplies each formula variable of the environment.
FORMULA_OPTIONS = (
    ("workers", "--workers"),
    ("max_tasks_per_worker", "--max-tasks-per-worker"),
)


@app.command(
    "show",
    cls=Command,
    short_help="Show the parity table, or the releases that selectors pick.",
)
def show(
    ctx: typer.Context,
    selector: Annotated[
        list[str] | None,
        selector_argument("Releases to show: 9.2.0, 9.2, 9 or latest."),
    ] = None,
    all_releases: Annotated[
        bool, typer.Option("--all", help="One row per release (with selectors: every match).")
    ] = False,
    fmt: FormatOption = "table",
) -> None:
    """Show the parity table, one row per major line; with --all or selectors, one row per
    release."""
    style = output_format(fmt)
    matrix = context(ctx).matrix()
    if not selector:
        if all_releases:
            views.releases(matrix.releases, style)
        else:
            from astroctl.matrix import queries

            views.parity(matrix, queries.parity(matrix), style)
        return
    from astroctl.matrix import selectors

    chosen: list[Release] = []
    for text in selector:
        if all_releases:
            chosen.extend(selectors.select_all(matrix, text))
        else:
            selection = selectors.select(matrix, text)
            announce(selection)
            chosen.append(selection.release)
    unique = {r.name: r for r in chosen}
    views.releases(sorted(unique.values(), key=lambda r: r.version), style)


@app.command(
    "validate",
    cls=Command,
    short_help="Check every invariant of the matrix file (exit 3 if any fails).",
)
def validate(ctx: typer.Context, fmt: FormatOption = "table") -> None:
    """Check every invariant of the matrix file; exit 3 listing every violation at once."""
    from astroctl.errors import ChecksFailed, MatrixInvalid
    from astroctl.matrix import store

    style = output_format(fmt)
    source = context(ctx).source()
    try:
        matrix = store.load(source.path)
    except MatrixInvalid as exc:
        views.validation(exc.path, None, exc.violations, style)
        raise ChecksFailed(exc.message) from None
    views.validation(str(source.path), matrix, (), style)


@app.command("lookup", cls=Command, short_help="List the releases that ship an Airflow version.")
def lookup(
    ctx: typer.Context,
    airflow: Annotated[
        str,
        typer.Option(
            "--airflow", metavar="VERSION", help="An Airflow version (2.7.2), minor (2.7) or major."
        ),
    ],
    fmt: FormatOption = "table",
) -> None:
    """List the releases that ship an Airflow version, minor or major."""
    from astroctl.errors import InputError
    from astroctl.matrix import queries

    style = output_format(fmt)
    try:
        result = queries.lookup_airflow(context(ctx).matrix(), airflow)
    except queries.NotAnAirflowVersion as exc:
        raise InputError(f"--airflow {exc.text!r} is not a version such as 2.7.2 or 2.7") from None
    if not result.releases:
        streams.warn(f"no release ships Airflow {result.airflow}")
    views.lookup(result, style)


@app.command("env", cls=Command, short_help="Show the runtime's default environment variables.")
def env(
    ctx: typer.Context,
    selector: Annotated[
        str,
        selector_argument("The release (default: latest).", show_default=True),
    ] = "latest",
    workers: Annotated[
        str | None,
        typer.Option(
            "--workers", metavar="N", help="Running workers across all worker queues (1 or more)."
        ),
    ] = None,
    max_tasks_per_worker: Annotated[
        str | None,
        typer.Option(
            "--max-tasks-per-worker", metavar="N", help="Tasks each worker may run (1 or more)."
        ),
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """Show the runtime's default environment variables; formulas are computed from --workers
    and --max-tasks-per-worker."""
    from astroctl.errors import InputError
    from astroctl.matrix import environment, selectors

    style = output_format(fmt)
    given = {"workers": workers, "max_tasks_per_worker": max_tasks_per_worker}
    inputs: dict[str, int] = {}
    for name, option in FORMULA_OPTIONS:
        value = count(option, given[name])
        if value is not None:
            inputs[name] = value
    matrix = context(ctx).matrix()
    selection = selectors.select(matrix, selector)
    announce(selection)
    try:
        result = environment.release_env(matrix, selection.release, inputs)
    except environment.MissingInputs as exc:
        flags = dict(FORMULA_OPTIONS)
        also = " and ".join(flags[name] for name in exc.missing)
        raise InputError(f"{exc.variable} = {exc.formula}: also give {also}") from None
    views.env(result, style)
