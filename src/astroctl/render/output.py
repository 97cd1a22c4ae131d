"""Output formats: every result is drawn as a table, JSON or markdown on stdout."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Any

from astroctl.render import streams, table
from astroctl.render.table import Grid


class Format(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


def emit(fmt: Format, grids: Sequence[Grid], payload: Any, markdown: str | None = None) -> None:
    """Draw ``grids`` (table, markdown) or dump ``payload`` (JSON) on stdout."""
    if fmt is Format.json:
        import json  # only JSON output pays for the encoder

        streams.out(json.dumps(payload, indent=2, ensure_ascii=False, default=_json_default) + "\n")
    elif fmt is Format.markdown:
        text = markdown if markdown is not None else "\n\n".join(table.markdown(g) for g in grids)
        streams.out(text.rstrip("\n") + "\n")
    else:
        table.draw(grids)


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")
