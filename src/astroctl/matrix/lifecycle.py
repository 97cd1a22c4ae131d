"""Maintenance status of each line on a given day (the lifecycle policy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from astroctl.matrix.model import Channel, Matrix
from astroctl.matrix.queries import latest_of

ENDING_WINDOW_DAYS = 30


class LineStatus(StrEnum):
    """A line's maintenance status on a given day."""

    MAINTAINED = "maintained"
    ENDING = f"ending within {ENDING_WINDOW_DAYS} days"
    ENDED = "end of maintenance"


MAINTAINED, ENDING, ENDED = LineStatus.MAINTAINED, LineStatus.ENDING, LineStatus.ENDED


@dataclass(frozen=True)
class LineLifecycle:
    major: int
    channel: Channel
    latest: str | None
    end_of_maintenance: date
    status: LineStatus
    days_left: int  # negative once maintenance has ended


@dataclass(frozen=True)
class Lifecycle:
    on: date
    lines: tuple[LineLifecycle, ...]


def status_on(end_of_maintenance: date, on: date) -> LineStatus:
    """A line is maintained through its end-of-maintenance day itself."""
    days_left = (end_of_maintenance - on).days
    if days_left < 0:
        return ENDED
    if days_left <= ENDING_WINDOW_DAYS:
        return ENDING
    return MAINTAINED


def lifecycle(matrix: Matrix, on: date) -> Lifecycle:
    rows = []
    for major in sorted(matrix.lines):
        line = matrix.lines[major]
        rows.append(
            LineLifecycle(
                major=major,
                channel=line.channel,
                latest=latest_of(matrix.releases_of(major)),
                end_of_maintenance=line.end_of_maintenance,
                status=status_on(line.end_of_maintenance, on),
                days_left=(line.end_of_maintenance - on).days,
            )
        )
    return Lifecycle(on=on, lines=tuple(rows))
