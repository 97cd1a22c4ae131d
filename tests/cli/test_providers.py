"""``astroctl providers list|diff`` through the real entry point.

The goldens run on the frozen matrix (``tests/golden/matrix_snapshot.toml``); rewrite them with
``ASTROCTL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/cli/test_providers.py`` and read the diff.
``providers outdated|update`` talk to a real package index on loopback (``tests/index_server``),
with a cache directory of their own; nothing reaches the internet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from astroctl.matrix import store
from astroctl.seams.http import Http
from tests import factories
from tests.helpers import FORMATS, SNAPSHOT, Invoke, Result, assert_golden, ok
from tests.index_server import IndexServer
from tests.seams.private_index import AuthIndexServer, basic, closed_port, write_netrc

KINDS = {"added", "removed", "major", "minor", "patch", "downgrade", "other"}
CHANGE_FIELDS = {"package", "from", "to", "change"}

YANKED_8_0 = (
    "astroctl: warning: every release of 8.0.x is yanked; using 8.0.0 "
    "(yanked: cluster policies set via pluggy not applied)\n"
)
YANKED_9_0 = (
    "astroctl: warning: every release of 9.0.x is yanked; using 9.0.0 "
    "(yanked: serious scheduler performance problems)\n"
)
YANKED_11_0 = (
    "astroctl: warning: every release of 11.0.x is yanked; using 11.0.0 "
    "(yanked: DB migration problems when triggers are running)\n"
)


def payload(result: Result, stderr: str = "") -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(result, stderr))
    return data


def failed(result: Result, code: int = 2) -> str:
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr


def snapshot_releases() -> dict[str, dict[str, Any]]:
    """The snapshot's releases read independently of astroctl (tomllib): the oracle."""
    document = tomllib.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return {entry["version"]: entry for entry in document["releases"]}


# -- goldens ----------------------------------------------------------------------------------

GOLDEN_CASES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("providers_diff_8.0_9.0", ("providers", "diff", "8.0", "9.0"), YANKED_8_0 + YANKED_9_0),
    ("providers_diff_9.16.0_9.17.0_all", ("providers", "diff", "9.16.0", "9.17.0", "--all"), ""),
    ("providers_list_9.17.0", ("providers", "list", "9.17.0"), ""),
    ("providers_list_11.0_slim", ("providers", "list", "11.0", "--flavor", "slim"), YANKED_11_0),
)


@pytest.mark.parametrize(("fmt", "ext"), FORMATS)
@pytest.mark.parametrize(("name", "args", "stderr"), GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_golden(
    invoke: Invoke, name: str, args: tuple[str, ...], stderr: str, fmt: str, ext: str
) -> None:
    result = invoke(*args, "--format", fmt, matrix=SNAPSHOT)
    assert_golden(f"{name}.{ext}", ok(result, stderr))


# -- providers diff ---------------------------------------------------------------------------


def test_diff_of_yanked_lines_compares_the_yanked_releases_and_warns(invoke: Invoke) -> None:
    """SPEC section 3: every 8.0.x and 9.0.x is yanked, so 8.0.0 and 9.0.0 are compared."""
    data = payload(
        invoke("providers", "diff", "8.0", "9.0", "-f", "json", matrix=SNAPSHOT),
        YANKED_8_0 + YANKED_9_0,
    )
    assert (data["from"], data["to"]) == ("8.0.0", "9.0.0")


def test_diff_of_an_exact_yanked_release_warns_once(invoke: Invoke) -> None:
    result = invoke("providers", "diff", "8.0.0", "8.1", "-f", "json", matrix=SNAPSHOT)
    warning = "astroctl: warning: 8.0.0 is yanked: cluster policies set via pluggy not applied\n"
    assert payload(result, warning)["from"] == "8.0.0"


def test_diff_json_contract(invoke: Invoke) -> None:
    result = invoke("providers", "diff", "8.0", "9.0", "-f", "json", matrix=SNAPSHOT)
    data = payload(result, YANKED_8_0 + YANKED_9_0)
    assert {"from", "to", "changes"} <= data.keys()
    for change in data["changes"]:
        assert change.keys() >= CHANGE_FIELDS
        assert change["change"] in KINDS
        assert (change["from"] is None) == (change["change"] == "added")
        assert (change["to"] is None) == (change["change"] == "removed")
    assert data["changes"][0] == {
        "package": "apache-airflow",
        "from": "2.6.0",
        "to": "2.7.0",
        "change": "minor",
    }
    assert data["renames"] == []
    assert data["summary"] == {"added": 2, "major": 2, "minor": 14}


@pytest.mark.parametrize(("old", "new"), list(pairwise(sorted(snapshot_releases())))[::9])
def test_diff_lists_exactly_the_pins_that_differ(invoke: Invoke, old: str, new: str) -> None:
    """Checked against the TOML itself: a package is listed iff its pin differs."""
    entries = snapshot_releases()
    before = {**entries[old].get("packages", {}), "apache-airflow": entries[old]["airflow"]}
    after = {**entries[new].get("packages", {}), "apache-airflow": entries[new]["airflow"]}
    expected = {
        name: (before.get(name), after.get(name))
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name)
    }
    result = invoke("providers", "diff", old, new, "-f", "json", matrix=SNAPSHOT)
    data = json.loads(result.stdout)
    assert result.exit_code == 0
    assert {c["package"]: (c["from"], c["to"]) for c in data["changes"]} == expected


