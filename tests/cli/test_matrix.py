"""``astroctl matrix show|validate|lookup|env`` through the real entry point.

Golden files
------------
Tables, JSON and markdown are compared with ``tests/golden/<name>.<ext>`` (``txt`` for tables,
``json``, ``md``) by :func:`assert_golden`. Each line is compared with its trailing spaces removed
(rich pads table lines) and trailing blank lines dropped, and the files are stored that way, so an
editor or a pre-commit hook that strips trailing whitespace cannot break them.

The goldens, and the tests that pin facts such as "the latest 9.x is 9.17.0", run against a frozen
copy of the matrix, ``tests/golden/matrix_snapshot.toml`` (119 releases), so cutting a release
into ``data/compatibility.toml`` does not break them. The tests that check the real file compare
it with the TOML read independently (tomllib), not with pinned numbers.

To rewrite the goldens after an intended change, run::

    ASTROCTL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/cli/test_matrix.py tests/cli/test_lifecycle.py

then read the diff before committing it: a golden file is only as right as the last person who
checked it against the data.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    BROKEN,
    FORMATS,
    MATRIX,
    SNAPSHOT,
    Invoke,
    assert_golden,
    ok,
)

SEED = Path("/work/shared/seed/astro-runtime-architecture.txt")


YANKED_9_2 = (
    "astroctl: warning: every release of 9.2.x is yanked; using 9.2.0 "
    "(yanked: serious scheduler performance problems)\n"
)


# -- golden helper ----------------------------------------------------------------------------


def releases_of(stdout: str) -> list[dict[str, Any]]:
    payload = json.loads(stdout)
    releases: list[dict[str, Any]] = payload["releases"]
    return releases


def versions_of(stdout: str) -> list[str]:
    return [r["version"] for r in releases_of(stdout)]


# -- goldens ----------------------------------------------------------------------------------

GOLDEN_CASES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("matrix_show", ("matrix", "show"), ""),
    ("matrix_show_all", ("matrix", "show", "--all"), ""),
    ("matrix_show_9_9.2_latest", ("matrix", "show", "9", "9.2", "latest"), YANKED_9_2),
    ("matrix_lookup_airflow_2.7.2", ("matrix", "lookup", "--airflow", "2.7.2"), ""),
    (
        "matrix_env_9.17.0_workers",
        ("matrix", "env", "9.17.0", "--workers", "3", "--max-tasks-per-worker", "16"),
        "",
    ),
)


@pytest.mark.parametrize(("fmt", "ext"), FORMATS)
@pytest.mark.parametrize(("name", "args", "stderr"), GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_golden(
    invoke: Invoke, name: str, args: tuple[str, ...], stderr: str, fmt: str, ext: str
) -> None:
    result = invoke(*args, "--format", fmt, matrix=SNAPSHOT)
    assert_golden(f"{name}.{ext}", ok(result, stderr))


def test_table_is_the_default_format(invoke: Invoke) -> None:
    assert ok(invoke("matrix", "show")) == ok(invoke("matrix", "show", "--format", "table"))
    assert ok(invoke("matrix", "show", "-f", "JSON")) == ok(invoke("matrix", "show", "-f", "json"))


def test_the_snapshot_is_the_matrix_the_goldens_were_checked_on(invoke: Invoke) -> None:
    """The goldens' frozen matrix validates and is the 119-release matrix they were checked on."""
    assert "(119 releases, 8 lines," in ok(invoke("matrix", "validate", matrix=SNAPSHOT))


# -- matrix show: the JSON contract (SPEC 4) --------------------------------------------------

RELEASE_FIELDS = {
    "version",
    "airflow",
    "python",
    "python_versions",
    "os",
    "architectures",
    "released",
    "yanked",
    "channel",
    "end_of_maintenance",
    "packages",
}
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _check_release_shape(release: dict[str, Any]) -> None:
    assert release.keys() >= RELEASE_FIELDS, RELEASE_FIELDS - release.keys()
    for key in ("version", "airflow", "python", "os"):
        assert isinstance(release[key], str) and release[key], key
    assert release["python"] in release["python_versions"]
    assert set(release["architectures"]) <= {"amd64", "arm64"}
    assert release["architectures"]
    assert release["released"] is None or ISO_DAY.match(release["released"])
    assert release["yanked"] is None or isinstance(release["yanked"], str)
    assert release["channel"] in ("stable", "lts")
    assert ISO_DAY.match(release["end_of_maintenance"])
    packages = release["packages"]
    assert isinstance(packages, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in packages.items())


