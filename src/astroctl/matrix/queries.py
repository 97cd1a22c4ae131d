"""Compatibility queries over the matrix: the parity table and Airflow lookups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from astroctl.errors import InputError
from astroctl.matrix.model import Channel, Matrix, Release
from astroctl.versions import InvalidVersion, airflow_minor, parse_pep440


@dataclass(frozen=True)
class LineParity:
    """One row of the parity table: a major line and what it ships."""

    major: int
    airflow: str | None  # the Airflow minor, None for a line with no releases yet
    python: str
    python_versions: tuple[str, ...]
    os: str
    architectures: tuple[str, ...]
    channel: Channel
    end_of_maintenance: date
    releases: int
    latest: str | None  # highest non-yanked final release, else highest release


def parity(matrix: Matrix) -> tuple[LineParity, ...]:
    rows = []
    for major in sorted(matrix.lines):
        line = matrix.lines[major]
        releases = matrix.releases_of(major)
        rows.append(
            LineParity(
                major=major,
                airflow=airflow_minor(releases[0].airflow) if releases else None,
                python=line.python,
                python_versions=line.python_versions,
                os=line.os,
                architectures=line.architectures,
                channel=line.channel,
                end_of_maintenance=line.end_of_maintenance,
                releases=len(releases),
                latest=latest_of(releases),
            )
        )
    return tuple(rows)


def latest_of(releases: tuple[Release, ...]) -> str | None:
    """The newest release worth pointing at: non-yanked finals first, then anything."""
    for pool in (
        [r for r in releases if not r.is_yanked and not r.is_prerelease],
        [r for r in releases if not r.is_prerelease],
        list(releases),
    ):
        if pool:
            return max(pool, key=lambda r: r.version).name
    return None


class NotAnAirflowVersion(InputError):
    """The text asked for is not a PEP 440 version."""

    def __init__(self, text: str) -> None:
        super().__init__(f"{text!r} is not a PEP 440 version such as 2.7.2 or 2.7")
        self.text = text


@dataclass(frozen=True)
class AirflowLookup:
    airflow: str
    releases: tuple[Release, ...]


def lookup_airflow(matrix: Matrix, airflow: str) -> AirflowLookup:
    """Releases shipping an Airflow version (``2.7.2``), minor (``2.7``) or major (``2``).

    Versions compare by PEP 440 equality (``2.7.2.0`` is ``2.7.2``), and a public version
    matches its local variants too: ``2.7.2`` finds ``2.7.2+astro.1``.
    """
    text = airflow.strip()
    try:
        wanted = parse_pep440(text)
    except (InvalidVersion, ValueError):
        raise NotAnAirflowVersion(airflow) from None
    series = (wanted.pre, wanted.post, wanted.dev, wanted.local) == (None, None, None, None)
    if series and len(wanted.release) == 1:
        found = tuple(
            r for r in matrix.releases if parse_pep440(r.airflow).major == wanted.release[0]
        )
    elif series and len(wanted.release) == 2:
        minor = f"{wanted.release[0]}.{wanted.release[1]}"
        found = tuple(r for r in matrix.releases if airflow_minor(r.airflow) == minor)
    elif wanted.local is None:
        public = parse_pep440(wanted.public)
        found = tuple(
            r for r in matrix.releases if parse_pep440(parse_pep440(r.airflow).public) == public
        )
    else:
        found = tuple(r for r in matrix.releases if parse_pep440(r.airflow) == wanted)
    return AirflowLookup(airflow=text, releases=found)
