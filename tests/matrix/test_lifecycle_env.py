"""The cores behind `matrix show` (parity), `matrix lookup`, `lifecycle` and `matrix env`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from astroctl.errors import EXIT_USAGE, InputError
from astroctl.matrix import store
from astroctl.matrix.environment import (
    RUNTIME_VERSION_VAR,
    EnvValue,
    MissingInputs,
    release_env,
)
from astroctl.matrix.lifecycle import ENDED, ENDING, MAINTAINED, lifecycle, status_on
from astroctl.matrix.model import EnvKind, Matrix
from astroctl.matrix.queries import NotAnAirflowVersion, latest_of, lookup_airflow, parity
from astroctl.matrix.selectors import select
from tests.factories import REAL_MATRIX, build, document, line, matrix, release


@pytest.fixture(scope="module")
def real() -> Matrix:
    return store.load(REAL_MATRIX)


# --- parity ------------------------------------------------------------------------------------


def test_real_parity_airflow_per_major(real: Matrix) -> None:
    rows = parity(real)
    assert [(r.major, r.airflow) for r in rows] == [
        (4, "2.2"),
        (5, "2.3"),
        (6, "2.4"),
        (7, "2.5"),
        (8, "2.6"),
        (9, "2.7"),
        (10, "2.8"),
        (11, "2.9"),
    ]


def test_real_parity_row_of_line_9(real: Matrix) -> None:
    (row,) = [r for r in parity(real) if r.major == 9]
    assert row.python == "3.11"
    assert row.python_versions == ("3.8", "3.9", "3.10", "3.11")
    assert row.os == "Debian 11.7 (bullseye)"
    assert row.architectures == ("amd64", "arm64")
    assert row.channel == "lts"
    assert row.end_of_maintenance == date(2025, 1, 31)
    assert row.releases == 20
    assert row.latest == "9.17.0"


def test_real_parity_early_lines(real: Matrix) -> None:
    rows = {r.major: r for r in parity(real)}
    assert rows[4].architectures == ("amd64",)
    assert rows[4].python_versions == ("3.9",)
    assert rows[8].python == "3.10"
    assert rows[11].python_versions[-1] == "3.12"
    assert sum(r.releases for r in rows.values()) == 119


def test_parity_line_without_releases() -> None:
    m = build(document(release("9.0.0"), lines={9: line(), 10: line(channel="lts")}))
    (nine, ten) = parity(m)
    assert (nine.airflow, nine.releases, nine.latest) == ("2.9", 1, "9.0.0")
    assert (ten.airflow, ten.releases, ten.latest) == (None, 0, None)
    assert ten.channel == "lts"


def test_latest_of_prefers_good_finals_then_finals_then_anything() -> None:
    m = matrix("9.0.0", "9.1.0", "9.2.0-rc.1", yanked=["9.1.0"])
    assert latest_of(m.releases) == "9.0.0"
    m = matrix("9.0.0", "9.1.0", "9.2.0-rc.1", yanked=["9.0.0", "9.1.0"])
    assert latest_of(m.releases) == "9.1.0"
    m = matrix("9.2.0-rc.1", "9.2.0-rc.2")
    assert latest_of(m.releases) == "9.2.0-rc.2"
    assert latest_of(()) is None


def test_latest_of_is_by_version() -> None:
    m = matrix("9.9.0", "9.10.0", "9.2.0")
    assert latest_of(m.releases) == "9.10.0"


# --- lookup ------------------------------------------------------------------------------------


def test_real_lookup_patch(real: Matrix) -> None:
    found = lookup_airflow(real, "2.7.2")
    assert found.airflow == "2.7.2"
    assert [r.name for r in found.releases] == ["9.2.0", "9.3.0", "9.4.0"]


def test_real_lookup_minor(real: Matrix) -> None:
    found = lookup_airflow(real, "2.7")
    assert found.releases == real.releases_of(9)
    assert len(found.releases) == 20


def test_real_lookup_strips_and_finds_nothing(real: Matrix) -> None:
    assert lookup_airflow(real, " 2.9.3 ").airflow == "2.9.3"
    assert [r.name for r in lookup_airflow(real, "2.9.3").releases] == ["11.7.0", "11.8.0"]
    assert lookup_airflow(real, "2.7.9").releases == ()
    assert lookup_airflow(real, "1.10").releases == ()


def test_lookup_local_versions() -> None:
    m = build(
        document(
            release("9.0.0", "2.7.2"),
            release("9.0.1", "2.7.2+astro.1"),
            release("9.0.2", "2.7.2+astro.2"),
            release("9.1.0", "2.7.3"),
        )
    )

    def names(query: str) -> list[str]:
        return [r.name for r in lookup_airflow(m, query).releases]

    assert names("2.7.2") == ["9.0.0", "9.0.1", "9.0.2"]
    assert names("2.7.2+astro.1") == ["9.0.1"]
    assert names("2.7.2+astro.9") == []
    assert names("2.7") == ["9.0.0", "9.0.1", "9.0.2", "9.1.0"]
    assert names("2.7.0") == []


def test_lookup_minor_with_a_suffix_is_not_a_minor() -> None:
    m = build(document(release("9.0.0", "2.7rc1"), release("9.1.0", "2.7.0")))
    assert [r.name for r in lookup_airflow(m, "2.7rc1").releases] == ["9.0.0"]
    assert [r.name for r in lookup_airflow(m, "2.7").releases] == ["9.0.0", "9.1.0"]


@pytest.mark.parametrize("query", ["two", "2.7.x", "", "latest"])
def test_lookup_bad_version(real: Matrix, query: str) -> None:
    with pytest.raises(NotAnAirflowVersion, match="is not a PEP 440 version") as caught:
        lookup_airflow(real, query)
    assert caught.value.exit_code == EXIT_USAGE
    assert caught.value.text == query
    assert "--airflow" not in caught.value.message  # the core names no flag


@pytest.mark.parametrize("query", ["2.7.2.0", "2.7.2.0.0", "v2.7.2", " 2.7.2 "])
def test_lookup_uses_pep440_equality(real: Matrix, query: str) -> None:
    found = [r.name for r in lookup_airflow(real, query).releases]
    assert found == [r.name for r in lookup_airflow(real, "2.7.2").releases]
    assert "9.2.0" in found


# --- lifecycle ---------------------------------------------------------------------------------

EOM = date(2025, 1, 31)


@pytest.mark.parametrize(
    ("on", "status"),
    [
        (EOM - timedelta(days=365), MAINTAINED),
        (EOM - timedelta(days=31), MAINTAINED),
        (EOM - timedelta(days=30), ENDING),
        (EOM - timedelta(days=1), ENDING),
        (EOM, ENDING),
        (EOM + timedelta(days=1), ENDED),
        (EOM + timedelta(days=400), ENDED),
    ],
)
def test_status_boundaries(on: date, status: str) -> None:
    assert status_on(EOM, on) == status


def test_status_texts() -> None:
    assert (MAINTAINED, ENDING, ENDED) == (
        "maintained",
        "ending within 30 days",
        "end of maintenance",
    )


def test_real_lifecycle_on_a_day(real: Matrix) -> None:
    result = lifecycle(real, date(2024, 6, 15))
    assert result.on == date(2024, 6, 15)
    rows = {row.major: row for row in result.lines}
    assert list(rows) == [4, 5, 6, 7, 8, 9, 10, 11]
    assert rows[10].status == ENDING  # ends 2024-06-30
    assert rows[10].days_left == 15
    assert rows[9].status == MAINTAINED
    assert rows[9].channel == "lts"
    assert rows[9].latest == "9.17.0"
    assert rows[8].status == ENDED
    assert rows[8].days_left < 0
    assert rows[11].latest == "11.8.0"
    assert rows[11].end_of_maintenance == date(2025, 10, 31)


def test_real_lifecycle_on_the_last_day_and_after(real: Matrix) -> None:
    on_the_day = {row.major: row for row in lifecycle(real, date(2025, 1, 31)).lines}
    assert (on_the_day[9].status, on_the_day[9].days_left) == (ENDING, 0)
    after = {row.major: row for row in lifecycle(real, date(2025, 2, 1)).lines}
    assert (after[9].status, after[9].days_left) == (ENDED, -1)


# --- environment -------------------------------------------------------------------------------


def values(m: Matrix, selector: str, **inputs: int) -> dict[str, str | None]:
    env = release_env(m, select(m, selector).release, inputs)
    return {v.name: v.value for v in env.variables}


def test_real_env_computed_with_both_inputs(real: Matrix) -> None:
    env = values(real, "9", workers=3, max_tasks_per_worker=16)
    assert env["AIRFLOW__CORE__PARALLELISM"] == "48"
    assert env["AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL"] == "30"
    assert env["AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL"] is None  # an override, unset
    assert env[RUNTIME_VERSION_VAR] == "9.17.0"


def test_real_env_uncomputed_without_inputs(real: Matrix) -> None:
    env = release_env(real, select(real, "11").release, {})
    assert env.release == "11.8.0"
    by_name = {v.name: v for v in env.variables}
    parallelism = by_name["AIRFLOW__CORE__PARALLELISM"]
    assert parallelism.value is None
    assert parallelism.formula == "workers * max_tasks_per_worker"
    assert parallelism.description.startswith("Task instances")
    assert by_name[RUNTIME_VERSION_VAR] == EnvValue(
        RUNTIME_VERSION_VAR,
        "11.8.0",
        None,
        "The runtime version; the Airflow UI shows it in the footer.",
    )
    assert env.variables[-1].name == RUNTIME_VERSION_VAR
    assert [v.name for v in env.variables[:-1]] == list(real.env)


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"workers": 3}, "max_tasks_per_worker"),
        ({"max_tasks_per_worker": 16}, "workers"),
    ],
)
def test_real_env_one_input_names_the_missing_variable(
    real: Matrix, given: dict[str, int], missing: str
) -> None:
    with pytest.raises(MissingInputs) as caught:
        release_env(real, real.releases[-1], given)
    assert caught.value.missing == (missing,)
    assert caught.value.variable == "AIRFLOW__CORE__PARALLELISM"
    assert caught.value.formula == "workers * max_tasks_per_worker"
    assert caught.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ({"workers": -1, "max_tasks_per_worker": 16}, "workers"),
        ({"workers": 0, "max_tasks_per_worker": 16}, "workers"),
        ({"workers": 3, "max_tasks_per_worker": 0}, "max_tasks_per_worker"),
    ],
)
def test_inputs_below_one_rejected(real: Matrix, given: dict[str, int], name: str) -> None:
    with pytest.raises(InputError, match=f"^{name} must be at least 1"):
        release_env(real, real.releases[-1], given)


def test_runtime_version_of_an_exact_release(real: Matrix) -> None:
    assert values(real, "9.2.0")[RUNTIME_VERSION_VAR] == "9.2.0"


def small_env(**env: dict[str, str]) -> Matrix:
    return build(document(release("9.0.0"), release("9.1.0-rc.1"), env=env))


def test_env_formula_with_one_variable_computes_from_its_own_input() -> None:
    m = small_env(DOUBLE={"formula": "workers * 2"}, BOTH={"formula": "workers + 1"})
    assert values(m, "9", workers=4) == {
        "DOUBLE": "8",
        "BOTH": "5",
        RUNTIME_VERSION_VAR: "9.0.0",
    }


def test_env_formula_division_by_zero_is_an_input_error() -> None:
    m = small_env(PER={"formula": "max_tasks_per_worker / (workers - 1)"})
    with pytest.raises(InputError, match="PER: division by zero"):
        values(m, "9", workers=1, max_tasks_per_worker=4)


def test_env_of_a_prerelease_and_no_variables() -> None:
    m = small_env()
    env = release_env(m, select(m, "9.1.0-rc.1").release, {})
    assert [(v.name, v.value) for v in env.variables] == [(RUNTIME_VERSION_VAR, "9.1.0-rc.1")]


def test_lookup_a_major_finds_every_release_of_that_airflow_major(real: Matrix) -> None:
    assert len(lookup_airflow(real, "2").releases) == len(real.releases)
    assert lookup_airflow(real, "3").releases == ()


def test_real_env_has_the_corrected_defaults(real: Matrix) -> None:
    """The public page's fifth default, and the monitoring schedule as an override, not a value."""
    env = {v.name: v for v in release_env(real, select(real, "latest").release, {}).variables}
    assert env["AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY"].value == "512"
    assert env["AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY"].kind is EnvKind.VALUE
    monitoring = env["AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL"]
    assert monitoring.kind is EnvKind.OVERRIDE
    assert monitoring.value is None  # an image must not bake it
    assert monitoring.default == "*/5 * * * *"
    assert [name for name, v in env.items() if v.kind is EnvKind.VALUE] == [
        "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL",
        "AIRFLOW__CELERY__STALLED_TASK_TIMEOUT",
        "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_PODS_CREATION_BATCH_SIZE",
        "AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY",
        RUNTIME_VERSION_VAR,
    ]


def test_real_os_per_line_is_the_corrected_one(real: Matrix) -> None:
    assert {major: line.os for major, line in real.lines.items()} == {
        4: "Debian 11.1 (bullseye)",
        5: "Debian 11.3 (bullseye)",
        6: "Debian 11.5 (bullseye)",
        7: "Debian 11.5 (bullseye)",
        8: "Debian 11.7 (bullseye)",
        9: "Debian 11.7 (bullseye)",
        10: "Debian 11.8 (bullseye)",
        11: "Debian 11.8 (bullseye)",
    }