@pytest.mark.parametrize("args", [("matrix", "show"), ("matrix", "show", "--all")])
def test_json_has_every_release_with_every_field(invoke: Invoke, args: tuple[str, ...]) -> None:
    releases = releases_of(ok(invoke(*args, "--format", "json", matrix=SNAPSHOT)))
    assert len(releases) == 119
    for release in releases:
        _check_release_shape(release)


def test_json_covers_the_real_matrix(invoke: Invoke) -> None:
    """Every [[releases]] entry of data/compatibility.toml, in version order."""
    document = tomllib.loads(MATRIX.read_text(encoding="utf-8"))
    expected = sorted(
        (entry["version"] for entry in document["releases"]),
        key=lambda v: tuple(int(part) for part in v.split("-")[0].split(".")),
    )
    stdout = ok(invoke("matrix", "show", "--all", "--format", "json"))
    assert versions_of(stdout) == expected


OVERRIDABLE = ("python", "python_versions", "os", "architectures")


def test_json_is_the_file_with_line_defaults_applied(invoke: Invoke) -> None:
    """Every release, field by field, against the raw TOML read independently with tomllib."""
    document = tomllib.loads(MATRIX.read_text(encoding="utf-8"))
    releases = {
        r["version"]: r
        for r in releases_of(ok(invoke("matrix", "show", "--all", "--format", "json")))
    }
    assert len(releases) == len(document["releases"])
    for entry in document["releases"]:
        line = document["lines"][entry["version"].split(".")[0]]
        got = releases[entry["version"]]
        expected = {
            "version": entry["version"],
            "airflow": entry["airflow"],
            **{key: entry.get(key, line[key]) for key in OVERRIDABLE},
            "released": entry["released"].isoformat() if "released" in entry else None,
            "yanked": entry.get("yanked"),
            "channel": line["channel"],
            "end_of_maintenance": line["end_of_maintenance"].isoformat(),
            "packages": entry.get("packages", {}),
        }
        assert {key: got[key] for key in expected} == expected, entry["version"]


def test_json_is_ordered_by_version_not_date(invoke: Invoke) -> None:
    releases = releases_of(
        ok(invoke("matrix", "show", "9.10", "9.11", "--all", "-f", "json", matrix=SNAPSHOT))
    )
    assert [r["version"] for r in releases] == ["9.10.0", "9.10.1", "9.10.2", "9.11.0"]
    dates = {r["version"]: r["released"] for r in releases}
    assert dates["9.10.1"] > dates["9.11.0"]  # shipped after 9.11.0, listed before it


def test_json_applies_line_defaults(invoke: Invoke) -> None:
    releases = {
        r["version"]: r
        for r in releases_of(
            ok(invoke("matrix", "show", "--all", "--format", "json", matrix=SNAPSHOT))
        )
    }
    # 6.0.0-6.0.3 override the line's architectures; 6.0.4 takes the line's two.
    for version in ("6.0.0", "6.0.1", "6.0.2", "6.0.3"):
        assert releases[version]["architectures"] == ["amd64"], version
    assert releases["6.0.4"]["architectures"] == ["amd64", "arm64"]
    assert releases["4.0.0"]["architectures"] == ["amd64"]
    nine = releases["9.2.0"]
    assert nine["python"] == "3.11"
    assert nine["python_versions"] == ["3.8", "3.9", "3.10", "3.11"]
    assert nine["os"] == "Debian 11.3 (bullseye)"
    assert nine["channel"] == "lts"
    assert nine["end_of_maintenance"] == "2025-01-31"
    assert nine["released"] == "2023-10-12"
    assert nine["yanked"] == "serious scheduler performance problems"
    assert nine["packages"]["astronomer-providers"] == "1.18.0"
    assert nine["packages"]["apache-airflow-providers-amazon"] == "8.7.1"
    assert releases["9.17.0"]["yanked"] is None
    assert releases["10.0.0"]["os"] == "Debian 11.8 (bullseye)"
    assert releases["10.0.0"]["channel"] == "stable"
    assert releases["8.0.0"]["python"] == "3.10"
    assert releases["11.8.0"]["python_versions"][-1] == "3.12"