def test_all_adds_the_unchanged_packages(invoke: Invoke) -> None:
    args = ("providers", "diff", "9.16.0", "9.17.0", "-f", "json")
    changed = payload(invoke(*args, matrix=SNAPSHOT))["changes"]
    everything = payload(invoke(*args, "--all", matrix=SNAPSHOT))["changes"]
    assert [c for c in everything if c["change"] != "unchanged"] == changed
    unchanged = [c for c in everything if c["change"] == "unchanged"]
    assert unchanged
    assert all(c["from"] == c["to"] for c in unchanged)
    entries = snapshot_releases()
    pins = entries["9.17.0"]["packages"]
    assert len(everything) == len(pins.keys() | entries["9.16.0"]["packages"].keys()) + 1


def test_airflow_is_listed_only_when_it_changed(invoke: Invoke) -> None:
    same = payload(invoke("providers", "diff", "9.16.0", "9.17.0", "-f", "json", matrix=SNAPSHOT))
    assert "apache-airflow" not in {c["package"] for c in same["changes"]}
    table = ok(invoke("providers", "diff", "9.16.0", "9.17.0", matrix=SNAPSHOT))
    assert "apache-airflow " not in table


def test_a_release_against_itself_has_no_changes(invoke: Invoke) -> None:
    data = payload(invoke("providers", "diff", "9.17.0", "9.17.0", "-f", "json", matrix=SNAPSHOT))
    assert data["changes"] == []
    assert ok(invoke("providers", "diff", "9.17.0", "9.17.0", matrix=SNAPSHOT)) == "no changes\n"


def test_the_reverse_diff_mirrors_the_kinds(invoke: Invoke) -> None:
    mirror = {"added": "removed", "removed": "added", "minor": "downgrade", "major": "downgrade"}
    args = ("providers", "diff", "-f", "json")
    forward = payload(invoke(*args, "8.0", "9.0", matrix=SNAPSHOT), YANKED_8_0 + YANKED_9_0)
    backward = payload(invoke(*args, "9.0", "8.0", matrix=SNAPSHOT), YANKED_9_0 + YANKED_8_0)
    assert [(c["package"], c["from"], c["to"]) for c in backward["changes"]] == [
        (c["package"], c["to"], c["from"]) for c in forward["changes"]
    ]
    assert [c["change"] for c in backward["changes"]] == [
        mirror[c["change"]] for c in forward["changes"]
    ]


def table_rows(table: str) -> list[list[str]]:
    """The rows of a piped table: the lines between its rule and the first blank line."""
    lines = table.splitlines()
    body = lines[next(i for i, line in enumerate(lines) if "\u2500" in line) + 1 :]
    return [line.split() for line in body[: body.index("")]]


def test_the_table_groups_changes_by_kind_airflow_first(invoke: Invoke) -> None:
    table = ok(invoke("providers", "diff", "8.0", "9.0", matrix=SNAPSHOT), YANKED_8_0 + YANKED_9_0)
    rows = table_rows(table)
    assert rows[0] == ["apache-airflow", "2.6.0", "2.7.0", "minor"]
    kinds = [row[-1] for row in rows[1:]]
    assert kinds == ["added"] * 2 + ["major"] * 2 + ["minor"] * 13
    assert [row[0] for row in rows[3:5]] == sorted(row[0] for row in rows[3:5])
    assert table.endswith("\n\n18 changes: 2 added, 2 major, 14 minor\n")


def test_markdown_ends_with_the_summary(invoke: Invoke) -> None:
    text = ok(invoke("providers", "diff", "9.16.0", "9.17.0", "-f", "markdown", matrix=SNAPSHOT))
    assert text.startswith("## Package changes from Astro Runtime 9.16.0 to 9.17.0\n")
    assert text.splitlines()[-2] == ""
    assert "change" in text.splitlines()[-1]


def test_diff_of_a_flavor(invoke: Invoke) -> None:
    args = ("providers", "diff", "11.0.0", "11.1.0", "--flavor", "slim", "-f", "json")
    stderr = (
        "astroctl: warning: 11.0.0 is yanked: DB migration problems when triggers are running\n"
        "astroctl: warning: 11.1.0 is yanked: DB migration problems when triggers are running\n"
    )
    data = payload(invoke(*args, matrix=SNAPSHOT), stderr)
    assert data["flavor"] == "slim"
    entries = snapshot_releases()
    slim = set(entries["11.0.0"]["flavors"]["slim"]["packages"])
    assert {c["package"] for c in data["changes"]} <= slim | {"apache-airflow"}


