"""Help and shell completion, as a new user meets them.

Help: ``-h`` is ``--help``; metavars name what is expected (``SELECTOR...``, ``DATE``,
``VERSION``), never a Python type; command summaries are whole sentences.
Completion: bash, zsh and fish scripts; selectors completed from the matrix, ``--format`` values.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from astroctl.commands.completion import selector_candidates
from astroctl.matrix import store
from tests.helpers import REPO, SNAPSHOT, Invoke

ASTROCTL = REPO / ".venv" / "bin" / "astroctl"

COMMANDS = [
    (),
    ("matrix",),
    ("matrix", "show"),
    ("matrix", "validate"),
    ("matrix", "lookup"),
    ("matrix", "env"),
    ("lifecycle",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "astroctl")
def test_dash_h_is_help(invoke: Invoke, command: tuple[str, ...]) -> None:
    short = invoke(*command, "-h", matrix=None)
    long = invoke(*command, "--help", matrix=None)
    assert short.exit_code == long.exit_code == 0
    assert short.stdout == long.stdout
    assert short.stdout.startswith("Usage: astroctl")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "astroctl")
def test_help_names_no_python_type(invoke: Invoke, command: tuple[str, ...]) -> None:
    text = invoke(*command, "--help", matrix=None).stdout
    assert not re.search(r"<(str|int|list|bool|path|float)[^>]*>", text, re.IGNORECASE), text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("matrix", "show"), "SELECTOR...  Releases to show"),
        (("matrix", "env"), "SELECTOR  The release"),
        (("matrix", "env"), "--workers N"),
        (("matrix", "lookup"), "--airflow VERSION"),
        (("lifecycle",), "--on DATE"),
        ((), "--matrix PATH"),
        (("matrix", "show"), "-f, --format FORMAT"),
    ],
)
def test_help_metavars(invoke: Invoke, command: tuple[str, ...], expected: str) -> None:
    assert expected in invoke(*command, "--help", matrix=None).stdout


@pytest.mark.parametrize("group", [(), ("matrix",)], ids=["astroctl", "matrix"])
def test_command_summaries_are_whole_sentences(invoke: Invoke, group: tuple[str, ...]) -> None:
    text = invoke(*group, "--help", matrix=None).stdout
    listed = text.split("Commands:\n", 1)[1]
    summaries = [line.split(None, 1)[1] for line in listed.splitlines() if line.strip()]
    assert summaries
    for summary in summaries:
        assert summary.endswith(".") and not summary.endswith("..."), summary
        assert summary[0].isupper(), summary


# -- completion -------------------------------------------------------------------------------


def test_selector_candidates_offer_the_prefix_and_its_releases() -> None:
    matrix = store.load(SNAPSHOT)
    found = selector_candidates(matrix, "9.1")
    assert found[:4] == ["9.1", "9.1.0", "9.10", "9.10.0"]
    assert "9.17.0" in found
    assert all(item.startswith("9.1") for item in found)
    assert "9.2.0" not in found
    assert selector_candidates(matrix, "")[:3] == ["latest", "4", "4.0"]
    assert selector_candidates(matrix, "la") == ["latest"]
    assert selector_candidates(matrix, "12") == []


def _complete(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ASTROCTL)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_bash_completes_selectors_from_the_matrix(tmp_path: Path) -> None:
    result = _complete(
        {
            "_ASTROCTL_COMPLETE": "complete_bash",
            "COMP_WORDS": f"astroctl --matrix {SNAPSHOT} matrix show 9.1",
            "COMP_CWORD": "5",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    assert words[:3] == ["9.1", "9.1.0", "9.10"]
    assert "9.17.0" in words and "9.2.0" not in words


def test_zsh_completes_format_values(tmp_path: Path) -> None:
    result = _complete(
        {
            "_ASTROCTL_COMPLETE": "complete_zsh",
            "_TYPER_COMPLETE_ARGS": "astroctl matrix show --format ma",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "markdown" in result.stdout
    assert "json" not in result.stdout


def test_fish_completes_env_selectors(tmp_path: Path) -> None:
    result = _complete(
        {
            "_ASTROCTL_COMPLETE": "complete_fish",
            "_TYPER_COMPLETE_ARGS": f"astroctl --matrix {SNAPSHOT} matrix env 11.7",
            "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["11.7", "11.7.0"]


def test_completion_of_an_unreadable_matrix_offers_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("schema = [", encoding="utf-8")
    result = _complete(
        {
            "_ASTROCTL_COMPLETE": "complete_bash",
            "COMP_WORDS": f"astroctl --matrix {broken} matrix show 9",
            "COMP_CWORD": "5",
        },
        tmp_path,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == ""
    assert "Traceback" not in result.stderr


# Typer detects the calling shell from the process tree; its documented test switch makes the
# options take the shell by name instead, as they do where detection is unavailable.
BY_NAME = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_prints_a_script_per_shell(tmp_path: Path, shell: str) -> None:
    result = subprocess.run(
        [str(ASTROCTL), "--show-completion", shell],
        capture_output=True,
        text=True,
        env={**os.environ, **BY_NAME, "HOME": str(tmp_path)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "_ASTROCTL_COMPLETE" in result.stdout
    assert f"complete_{shell}" in result.stdout


def test_install_completion_for_bash_writes_into_home(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ASTROCTL), "--install-completion", "bash"],
        capture_output=True,
        text=True,
        env={**os.environ, **BY_NAME, "HOME": str(tmp_path)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    installed = list(tmp_path.rglob("astroctl*"))
    assert installed, result.stdout
    assert "_ASTROCTL_COMPLETE" in installed[0].read_text(encoding="utf-8")
    assert "astroctl" in (tmp_path / ".bashrc").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("command", "usage"),
    [
        (("release", "check"), "Usage: astroctl release check [OPTIONS] FROM TO"),
        (("matrix", "show"), "Usage: astroctl matrix show [OPTIONS] [SELECTOR]..."),
        (("matrix", "env"), "Usage: astroctl matrix env [OPTIONS] [SELECTOR]"),
        (("changes", "add"), "Usage: astroctl changes add [OPTIONS] TYPE TEXT"),
    ],
)
def test_usage_lines_name_arguments_plainly(
    invoke: Invoke, command: tuple[str, ...], usage: str
) -> None:
    text = invoke(*command, "--help", matrix=None).stdout
    assert text.splitlines()[0] == usage
    assert "{" not in text.splitlines()[0]