def test_parity_json_has_one_entry_per_line(invoke: Invoke) -> None:
    payload = json.loads(ok(invoke("matrix", "show", "--format", "json", matrix=SNAPSHOT)))
    lines = {entry["line"]: entry for entry in payload["lines"]}
    assert sorted(lines) == list(range(4, 12))
    assert {m: lines[m]["airflow"] for m in lines} == {
        4: "2.2",
        5: "2.3",
        6: "2.4",
        7: "2.5",
        8: "2.6",
        9: "2.7",
        10: "2.8",
        11: "2.9",
    }
    assert lines[9]["latest"] == "9.17.0"  # yanked 9.0.0-9.6.0 do not count
    assert lines[6]["architectures"] == ["amd64", "arm64"]


def test_selectors_pick_releases_and_warn_about_yanked(invoke: Invoke) -> None:
    result = invoke("matrix", "show", "9", "9.2", "latest", "--format", "json", matrix=SNAPSHOT)
    assert versions_of(ok(result, YANKED_9_2)) == ["9.2.0", "9.17.0", "11.8.0"]


def test_selectors_naming_the_same_release_show_it_once(invoke: Invoke) -> None:
    stdout = ok(
        invoke("matrix", "show", "9", "9.17", "9.17.0", "--format", "json", matrix=SNAPSHOT)
    )
    assert versions_of(stdout) == ["9.17.0"]


def test_exact_yanked_selector_warns(invoke: Invoke) -> None:
    result = invoke("matrix", "show", "8.0.0", "--format", "json", matrix=SNAPSHOT)
    warning = "astroctl: warning: 8.0.0 is yanked: cluster policies set via pluggy not applied\n"
    assert versions_of(ok(result, warning)) == ["8.0.0"]


def test_all_with_a_selector_lists_every_match_yanked_included(invoke: Invoke) -> None:
    stdout = ok(invoke("matrix", "show", "9", "--all", "--format", "json", matrix=SNAPSHOT))
    versions = versions_of(stdout)
    assert len(versions) == 20
    assert versions[0] == "9.0.0" and versions[-1] == "9.17.0"
    assert "9.10.1" in versions


# -- matrix show --format markdown: the seed's three tables -----------------------------------

SEED_TABLES: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "parity": (
        ("Astro Runtime", "Apache Airflow version"),
        (("4", "2.2"), ("5", "2.3"), ("6", "2.4"), ("7", "2.5"), ("8", "2.6"), ("9", "2.7")),
    ),
    "python": (
        ("Astro Runtime", "Python version"),
        (("4", "3.9"), ("5", "3.9"), ("6", "3.9"), ("7", "3.9"), ("8", "3.10"), ("9", "3.11")),
    ),
    "system": (
        ("Astro Runtime", "Operating System (OS)", "Architecture"),
        (
            ("4", "Debian 11.3 (bullseye)", "AMD64"),
            ("5", "Debian 11.3 (bullseye)", "AMD64"),
            ("6", "Debian 11.3 (bullseye)", "AMD64 and ARM64"),
            ("7", "Debian 11.3 (bullseye)", "AMD64 and ARM64"),
            ("8", "Debian 11.3 (bullseye)", "AMD64 and ARM64"),
            ("9", "Debian 11.3 (bullseye)", "AMD64 and ARM64"),
        ),
    ),
}

Table = tuple[tuple[str, ...], list[tuple[str, ...]]]

# The public image-architecture page corrected the seed's OS (Debian 11.3 for every line): the
# matrix differs from the seed in exactly these five cells, on purpose.
CORRECTED_OS = {
    "4": "Debian 11.1 (bullseye)",
    "6": "Debian 11.5 (bullseye)",
    "7": "Debian 11.5 (bullseye)",
    "8": "Debian 11.7 (bullseye)",
    "9": "Debian 11.7 (bullseye)",
}