# -- a rename, built by hand: openlineage-airflow became apache-airflow-providers-openlineage --


@pytest.fixture
def renamed(tmp_path: Path) -> Path:
    """The snapshot's 9.1.0 and 9.2.0, with openlineage-airflow pinned in a copy of 9.1.0."""
    entries = snapshot_releases()
    old, new = dict(entries["9.1.0"]), dict(entries["9.2.0"])
    old.pop("yanked", None)
    new.pop("yanked", None)
    old["packages"] = {**old["packages"], "openlineage-airflow": "1.1.0"}
    assert "apache-airflow-providers-openlineage" in new["packages"]
    assert "openlineage-airflow" not in new["packages"]
    document = tomllib.loads(SNAPSHOT.read_text(encoding="utf-8"))
    doc = factories.document(old, new, lines={9: document["lines"]["9"]})
    doc["packages"] = document["packages"]
    path = tmp_path / "renamed.toml"
    path.write_text(factories.toml_text(doc), encoding="utf-8")
    return path


def test_a_rename_is_a_removal_and_an_addition(invoke: Invoke, renamed: Path) -> None:
    data = payload(invoke("providers", "diff", "9.1.0", "9.2.0", "-f", "json", matrix=renamed), "")
    changes = {c["package"]: c for c in data["changes"]}
    assert changes["openlineage-airflow"] == {
        "package": "openlineage-airflow",
        "from": "1.1.0",
        "to": None,
        "change": "removed",
    }
    assert changes["apache-airflow-providers-openlineage"]["change"] == "added"
    assert data["renames"] == [
        {"from": "openlineage-airflow", "to": "apache-airflow-providers-openlineage"}
    ]


def test_the_table_says_a_rename_is_suspected(invoke: Invoke, renamed: Path) -> None:
    table = ok(invoke("providers", "diff", "9.1.0", "9.2.0", matrix=renamed))
    lines = table.splitlines()
    header = next(line for line in lines if line.startswith(" Package"))
    assert header.split()[-1] == "Note"
    removed = next(line for line in lines if line.startswith(" openlineage-airflow "))
    assert removed.endswith("removed   renamed to apache-airflow-providers-openlineage?")
    added = next(line for line in lines if line.startswith(" apache-airflow-providers-openl"))
    assert added.endswith("renamed from openlineage-airflow?")
    assert lines[-1] == (
        "openlineage-airflow -> apache-airflow-providers-openlineage looks like a rename "
        "(listed as removed and added)"
    )
    markdown = ok(invoke("providers", "diff", "9.1.0", "9.2.0", "-f", "markdown", matrix=renamed))
    assert "| Package | From | To | Change | Note |" in markdown
    assert markdown.rstrip().endswith("looks like a rename (listed as removed and added)")


# -- providers list ---------------------------------------------------------------------------


def test_list_json_contract(invoke: Invoke) -> None:
    data = payload(invoke("providers", "list", "9.17.0", "-f", "json", matrix=SNAPSHOT))
    assert data["release"] == "9.17.0"
    entries = snapshot_releases()
    pins = entries["9.17.0"]["packages"]
    assert {p["package"]: p["version"] for p in data["packages"]} == pins
    facts = tomllib.loads(SNAPSHOT.read_text(encoding="utf-8"))["packages"]
    for package in data["packages"]:
        assert package.keys() >= {"package", "version", "maintained", "runtime_only", "index"}
        known = facts.get(package["package"], {})
        assert package["maintained"] is known.get("maintained", False)
        assert package["runtime_only"] is known.get("runtime_only", False)
        assert package["index"] == known.get("index")


def test_list_of_a_release_without_pins_says_so(invoke: Invoke) -> None:
    entries = snapshot_releases()
    bare = next(v for v, e in entries.items() if not e.get("packages") and "yanked" not in e)
    text = ok(invoke("providers", "list", bare, matrix=SNAPSHOT))
    assert text == f"{bare} pins no packages (its package table is unknown)\n"
    assert (
        payload(invoke("providers", "list", bare, "-f", "json", matrix=SNAPSHOT))["packages"] == []
    )


# -- bad input: exit 2, one line, stdout empty --------------------------------------------------

BAD = [
    (("providers", "diff", "8.0", "99"), "no release matches '99'; the matrix has lines 4 to 11"),
    (("providers", "diff", "nine", "9.0"), "'nine' is not a release selector"),
    (("providers", "diff", "9.2.7", "9.3"), "no release matches '9.2.7'; line 9 has"),
    (("providers", "list", "12"), "no release matches '12'"),
    (("providers", "list", "9.17.0", "--flavor", "slim"), "9.17.0 has no flavor 'slim'"),
    (
        ("providers", "diff", "11.0.0", "11.1.0", "--flavor", "fat"),
        "11.0.0 has no flavor 'fat'; its flavors: slim",
    ),
    (("providers", "diff", "9.1"), "Missing argument 'SELECTOR'"),
    (("providers", "list", "9.1", "-f", "yaml"), "--format 'yaml' is not a format"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2(invoke: Invoke, args: tuple[str, ...], message: str) -> None:
    stderr = failed(invoke(*args, matrix=SNAPSHOT))
    assert stderr.splitlines()[-1].startswith("astroctl: error: ")
    assert message in stderr


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("providers",), "diff"),
        (("providers", "diff"), "SELECTOR"),
        (("providers", "list"), "--flavor NAME"),
        (("providers", "diff"), "--all"),
    ],
)
def test_help(invoke: Invoke, command: tuple[str, ...], expected: str) -> None:
    result = invoke(*command, "-h", matrix=None)
    assert result.exit_code == 0
    assert expected in result.stdout
    assert "<str" not in result.stdout


