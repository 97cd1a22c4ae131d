"""The Astronomer monitoring DAG, baked into every Astro Runtime image.

``astronomer_monitoring_dag`` runs one small bash task every 5 minutes, so that a task that
stops being scheduled, or fails twice in a row, tells Astronomer that the scheduler or the
workers of a Deployment are unwell. The schedule is the Deployment's
``AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL`` when it is set: a cron expression of five fields
(``*/10 * * * *``), or one of Airflow's presets (``@hourly``). The value is checked here, when
the DAG file is parsed; a value that is not a cron expression is logged as a warning and the DAG
keeps its 5-minute schedule, because a typo in a variable must not switch monitoring off.

This file is a template of astroctl's image build (``astroctl/images/templates``): it is copied
into the image as it is, and it imports nothing but Airflow and the standard library.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from datetime import datetime, timedelta

import airflow  # type: ignore[import-not-found,unused-ignore]
from airflow import DAG  # type: ignore[import-not-found,unused-ignore]

try:  # Airflow 3 moved the bash operator to the standard provider
    from airflow.providers.standard.operators.bash import (  # type: ignore[import-not-found,unused-ignore]
        BashOperator,
    )
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator  # type: ignore[import-not-found,unused-ignore]

DAG_ID = "astronomer_monitoring_dag"
VARIABLE = "AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL"
DEFAULT_SCHEDULE = "*/5 * * * *"
PRESETS = frozenset({"@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"})

log = logging.getLogger(__name__)

# (name, lowest, highest, names) of the five fields; names map to numbers from ``lowest`` on
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    (
        "month",
        1,
        12,
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    ),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_NUMBER = re.compile(r"[0-9]{1,2}")


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a cron expression, or None when it is one.

    Five fields separated by blanks: minute (0-59), hour (0-23), day of month (1-31), month
    (1-12 or jan-dec) and day of week (0-7, 0 and 7 both Sunday, or sun-sat). A field is a
    comma-separated list of items; an item is ``*``, a value or a range ``a-b`` (a <= b; a
    day-of-week range may end on Sunday, ``sat-sun``), optionally followed by ``/step``.
    Names are case-insensitive and stand for values. Airflow's presets (``@hourly``,
    ``@daily``, ...) are accepted too.
    """
    text = expression.strip()
    if text.lower() in PRESETS:
        return None
    fields = text.split()
    if len(fields) != len(_FIELDS):
        return f"a cron expression has 5 fields, this has {len(fields)}"
    for value, (name, lowest, highest, names) in zip(fields, _FIELDS, strict=True):
        problem = _field_problem(value, lowest, highest, names)
        if problem is not None:
            return f"{name} field {value!r}: {problem}"
    return None


def _field_problem(text: str, lowest: int, highest: int, names: tuple[str, ...]) -> str | None:
    for item in text.split(","):
        if not item:
            return "an empty list item"
        span, slash, step = item.partition("/")
        if slash and not (_NUMBER.fullmatch(step) and int(step) > 0):
            return f"step {step!r} is not a positive number"
        if span == "*":
            continue
        start, dash, end = span.partition("-")
        first = _value(start, lowest, highest, names)
        if first is None:
            return f"{start!r} is not a value from {lowest} to {highest}"
        if not dash:
            continue
        last = _value(end, lowest, highest, names)
        if last is None:
            return f"{end!r} is not a value from {lowest} to {highest}"
        if last == 0 and highest == 7:  # Sunday ends a day-of-week range as 7: sat-sun
            last = 7
        if last < first:
            return f"range {span!r} runs backwards"
    return None


def _value(text: str, lowest: int, highest: int, names: tuple[str, ...]) -> int | None:
    if text.lower() in names:
        return lowest + names.index(text.lower())
    if not _NUMBER.fullmatch(text):
        return None
    number = int(text)
    return number if lowest <= number <= highest else None


def schedule(environ: Mapping[str, str] | None = None) -> str:
    """The DAG's schedule: the variable when it holds a cron expression, else every 5 min."""
    env = os.environ if environ is None else environ
    wanted = env.get(VARIABLE, "").strip()
    if not wanted:
        return DEFAULT_SCHEDULE
    problem = cron_problem(wanted)
    if problem is not None:
        log.warning(
            "%s=%r is not a cron expression (%s); %s keeps its schedule %r",
            VARIABLE,
            wanted,
            problem,
            DAG_ID,
            DEFAULT_SCHEDULE,
        )
        return DEFAULT_SCHEDULE
    return wanted


def _schedule_argument() -> str:
    """``schedule`` from Airflow 2.4 on, ``schedule_interval`` before."""
    parts = re.findall(r"[0-9]+", str(getattr(airflow, "__version__", "2.4")))[:2]
    version = tuple(int(part) for part in parts)
    return "schedule" if version >= (2, 4) else "schedule_interval"


with DAG(
    dag_id=DAG_ID,
    description="Astronomer's health check of the scheduler and workers: a bash task every "
    "5 minutes (AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL overrides the schedule).",
    start_date=datetime(2022, 1, 1),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    dagrun_timeout=timedelta(minutes=10),
    tags=["astronomer", "monitoring"],
    default_args={"owner": "astronomer", "retries": 0},
    **{_schedule_argument(): schedule()},
) as dag:
    BashOperator(
        task_id="astronomer_monitoring_task",
        bash_command="echo \"astronomer monitoring: $(date -u '+%Y-%m-%dT%H:%M:%SZ') ok\"",
        execution_timeout=timedelta(minutes=5),
    )
