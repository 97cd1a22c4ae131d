"""The README's two fresh-machine scripts: a wrong Python is one clear line; a broken venv is
rebuilt, not reused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO


def _run(script: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "HOME": str(tmp_path), **env},
        timeout=120,
        check=False,
    )


def _fake_python(tmp_path: Path, version: str) -> Path:
    """An interpreter that claims to be ``version`` (it answers the two questions asked)."""
    fake = tmp_path / "python-old"
    major, minor = (int(part) for part in version.split(".")[:2])
    fake.write_text(
        "#!/usr/bin/env bash\n"
        f'if [[ "$*" == *platform* ]]; then echo {version}; exit 0; fi\n'
        f"exit {1 if (major, minor) < (3, 11) else 0}\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    return fake


@pytest.mark.parametrize("script", ["scripts/test", "scripts/demo"])
def test_an_old_python_is_refused_in_one_line(tmp_path: Path, script: str) -> None:
    result = _run(script, tmp_path, PYTHON=str(_fake_python(tmp_path, "3.10.4")))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"astroctl needs python3 3.11 or newer; '{tmp_path / 'python-old'}' is 3.10.4 "
        "(set PYTHON=/path/to/python3.11)"
    ]
    assert result.stdout == ""


@pytest.mark.parametrize("script", ["scripts/test", "scripts/demo"])
def test_a_missing_python_is_refused_in_one_line(tmp_path: Path, script: str) -> None:
    result = _run(script, tmp_path, PYTHON="no-such-python3")
    assert result.returncode == 2
    assert "astroctl needs python3 3.11 or newer; 'no-such-python3' was not found" in result.stderr


def test_a_broken_venv_is_rebuilt(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(tmp_path / "gone" / "python3")  # a dangling leftover
    (venv / "stale-marker").write_text("from a failed run", encoding="utf-8")
    result = _run(f'. scripts/python-env; ensure_venv "{venv}"', tmp_path, PYTHON=sys.executable)
    assert result.returncode == 0, result.stderr
    assert "rebuilding" in result.stderr
    assert not (venv / "stale-marker").exists()
    check = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import pip, sys; print(sys.version_info >= (3, 11))"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.stdout.strip() == "True"


def test_a_working_venv_is_reused(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    (venv / "kept-marker").write_text("keep me", encoding="utf-8")
    result = _run(f'. scripts/python-env; ensure_venv "{venv}"', tmp_path, PYTHON=sys.executable)
    assert result.returncode == 0, result.stderr
    assert "rebuilding" not in result.stderr
    assert (venv / "kept-marker").exists()
