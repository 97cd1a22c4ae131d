"""The wheel carries the matrix as its embedded default, and the installed CLI falls back to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import MATRIX, REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
            *("--no-build-isolation", "--wheel-dir", str(out), str(REPO)),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    (built,) = out.glob("astroctl-*.whl")
    return built


def test_wheel_embeds_the_project_matrix_byte_for_byte(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "astroctl/py.typed" in names
        assert archive.read("astroctl/compatibility.toml") == MATRIX.read_bytes()


def test_installed_package_outside_a_project_reads_its_embedded_matrix(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ASTROCTL_MATRIX"}
    env["PYTHONPATH"] = str(site)
    shown = subprocess.run(
        [sys.executable, "-m", "astroctl", "matrix", "show", "--all", "--format", "json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    releases = json.loads(shown.stdout)["releases"]
    assert len(releases) == 119
    validated = subprocess.run(
        [sys.executable, "-m", "astroctl", "matrix", "validate"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout.startswith(str(site / "astroctl" / "compatibility.toml"))
