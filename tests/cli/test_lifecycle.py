"""``astroctl lifecycle`` through the real entry point: goldens, statuses and their boundaries.

Goldens live in ``tests/golden/lifecycle_*``; rewrite them with ``ASTROCTL_UPDATE_GOLDEN=1`` (see
``tests/test_cli_matrix.py``).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from tests.helpers import FORMATS, SNAPSHOT, Invoke, assert_golden, ok

LINE_FIELDS = {"line", "channel", "latest", "end_of_maintenance", "status"}


def _lines(invoke: Invoke, on: str) -> dict[int, dict[str, Any]]:
    result = invoke("lifecycle", "--on", on, "--format", "json", matrix=SNAPSHOT)
    payload = json.loads(ok(result))
    assert payload["on"] == on
    return {entry["line"]: entry for entry in payload["lines"]}


@pytest.mark.parametrize(("fmt", "ext"), FORMATS)
def test_golden(invoke: Invoke, fmt: str, ext: str) -> None:
    result = invoke("lifecycle", "--on", "2024-06-15", "--format", fmt, matrix=SNAPSHOT)
    assert_golden(f"lifecycle_on_2024-06-15.{ext}", ok(result))


def test_every_line_with_channel_latest_end_and_status(invoke: Invoke) -> None:
    lines = _lines(invoke, "2024-06-15")
    assert sorted(lines) == list(range(4, 12))
    for entry in lines.values():
        assert entry.keys() >= LINE_FIELDS
    assert {m: (e["channel"], e["latest"], e["end_of_maintenance"]) for m, e in lines.items()} == {
        4: ("lts", "4.2.9", "2023-09-30"),
        5: ("lts", "5.5.0", "2024-04-30"),
        6: ("lts", "6.10.0", "2024-03-31"),
        7: ("stable", "7.6.0", "2023-07-31"),
        8: ("stable", "8.10.0", "2023-11-30"),
        9: ("lts", "9.17.0", "2025-01-31"),
        10: ("stable", "10.9.0", "2024-06-30"),
        11: ("lts", "11.8.0", "2025-10-31"),
    }
    assert {m: e["status"] for m, e in lines.items()} == {
        4: "end of maintenance",
        5: "end of maintenance",
        6: "end of maintenance",
        7: "end of maintenance",
        8: "end of maintenance",
        9: "maintained",
        10: "ending within 30 days",
        11: "maintained",
    }
    assert lines[10]["days_left"] == 15
    assert lines[4]["days_left"] == -259


@pytest.mark.parametrize(
    ("on", "status"),
    [
        ("2024-05-30", "maintained"),  # 31 days left
        ("2024-05-31", "ending within 30 days"),  # 30 days left
        ("2024-06-30", "ending within 30 days"),  # the last day is still maintained
        ("2024-07-01", "end of maintenance"),
    ],
)
def test_status_boundaries(invoke: Invoke, on: str, status: str) -> None:
    """Line 10 ends on 2024-06-30."""
    assert _lines(invoke, on)[10]["status"] == status


def test_latest_skips_yanked_releases(invoke: Invoke) -> None:
    lines = _lines(invoke, "2024-06-15")
    assert lines[9]["latest"] == "9.17.0"
    assert lines[11]["latest"] == "11.8.0"


def test_on_defaults_to_today(invoke: Invoke) -> None:
    before = date.today()
    payload = json.loads(ok(invoke("lifecycle", "--format", "json")))
    after = date.today()
    assert payload["on"] in {before.isoformat(), after.isoformat()}
    day = date.fromisoformat(payload["on"])
    end = date.fromisoformat(payload["lines"][0]["end_of_maintenance"])
    assert payload["lines"][0]["days_left"] == (end - day).days


def test_table_names_the_day(invoke: Invoke) -> None:
    stdout = ok(invoke("lifecycle", "--on", "2024-06-15", matrix=SNAPSHOT))
    assert stdout.startswith("Maintenance on 2024-06-15")
    assert "ending within 30 days" in stdout


@pytest.mark.parametrize("on", ["2024-13-01", "tomorrow", "15/06/2024", ""])
def test_a_bad_date_is_bad_input(invoke: Invoke, on: str) -> None:
    result = invoke("lifecycle", "--on", on)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"astroctl: error: --on {on!r} is not a date such as 2024-06-30\n"


def test_far_future_ends_everything(invoke: Invoke) -> None:
    on = (date(2025, 10, 31) + timedelta(days=1)).isoformat()
    assert {e["status"] for e in _lines(invoke, on).values()} == {"end of maintenance"}
