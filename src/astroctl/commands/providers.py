"""``astroctl providers``: list, compare, check and update the packages a release pins."""

from __future__ import annotations

from typing import Annotated

import typer

from astroctl.commands.completion import complete_selector
from astroctl.commands.context import Command, FormatOption, announce, context, output_format
from astroctl.render import providers as views

# Core modules are imported inside each command: start-up loads only what the command uses.

app = typer.Typer(
    help="List, compare, check and update the packages a release pins.",
    short_help="List, compare, check and update the packages a release pins.",
    no_args_is_help=True,
)

FlavorOption = Annotated[
    str | None,
    typer.Option(
        "--flavor",
        metavar="NAME",
        help="An image flavor of the release, such as slim (default: the standard image).",
        show_default=False,
    ),
]


def _selector(help_text: str) -> object:
    return typer.Argument(
        metavar="SELECTOR", help=help_text, show_default=False, autocompletion=complete_selector
    )


@app.command("list", cls=Command, short_help="List the packages of a release with their marks.")
def list_packages(
    ctx: typer.Context,
    selector: Annotated[str, _selector("The release: 9.2.0, 9.2, 9 or latest.")],
    flavor: FlavorOption = None,
    fmt: FormatOption = "table",
) -> None:
    """List the packages a release pins, marking the maintained and the runtime-only ones."""
    from astroctl.matrix import selectors
    from astroctl.providers import listing

    style = output_format(fmt)
    matrix = context(ctx).matrix()
    selection = selectors.select(matrix, selector)
    announce(selection)
    views.listing(listing.list_packages(matrix, selection.release, flavor), style)


@app.command("diff", cls=Command, short_help="Compare the packages of two releases.")
def diff(
    ctx: typer.Context,
    old: Annotated[str, _selector("The release to compare from.")],
    new: Annotated[str, _selector("The release to compare to.")],
    all_packages: Annotated[
        bool, typer.Option("--all", help="Also list the packages that did not change.")
    ] = False,
    flavor: FlavorOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Compare the packages of two releases (Airflow included): added, removed, major, minor,
    patch, downgrade or other; suspected renames are named."""
    from astroctl.matrix import selectors
    from astroctl.providers import listing

    style = output_format(fmt)
    matrix = context(ctx).matrix()
    chosen = []
    for text in (old, new):
        selection = selectors.select(matrix, text)
        announce(selection)
        chosen.append(selection.release)
    result = listing.compare(*chosen, include_unchanged=all_packages, flavor=flavor)
    views.diff(result, listing.counts(result), style, flavor=flavor)
