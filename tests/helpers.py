"""Helpers every test module may import: paths, the CLI runner, golden files, sample files.

Test modules never import each other; what two of them share lives here (or in ``factories``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pytest

from astroctl import cli
from astroctl.seams.process import Environment, ProcessResult, normalize_argv

REPO = Path(__file__).resolve().parents[1]
MATRIX = REPO / "data" / "compatibility.toml"
GOLDEN = Path(__file__).resolve().parent / "golden"
# A frozen copy of the matrix (119 releases): goldens do not move when a release is cut.
SNAPSHOT = GOLDEN / "matrix_snapshot.toml"
FORMATS = (("table", "txt"), ("json", "json"), ("markdown", "md"))
UPDATE_ENV = "ASTROCTL_UPDATE_GOLDEN"


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


class Invoke:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str | Path, matrix: Path | None = MATRIX) -> Result:
        """Run ``astroctl [--matrix M] ARGS`` in-process through the real entry point."""
        argv = [str(a) for a in args]
        if matrix is not None:
            argv = ["--matrix", str(matrix), *argv]
        self.capsys.readouterr()
        code = 0
        try:
            cli.main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = self.capsys.readouterr()
        return Result(code, out, err)


# -- golden files ----------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Each line without trailing spaces, no trailing blank lines, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "".join(f"{line}\n" for line in lines)


def assert_golden(name: str, actual: str) -> None:
    """Compare ``actual`` with ``tests/golden/<name>``; rewrite it when ASTROCTL_UPDATE_GOLDEN=1."""
    path = GOLDEN / name
    got = normalise(actual)
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8", newline="\n")
        return
    if not path.is_file():
        pytest.fail(f"{path} is missing; run with {UPDATE_ENV}=1 to create it")
    expected = path.read_text(encoding="utf-8")
    assert got == expected, f"stdout differs from {path} (rewrite with {UPDATE_ENV}=1)"


def ok(result: Result, stderr: str = "") -> str:
    """Assert success with exactly ``stderr``; return stdout."""
    assert result.exit_code == 0, result.stderr
    assert result.stderr == stderr
    return result.stdout


# A matrix file with one of every kind of violation (see the validate tests).
BROKEN = """\
schema = 1

[image]
repository = "quay.io/astronomer/astro-runtime"
floating_tags = false

[upstream]
constraints_url = "https://example.invalid/constraints-{airflow}/constraints-{python}.txt"
index_url = "https://pypi.org/simple"

[lines.9]
channel = "lts"
end_of_maintenance = 2025-01-31
python = "3.11"
python_versions = ["3.8", "3.9", "3.10", "3.11"]
os = "Debian 11.3 (bullseye)"
architectures = ["amd64", "arm64"]

[lines.10]
channel = "stable"
end_of_maintenance = 2024-06-30
python = "3.12"
python_versions = ["3.11"]
os = "Debian 11.8 (bullseye)"
architectures = ["amd64", "s390x"]

[[releases]]
version = "9.1.0"
airflow = "2.7.1"
released = 2023-10-12

[[releases]]
version = "9.1.0"
airflow = "2.7.1"

[[releases]]
version = "9.2.0"
airflow = "2.7.2"
relased = 2023-10-13

[[releases]]
version = "9.3.0"
airflow = "2.8.0"

[[releases]]
version = "9.4.0"
airflow = "two.seven"

[[releases]]
version = "9.5"
airflow = "2.7.3"

[[releases]]
version = "12.0.0"
airflow = "2.10.0"

[[releases]]
version = "9.6.0"
airflow = "2.7.3"

[releases.packages]
"Bad_Name" = "1.0.0"
"apache-airflow-providers-amazon" = "eight"
"""


# -- a recording process runner ---------------------------------------------------------------


class RunCall(NamedTuple):
    argv: tuple[str, ...]
    env: Mapping[str, str | None]
    read_only: bool


def _succeed(argv: tuple[str, ...]) -> ProcessResult:
    return ProcessResult(argv, 0, "", "")


class RecordingRunner:
    """A ProcessRunner for argv tests: records each call and answers with ``answer(argv)``
    (by default a silent success); nothing runs."""

    def __init__(self, answer: Callable[[tuple[str, ...]], ProcessResult] = _succeed) -> None:
        self.answer = answer
        self.calls: list[RunCall] = []

    def run(
        self,
        argv: Sequence[str | os.PathLike[str]],
        *,
        stream: bool = False,
        check: bool = True,
        timeout: float | None = None,
        env: Environment | None = None,
        cwd: str | os.PathLike[str] | None = None,
        input: str | None = None,
        read_only: bool = False,
        observe: Callable[[str], None] | None = None,
    ) -> ProcessResult:
        command = normalize_argv(argv)
        self.calls.append(RunCall(command, dict(env or {}), read_only))
        result = self.answer(command)
        if stream and observe is not None:  # as a streamed program's lines reach it
            for line in (result.stdout + result.stderr).splitlines():
                observe(line)
        return result

    @property
    def argvs(self) -> list[tuple[str, ...]]:
        return [call.argv for call in self.calls]


# -- real git repositories ----------------------------------------------------------------------


_MODULES_PROBE = """
import json, sys
from astroctl.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stdout.flush()
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded_modules(*args: str, cwd: Path) -> set[str]:
    """The modules a run of ``astroctl ARGS`` (the real entry point, in a fresh interpreter)
    left loaded; the run must succeed. Start-up time is paid on every command, so tests keep
    each command's import graph to what its work needs."""
    result = subprocess.run(
        [sys.executable, "-c", _MODULES_PROBE, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), result.stderr
    return set(report["modules"])


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` (failing the test when git fails); its stdout."""
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def init_repository(root: Path) -> Path:
    """A new repository at ``root`` with a local identity and no signing."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "commit.gpgsign", "false")
    return root


DEAD_PROXY = "http://127.0.0.1:9"  # nothing listens: a request sent through it fails at once


def keep_on_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The environment of a test that runs astroctl and uv against loopback servers: every
    proxy points at a dead loopback port (loopback exempt), so neither leaves the machine;
    caches of their own in ``tmp_path``; no retries by uv; no ``PIP_*`` index of the caller's;
    no netrc credentials but the test's own."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, DEAD_PROXY)
        monkeypatch.setenv(name.lower(), DEAD_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    monkeypatch.setenv("ASTROCTL_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