# -- providers outdated and update, against a real index on loopback ----------------------------

AMAZON = "apache-airflow-providers-amazon"
HTTP_PROVIDER = "apache-airflow-providers-http"
LOGGING = "astronomer-providers-logging"
PINS = {AMAZON: "8.0.0", HTTP_PROVIDER: "4.0.0", LOGGING: "1.0.0"}


@dataclass(frozen=True)
class World:
    """A public index, a private one (for astronomer-providers-logging) and a matrix file."""

    public: IndexServer
    private: IndexServer
    matrix: Path

    def requests(self) -> list[str]:
        return self.public.paths() + self.private.paths()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """9.1.0 (released) and 9.2.0 (unreleased) pinning PINS; 11.0.0 (released) with a slim
    flavor. The public index has newer versions of every kind a search must skip."""
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("ASTROCTL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))  # no credentials but a test's own
    with IndexServer() as public, IndexServer() as private:
        old = ["apache-airflow>=2.6.0"]
        for version in ("8.0.0", "8.0.1", "8.1.0", "9.0.0"):
            public.add(AMAZON, version, requires_dist=old)
        public.add(AMAZON, "8.2.0", requires_dist=["apache-airflow>=2.8.0"])
        public.add(AMAZON, "9.1.0", requires_python=">=3.12", requires_dist=old)
        public.add(HTTP_PROVIDER, "4.0.0")
        public.add(HTTP_PROVIDER, "4.0.1")
        public.add(HTTP_PROVIDER, "4.0.2", yanked="broken upload")
        public.add(HTTP_PROVIDER, "4.1.0rc1")
        private.add(LOGGING, "1.0.0")
        private.add(LOGGING, "1.1.0")
        doc = factories.document(
            factories.release("9.1.0", "2.7.1", released=date(2023, 9, 1), packages=PINS),
            factories.release("9.2.0", "2.7.2", packages=PINS),
            factories.release(
                "11.0.0",
                "2.9.0",
                released=date(2024, 4, 8),
                packages=PINS,
                flavors={"slim": {"packages": {AMAZON: "8.0.0", LOGGING: "1.0.0"}}},
            ),
            packages={LOGGING: {"index": private.url}},
        )
        path = tmp_path / "compatibility.toml"
        path.write_text(factories.toml_text(doc), encoding="utf-8")
        yield World(public, private, path)


def statuses(result: Result) -> dict[str, dict[str, Any]]:
    return {p["package"]: p for p in payload(result)["packages"]}


def test_outdated_json_contract(invoke: Invoke, world: World) -> None:
    args = ("providers", "outdated", "9.1.0", "--index-url", world.public.url, "-f", "json")
    data = payload(invoke(*args, matrix=world.matrix))
    assert data["release"] == "9.1.0"
    assert (data["python"], data["airflow"], data["level"]) == ("3.11", "2.7.1", "major")
    for package in data["packages"]:
        assert package.keys() >= {"package", "current", "latest", "change"}
    assert {p["package"]: (p["current"], p["latest"], p["change"]) for p in data["packages"]} == {
        AMAZON: ("8.0.0", "9.0.0", "major"),  # 9.1.0 needs Python 3.12, 8.2.0 Airflow 2.8
        HTTP_PROVIDER: ("4.0.0", "4.0.1", "patch"),  # 4.0.2 is yanked, 4.1.0rc1 a pre-release
        LOGGING: ("1.0.0", "1.1.0", "minor"),
    }
    packages = {p["package"]: p for p in data["packages"]}
    assert packages[AMAZON]["held_back"] == "9.1.0 requires Python >=3.12"
    assert packages[LOGGING]["index"] == world.private.url
    assert not any(LOGGING in path for path in world.public.paths())


@pytest.mark.parametrize(
    ("level", "amazon"),
    [("patch", ("8.0.1", "patch")), ("minor", ("8.1.0", "minor")), ("MAJOR", ("9.0.0", "major"))],
)
def test_outdated_level_caps_the_change(
    invoke: Invoke, world: World, level: str, amazon: tuple[str, str]
) -> None:
    args = ("providers", "outdated", "9.1", "--index-url", world.public.url, "--level", level)
    found = statuses(invoke(*args, "-f", "json", matrix=world.matrix))
    assert (found[AMAZON]["latest"], found[AMAZON]["change"]) == amazon


def test_outdated_table_names_what_is_held_back(invoke: Invoke, world: World) -> None:
    args = ("providers", "outdated", "9.1", "--index-url", world.public.url, "--level", "minor")
    table = ok(invoke(*args, matrix=world.matrix))
    assert table.startswith(f"Packages of Astro Runtime 9.1.0 on {world.public.url} ")
    rows = table_rows(table)
    assert rows[0][:4] == [AMAZON, "8.0.0", "8.1.0", "minor"]
    assert " ".join(rows[0][4:]) == "9.1.0 is a major upgrade, above --level minor"
    assert table.endswith("\n\n3 of 3 packages can be updated: 2 minor, 1 patch\n")


def test_outdated_reads_pip_index_url(
    invoke: Invoke, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", world.public.url)
    data = payload(invoke("providers", "outdated", "9.1", "-f", "json", matrix=world.matrix))
    assert (data["index"], data["index_origin"]) == (world.public.url, "$PIP_INDEX_URL")
    assert world.public.paths()


def test_outdated_offline_after_one_online_run_asks_nothing(invoke: Invoke, world: World) -> None:
    args = ("providers", "outdated", "9.1", "--index-url", world.public.url, "-f", "json")
    online = ok(invoke(*args, matrix=world.matrix))
    world.public.clear_log()
    world.private.clear_log()
    assert ok(invoke(*args, "--offline", matrix=world.matrix)) == online
    assert world.requests() == []


def test_outdated_offline_without_a_cache_fails_with_a_hint(invoke: Invoke, world: World) -> None:
    args = ("providers", "outdated", "9.1", "--index-url", world.public.url, "--offline")
    stderr = failed(invoke(*args, matrix=world.matrix), 1)
    assert "is not in the cache; run once without --offline" in stderr
    assert world.requests() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--level", "huge"), "--level 'huge' is not a level; use patch, minor or major"),
        (("--python", "3.12"), "--python '3.12': 9.1.0 ships Python 3.10, 3.11, not 3.12"),
        (("--index-url", "ftp://example.invalid/"), "not an http(s) URL"),
    ],
)
def test_outdated_bad_input_exits_2(
    invoke: Invoke, world: World, args: tuple[str, ...], message: str
) -> None:
    stderr = failed(invoke("providers", "outdated", "9.1", *args, matrix=world.matrix))
    assert message in stderr
    assert world.requests() == []


