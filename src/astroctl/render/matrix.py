"""Views of the release database: matrix show, lookup, env, validate and lifecycle."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from astroctl.render import streams
from astroctl.render.output import Format, emit
from astroctl.render.table import Grid
from astroctl.render.table import markdown as _markdown

if TYPE_CHECKING:  # only annotations: the render layer loads no core module at start-up
    from astroctl.errors import Violation
    from astroctl.matrix.environment import EnvValue, ReleaseEnv
    from astroctl.matrix.lifecycle import Lifecycle
    from astroctl.matrix.model import Matrix, Release
    from astroctl.matrix.queries import AirflowLookup, LineParity


def _day(value: date | None) -> str:
    return value.isoformat() if value else "-"


def _list(values: Iterable[str]) -> str:
    return " ".join(values)


# -- matrix -----------------------------------------------------------------------------------


def release_json(release: Release) -> dict[str, Any]:
    """A release as JSON, line defaults applied (the SPEC's matrix show fields and more)."""
    return {
        "version": release.name,
        "airflow": release.airflow,
        "python": release.python,
        "python_versions": list(release.python_versions),
        "os": release.os,
        "architectures": list(release.architectures),
        "released": _day(release.released) if release.released else None,
        "yanked": release.yanked,
        "prerelease": release.is_prerelease,
        "channel": release.channel,
        "end_of_maintenance": release.end_of_maintenance.isoformat(),
        "packages": dict(release.packages),
        "flavors": {name: dict(pins) for name, pins in release.flavors.items()},
    }


def parity(matrix: Matrix, rows: Sequence[LineParity], fmt: Format) -> None:
    """The default view of ``matrix show``: one row per major line."""
    grid = Grid(
        "Astro Runtime lines",
        (
            "Line",
            "Airflow",
            "Python",
            "Python dists",
            "OS",
            "Arch",
            "Channel",
            "Maintained until",
        ),
        tuple(
            (
                str(row.major),
                row.airflow or "-",
                row.python,
                _list(row.python_versions),
                row.os,
                _list(row.architectures),
                row.channel,
                row.end_of_maintenance.isoformat(),
            )
            for row in rows
        ),
        wrap=frozenset(),
    )
    payload = {
        "lines": [
            {
                "line": row.major,
                "airflow": row.airflow,
                "python": row.python,
                "python_versions": list(row.python_versions),
                "os": row.os,
                "architectures": list(row.architectures),
                "channel": row.channel,
                "end_of_maintenance": row.end_of_maintenance.isoformat(),
                "releases": row.releases,
                "latest": row.latest,
            }
            for row in rows
        ],
        "releases": [release_json(r) for r in matrix.releases],
    }
    emit(fmt, [grid], payload, _seed_markdown(rows))


def _seed_markdown(rows: Sequence[LineParity]) -> str:
    """The seed document's three tables: parity, Python versioning, system distribution."""

    def architectures(values: Sequence[str]) -> str:
        return " and ".join(value.upper() for value in values)

    grids = [
        Grid(
            "Astro Runtime and Apache Airflow parity",
            ("Astro Runtime", "Apache Airflow version"),
            tuple((str(r.major), r.airflow or "-") for r in rows),
        ),
        Grid(
            "Python versioning",
            ("Astro Runtime", "Python version", "Python distributions"),
            tuple((str(r.major), r.python, _list(r.python_versions)) for r in rows),
        ),
        Grid(
            "System distribution",
            ("Astro Runtime", "Operating System (OS)", "Architecture"),
            tuple((str(r.major), r.os, architectures(r.architectures)) for r in rows),
        ),
    ]
    return "\n\n".join(_markdown(g) for g in grids)


def _release_grid(title: str, releases: Sequence[Release]) -> Grid:
    return Grid(
        title,
        (
            "Version",
            "Airflow",
            "Python",
            "Python distributions",
            "OS",
            "Architectures",
            "Released",
            "Channel",
            "End of maintenance",
            "Yanked",
        ),
        tuple(
            (
                r.name,
                r.airflow,
                r.python,
                _list(r.python_versions),
                r.os,
                _list(r.architectures),
                _day(r.released),
                r.channel,
                r.end_of_maintenance.isoformat(),
                r.yanked or "",
            )
            for r in releases
        ),
        wrap=frozenset({"Yanked"}),
    )


def releases(items: Sequence[Release], fmt: Format) -> None:
    """``matrix show --all`` or with selectors: one row per release."""
    emit(
        fmt,
        [_release_grid("Astro Runtime releases", items)],
        {"releases": [release_json(r) for r in items]},
    )


def lookup(result: AirflowLookup, fmt: Format) -> None:
    emit(
        fmt,
        [_release_grid(f"Releases shipping Airflow {result.airflow}", result.releases)],
        {"airflow": result.airflow, "releases": [release_json(r) for r in result.releases]},
    )


def env(result: ReleaseEnv, fmt: Format) -> None:
    grid = Grid(
        f"Default environment of Astro Runtime {result.release}",
        ("Variable", "Value", "Description"),
        tuple((v.name, _env_value(v), v.description) for v in result.variables),
        wrap=frozenset({"Description"}),
    )
    payload = {
        "release": result.release,
        "env": [
            {
                "name": v.name,
                "value": v.value,
                "formula": v.formula,
                "kind": str(v.kind),
                "default": v.default,
                "description": v.description,
            }
            for v in result.variables
        ],
    }
    emit(fmt, [grid], payload)


def _env_value(var: EnvValue) -> str:
    """A value as set; a formula as ``= formula``; an override as what applies when unset."""
    if var.value is not None:
        return var.value
    if var.formula is not None:
        return f"= {var.formula}"
    return f"(not set; default {var.default})" if var.default else "(not set)"


def lifecycle(result: Lifecycle, fmt: Format) -> None:
    grid = Grid(
        f"Maintenance on {result.on.isoformat()}",
        ("Runtime", "Channel", "Latest", "End of maintenance", "Days left", "Status"),
        tuple(
            (
                str(row.major),
                row.channel,
                row.latest or "-",
                row.end_of_maintenance.isoformat(),
                str(row.days_left),
                row.status,
            )
            for row in result.lines
        ),
        wrap=frozenset(),
    )
    payload = {
        "on": result.on.isoformat(),
        "lines": [
            {
                "line": row.major,
                "channel": row.channel,
                "latest": row.latest,
                "end_of_maintenance": row.end_of_maintenance.isoformat(),
                "days_left": row.days_left,
                "status": row.status,
            }
            for row in result.lines
        ],
    }
    emit(fmt, [grid], payload)


def validation(
    path: str, matrix: Matrix | None, problems: Sequence[Violation], fmt: Format
) -> None:
    """``matrix validate``: a summary on success; the problems themselves go to stderr."""
    payload: dict[str, Any] = {
        "file": path,
        "valid": not problems,
        "problems": [
            {
                "release": v.release,
                "line": v.line,
                "key": v.key,
                "message": v.message,
                "where": v.where,
                "file_line": v.file_line,
            }
            for v in problems
        ],
    }
    if matrix is not None:
        pins = sum(len(r.packages) for r in matrix.releases)
        payload.update(lines=len(matrix.lines), releases=len(matrix.releases), pins=pins)
    if fmt is Format.json:
        emit(fmt, [], payload)
    elif matrix is not None:
        streams.out(
            f"{path}: valid ({payload['releases']} releases, {payload['lines']} lines, "
            f"{payload['pins']} package pins)\n"
        )
