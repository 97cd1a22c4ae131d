"""Errors and exit codes (SPEC section 8) through the real entry point.

0 success; 1 an operation failed; 2 bad usage or input; 3 a check found problems. The message is a
few plain lines on stderr naming what is at fault, stdout stays empty, and there is never a
traceback unless ``--debug``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import BROKEN, SNAPSHOT, Invoke, Result

ANSI = "\x1b["


def failed(result: Result, code: int) -> str:
    """Assert a clean failure with ``code``: nothing on stdout, no traceback; return stderr."""
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert ANSI not in result.stderr
    assert result.stderr.endswith("\n")
    return result.stderr


# -- bad input: one plain line naming it ------------------------------------------------------

ONE_LINE_ERRORS = [
    (("matrix", "show", "99"), "no release matches '99'; the matrix has lines 4 to 11"),
    (("matrix", "show", "9.2.7"), "no release matches '9.2.7'; line 9 has 9.0.0 to 9.17.0"),
    (("matrix", "show", "9", "99"), "no release matches '99'"),
    (("matrix", "show", "nine"), "'nine' is not a release selector"),
    (("matrix", "show", "--all", "12"), "no release matches '12'"),
    (("matrix", "env", "4.3"), "no release matches '4.3'; line 4 has 4.0.0 to 4.2.9"),
    (
        ("matrix", "lookup", "--airflow", "two.seven"),
        "--airflow 'two.seven' is not a version such as 2.7.2",
    ),
    (("matrix", "lookup", "--airflow", ""), "--airflow '' is not a version such as 2.7.2"),
    (("lifecycle", "--on", "2024-02-30"), "--on '2024-02-30' is not a date"),
    (
        ("matrix", "env", "--workers", "3"),
        "AIRFLOW__CORE__PARALLELISM = workers * max_tasks_per_worker: "
        "also give --max-tasks-per-worker",
    ),
    (
        ("matrix", "env", "--max-tasks-per-worker", "16"),
        "AIRFLOW__CORE__PARALLELISM = workers * max_tasks_per_worker: also give --workers",
    ),
    (
        ("matrix", "env", "--workers", "-1", "--max-tasks-per-worker", "16"),
        "--workers must be at least 1 (got -1)",
    ),
]


@pytest.mark.parametrize(
    ("args", "message"), ONE_LINE_ERRORS, ids=[" ".join(a) for a, _ in ONE_LINE_ERRORS]
)
def test_bad_input_is_one_plain_line(invoke: Invoke, args: tuple[str, ...], message: str) -> None:
    stderr = failed(invoke(*args, matrix=SNAPSHOT), 2)
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("astroctl: error: ")
    assert message in stderr


def test_unknown_selector_message_is_exact(invoke: Invoke) -> None:
    stderr = failed(invoke("matrix", "show", "99", matrix=SNAPSHOT), 2)
    assert stderr == "astroctl: error: no release matches '99'; the matrix has lines 4 to 11\n"


# -- the matrix file: missing, unreadable, malformed ------------------------------------------


def test_missing_matrix_option_names_the_path(invoke: Invoke, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "compatibility.toml"
    stderr = failed(invoke("matrix", "show", matrix=missing), 2)
    assert stderr == f"astroctl: error: {missing}: no such matrix file\n"


def test_missing_env_matrix_names_the_path(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "gone.toml"
    monkeypatch.setenv("ASTROCTL_MATRIX", str(missing))
    stderr = failed(invoke("matrix", "show", matrix=None), 2)
    assert stderr == f"astroctl: error: {missing}: no such matrix file\n"


def test_a_directory_is_not_a_matrix(invoke: Invoke, tmp_path: Path) -> None:
    stderr = failed(invoke("matrix", "show", matrix=tmp_path), 2)
    assert stderr == f"astroctl: error: {tmp_path}: is a directory, not a matrix file\n"


def test_a_binary_matrix_is_bad_input(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(b"schema = 1\n\xff\xfe\n")
    stderr = failed(invoke("matrix", "show", matrix=path), 2)
    assert stderr.startswith(f"astroctl: error: {path}: not UTF-8 text")


SYNTAX_ERROR = 'schema = 1\n\n[image\nrepository = "quay.io/astronomer/astro-runtime"\n'


@pytest.fixture
def malformed(tmp_path: Path) -> Path:
    path = tmp_path / "malformed.toml"
    path.write_text(SYNTAX_ERROR, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("matrix", "show"),
        ("matrix", "env"),
        ("lifecycle",),
        ("matrix", "lookup", "--airflow", "2.7"),
    ],
)
def test_malformed_toml_names_the_file_and_line(
    invoke: Invoke, malformed: Path, args: tuple[str, ...]
) -> None:
    stderr = failed(invoke(*args, matrix=malformed), 2)
    lines = stderr.splitlines()
    assert lines[0] == f"astroctl: error: {malformed}: 1 problem"
    assert lines[1].startswith("  TOML syntax: ")
    assert "line 3" in lines[1]
    assert len(lines) == 2
    assert malformed.read_text(encoding="utf-8") == SYNTAX_ERROR


def test_validate_names_the_line_of_a_syntax_error(invoke: Invoke, malformed: Path) -> None:
    result = invoke("matrix", "validate", matrix=malformed)
    # A syntax error is both a malformed file (2) and a failed check (3); either is a failure.
    assert result.exit_code in (2, 3)
    assert "Traceback" not in result.stderr
    assert f"{malformed}: 1 problem" in result.stderr
    assert "line 3" in result.stderr


# -- usage errors from the command line parser ------------------------------------------------

USAGE_ERRORS = [
    (("frob",), "No such command 'frob'"),
    (("matrix", "frob"), "No such command 'frob'"),
    (("matrix", "show", "--bogus"), "'astroctl matrix show' has no option --bogus"),
    (("matrix", "show", "--formt", "json"), "no option --formt; did you mean --format?"),
    (("--bogus", "matrix", "show"), "'astroctl' has no option --bogus"),
    (
        ("matrix", "show", "--format", "yaml"),
        "--format 'yaml' is not a format; use one of table, json, markdown",
    ),
    (("matrix", "show", "-f", "XML"), "--format 'XML' is not a format; use one of table"),
    (("matrix", "lookup"), "Missing option '--airflow'"),
    (("matrix", "lookup", "--airflow"), "Option '--airflow' requires an argument"),
    (("matrix", "env", "--workers", "many"), "--workers 'many' is not a whole number such as 4"),
    (("matrix", "env", "--workers", "1.5"), "--workers '1.5' is not a whole number"),
    (("matrix", "env", "--workers", "0"), "--workers must be at least 1 (got 0)"),
    (("matrix", "env", "--max-tasks-per-worker", "0"), "--max-tasks-per-worker must be at least 1"),
    (("matrix", "env", "--workers", "9" * 5000), "is not a whole number"),
    (("matrix", "env", "--workers", "\u0669"), "is not a whole number"),  # Arabic-Indic nine
    (("lifecycle", "--on"), "Option '--on' requires an argument"),
    (("lifecycle", "--on", "tomorrow"), "--on 'tomorrow' is not a date such as 2024-06-30"),
    (("lifecycle", "extra"), "unexpected extra argument"),
    (
        ("matrix", "show", "--matrix", "x.toml"),
        "--matrix is a root option: put it before the command, as in "
        "'astroctl --matrix x.toml matrix show ...'",
    ),
    (("matrix", "show", "--debug"), "--debug is a root option: put it before the command"),
]


@pytest.mark.parametrize(
    ("args", "message"), USAGE_ERRORS, ids=[" ".join(a)[:60] for a, _ in USAGE_ERRORS]
)
def test_usage_errors_exit_2(invoke: Invoke, args: tuple[str, ...], message: str) -> None:
    """One style for every usage error: one line, astroctl's prefix, no usage block, no
    validation-library wording."""
    stderr = failed(invoke(*args, matrix=None), 2)
    assert message in stderr
    assert stderr.startswith("astroctl: error: ")
    assert stderr.count("\n") == 1, stderr
    for noise in ("Usage:", "Try '", "Value error", "Input should be", "Error: "):
        assert noise not in stderr


def test_root_option_hint_is_only_for_root_options(invoke: Invoke) -> None:
    stderr = failed(invoke("--matrix", "x.toml", "--bogus", "matrix", "show", matrix=None), 2)
    assert "root option" not in stderr


# -- --debug ----------------------------------------------------------------------------------


def test_debug_shows_the_traceback_and_keeps_the_exit_code(invoke: Invoke) -> None:
    result = invoke("--debug", "matrix", "show", "99", matrix=SNAPSHOT)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback (most recent call last)" in result.stderr
    assert "SelectorError" in result.stderr
    assert result.stderr.endswith(
        "astroctl: error: no release matches '99'; the matrix has lines 4 to 11\n"
    )


def test_debug_keeps_exit_3_of_a_failed_check(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    result = invoke("--debug", "matrix", "validate", matrix=path)
    assert result.exit_code == 3
    assert "Traceback (most recent call last)" in result.stderr
    assert "ChecksFailed" in result.stderr


def test_without_debug_the_same_failure_has_no_traceback(invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN, encoding="utf-8")
    result = invoke("matrix", "validate", matrix=path)
    assert result.exit_code == 3
    assert "Traceback" not in result.stderr


def test_debug_does_not_change_success(invoke: Invoke) -> None:
    plain = invoke("matrix", "show", "--format", "json")
    debug = invoke("--debug", "matrix", "show", "--format", "json")
    assert (debug.exit_code, debug.stdout, debug.stderr) == (0, plain.stdout, "")


def _broken_matrix(self: object) -> None:
    raise ValueError("a bug in the middle")


def test_a_bug_is_one_plain_line_exit_1_and_its_traceback_only_with_debug(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from astroctl.commands.context import Context

    monkeypatch.setattr(Context, "matrix", _broken_matrix)
    result = invoke("matrix", "show")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "astroctl: error: internal error: ValueError: a bug in the middle (a bug in astroctl; "
        "run again with --debug for the traceback, and report it)\n"
    )
    debug = invoke("--debug", "matrix", "show")
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.endswith("and report it)\n")
