"""The entry points, the root options, matrix discovery and piped output.

Subprocess tests run the installed ``astroctl`` console script (beside the interpreter running the
tests) and ``python -m astroctl``: what users type, with real pipes instead of a captured stream.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from importlib.metadata import version as dist_version
from pathlib import Path

import pytest

from astroctl import __version__
from tests.helpers import MATRIX, SNAPSHOT, Invoke, Result

SCRIPT = Path(sys.executable).parent / "astroctl"
ANSI = "\x1b["


def run(
    *argv: str, cwd: Path, env: Mapping[str, str | None] | None = None, module: bool = False
) -> Result:
    """Run the console script (or ``python -m astroctl``) with stdout and stderr piped."""
    environ = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    command = [sys.executable, "-m", "astroctl"] if module else [str(SCRIPT)]
    done = subprocess.run(
        [*command, *argv],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def real_count() -> int:
    return len(tomllib.loads(MATRIX.read_text(encoding="utf-8"))["releases"])


def versions(result: Result) -> list[str]:
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return [r["version"] for r in json.loads(result.stdout)["releases"]]


# -- version and help -------------------------------------------------------------------------


def test_the_console_script_is_installed() -> None:
    assert SCRIPT.is_file(), f"{SCRIPT}: the 'astroctl' entry point is not installed"


@pytest.mark.parametrize("module", [False, True], ids=["console-script", "python-m"])
def test_version(tmp_path: Path, module: bool) -> None:
    result = run("--version", cwd=tmp_path, module=module)
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"astroctl {__version__}\n", "")


def test_version_is_the_distribution_version(invoke: Invoke) -> None:
    result = invoke("--version", matrix=None)
    assert (result.exit_code, result.stdout) == (0, f"astroctl {dist_version('astroctl')}\n")


def test_version_does_not_need_a_matrix(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("--version", matrix=tmp_path / "missing.toml")
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"astroctl {__version__}\n", "")


def test_no_arguments_shows_help_and_exits_2(invoke: Invoke) -> None:
    """``no_args_is_help``: the help goes to stderr with exit 2, as click does for bad usage."""
    result = invoke(matrix=None)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Usage: astroctl [OPTIONS] COMMAND [ARGS]...")
    for command in ("matrix", "lifecycle"):
        assert f"  {command} " in result.stderr


def test_no_arguments_from_the_shell(tmp_path: Path) -> None:
    result = run(cwd=tmp_path)
    assert result.exit_code == 2
    assert "Usage: astroctl" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_group_without_a_command_shows_its_help(invoke: Invoke) -> None:
    result = invoke("matrix")
    assert result.exit_code == 2
    for command in ("show", "validate", "lookup", "env"):
        assert f"  {command} " in result.stderr


def test_help_goes_to_stdout_and_succeeds(invoke: Invoke) -> None:
    result = invoke("--help", matrix=None)
    assert (result.exit_code, result.stderr) == (0, "")
    assert "--matrix" in result.stdout and "--debug" in result.stdout
    assert "--version" in result.stdout


# -- failures from the shell ------------------------------------------------------------------


@pytest.mark.parametrize("module", [False, True], ids=["console-script", "python-m"])
def test_a_failing_command_has_no_traceback(tmp_path: Path, module: bool) -> None:
    result = run("--matrix", str(SNAPSHOT), "matrix", "show", "99", cwd=tmp_path, module=module)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "astroctl: error: no release matches '99'; the matrix has lines 4 to 11\n"
    )


def test_a_malformed_matrix_from_the_shell(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("schema = 1\n[lines\n", encoding="utf-8")
    result = run("--matrix", str(path), "matrix", "show", cwd=tmp_path)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert f"astroctl: error: {path}: 1 problem" in result.stderr


# -- piped output: plain text, pure JSON, natural width ---------------------------------------

TERMINAL_LIKE = {"TERM": "xterm-256color", "FORCE_COLOR": None, "COLUMNS": None}


@pytest.mark.parametrize("no_color", [None, "1"], ids=["non-tty", "non-tty+NO_COLOR"])
@pytest.mark.parametrize(
    "args",
    [("matrix", "show"), ("matrix", "show", "9.2"), ("lifecycle", "--on", "2024-06-15")],
    ids=["parity", "yanked-warning", "lifecycle"],
)
def test_piped_output_has_no_escape_codes(
    tmp_path: Path, no_color: str | None, args: tuple[str, ...]
) -> None:
    result = run(*args, cwd=tmp_path, env={**TERMINAL_LIKE, "NO_COLOR": no_color})
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip()
    assert ANSI not in result.stdout
    assert ANSI not in result.stderr


def test_forced_colour_does_style_the_table(tmp_path: Path) -> None:
    """The control for the test above: styling exists, so its absence when piped is a choice."""
    env = {**TERMINAL_LIKE, "NO_COLOR": None, "FORCE_COLOR": "1"}
    result = run("matrix", "show", cwd=tmp_path, env=env)
    assert result.exit_code == 0
    assert ANSI in result.stdout


def test_piped_tables_keep_their_natural_width(tmp_path: Path) -> None:
    """Without COLUMNS a pipe is not squeezed to 80 columns: one line per release, unwrapped."""
    result = run("matrix", "show", "--all", cwd=tmp_path, env=TERMINAL_LIKE)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) > 80
    rows = [line for line in lines if line.startswith(" ") and line[1:2].isdigit()]
    assert len(rows) == real_count()
    row = next(line for line in rows if line.split()[0] == "11.0.0")
    assert row.rstrip().endswith("DB migration problems when triggers are running")


def test_piped_json_is_pure(tmp_path: Path) -> None:
    result = run("matrix", "show", "--format", "json", cwd=tmp_path, env=TERMINAL_LIKE)
    assert result.stderr == ""
    assert len(json.loads(result.stdout)["releases"]) == real_count()


def test_piped_json_with_a_warning_keeps_stdout_pure(tmp_path: Path) -> None:
    result = run("matrix", "show", "9.2", "--format", "json", cwd=tmp_path, env=TERMINAL_LIKE)
    assert [r["version"] for r in json.loads(result.stdout)["releases"]] == ["9.2.0"]
    assert result.stderr.startswith("astroctl: warning: every release of 9.2.x is yanked")


# -- matrix discovery: --matrix, $ASTROCTL_MATRIX, the project, the embedded default ----------


def without(version: str) -> str:
    """The real matrix's text with one release removed."""
    head, *entries = MATRIX.read_text(encoding="utf-8").split("\n[[releases]]\n")
    kept = [e for e in entries if not e.startswith(f'version = "{version}"\n')]
    assert len(kept) == len(entries) - 1, version
    text = "\n[[releases]]\n".join([head, *kept])
    assert len(tomllib.loads(text)["releases"]) == real_count() - 1
    return text


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose data/compatibility.toml lacks 11.8.0."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "data" / "compatibility.toml").write_text(without("11.8.0"), encoding="utf-8")
    return root


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A matrix outside the project that lacks 4.0.0."""
    path = tmp_path / "elsewhere.toml"
    path.write_text(without("4.0.0"), encoding="utf-8")
    return path


def test_outside_a_project_the_embedded_default_is_used(invoke: Invoke, tmp_path: Path) -> None:
    assert not any(
        (d / "data" / "compatibility.toml").is_file() for d in (tmp_path, *tmp_path.parents)
    )
    found = versions(invoke("matrix", "show", "--all", "--format", "json", matrix=None))
    assert len(found) == real_count()
    assert "11.8.0" in found and "4.0.0" in found


def test_the_embedded_default_from_the_shell(tmp_path: Path) -> None:
    found = versions(run("matrix", "show", "--all", "--format", "json", cwd=tmp_path))
    assert len(found) == real_count()


@pytest.mark.parametrize("where", [".", "dags", "dags/nested/deeper"])
def test_the_project_matrix_is_found_by_walking_up(
    invoke: Invoke, project: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    cwd = project / where
    cwd.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(cwd)
    found = versions(invoke("matrix", "show", "--all", "--format", "json", matrix=None))
    assert len(found) == real_count() - 1
    assert "11.8.0" not in found


def test_the_project_matrix_from_the_shell(project: Path) -> None:
    found = versions(run("matrix", "show", "--all", "--format", "json", cwd=project / "data"))
    assert "11.8.0" not in found


def test_the_environment_wins_over_the_project(
    invoke: Invoke, project: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("ASTROCTL_MATRIX", str(elsewhere))
    found = versions(invoke("matrix", "show", "--all", "--format", "json", matrix=None))
    assert "4.0.0" not in found
    assert "11.8.0" in found


def test_an_empty_environment_variable_is_ignored(
    invoke: Invoke, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("ASTROCTL_MATRIX", "")
    found = versions(invoke("matrix", "show", "--all", "--format", "json", matrix=None))
    assert "11.8.0" not in found


def test_the_option_wins_over_the_environment(
    invoke: Invoke, project: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("ASTROCTL_MATRIX", str(elsewhere))
    found = versions(invoke("matrix", "show", "--all", "--format", "json", matrix=MATRIX))
    assert len(found) == real_count()


def test_validate_reports_the_file_it_found(
    invoke: Invoke, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project / "data")
    result = invoke("matrix", "validate", "--format", "json", matrix=None)
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert Path(payload["file"]).resolve() == (project / "data" / "compatibility.toml").resolve()
    assert payload["releases"] == real_count() - 1


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [("matrix", "show", "--all"), ("matrix", "show", "-f", "json")])
def test_an_unwritable_output_is_one_line_and_exit_1(tmp_path: Path, argv: tuple[str, ...]) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [str(SCRIPT), "--matrix", str(MATRIX), *argv],
            cwd=tmp_path,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr == "astroctl: error: cannot write the output: No space left on device\n"


def test_a_reader_that_is_gone_is_not_an_error_message(tmp_path: Path) -> None:
    reader = subprocess.Popen(
        [str(SCRIPT), "--matrix", str(MATRIX), "matrix", "show", "--all", "-f", "json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()  # like `| true`: the reader is gone before astroctl writes
    with reader.stderr:
        stderr = reader.stderr.read().decode()
    assert reader.wait(timeout=120) == 1
    assert stderr == ""
