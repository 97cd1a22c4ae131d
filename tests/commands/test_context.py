"""The context object: built once per run, carrying the root options, the matrix and the seams."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from astroctl.commands.context import Context, count, output_format
from astroctl.errors import InputError
from astroctl.render.output import Format
from astroctl.seams.process import ProcessResult, Runner
from tests.helpers import SNAPSHOT


class FakeRunner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv: Any, **options: Any) -> ProcessResult:
        self.calls.append(tuple(argv))
        return ProcessResult(tuple(argv), 0, "fake\n", "")


class FakeHttp:
    closed = False

    def get(self, url: str, **options: Any) -> Any:
        raise AssertionError("not used")

    def close(self) -> None:
        self.closed = True


def test_a_fake_runner_is_used_as_given() -> None:
    fake = FakeRunner()
    shared = Context(process=fake)
    assert shared.runner() is fake
    assert shared.runner().run(["docker", "version"]).stdout == "fake\n"
    assert fake.calls == [("docker", "version")]


def test_the_real_runner_streams_child_output_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    runner = Context().runner()
    assert isinstance(runner, Runner)
    result = runner.run([sys.executable, "-c", "print('from the child')"], stream=True)
    assert result.returncode == 0
    out, err = capfd.readouterr()
    assert "from the child" in err
    assert "from the child" not in out  # stdout carries only astroctl's payload


def test_the_http_client_is_built_once_and_closed() -> None:
    fake = FakeHttp()
    shared = Context(http=fake)
    assert shared.client() is fake
    shared.close()
    assert fake.closed
    real = Context()
    assert real.client() is real.client()
    real.close()


def test_the_matrix_is_loaded_once(tmp_path: Path) -> None:
    copy = tmp_path / "m.toml"
    copy.write_text(SNAPSHOT.read_text(encoding="utf-8"), encoding="utf-8")
    shared = Context(matrix_option=copy)
    first = shared.matrix()
    copy.write_text("not toml at all [", encoding="utf-8")
    assert shared.matrix() is first


@pytest.mark.parametrize(
    ("text", "expected"),
    [("table", Format.table), ("JSON", Format.json), (" markdown ", Format.markdown)],
)
def test_output_format(text: str, expected: Format) -> None:
    assert output_format(text) is expected


def test_output_format_names_what_is_accepted() -> None:
    with pytest.raises(InputError, match="use one of table, json, markdown"):
        output_format("yaml")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0", "must be at least 1 (got 0)"),
        ("-3", "must be at least 1 (got -3)"),
        ("x", "is not a whole number"),
        ("²", "is not a whole number"),
        ("\u0669", "is not a whole number"),
        ("9" * 5000, "is not a whole number"),
        ("1e3", "is not a whole number"),
    ],
)
def test_count_refuses(text: str, problem: str) -> None:
    with pytest.raises(InputError, match=re.escape(problem)) as caught:
        count("--workers", text)
    assert caught.value.message.startswith("--workers")


def test_count_accepts_positive_whole_numbers() -> None:
    assert count("--workers", None) is None
    assert count("--workers", " 12 ") == 12