def test_the_progress_bar_is_drawn_on_a_terminal_stderr_only(world: World) -> None:
    """stderr on a pseudo-terminal gets the bars; stdout (a pipe) gets the JSON alone."""
    leader, follower = os.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ["TERM"] = "xterm-256color"
    script = Path(sys.executable).parent / "astroctl"
    argv = [str(script), "--matrix", str(world.matrix), "providers", "outdated", "9.1"]
    world.public.delay = 0.2
    with subprocess.Popen(
        [*argv, "--index-url", world.public.url, "-f", "json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=environ,
    ) as process:
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the program ended
                break
            if not chunk:
                break
            drawn += chunk
        assert process.stdout is not None
        stdout = process.stdout.read().decode()
        assert process.wait(timeout=60) == 0, drawn
    os.close(leader)
    assert json.loads(stdout)["release"] == "9.1.0"
    assert b"index pages" in drawn
    assert b"\x1b[" in drawn  # drawn, then erased: the bars are transient


def test_no_progress_when_stderr_is_not_a_terminal(invoke: Invoke, world: World) -> None:
    result = invoke(
        "providers", "outdated", "9.1", "--index-url", world.public.url, matrix=world.matrix
    )
    assert result.exit_code == 0
    assert result.stderr == ""


# -- private indexes: down, and behind credentials ---------------------------------------------


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The HTTP seam's retries still happen and are announced, without their waits."""

    def wait(self: Http, delay: float, reason: str) -> None:
        if self._notify is not None:
            self._notify(f"retrying in {delay:.1f} s: {reason}")

    monkeypatch.setattr(Http, "_wait", wait)


def private_matrix(world: World, tmp_path: Path, index: str) -> Path:
    """The world's matrix with astronomer-providers-logging served from ``index``."""
    doc = factories.document(
        factories.release("9.1.0", "2.7.1", released=date(2023, 9, 1), packages=PINS),
        factories.release("9.2.0", "2.7.2", packages=PINS),
        packages={LOGGING: {"index": index}},
    )
    path = tmp_path / "private.toml"
    path.write_text(factories.toml_text(doc), encoding="utf-8")
    return path


@pytest.mark.usefixtures("no_backoff")
def test_outdated_reports_a_private_index_that_is_down_and_answers_the_rest(
    invoke: Invoke, world: World, tmp_path: Path
) -> None:
    with closed_port() as down:
        matrix = private_matrix(world, tmp_path, down.url)
        args = ("providers", "outdated", "9.1", "--index-url", world.public.url)
        table_run = invoke(*args, matrix=matrix)
        json_run = invoke(*args, "-f", "json", matrix=matrix)
    problem = f"{down.url}: cannot connect (Connection refused) after 5 attempts"
    warning = (
        f"astroctl: warning: {LOGGING}: not looked up: {problem}\n"
        "astroctl: warning: 1 of 3 packages could not be looked up (shown with its problem); "
        "the other 2 were answered\n"
    )
    for run in (table_run, json_run):
        assert run.exit_code == 0, run.stderr
        assert run.stderr.endswith(warning)
        assert run.stderr.count("retrying in") == 4  # the first package only: then known down
    rows = table_rows(table_run.stdout)
    assert rows[-1][:4] == [LOGGING, "1.0.0", "-", "unknown"]
    assert " ".join(rows[-1][4:]) == problem
    assert table_run.stdout.splitlines()[2].split() == [
        "Package",
        "Current",
        "Latest",
        "Change",
        "Held",
        "back",
        "Problem",
    ]
    assert table_run.stdout.endswith(
        "\n\n2 of 3 packages can be updated: 1 major, 1 patch; 1 could not be looked up\n"
    )
    packages = {p["package"]: p for p in json.loads(json_run.stdout)["packages"]}
    assert packages[LOGGING] == {
        "package": LOGGING,
        "current": "1.0.0",
        "latest": None,
        "change": "unknown",
        "newest": None,
        "held_back": None,
        "index": down.url,
        "problem": problem,
    }
    assert packages[AMAZON]["problem"] is None and packages[AMAZON]["latest"] == "9.0.0"


@pytest.mark.usefixtures("no_backoff")
def test_outdated_exits_1_when_no_package_could_be_looked_up(
    invoke: Invoke, world: World, tmp_path: Path
) -> None:
    with closed_port() as down:
        matrix = private_matrix(world, tmp_path, down.url)
        stderr = failed(
            invoke("providers", "outdated", "9.1", "--index-url", down.url, matrix=matrix), 1
        )
    problem = f"{down.url}: cannot connect (Connection refused) after 5 attempts"
    assert stderr.endswith(
        "astroctl: error: no package of 9.1.0 could be looked up:\n"
        f"  {AMAZON}: {problem}\n  {HTTP_PROVIDER}: {problem}\n  {LOGGING}: {problem}\n"
    )


@pytest.mark.usefixtures("no_backoff")
def test_update_writes_what_was_answered_and_keeps_the_rest(
    invoke: Invoke, world: World, tmp_path: Path
) -> None:
    with closed_port() as down:
        matrix = private_matrix(world, tmp_path, down.url)
        args = ("providers", "update", "9.2.0", "--level", "minor", "--index-url", world.public.url)
        result = invoke(*args, matrix=matrix)
    assert result.exit_code == 0, result.stderr
    assert f"astroctl: warning: {LOGGING}: not looked up: {down.url}: " in result.stderr
    assert pins_of(matrix, "9.2.0") == {AMAZON: "8.1.0", HTTP_PROVIDER: "4.0.1", LOGGING: "1.0.0"}


def test_outdated_with_netrc_credentials_never_shows_them(
    invoke: Invoke, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = write_netrc(tmp_path / "netrc", "127.0.0.1", "robot", "s3cret")
    monkeypatch.setenv("NETRC", str(netrc))
    with AuthIndexServer("robot", "s3cret") as private:
        private.add(LOGGING, "1.0.0")
        private.add(LOGGING, "1.2.0")
        matrix = private_matrix(world, tmp_path, private.url)
        outputs = []
        for fmt in ("table", "json", "markdown"):
            args = ("providers", "outdated", "9.1", "--index-url", world.public.url, "-f", fmt)
            result = invoke(*args, matrix=matrix)
            assert result.exit_code == 0, result.stderr
            outputs += [result.stdout, result.stderr]
        assert private.refused == 0 and private.authorized > 0
    assert (
        statuses(invoke(*args[:-2], "-f", "json", "--offline", matrix=matrix))[LOGGING]["latest"]
        == "1.2.0"
    )
    assert not any("robot" in text or "s3cret" in text for text in outputs)
    cached = [p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert cached and not any(b"robot" in data or b"s3cret" in data for data in cached)


def test_outdated_without_credentials_names_the_refusal(
    invoke: Invoke, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with AuthIndexServer("robot", "s3cret") as private:
        private.add(LOGGING, "1.0.0")
        matrix = private_matrix(world, tmp_path, private.url)
        args = ("providers", "outdated", "9.1", "--index-url", world.public.url)
        result = invoke(*args, matrix=matrix)
        assert result.exit_code == 0, result.stderr
        assert f"{LOGGING}: not looked up: GET {private.url}{LOGGING}/: HTTP 401" in result.stderr


def test_outdated_refuses_credentials_in_an_argument(invoke: Invoke, world: World) -> None:
    url = world.public.url.replace("http://", "http://robot:s3cret@")
    stderr = failed(invoke("providers", "outdated", "9.1", "--index-url", url, matrix=world.matrix))
    assert stderr == (
        f"astroctl: error: --index-url '{world.public.url}': credentials in a URL are refused; "
        "put them in a netrc file (~/.netrc, or the file $NETRC names): "
        "'machine 127.0.0.1 login USER password PASSWORD'\n"
    )
    assert world.requests() == []


def test_outdated_refuses_credentials_in_the_matrix(
    invoke: Invoke, world: World, tmp_path: Path
) -> None:
    matrix = private_matrix(
        world, tmp_path, world.private.url.replace("http://", "http://robot:s3cret@")
    )
    args = ("providers", "outdated", "9.1", "--index-url", world.public.url)
    stderr = failed(invoke(*args, matrix=matrix))
    assert stderr.startswith(
        f"astroctl: error: [packages.\"{LOGGING}\"] index '{world.private.url}': credentials in "
        "a URL are refused; put them in a netrc file"
    )
    assert "robot" not in stderr and "s3cret" not in stderr
    assert world.requests() == []


def test_outdated_takes_credentials_from_pip_index_url(
    invoke: Invoke, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment may carry them, as pip's does; they are used, never shown."""
    monkeypatch.setenv("PIP_INDEX_URL", world.public.url.replace("http://", "http://robot:s3cret@"))
    result = invoke("providers", "outdated", "9.1", "-f", "json", matrix=world.matrix)
    assert result.exit_code == 0, result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    assert "robot" not in result.stdout + result.stderr
    assert all(
        r.headers["authorization"] == basic("robot", "s3cret") for r in world.public.requests
    )


# -- providers update -------------------------------------------------------------------------


def pins_of(path: Path, version: str) -> dict[str, str]:
    """A release's pins as the file says (tomllib, not astroctl)."""
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    entry = next(e for e in document["releases"] if e["version"] == version)
    pins: dict[str, str] = entry.get("packages", {})
    return pins


def test_update_writes_an_unreleased_entry(invoke: Invoke, world: World) -> None:
    before = tomllib.loads(world.matrix.read_text(encoding="utf-8"))
    args = ("providers", "update", "9.2.0", "--level", "minor", "--index-url", world.public.url)
    data = payload(invoke(*args, "-f", "json", matrix=world.matrix))
    expected = {AMAZON: "8.1.0", HTTP_PROVIDER: "4.0.1", LOGGING: "1.1.0"}
    assert pins_of(world.matrix, "9.2.0") == expected
    after = tomllib.loads(world.matrix.read_text(encoding="utf-8"))
    assert [e for e in after["releases"] if e["version"] != "9.2.0"] == [
        e for e in before["releases"] if e["version"] != "9.2.0"
    ]
    entry = next(e for e in after["releases"] if e["version"] == "9.2.0")
    assert "released" not in entry
    assert store.load(world.matrix).releases[1].packages == expected
    assert (data["release"], data["from"], data["created"], data["written"]) == (
        "9.2.0",
        "9.2.0",
        False,
        True,
    )
    assert data["changes"] == [
        {"package": AMAZON, "from": "8.0.0", "to": "8.1.0", "change": "minor"},
        {"package": HTTP_PROVIDER, "from": "4.0.0", "to": "4.0.1", "change": "patch"},
        {"package": LOGGING, "from": "1.0.0", "to": "1.1.0", "change": "minor"},
    ]
    assert (data["previous"], data["bump"], data["required"], data["ok"]) == (
        "9.1.0",
        "minor",
        "minor",
        True,
    )
    assert any(AMAZON in reason for reason in data["reasons"])


def test_update_refuses_a_released_entry_without_new(invoke: Invoke, world: World) -> None:
    text = world.matrix.read_bytes()
    args = ("providers", "update", "9.1.0", "--level", "patch", "--index-url", world.public.url)
    stderr = failed(invoke(*args, matrix=world.matrix))
    assert "9.1.0 was released on 2023-09-01; a released entry is never changed" in stderr
    assert "--new" in stderr
    assert world.matrix.read_bytes() == text
    assert world.requests() == []


def test_update_refuses_the_embedded_default(invoke: Invoke, world: World) -> None:
    args = ("providers", "update", "9", "--level", "patch", "--index-url", world.public.url)
    stderr = failed(invoke(*args, matrix=None))
    assert "refusing to write the embedded default matrix" in stderr
    assert world.requests() == []


@pytest.mark.parametrize(
    ("selector", "level", "version", "amazon", "logging"),
    [("9.1", "patch", "9.1.1", "8.0.1", "1.0.0"), ("9", "minor", "9.3.0", "8.1.0", "1.1.0")],
)
def test_update_new_creates_the_next_version(
    invoke: Invoke, world: World, selector: str, level: str, version: str, amazon: str, logging: str
) -> None:
    """A patch follows the selected release's minor line, a minor the highest of its major."""
    args = ("providers", "update", selector, "--new", "--level", level, "-f", "json")
    data = payload(invoke(*args, "--index-url", world.public.url, matrix=world.matrix))
    base_name = {"9.1": "9.1.0", "9": "9.2.0"}[selector]
    assert (data["release"], data["from"], data["created"], data["written"]) == (
        version,
        base_name,
        True,
        True,
    )
    assert data["previous"] == base_name
    matrix = store.load(world.matrix)
    created = next(r for r in matrix.releases if r.name == version)
    base = next(r for r in matrix.releases if r.name == base_name)
    assert created.released is None and created.yanked is None
    assert created.airflow == base.airflow
    assert dict(created.packages) == {AMAZON: amazon, HTTP_PROVIDER: "4.0.1", LOGGING: logging}
    assert dict(base.packages) == PINS
    assert pins_of(world.matrix, version) == dict(created.packages)


def test_update_new_updates_the_flavors_too(invoke: Invoke, world: World) -> None:
    args = ("providers", "update", "11", "--new", "--level", "minor")
    ok(invoke(*args, "--index-url", world.public.url, matrix=world.matrix))
    created = next(r for r in store.load(world.matrix).releases if r.name == "11.1.0")
    # Airflow 2.9 admits amazon 8.2.0, which 9.x's Airflow 2.7 does not
    assert created.packages[AMAZON] == "8.2.0"
    assert dict(created.flavors["slim"]) == {AMAZON: "8.2.0", LOGGING: "1.1.0"}


def test_update_warns_when_the_policy_needs_more_than_the_new_version(
    invoke: Invoke, world: World
) -> None:
    args = ("providers", "update", "9", "--new", "--level", "major", "-f", "json")
    result = invoke(*args, "--index-url", world.public.url, matrix=world.matrix)
    assert result.exit_code == 0
    assert result.stderr == (
        "astroctl: warning: the versioning policy requires a major release for 9.3.0 against "
        "9.2.0 (it is a minor version step); 'astroctl release check' will flag it\n"
    )
    data = json.loads(result.stdout)
    assert (data["release"], data["required"], data["bump"], data["ok"]) == (
        "9.3.0",
        "major",
        "minor",
        False,
    )


def test_update_dry_run_writes_nothing(invoke: Invoke, world: World) -> None:
    text = world.matrix.read_bytes()
    args = ("providers", "update", "9.2.0", "--level", "patch", "--dry-run")
    table = ok(invoke(*args, "--index-url", world.public.url, matrix=world.matrix))
    assert world.matrix.read_bytes() == text
    assert table.startswith(
        "Package updates for Astro Runtime 9.2.0 (an unreleased entry); dry run: nothing written"
    )
    assert "\n2 packages would be updated in 9.2.0; the policy requires a patch release" in table


def test_update_with_nothing_newer_writes_nothing(invoke: Invoke, world: World) -> None:
    args = ("providers", "update", "9.2.0", "--level", "patch", "--index-url", world.public.url)
    ok(invoke(*args, matrix=world.matrix))
    text = world.matrix.read_bytes()
    again = ok(invoke(*args, matrix=world.matrix))
    assert again == "nothing to update: every package of 9.2.0 is up to date\n"
    assert world.matrix.read_bytes() == text


# -- the cache's freshness ----------------------------------------------------------------------


def test_outdated_within_the_window_asks_nothing_and_refresh_asks_again(
    invoke: Invoke, world: World
) -> None:
    args = ("providers", "outdated", "9.1", "--index-url", world.public.url, "-f", "json")
    first = ok(invoke(*args, matrix=world.matrix))
    world.public.clear_log()
    world.private.clear_log()
    assert ok(invoke(*args, matrix=world.matrix)) == first
    assert world.requests() == []
    assert ok(invoke(*args, "--refresh", matrix=world.matrix)) == first
    pages = [r for r in world.public.requests + world.private.requests]
    assert len(pages) == 3 and all(r.conditional and r.status == 304 for r in pages)


def test_outdated_with_a_zero_ttl_revalidates_every_page(
    invoke: Invoke, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("providers", "outdated", "9.1", "--index-url", world.public.url, "-f", "json")
    ok(invoke(*args, matrix=world.matrix))
    world.public.clear_log()
    world.private.clear_log()
    monkeypatch.setenv("ASTROCTL_CACHE_TTL", "0")
    ok(invoke(*args, matrix=world.matrix))
    assert sorted(r.status for r in world.public.requests + world.private.requests) == [304] * 3


@pytest.mark.parametrize(
    ("extra", "ttl", "message"),
    [
        (("--offline", "--refresh"), None, "--offline and --refresh contradict each other"),
        ((), "soon", "$ASTROCTL_CACHE_TTL 'soon' is not a number of seconds"),
    ],
)
def test_outdated_refuses_contradictory_freshness(
    invoke: Invoke,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    extra: tuple[str, ...],
    ttl: str | None,
    message: str,
) -> None:
    if ttl is not None:
        monkeypatch.setenv("ASTROCTL_CACHE_TTL", ttl)
    args = ("providers", "outdated", "9.1", "--index-url", world.public.url, *extra)
    assert message in failed(invoke(*args, matrix=world.matrix))
    assert world.requests() == []