def _corrected(row: tuple[str, ...]) -> tuple[str, ...]:
    """A seed system-distribution row with the public page's correction applied."""
    if len(row) == 3 and row[0] in CORRECTED_OS:
        return (row[0], CORRECTED_OS[row[0]], row[2])
    return row


def _cells(line: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in line.strip().strip("|").split("|"))


def parse_seed(text: str, header: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The rows of the seed's ``A | B |`` table whose header starts with ``header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if _cells(line)[: len(header)] == header)
    assert set(lines[start + 1].replace("|", "")) == {"-"}
    rows = []
    for line in lines[start + 2 :]:
        cells = _cells(line)
        if "|" not in line or not cells[0].isdigit():
            break
        rows.append(cells[: len(header)])
    return tuple(rows)


def parse_markdown(text: str) -> list[Table]:
    """Every ``| a | b |`` table of a markdown document: its header and rows."""
    tables: list[Table] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith("|") or (index and lines[index - 1].startswith("|")):
            continue
        assert set(lines[index + 1].replace("|", "")) == {"-"}, lines[index + 1]
        rows = []
        for row in lines[index + 2 :]:
            if not row.startswith("|"):
                break
            rows.append(_cells(row))
        tables.append((_cells(line), rows))
    return tables


def _project(table: Table, columns: tuple[str, ...]) -> list[tuple[str, ...]]:
    header, rows = table
    positions = [header.index(c) for c in columns]
    return [tuple(row[p] for p in positions) for row in rows]


def _markdown_tables(invoke: Invoke, matrix: Path = MATRIX) -> list[Table]:
    return parse_markdown(ok(invoke("matrix", "show", "--format", "markdown", matrix=matrix)))


def _table_with(tables: list[Table], columns: tuple[str, ...]) -> Table:
    found = [t for t in tables if set(columns) <= set(t[0])]
    assert len(found) == 1, f"expected one table with columns {columns}, got {len(found)}"
    return found[0]


@pytest.mark.parametrize("table", sorted(SEED_TABLES))
def test_markdown_reproduces_the_seed_tables(invoke: Invoke, table: str) -> None:
    columns, seed_rows = SEED_TABLES[table]
    ours = _project(_table_with(_markdown_tables(invoke), columns), columns)
    for row in seed_rows:
        assert _corrected(row) in ours, row
    assert [row[0] for row in ours][: len(seed_rows)] == [row[0] for row in seed_rows]


def test_markdown_differs_from_the_seed_in_the_five_corrected_os_cells(invoke: Invoke) -> None:
    columns, seed_rows = SEED_TABLES["system"]
    ours = _project(_table_with(_markdown_tables(invoke), columns), columns)
    differing = {
        seed[0]: (seed[1], mine[1])
        for seed, mine in zip(seed_rows, ours, strict=False)
        if seed != mine
    }
    assert differing == {
        line: ("Debian 11.3 (bullseye)", corrected) for line, corrected in CORRECTED_OS.items()
    }
    header = MATRIX.read_text(encoding="utf-8").split("\n[", 1)[0]
    assert '"Debian 11.3 (bullseye)" for all' in header  # the seed's value stays documented


@pytest.mark.skipif(not SEED.is_file(), reason=f"{SEED} is outside the repository")
@pytest.mark.parametrize("table", sorted(SEED_TABLES))
def test_markdown_matches_the_seed_document(invoke: Invoke, table: str) -> None:
    """The seed itself, parsed at test time, agrees with our output and the inline copy."""
    columns, inline_rows = SEED_TABLES[table]
    seed_rows = parse_seed(SEED.read_text(encoding="utf-8"), columns)
    assert seed_rows == inline_rows
    ours = _project(_table_with(_markdown_tables(invoke), columns), columns)
    for row in seed_rows:
        assert _corrected(row) in ours, row


def test_markdown_has_the_lines_beyond_the_seed(invoke: Invoke) -> None:
    """The seed stops at Runtime 9; the matrix adds lines 10 and 11, in order, nothing else."""
    tables = _markdown_tables(invoke, SNAPSHOT)
    assert len(tables) == 3
    for header, rows in tables:
        assert header[0] == "Astro Runtime"
        assert [row[0] for row in rows] == [str(m) for m in range(4, 12)]
    parity = _project(_table_with(tables, SEED_TABLES["parity"][0]), SEED_TABLES["parity"][0])
    assert parity[-2:] == [("10", "2.8"), ("11", "2.9")]
    python = _table_with(tables, ("Astro Runtime", "Python version", "Python distributions"))
    assert python[1][-1] == ("11", "3.11", "3.8 3.9 3.10 3.11 3.12")


# -- matrix lookup ----------------------------------------------------------------------------


def test_lookup_a_version(invoke: Invoke) -> None:
    payload = json.loads(
        ok(invoke("matrix", "lookup", "--airflow", "2.7.2", "-f", "json", matrix=SNAPSHOT))
    )
    assert payload["airflow"] == "2.7.2"
    assert [r["version"] for r in payload["releases"]] == ["9.2.0", "9.3.0", "9.4.0"]
    for release in payload["releases"]:
        _check_release_shape(release)


def test_lookup_a_minor(invoke: Invoke) -> None:
    stdout = ok(invoke("matrix", "lookup", "--airflow", "2.4", "--format", "json", matrix=SNAPSHOT))
    versions = versions_of(stdout)
    assert versions[0] == "6.0.0" and versions[-1] == "6.10.0"
    assert all(v.startswith("6.") for v in versions)
    assert {r["airflow"][:4] for r in releases_of(stdout)} == {"2.4."}


def test_lookup_nothing_warns_and_prints_an_empty_list(invoke: Invoke) -> None:
    result = invoke("matrix", "lookup", "--airflow", "3.0.0", "--format", "json", matrix=SNAPSHOT)
    stdout = ok(result, "astroctl: warning: no release ships Airflow 3.0.0\n")
    assert json.loads(stdout) == {"airflow": "3.0.0", "releases": []}


# -- matrix env -------------------------------------------------------------------------------


def _env(stdout: str) -> dict[str, dict[str, Any]]:
    payload = json.loads(stdout)
    return {entry["name"]: entry for entry in payload["env"]}


def test_env_computes_the_formula(invoke: Invoke) -> None:
    args = ("matrix", "env", "9.17.0", "--workers", "3", "--max-tasks-per-worker", "16")
    payload = json.loads(ok(invoke(*args, "--format", "json", matrix=SNAPSHOT)))
    assert payload["release"] == "9.17.0"
    env = {entry["name"]: entry for entry in payload["env"]}
    assert env["AIRFLOW__CORE__PARALLELISM"]["value"] == "48"
    assert env["AIRFLOW__CORE__PARALLELISM"]["formula"] == "workers * max_tasks_per_worker"
    assert env["AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL"]["value"] == "30"
    assert env["AIRFLOW__CELERY__STALLED_TASK_TIMEOUT"]["value"] == "600"
    assert env["AIRFLOW__KUBERNETES_EXECUTOR__WORKER_PODS_CREATION_BATCH_SIZE"]["value"] == "16"
    assert env["ASTRONOMER_RUNTIME_VERSION"]["value"] == "9.17.0"


def test_env_without_inputs_leaves_the_formula_uncomputed(invoke: Invoke) -> None:
    env = _env(ok(invoke("matrix", "env", "9.17.0", "--format", "json", matrix=SNAPSHOT)))
    assert env["AIRFLOW__CORE__PARALLELISM"]["value"] is None
    table = ok(invoke("matrix", "env", "9.17.0", matrix=SNAPSHOT))
    assert "= workers * max_tasks_per_worker" in table


def test_env_defaults_to_latest(invoke: Invoke) -> None:
    payload = json.loads(ok(invoke("matrix", "env", "--format", "json")))
    latest = versions_of(ok(invoke("matrix", "show", "latest", "--format", "json")))
    assert payload["release"] == latest[0]
    assert _env(ok(invoke("matrix", "env", "-f", "json", matrix=SNAPSHOT)))[
        "ASTRONOMER_RUNTIME_VERSION"
    ]["value"] == ("11.8.0")


def test_env_of_a_yanked_line_warns(invoke: Invoke) -> None:
    stdout = ok(invoke("matrix", "env", "9.2", "--format", "json", matrix=SNAPSHOT), YANKED_9_2)
    assert json.loads(stdout)["release"] == "9.2.0"


# -- matrix validate --------------------------------------------------------------------------


# Each violation of BROKEN, as (where, key, a fragment of the message).
BROKEN_VIOLATIONS = (
    ("line 10", "architectures", "s390x"),
    ("line 10", "python", "3.12"),
    ("release 9.1.0", "version", "duplicate"),
    ("release 9.2.0", "relased", "did you mean 'released'"),
    ("release 9.3.0", "airflow", "line 9 ships Airflow 2.7"),
    ("release 9.4.0", "airflow", "two.seven"),
    ("release 9.5", "version", "not a semantic version"),
    ("release 12.0.0", "version", "[lines.12]"),
    ("release 9.6.0", "packages.Bad_Name", "normalized"),
    ("release 9.6.0", "packages.apache-airflow-providers-amazon", "'eight'"),
)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "project" / "broken.toml"
    path.parent.mkdir()
    path.write_text(BROKEN, encoding="utf-8")
    return path


def _assert_untouched(path: Path) -> None:
    assert path.read_text(encoding="utf-8") == BROKEN
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_validate_the_real_matrix(invoke: Invoke) -> None:
    document = tomllib.loads(MATRIX.read_text(encoding="utf-8"))
    count, lines = len(document["releases"]), len(document["lines"])
    stdout = ok(invoke("matrix", "validate"))
    assert stdout.startswith(f"{MATRIX}: valid ({count} releases, {lines} lines, ")
    payload = json.loads(ok(invoke("matrix", "validate", "--format", "json")))
    assert payload["valid"] is True
    assert payload["problems"] == []
    assert payload["releases"] == count


def test_validate_reports_every_violation_on_stderr(invoke: Invoke, broken: Path) -> None:
    result = invoke("matrix", "validate", matrix=broken)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"astroctl: error: {broken}: {len(BROKEN_VIOLATIONS)} problems"
    for where, key, fragment in BROKEN_VIOLATIONS:
        prefix = f"  {where}: {key}: "
        assert any(ln.startswith(prefix) and fragment in ln for ln in lines), (where, key)
    assert len(lines) == 1 + len(BROKEN_VIOLATIONS)
    _assert_untouched(broken)


def test_validate_json_lists_the_problems_on_stdout(invoke: Invoke, broken: Path) -> None:
    result = invoke("matrix", "validate", "--format", "json", matrix=broken)
    assert result.exit_code == 3
    payload = json.loads(result.stdout)
    assert payload["valid"] is False
    assert payload["file"] == str(broken)
    problems: list[dict[str, Any]] = payload["problems"]
    assert len(problems) == len(BROKEN_VIOLATIONS)
    for problem in problems:
        assert set(problem) >= {"release", "line", "key", "message", "file_line"}
    for where, key, fragment in BROKEN_VIOLATIONS:
        assert any(
            p["where"] == where and p["key"] == key and fragment in p["message"] for p in problems
        ), (where, key)
    by_where = {p["where"]: p for p in problems}
    assert by_where["release 9.3.0"]["release"] == "9.3.0"
    assert by_where["release 9.3.0"]["line"] == 9
    assert by_where["line 10"]["release"] is None
    assert by_where["line 10"]["line"] == 10
    assert "Traceback" not in result.stderr
    _assert_untouched(broken)


@pytest.mark.parametrize(
    "args",
    [
        ("matrix", "show"),
        ("matrix", "show", "--all", "--format", "json"),
        ("matrix", "lookup", "--airflow", "2.7"),
        ("matrix", "env"),
        ("lifecycle",),
    ],
)
def test_commands_refuse_a_broken_matrix_with_exit_2(
    invoke: Invoke, broken: Path, args: tuple[str, ...]
) -> None:
    result = invoke(*args, matrix=broken)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"astroctl: error: {broken}: ")
    assert "release 9.1.0: version: duplicate" in result.stderr
    assert "Traceback" not in result.stderr
    _assert_untouched(broken)
