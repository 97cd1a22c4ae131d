"""``astroctl tags``: the images of a release and the tags they are published under."""

from __future__ import annotations

from typing import Annotated

import typer

from astroctl.commands.completion import complete_selector
from astroctl.commands.context import FormatOption, announce, context, output_format

TAGS_SUMMARY = "Show the image tags, variants and platforms of a release."


def tags(
    ctx: typer.Context,
    selector: Annotated[
        str,
        typer.Argument(
            metavar="SELECTOR",
            help="The release: 9.2.0, 9.2, 9 or latest.",
            autocompletion=complete_selector,
            show_default=False,
        ),
    ],
    floating: Annotated[
        bool | None,
        typer.Option(
            "--floating/--no-floating",
            help="Also plan the floating tags M.m, M and latest (default: the matrix's "
            "[image] floating_tags).",
            show_default=False,
        ),
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            metavar="REPO",
            help="The repository, host[:port]/path (default: the matrix's [image] repository).",
        ),
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """Show the tag plan of a release: each image (onbuild and base, for each Python), the
    tags it is pushed under and its platforms; with --floating, the floating tags it moves."""
    from astroctl.errors import InputError
    from astroctl.images import tags as core
    from astroctl.matrix import selectors
    from astroctl.render import images as views

    style = output_format(fmt)
    if registry is not None:
        try:
            core.check_repository(registry)
        except core.RepositoryError as exc:
            raise InputError(
                f"--registry {exc.text!r} is not an image repository: {exc.reason}"
            ) from None
    matrix = context(ctx).matrix()
    selection = selectors.select(matrix, selector)
    announce(selection)
    plan = core.plan_tags(matrix, selection.release, floating=floating, repository=registry)
    views.tags(plan, style)
