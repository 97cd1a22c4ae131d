"""``astroctl matrix``: show, validate and query the compatibility matrix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from astroctl.commands.context import FormatOption, announce, context
from astroctl.render import matrix as views
from astroctl.render import streams
from astroctl.render.output import Format

if TYPE_CHECKING:
    from astroctl.matrix.model import Release

# Core modules are imported inside each command: start-up loads only what the command uses.

app = typer.Typer(help="Show, validate and query the compatibility matrix.", no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    selector: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SELECTOR",
            help="Releases to show: 9.2.0, 9.2, 9 or latest.",
            show_default=False,
        ),
    ] = None,
    all_releases: Annotated[
        bool, typer.Option("--all", help="One row per release (with selectors: every match).")
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """The parity table, one row per major line; --all or selectors: one row per release."""
    matrix = context(ctx).matrix()
    if not selector:
        if all_releases:
            views.releases(matrix.releases, fmt)
        else:
            from astroctl.matrix import queries

            views.parity(matrix, queries.parity(matrix), fmt)
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
    views.releases(sorted(unique.values(), key=lambda r: r.version), fmt)


@app.command("validate")
def validate(ctx: typer.Context, fmt: FormatOption = Format.table) -> None:
    """Check every invariant of the matrix file; exit 3 listing every violation."""
    from astroctl.errors import ChecksFailed, MatrixInvalid
    from astroctl.matrix import store

    source = context(ctx).source()
    try:
        matrix = store.load(source.path)
    except MatrixInvalid as exc:
        views.validation(exc.path, None, [str(v) for v in exc.violations], fmt)
        raise ChecksFailed(exc.message) from None
    views.validation(str(source.path), matrix, [], fmt)


@app.command("lookup")
def lookup(
    ctx: typer.Context,
    airflow: Annotated[
        str, typer.Option("--airflow", help="An Airflow version (2.7.2) or minor (2.7).")
    ],
    fmt: FormatOption = Format.table,
) -> None:
    """The releases that ship an Airflow version or minor."""
    from astroctl.matrix import queries

    result = queries.lookup_airflow(context(ctx).matrix(), airflow)
    if not result.releases:
        streams.warn(f"no release ships Airflow {result.airflow}")
    views.lookup(result, fmt)


@app.command("env")
def env(
    ctx: typer.Context,
    selector: Annotated[
        str, typer.Argument(metavar="SELECTOR", help="The release (default: latest).")
    ] = "latest",
    workers: Annotated[
        int | None, typer.Option("--workers", help="Running workers across all worker queues.")
    ] = None,
    max_tasks_per_worker: Annotated[
        int | None, typer.Option("--max-tasks-per-worker", help="Tasks each worker may run.")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """The runtime's default environment variables; formulas computed from the options."""
    from astroctl.matrix import environment, selectors

    matrix = context(ctx).matrix()
    selection = selectors.select(matrix, selector)
    announce(selection)
    inputs = {
        name: value
        for name, value in (("workers", workers), ("max_tasks_per_worker", max_tasks_per_worker))
        if value is not None
    }
    views.env(environment.release_env(matrix, selection.release, inputs), fmt)
