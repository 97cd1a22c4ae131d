"""``astroctl tags`` through the real entry point: goldens, the JSON contract, options, errors.

The goldens run on the frozen snapshot of the matrix; rewrite them with::

    ASTROCTL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/cli/test_tags.py

and read the diff before committing it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import FORMATS, SNAPSHOT, Invoke, assert_golden, ok

YANKED_9_2_0 = "astroctl: warning: 9.2.0 is yanked: serious scheduler performance problems\n"
YANKED_9_2 = (
    "astroctl: warning: every release of 9.2.x is yanked; using 9.2.0 "
    "(yanked: serious scheduler performance problems)\n"
)

GOLDEN_CASES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("tags_9.2.0", ("tags", "9.2.0"), YANKED_9_2_0),
    ("tags_11.8.0_floating", ("tags", "11.8.0", "--floating"), ""),
)


@pytest.mark.parametrize(("fmt", "ext"), FORMATS)
@pytest.mark.parametrize(("name", "args", "stderr"), GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_golden(
    invoke: Invoke, name: str, args: tuple[str, ...], stderr: str, fmt: str, ext: str
) -> None:
    result = invoke(*args, "--format", fmt, matrix=SNAPSHOT)
    assert_golden(f"{name}.{ext}", ok(result, stderr))


def entries(stdout: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(stdout)["images"]
    return found


def tags_json(invoke: Invoke, *args: str, stderr: str = "", matrix: Path = SNAPSHOT) -> Any:
    return json.loads(ok(invoke("tags", *args, "--format", "json", matrix=matrix), stderr))


# -- the JSON contract (SPEC 4) ---------------------------------------------------------------


@pytest.mark.parametrize("version", ["4.2.9", "6.0.3", "9.17.0", "11.8.0"])
def test_json_has_one_entry_per_tag_with_the_contract_fields(invoke: Invoke, version: str) -> None:
    result = invoke("tags", version, "--floating", "-f", "json", matrix=SNAPSHOT)
    assert result.exit_code == 0, result.stderr  # stderr may say which floating names stay
    payload = json.loads(result.stdout)
    assert payload["release"] == version
    tags = [entry["tag"] for entry in payload["images"]]
    assert len(tags) == len(set(tags))
    for entry in payload["images"]:
        assert entry.keys() >= {"tag", "variant", "python", "platforms"}
        assert entry["variant"] in ("onbuild", "base")
        assert entry["variant"] == ("base" if entry["tag"].endswith("-base") else "onbuild")
        assert set(entry["platforms"]) <= {"linux/amd64", "linux/arm64"}
        assert entry["reference"] == f"quay.io/astronomer/astro-runtime:{entry['tag']}"


def test_v_and_v_python_p_are_two_entries_of_one_image(invoke: Invoke) -> None:
    by_tag = {
        e["tag"]: e for e in entries(ok(invoke("tags", "11.8.0", "-f", "json", matrix=SNAPSHOT)))
    }
    same = ("11.8.0", "11.8.0-python-3.11")
    assert {by_tag[t]["image"] for t in same} == {"11.8.0"}
    assert {(by_tag[t]["variant"], by_tag[t]["python"]) for t in same} == {("onbuild", "3.11")}
    assert by_tag["11.8.0-python-3.11-base"]["image"] == "11.8.0-base"
    assert by_tag["11.8.0-python-3.12"]["python"] == "3.12"
    assert len(by_tag) == 12  # 5 Pythons x 2 variants, the default's two twice


def test_floating_entries_are_marked(invoke: Invoke) -> None:
    payload = tags_json(invoke, "11.8.0", "--floating")
    floating = {e["tag"] for e in payload["images"] if e["floating"]}
    assert len(floating) == 36
    assert {"latest", "11", "11.8", "latest-python-3.12-base"} <= floating
    assert payload["floating_targets"] == {"11.8": "11.8.0", "11": "11.8.0", "latest": "11.8.0"}


def test_6_0_3_is_amd64_only(invoke: Invoke) -> None:
    payload = tags_json(invoke, "6.0.3")
    assert payload["platforms"] == ["linux/amd64"]
    assert {tuple(e["platforms"]) for e in payload["images"]} == {("linux/amd64",)}
    assert not any(e["manifest_list"] for e in payload["images"])
    assert "(linux/amd64 only)" in ok(invoke("tags", "6.0.3", matrix=SNAPSHOT))


# -- floating tags -----------------------------------------------------------------------------


def test_an_older_line_patch_says_which_names_stay(invoke: Invoke) -> None:
    result = invoke("tags", "9.10.1", "--floating", "-f", "json", matrix=SNAPSHOT)
    note = (
        "9.10.1 moves no floating tag: 9.10 stays on 9.10.2, 9 stays on 9.17.0, latest stays "
        "on 11.8.0 (floating tags never move to a lower version)\n"
    )
    assert not any(e["floating"] for e in entries(ok(result, note)))


def test_9_17_0_moves_its_lines_but_not_latest(invoke: Invoke) -> None:
    note = (
        "9.17.0 moves 9.17, 9 only: latest stays on 11.8.0 "
        "(floating tags never move to a lower version)\n"
    )
    payload = tags_json(invoke, "9.17.0", "--floating", stderr=note)
    floating = {e["tag"] for e in payload["images"] if e["floating"]}
    assert {"9.17", "9", "9-base", "9-python-3.8"} <= floating
    assert not any(tag.startswith("latest") for tag in floating)


def test_a_yanked_release_with_floating_says_why_it_moves_nothing(invoke: Invoke) -> None:
    stderr = YANKED_9_2 + "9.2.0 is yanked: it moves no floating tag\n"
    payload = tags_json(invoke, "9.2", "--floating", stderr=stderr)
    assert payload["release"] == "9.2.0"
    assert not any(e["floating"] for e in payload["images"])
    assert payload["floating_targets"] == {"9.2": None, "9": "9.17.0", "latest": "11.8.0"}


@pytest.fixture
def floating_matrix(tmp_path: Path) -> Path:
    text = SNAPSHOT.read_text(encoding="utf-8")
    assert "floating_tags = false" in text
    path = tmp_path / "compatibility.toml"
    path.write_text(text.replace("floating_tags = false", "floating_tags = true"), encoding="utf-8")
    return path


def test_the_matrix_setting_turns_floating_tags_on(invoke: Invoke, floating_matrix: Path) -> None:
    payload = tags_json(invoke, "latest", matrix=floating_matrix)
    assert payload["floating_tags"] is True
    assert any(e["tag"] == "latest" for e in payload["images"])
    off = tags_json(invoke, "latest", "--no-floating", matrix=floating_matrix)
    assert off["floating_tags"] is False
    assert not any(e["floating"] for e in off["images"])
    assert "Floating tags" not in ok(
        invoke("tags", "latest", "--no-floating", matrix=floating_matrix)
    )


# -- the repository ----------------------------------------------------------------------------


def test_registry_overrides_the_repository(invoke: Invoke) -> None:
    payload = tags_json(invoke, "11.8.0", "--registry", "localhost:5000/astro/runtime")
    assert payload["repository"] == "localhost:5000/astro/runtime"
    assert all(
        e["reference"] == f"localhost:5000/astro/runtime:{e['tag']}" for e in payload["images"]
    )
    table = ok(
        invoke("tags", "11.8.0", "--registry", "localhost:5000/astro/runtime", matrix=SNAPSHOT)
    )
    assert "in localhost:5000/astro/runtime" in table


@pytest.mark.parametrize(
    ("registry", "reason"),
    [
        ("Quay.io/Astronomer", "path component 'Astronomer' must be lowercase letters"),
        ("quay.io/astronomer/astro-runtime:11.8.0", "it carries a tag"),
        ("", "it is empty"),
    ],
)
def test_a_bad_registry_is_exit_2(invoke: Invoke, registry: str, reason: str) -> None:
    result = invoke("tags", "11.8.0", "--registry", registry, matrix=SNAPSHOT)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"astroctl: error: --registry {registry!r} is not an image repository: "
    )
    assert reason in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_bad_matrix_repository_is_exit_2(invoke: Invoke, tmp_path: Path) -> None:
    text = SNAPSHOT.read_text(encoding="utf-8").replace(
        'repository = "quay.io/astronomer/astro-runtime"', 'repository = "quay.io/Astronomer"'
    )
    path = tmp_path / "compatibility.toml"
    path.write_text(text, encoding="utf-8")
    result = invoke("tags", "11.8.0", matrix=path)
    assert result.exit_code == 2
    assert "the matrix's [image] repository 'quay.io/Astronomer'" in result.stderr
    assert ok(invoke("tags", "11.8.0", "--registry", "quay.io/a/b", matrix=path))


# -- usage ---------------------------------------------------------------------------------------


def test_an_unknown_selector_is_exit_2(invoke: Invoke) -> None:
    result = invoke("tags", "12.0.0", matrix=SNAPSHOT)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no release matches '12.0.0'" in result.stderr


def test_a_selector_is_required(invoke: Invoke) -> None:
    result = invoke("tags", matrix=SNAPSHOT)
    assert result.exit_code == 2
    assert "SELECTOR" in result.stderr


def test_help_names_the_options(invoke: Invoke) -> None:
    text = ok(invoke("tags", "--help", matrix=None))
    assert text.startswith("Usage: astroctl tags [OPTIONS] SELECTOR")
    for expected in ("--registry REPO", "--floating / --no-floating", "-f, --format FORMAT"):
        assert expected in text
    assert "tags" in ok(invoke("--help", matrix=None))
