"""``astroctl lifecycle``: the maintenance status of every line."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from astroctl.commands.context import FormatOption, context, output_format
from astroctl.render import matrix as views

SUMMARY = "Show the maintenance status of every line on a day."


def _day(text: str | None) -> date:
    from astroctl.errors import InputError

    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"--on {text!r} is not a date such as 2024-06-30") from None


def lifecycle(
    ctx: typer.Context,
    on: Annotated[
        str | None,
        typer.Option(
            "--on", metavar="DATE", help="The day to judge on, YYYY-MM-DD (default: today)."
        ),
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """Show the maintenance status of every line on a day.

    Per line: channel, latest release, end of maintenance, days left and status (maintained,
    ending within 30 days, end of maintenance).
    """
    from astroctl.matrix import lifecycle as core

    style = output_format(fmt)
    views.lifecycle(core.lifecycle(context(ctx).matrix(), _day(on)), style)
