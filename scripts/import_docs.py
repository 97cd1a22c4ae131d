"""Build data/compatibility.toml (schema 1) from the Astro Runtime fact tables.

The fact tables (runtime-releases.csv, runtime-lines.csv, runtime-packages.csv) were extracted
from the Astronomer docs repository; see shared/data/README.md. Facts the tables do not carry
(runtime-only packages, default environment variables, the OS of lines 4-9) come from the seed
page "Astro Runtime architecture". Every conflict and choice is recorded in the file's header.

Usage: python scripts/import_docs.py [--data DIR]
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"

DOCS_COMMIT = "0fd057ffad1b58cad42a9bb7f05315506d825847"

IMAGE: dict[str, Any] = {"repository": "quay.io/astronomer/astro-runtime", "floating_tags": False}
UPSTREAM: dict[str, Any] = {
    "constraints_url": (
        "https://raw.githubusercontent.com/apache/airflow/"
        "constraints-{airflow}/constraints-{python}.txt"
    ),
    "index_url": "https://pypi.org/simple",
}

# Ours: version changes are called out in the release notes (seed, "Provider package versioning").
MAINTAINED_CHANGELOGS = {
    "astronomer-providers": (
        "https://github.com/astronomer/astronomer-providers/blob/main/CHANGELOG.rst"
    ),
    "openlineage-airflow": "https://github.com/OpenLineage/OpenLineage/blob/main/CHANGELOG.md",
}
# The seed's "Provider packages" list: an asterisk after the name means runtime-only.
RUNTIME_ONLY = frozenset(
    {
        "apache-airflow-providers-amazon",
        "astronomer-providers",
        "astro-sdk-python",
        "apache-airflow-providers-datadog",
        "apache-airflow-providers-elasticsearch",
        "apache-airflow-providers-google",
        "apache-airflow-providers-microsoft-azure",
        "openlineage-airflow",
        "apache-airflow-providers-postgres",
        "apache-airflow-providers-redis",
    }
)
PACKAGE_INDEXES = {"astronomer-providers-logging": "https://pip.astronomer.io/v2/"}

# The seed's "Default environment variables" table (descriptions reworded) and monitoring DAG.
ENV: dict[str, dict[str, str]] = {
    "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": {
        "value": "30",
        "description": "Seconds the scheduler waits between scans of the dags directory for new "
        "files; set on every Deployment whatever its Runtime version.",
    },
    "AIRFLOW__CELERY__STALLED_TASK_TIMEOUT": {
        "value": "600",
        "description": "Seconds a task under the Celery executor may stay queued before it is "
        "rescheduled automatically.",
    },
    "AIRFLOW__CORE__PARALLELISM": {
        "formula": "workers * max_tasks_per_worker",
        "description": "Task instances each scheduler may run at once: the running workers of "
        "all worker queues times the tasks allowed per worker.",
    },
    "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_PODS_CREATION_BATCH_SIZE": {
        "value": "16",
        "description": "Worker Pods created per scheduler loop, which caps how many tasks can "
        "be started at one time.",
    },
    "AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY": {
        "value": "512",
        "description": "Task instances the scheduler reads and queues per database query in "
        "each scheduling loop; larger batches schedule more tasks per loop.",
    },
    # Not set by the image: the monitoring DAG runs every 5 minutes unless the user sets it.
    "AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL": {
        "default": "*/5 * * * *",
        "description": "Schedule of the Astronomer monitoring DAG (Astro Hybrid): an override "
        "the user may set to a cron expression; unset, the DAG runs every 5 minutes.",
    },
}

# Undocumented for Runtime 10 and 11: Apache Airflow's supported Pythons for that minor.
INFERRED_PYTHONS = {
    "2.8": ["3.8", "3.9", "3.10", "3.11"],
    "2.9": ["3.8", "3.9", "3.10", "3.11", "3.12"],
}
# Line 6 is multi-arch, but multi-arch images start at 6.0.4.
AMD64_ONLY = frozenset({"6.0.0", "6.0.1", "6.0.2", "6.0.3"})
# Provider-reference tables with no release: the 4.2.2 note was renamed 4.2.4.
RENAMED = frozenset({"4.2.2", "4.2.3"})

# The versioning policy the real history was released under, as dated [[policy.rules]] so that
# `release audit` judges each release by the rules of its time (justified in HEADER, "Policy").
NEW_RULES_SINCE = dt.date(2023, 1, 1)
MAINTAINED_MINOR_BEFORE_2023 = (
    "before 2023, minor versions of the maintained packages shipped in patch releases"
)
MAINTAINED_MINOR_FROM_2023 = (
    "from 2023, minor versions of the maintained packages need minor releases"
)
POLICY_RULES: tuple[dict[str, Any], ...] = tuple(
    rule
    for package in ("astronomer-providers", "openlineage-airflow")
    for rule in (
        {
            "change": "minor",
            "level": "patch",
            "package": package,
            "reason": MAINTAINED_MINOR_BEFORE_2023,
        },
        {
            "change": "minor",
            "level": "minor",
            "package": package,
            "since": NEW_RULES_SINCE,
            "reason": MAINTAINED_MINOR_FROM_2023,
        },
    )
)

HEADER = f"""\
Astro Runtime compatibility matrix, schema 1: the source of truth for astroctl.
Generated by scripts/import_docs.py from the fact tables in shared/data (runtime-*.csv).
Facts: the Astronomer docs repository astronomer/docs at commit
{DOCS_COMMIT} (2024-08-09): astro/runtime-release-notes.md
(versions, Airflow, dates), astro/runtime-provider-reference.md (package pins),
astro/runtime-version-lifecycle-policy.mdx (channels, end of maintenance, yanked versions; the
yank reasons are reworded), astro/runtime-image-architecture.mdx (Python, OS, architectures),
and the seed page "Astro Runtime architecture" (default environment variables, runtime-only
packages marked *).
Conflicts and choices:
- OS of lines 4-9: the seed (an older copy of the image-architecture page) says
  "Debian 11.3 (bullseye)" for all; the public page corrected it to 11.1 (4), 11.3 (5),
  11.5 (6, 7), 11.7 (8, 9), all bullseye. The corrected values are used, so
  `matrix show --format markdown` differs from the seed in those five cells; 10 and 11 are 11.8.
- AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY = 512: on the public page since January 2024, not in
  the seed's table.
- AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL is an override the user may set, not a value the
  image sets: it is stored as a `default` (every 5 minutes), so images do not bake it.
- astronomer-providers in 7.4.3 and 8.0.0: the notes say 1.15.4, the provider table 1.15.5. The
  table is kept (the 8.2.0 note also says "upgraded to 1.15.5").
- astronomer-providers-logging in 9.15.0 and 10.9.0: the notes say 1.1.5.1, the table 1.5.1. The
  table is kept.
- Dates are the release-note entries', not the lifecycle page's (its Runtime 4 date, 2022-03-10,
  is 4.2.0's; it gives 7.0.0 as 2022-12-03, the note 2022-12-02) nor the notes' info box
  (9.9.0 2024-01-10 and 10.0.0 2023-12-08; the entries say 2024-01-24 and 2023-12-18).
- 4.2.2 and 4.2.3 are only in the provider reference (same pins as 4.2.4); git history shows the
  4.2.2 note was renamed 4.2.4. They get no release and their pins are dropped.
- end_of_maintenance: the docs give a month; the policy's last day of that month is used.
- Lifecycle values are the current ones: Runtime 8 once ended October 2023, and Runtime 11 was
  once stable, ending October 2024.
- python_versions: 4-8 ship the default only; 9 has 3.8-3.11 (9.0.0 note). None is documented
  for 10 and 11: inferred from the seed ("from Runtime 9, a distribution for each supported
  Python version") as Apache Airflow's supported Pythons: 2.8 -> 3.8-3.11, 2.9 -> 3.8-3.12.
- Line 6 is amd64 and arm64, but multi-arch images start at 6.0.4: 6.0.0-6.0.3 are amd64 only.
- The seed misspells AIRFLOW__CORE__PARALLELISM as AIRFLOW_CORE_PARALLELISM; the real one is used.
Policy ([[policy.rules]]): SPEC section 5's table, except that a minor version of a maintained
package (astronomer-providers, openlineage-airflow) needed only a patch release before 2023:
- Before 2023, patch releases took their new minor versions: astronomer-providers 1.9.0 ->
  1.10.0 in 6.0.2 (2022-09-30) and 1.10.0 -> 1.11.1 in 6.0.4 (2022-11-14). From 6.1.0 and 7.1.0
  (2022-12-21) on, every such minor (1.13.0 to 1.18.0, in 5.x-9.x) came in a minor release and
  every patch (1.15.2 to 1.19.2) in a patch or minor one. The boundary, 2023-01-01, is the one
  the project's issue gives; 5.0.13 (2022-12-12), the one patch release in between that lists
  the package, kept 1.10.0.
- openlineage-airflow is in no package table, so the data cannot show its history; it gets the
  same rules because the issue states them for both packages (and the seed's "Runtime
  versioning" names the two together).
- No other dated rule: the other package changes that `release audit` finds in the real history
  (provider minors, majors and additions in 2021-2022 patch releases, provider majors in minor
  releases throughout) are reported as findings, not written away as rules.
- A release that lists no packages (see Gaps) has unknown pins, not none: the audit rates no
  package change against it and judges the next release with pins (4.2.9, 5.0.13) against the
  last one before it that has pins (4.2.7, 5.0.10).
Gaps:
- No package table for 4.2.8, 5.0.11, 5.0.12, 5.5.0 and 6.8.0-6.10.0: they list no packages.
- The 9.16.0 table lacks astro-sdk-python, astronomer-providers and astronomer-providers-logging.
- openlineage-airflow is in no table (its versions are only in release-note prose), and
  astronomer-providers is tabled only from 5.0.10, though the notes say it ships since 4.2.0.
- Only 11.x documents the slim flavour's package set."""

_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def semver_key(version: str) -> tuple[int, int, int]:
    """Sort key of a plain major.minor.patch version (the tables hold no prereleases)."""
    match = _SEMVER.fullmatch(version)
    if match is None:
        raise ValueError(f"not a major.minor.patch version: {version!r}")
    return int(match[1]), int(match[2]), int(match[3])


def last_day_of_month(month: str) -> dt.date:
    """The last day of a YYYY-MM month: end of maintenance falls there."""
    match = _MONTH.fullmatch(month)
    if match is None:
        raise ValueError(f"not a YYYY-MM month: {month!r}")
    year, number = int(match[1]), int(match[2])
    return dt.date(year, number, calendar.monthrange(year, number)[1])


def parse_bool(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(f"not a boolean: {text!r}")
    return text == "true"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            {key: value.strip() for key, value in row.items()} for row in csv.DictReader(handle)
        ]


def build_packages() -> dict[str, dict[str, Any]]:
    names = RUNTIME_ONLY | MAINTAINED_CHANGELOGS.keys() | PACKAGE_INDEXES.keys()
    packages: dict[str, dict[str, Any]] = {}
    for name in sorted(names):
        facts: dict[str, Any] = {}
        if name in MAINTAINED_CHANGELOGS:
            facts["maintained"] = True
        if name in RUNTIME_ONLY:
            facts["runtime_only"] = True
        if name in PACKAGE_INDEXES:
            facts["index"] = PACKAGE_INDEXES[name]
        if name in MAINTAINED_CHANGELOGS:
            facts["changelog"] = MAINTAINED_CHANGELOGS[name]
        packages[name] = facts
    return packages


def python_versions(row: dict[str, str]) -> list[str]:
    documented = row["python_versions"].split()
    versions = documented or INFERRED_PYTHONS[row["airflow_minor"]]
    if row["default_python"] not in versions:
        raise ValueError(f"line {row['major']}: default Python not among {versions}")
    return list(versions)


def build_line(row: dict[str, str]) -> dict[str, Any]:
    return {
        "channel": row["channel"],
        "end_of_maintenance": last_day_of_month(row["end_of_maintenance"]),
        "python": row["default_python"],
        "python_versions": python_versions(row),
        "os": row["os"],
        "architectures": row["architectures"].split(),
    }


def build_lines(rows: Iterable[dict[str, str]]) -> dict[str, dict[str, Any]]:
    ordered = sorted(rows, key=lambda row: int(row["major"]))
    return {str(int(row["major"])): build_line(row) for row in ordered}


PackageSets = dict[tuple[str, str], dict[str, str]]


def group_packages(rows: Iterable[dict[str, str]], known: set[str]) -> PackageSets:
    """Pins by (runtime, image), each name-sorted; unknown runtimes other than RENAMED fail."""
    grouped: PackageSets = {}
    for row in rows:
        runtime = row["runtime"]
        if runtime in RENAMED:
            continue
        if runtime not in known:
            raise ValueError(f"package row for unknown release {runtime}: {row}")
        pins = grouped.setdefault((runtime, row["image"]), {})
        if row["package"] in pins:
            raise ValueError(f"duplicate package row: {row}")
        pins[row["package"]] = row["version"]
    return {key: dict(sorted(pins.items())) for key, pins in grouped.items()}


def build_release(row: dict[str, str], pins: PackageSets) -> dict[str, Any]:
    version = row["runtime"]
    release: dict[str, Any] = {
        "version": version,
        "airflow": row["airflow"],
        "released": dt.date.fromisoformat(row["release_date"]),
    }
    if parse_bool(row["yanked"]):
        release["yanked"] = row["yanked_reason"]
    if version in AMD64_ONLY:
        release["architectures"] = ["amd64"]
    standard = pins.get((version, "standard"))
    if standard:
        release["packages"] = standard
    slim = pins.get((version, "slim"))
    if slim:
        release["flavors"] = {"slim": {"packages": slim}}
    return release


def build_releases(
    rows: Sequence[dict[str, str]], package_rows: Iterable[dict[str, str]], lines: set[str]
) -> list[dict[str, Any]]:
    versions = [row["runtime"] for row in rows]
    if len(set(versions)) != len(versions):
        raise ValueError("duplicate release versions in runtime-releases.csv")
    pins = group_packages(package_rows, set(versions))
    for version in versions:
        if str(semver_key(version)[0]) not in lines:
            raise ValueError(f"release {version} has no line")
    ordered = sorted(rows, key=lambda row: semver_key(row["runtime"]))
    return [build_release(row, pins) for row in ordered]


def build_document(data_dir: Path = DATA_DIR) -> tuple[str, dict[str, Any]]:
    """The header comment block and the schema-1 document, built from the CSVs in data_dir."""
    lines = build_lines(read_rows(data_dir / "runtime-lines.csv"))
    releases = build_releases(
        read_rows(data_dir / "runtime-releases.csv"),
        read_rows(data_dir / "runtime-packages.csv"),
        set(lines),
    )
    document: dict[str, Any] = {
        "schema": 1,
        "image": dict(IMAGE),
        "upstream": dict(UPSTREAM),
        "packages": build_packages(),
        "env": {name: dict(facts) for name, facts in ENV.items()},
        "policy": {"rules": [dict(rule) for rule in POLICY_RULES]},
        "lines": lines,
        "releases": releases,
    }
    header = "\n".join(f"# {line}" for line in HEADER.splitlines())
    return header, document


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--data", type=Path, default=DATA_DIR, metavar="DIR", help="directory of the fact CSVs"
    )
    args = parser.parse_args(argv)
    header, document = build_document(args.data)

    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    from astroctl.matrix.store import write_document

    write_document(ROOT / "data" / "compatibility.toml", document, header)


if __name__ == "__main__":
    main()
