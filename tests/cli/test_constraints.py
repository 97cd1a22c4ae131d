"""``astroctl constraints resolve`` through the real entry point.

The upstream constraints file is served over loopback HTTP by the index server (``/files/``),
and uv resolves against that same index; every proxy points at a dead loopback port (with only
loopback exempt), so neither astroctl nor the uv it runs can reach the internet. Rewrite the
goldens with ``ASTROCTL_UPDATE_GOLDEN=1 .venv/bin/pytest tests/cli/test_constraints.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from astroctl import __version__
from astroctl.seams.http import Http
from tests import factories
from tests.helpers import (
    FORMATS,
    Invoke,
    Result,
    assert_golden,
    keep_on_loopback,
    loaded_modules,
    ok,
)
from tests.index_server import Fault, IndexServer
from tests.providers.resolving import add_packages
from tests.seams.private_index import AuthIndexServer, closed_port, write_netrc

OLD = datetime(2023, 1, 1, tzinfo=UTC)
X86_TAG = "cp311-cp311-manylinux_2_17_x86_64"
ARM_TAG = "cp311-cp311-manylinux_2_17_aarch64"
UPSTREAM = b"# Airflow's constraints\r\nalpha==1.0\r\nbeta==1.0\r\nnative==1.0\r\n"
UPSTREAM_FILE = "constraints-2.7.2-3.11.txt"


@dataclass(frozen=True)
class World:
    index: IndexServer
    matrix: Path
    directory: Path

    @property
    def upstream_url(self) -> str:
        return f"{self.index.base}/files/{UPSTREAM_FILE}"

    def normalise(self, text: str) -> str:
        """Output without what changes between runs: the port, the uv version, tmp paths."""
        uv = json.loads(text)["uv"] if text.startswith("{") else None
        text = text.replace(self.index.base, "http://127.0.0.1:PORT")
        text = text.replace(str(self.directory), "TMP")
        text = text.replace(f"astroctl {__version__} ", "astroctl VERSION ")
        return re.sub(r"uv \d+\.\d+\.\d+", "uv VERSION", text).replace(
            f'"uv": "{uv}"', '"uv": "VERSION"'
        )


def matrix_text(index: IndexServer, **releases: dict[str, str]) -> str:
    entries = [
        factories.release(version, "2.7.2", released=date(2023, 10, 12), packages=pins)
        for version, pins in releases.items()
    ]
    doc = factories.document(
        *entries,
        upstream={
            "constraints_url": f"{index.base}/files/constraints-{{airflow}}-{{python}}.txt",
            "index_url": index.url,
        },
    )
    return factories.toml_text(doc)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """9.2.0 overrides beta and adds delta-free pins; 9.3.0 adds a package with only an x86_64
    wheel; 9.4.0 pins two packages in conflict; 9.5.0 adds one with only an sdist and one with
    an x86_64 wheel and an sdist."""
    keep_on_loopback(monkeypatch, tmp_path)
    with IndexServer() as index:
        add_packages(index)
        index.add_file("constraints", UPSTREAM_FILE, UPSTREAM)
        path = tmp_path / "compatibility.toml"
        path.write_text(
            matrix_text(
                index,
                **{
                    "9.2.0": {"beta": "2.0"},
                    "9.3.0": {"beta": "2.0", "x86only": "1.0"},
                    "9.4.0": {"beta": "2.0", "delta": "1.0"},
                    "9.5.0": {"beta": "2.0", "sdonly": "1.0", "x86sdist": "1.0"},
                },
            ),
            encoding="utf-8",
        )
        yield World(index, path, tmp_path)


def failed(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr


def payload(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(result))
    return data


RESOLVE = ("constraints", "resolve")


# -- goldens ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "ext"), FORMATS)
def test_golden(invoke: Invoke, world: World, fmt: str, ext: str) -> None:
    result = invoke(*RESOLVE, "9.2.0", "--check", "--format", fmt, matrix=world.matrix)
    assert_golden(f"constraints/resolve_9.2.0_check.{ext}", world.normalise(ok(result)))
    written = (world.directory / "constraints-3.11.txt").read_text(encoding="utf-8")
    assert_golden("constraints/resolve_9.2.0_check.constraints.txt", world.normalise(written))


# -- what it writes -----------------------------------------------------------------------------


def test_the_file_is_written_into_the_output_directory_the_same_every_time(
    invoke: Invoke, world: World
) -> None:
    out = world.directory / "out"
    out.mkdir()
    data = payload(invoke(*RESOLVE, "9.2", "-o", out, "-f", "json", matrix=world.matrix))
    path = out / "constraints-3.11.txt"
    assert data["path"] == "out/constraints-3.11.txt"
    first = path.read_bytes()
    assert first.endswith(b"\nalpha==1.0\napache-airflow==2.7.2\nbeta==2.0\nnative==1.0\n")
    assert b"\r" not in first
    ok(invoke(*RESOLVE, "9.2", "-o", out, "-f", "json", matrix=world.matrix))
    assert path.read_bytes() == first
    assert sorted(p.name for p in out.iterdir()) == ["constraints-3.11.txt"]


def test_the_json_report(invoke: Invoke, world: World) -> None:
    data = payload(invoke(*RESOLVE, "9.2.0", "-f", "json", matrix=world.matrix))
    assert data["release"] == "9.2.0"
    assert (data["airflow"], data["python"], data["file"]) == (
        "2.7.2",
        "3.11",
        "constraints-3.11.txt",
    )
    assert data["upstream"]["url"] == world.upstream_url
    assert data["upstream"]["origin"] == "network"
    assert data["overrides"] == [{"package": "beta", "upstream": "1.0", "release": "2.0"}]
    assert data["added"] == [{"package": "apache-airflow", "version": "2.7.2"}]
    assert (data["pins"], data["kept"]) == (4, 2)
    assert (data["checks"], data["hashes"], data["uv"]) == ([], False, None)


def test_output_dash_prints_the_file_and_reports_on_stderr(invoke: Invoke, world: World) -> None:
    result = invoke(*RESOLVE, "9.2.0", "--output", "-", matrix=world.matrix)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Constraints of Astro Runtime 9.2.0")
    assert result.stdout.endswith("beta==2.0\nnative==1.0\n")
    assert result.stderr.startswith("printed constraints-3.11.txt: 4 pins")
    assert not (world.directory / "constraints-3.11.txt").exists()


def test_hashes_for_both_architectures(invoke: Invoke, world: World) -> None:
    data = payload(invoke(*RESOLVE, "9.2.0", "--hashes", "-f", "json", matrix=world.matrix))
    assert data["hashes"] is True
    assert [c["architecture"] for c in data["checks"]] == ["amd64", "arm64"]
    text = (world.directory / "constraints-3.11.txt").read_text(encoding="utf-8")
    native = text.split("native==1.0 \\\n", 1)[1].splitlines()
    assert len(native) == 2 and all(line.startswith("    --hash=sha256:") for line in native)


def test_upstream_none_resolves_the_whole_set(invoke: Invoke, world: World) -> None:
    args = (*RESOLVE, "9.2.0", "--upstream", "none", "-f", "json")
    data = payload(invoke(*args, matrix=world.matrix))
    assert data["upstream"] is None
    assert data["index"] == world.index.url
    text = (world.directory / "constraints-3.11.txt").read_text(encoding="utf-8")
    assert text.split("\n\n", 1)[1] == "apache-airflow==2.7.2\nbeta==2.0\n"
    assert world.index.count(f"/files/{UPSTREAM_FILE}") == 0
    assert "# 2 pins resolved by uv, the release's 2 among them.\n" in text
    table = ok(invoke(*RESOLVE, "9.2.0", "--upstream", "none", matrix=world.matrix))
    assert "wrote constraints-3.11.txt: 2 pins (resolved by uv)\n" in table


def test_the_index_comes_from_pip_index_url_before_the_matrix(
    invoke: Invoke, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.matrix.write_text(
        world.matrix.read_text(encoding="utf-8").replace(
            world.index.url, "http://127.0.0.1:9/simple/"
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("PIP_INDEX_URL", world.index.url)
    data = payload(invoke(*RESOLVE, "9.2.0", "--check", "-f", "json", matrix=world.matrix))
    assert data["index"] == world.index.url
    assert all(check["ok"] for check in data["checks"])


UNKNOWN = "the image needs a compiler unless it is pure Python"
NATIVE = (
    "it needs a compiler and headers: it has compiled code (wheels only for cp311-cp311 "
    "manylinux x86_64, cp311-cp311 win_amd64)"
)
SDIST_ONLY = "no wheel for any platform (sdist only): pure Python unless it has extensions"


def no_wheel(pin: str, architecture: str, detail: str = UNKNOWN) -> str:
    return (
        f"astroctl: warning: {pin} has no wheel for linux/{architecture} (Python 3.11): pip "
        f"builds it from source there; {detail}\n"
    )


# 9.5.0: x86sdist (an x86_64 wheel only) needs a compiler on arm64; sdonly has no wheel at all
WARNINGS = (
    no_wheel("x86sdist==1.0", "arm64", NATIVE)
    + no_wheel("sdonly==1.0", "amd64", SDIST_ONLY)
    + no_wheel("sdonly==1.0", "arm64", SDIST_ONLY)
)


def astroctl_pages(index: IndexServer) -> list[str]:
    """The project pages astroctl (not the uv it runs) asked of the index, sorted."""
    return sorted(
        r.path
        for r in index.requests
        if r.headers.get("user-agent", "").startswith("astroctl") and r.path.startswith("/simple/")
    )


def test_pins_built_from_source_are_a_warning_in_every_output(invoke: Invoke, world: World) -> None:
    data = json.loads(
        ok(invoke(*RESOLVE, "9.5.0", "--check", "-f", "json", matrix=world.matrix), WARNINGS)
    )
    assert [(c["architecture"], c["ok"], c["from_source"]) for c in data["checks"]] == [
        ("amd64", True, ["sdonly==1.0"]),
        ("arm64", True, ["sdonly==1.0", "x86sdist==1.0"]),
    ]
    assert data["source_builds"] == [
        {"pin": "x86sdist==1.0", "architectures": ["arm64"], "kind": "native", "detail": NATIVE},
        {
            "pin": "sdonly==1.0",
            "architectures": ["amd64", "arm64"],
            "kind": "sdist-only",
            "detail": SDIST_ONLY,
        },
    ]
    assert astroctl_pages(world.index) == ["/simple/sdonly/", "/simple/x86sdist/"]
    written = (world.directory / "constraints-3.11.txt").read_text(encoding="utf-8")
    assert (
        ": installs on linux/amd64, linux/arm64 (wheels up to manylinux_2_36: "
        "the glibc of Debian bookworm); without a wheel there, built from source:\n"
        f"#   x86sdist==1.0 on linux/arm64: {NATIVE}\n"
        f"#   sdonly==1.0 on linux/amd64, linux/arm64: {SDIST_ONLY}\n" in written
    )
    world.index.clear_log()
    table = ok(invoke(*RESOLVE, "9.5.0", "--check", matrix=world.matrix), WARNINGS)
    assert astroctl_pages(world.index) == []  # the pages are fresh in astroctl's cache
    assert (
        f"  x86sdist==1.0 on arm64: no wheel for Python 3.11, built from source; {NATIVE}\n"
        "  sdonly==1.0 on amd64, arm64: no wheel for Python 3.11, built from source; "
        f"{SDIST_ONLY}\n" in table
    )
    assert (world.directory / "constraints-3.11.txt").read_text(encoding="utf-8") == written


@pytest.mark.parametrize(("fmt", "ext"), FORMATS)
def test_golden_built_from_source(invoke: Invoke, world: World, fmt: str, ext: str) -> None:
    result = invoke(*RESOLVE, "9.5.0", "--check", "--format", fmt, matrix=world.matrix)
    assert_golden(f"constraints/resolve_9.5.0_check.{ext}", world.normalise(ok(result, WARNINGS)))
    written = (world.directory / "constraints-3.11.txt").read_text(encoding="utf-8")
    assert_golden("constraints/resolve_9.5.0_check.constraints.txt", world.normalise(written))


def test_a_set_without_pins_built_from_source_asks_no_page(invoke: Invoke, world: World) -> None:
    data = payload(invoke(*RESOLVE, "9.2.0", "--check", "-f", "json", matrix=world.matrix))
    assert data["source_builds"] == []
    assert astroctl_pages(world.index) == []


def test_wheels_only_makes_a_build_from_source_a_failure(invoke: Invoke, world: World) -> None:
    stderr = failed(invoke(*RESOLVE, "9.5.0", "--wheels-only", matrix=world.matrix), 3)
    assert stderr == (
        "astroctl: error: the constraint set of Astro Runtime 9.5.0 for Python 3.11 needs "
        "packages built from source (--wheels-only; nothing written):\n"
        + WARNINGS.replace("astroctl: warning: ", "  ")
    )
    assert not (world.directory / "constraints-3.11.txt").exists()
    ok(invoke(*RESOLVE, "9.2.0", "--wheels-only", matrix=world.matrix))


@pytest.mark.parametrize(("release", "loaded"), [("9.2.0", False), ("9.5.0", True)])
def test_the_index_client_is_loaded_only_for_pins_built_from_source(
    world: World, release: str, loaded: bool
) -> None:
    """Start-up time: ``--check`` on a set installed from wheels alone never loads the index
    seam; it is imported when some pin is built from source, to read those pages."""
    args = ("--matrix", str(world.matrix), *RESOLVE, release, "--check", "-o", str(world.directory))
    modules = loaded_modules(*args, cwd=world.directory)
    assert ("astroctl.seams.index" in modules) is loaded


def test_offline_after_one_online_run_asks_nothing(invoke: Invoke, world: World) -> None:
    args = (*RESOLVE, "9.2.0", "--check", "-f", "json")
    ok(invoke(*args, matrix=world.matrix))
    written = (world.directory / "constraints-3.11.txt").read_bytes()
    world.index.clear_log()
    data = payload(invoke(*args, "--offline", matrix=world.matrix))
    assert data["upstream"]["origin"] == "cache"
    assert world.index.requests == []
    assert (world.directory / "constraints-3.11.txt").read_bytes() == written


def test_a_fresh_upstream_file_is_not_fetched_again_unless_refreshed(
    invoke: Invoke, world: World
) -> None:
    args = (*RESOLVE, "9.2.0", "-f", "json")
    assert payload(invoke(*args, matrix=world.matrix))["upstream"]["origin"] == "network"
    world.index.clear_log()
    assert payload(invoke(*args, matrix=world.matrix))["upstream"]["origin"] == "cache"
    assert world.index.requests == []
    refreshed = payload(invoke(*args, "--refresh", matrix=world.matrix))
    assert refreshed["upstream"]["origin"] == "network"  # the index's files carry no ETag
    assert [(r.path, r.status) for r in world.index.requests] == [(f"/files/{UPSTREAM_FILE}", 200)]


def test_a_file_url_upstream(invoke: Invoke, world: World) -> None:
    source = world.directory / "up-2.7.2-3.11.txt"
    source.write_bytes(b"alpha==1.0\n")
    template = f"file://{world.directory}/up-{{airflow}}-{{python}}.txt"
    data = payload(
        invoke(*RESOLVE, "9.2.0", "--upstream", template, "-f", "json", matrix=world.matrix)
    )
    assert (data["upstream"]["origin"], data["pins"]) == ("file", 3)


def test_credentials_from_the_environment_never_reach_the_output(
    invoke: Invoke, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$PIP_INDEX_URL may carry credentials (as pip's does): uv and astroctl use them, no output
    and no written file shows them."""
    monkeypatch.setenv("PIP_INDEX_URL", world.index.url.replace("http://", "http://user:s3cret@"))
    args = (*RESOLVE, "9.2.0", "--check")
    for fmt in ("json", "table", "markdown"):
        result = invoke(*args, "-f", fmt, matrix=world.matrix)
        assert result.exit_code == 0, result.stderr
        assert "s3cret" not in result.stdout + result.stderr and "127.0.0.1" in result.stdout
        assert "user" not in result.stderr
    written = (world.directory / "constraints-3.11.txt").read_text(encoding="utf-8")
    assert "s3cret" not in written and "user:" not in written and world.index.url in written


@pytest.mark.parametrize("option", ["--index-url", "--upstream"])
def test_credentials_in_an_argument_are_refused(invoke: Invoke, world: World, option: str) -> None:
    url = world.upstream_url if option == "--upstream" else world.index.url
    keyed = url.replace("http://", "http://robot:s3cret@")
    stderr = failed(invoke(*RESOLVE, "9.2.0", option, keyed, "--check", matrix=world.matrix), 2)
    assert stderr == (
        f"astroctl: error: {option} '{url}': credentials in a URL are refused; put them in a "
        "netrc file (~/.netrc, or the file $NETRC names): "
        "'machine 127.0.0.1 login USER password PASSWORD'\n"
    )
    assert world.index.requests == []
    assert not (world.directory / "constraints-3.11.txt").exists()


def test_credentials_in_the_matrix_are_refused(invoke: Invoke, world: World) -> None:
    text = world.matrix.read_text(encoding="utf-8")
    keyed = world.index.base.replace("http://", "http://robot:s3cret@")
    world.matrix.write_text(
        text.replace(f'constraints_url = "{world.index.base}', f'constraints_url = "{keyed}'),
        encoding="utf-8",
    )
    stderr = failed(invoke(*RESOLVE, "9.2.0", matrix=world.matrix), 2)
    assert stderr.startswith("astroctl: error: [upstream] constraints_url 'http://127.0.0.1:")
    assert "netrc" in stderr and "s3cret" not in stderr and "robot" not in stderr


# -- private indexes ----------------------------------------------------------------------------


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The HTTP seam's retries still happen and are announced, without their waits."""

    def wait(self: Http, delay: float, reason: str) -> None:
        if self._notify is not None:
            self._notify(f"retrying in {delay:.1f} s: {reason}")

    monkeypatch.setattr(Http, "_wait", wait)


def with_private(world: World, index: str) -> None:
    """9.2.0 also pins astronomer-providers-logging, served from ``index``."""
    text = matrix_text(
        world.index, **{"9.2.0": {"beta": "2.0", "astronomer-providers-logging": "1.3.0"}}
    )
    doc = text + f'\n[packages.astronomer-providers-logging]\nindex = "{index}"\n'
    world.matrix.write_text(doc, encoding="utf-8")


@pytest.mark.usefixtures("no_backoff")
@pytest.mark.parametrize("upstream", ["none", "default"])
def test_a_private_index_that_is_down_leaves_its_package_out(
    invoke: Invoke, world: World, upstream: str
) -> None:
    with closed_port() as down:
        with_private(world, down.url)
        extra = ("--upstream", "none") if upstream == "none" else ()
        result = invoke(*RESOLVE, "9.2.0", "--check", "-f", "json", *extra, matrix=world.matrix)
    assert result.exit_code == 0, result.stderr
    problem = f"{down.url}: cannot connect (Connection refused) after 5 attempts"
    assert result.stderr.endswith(
        f"astroctl: warning: astronomer-providers-logging==1.3.0: left out of uv's resolution "
        f"and check: {problem}; it is pinned in the file unchecked, and the header says so\n"
    )
    data = json.loads(result.stdout)
    assert [c["ok"] for c in data["checks"]] == [True, True]
    assert data["extra_index_urls"] == []
    text = (world.directory / "constraints-3.11.txt").read_text(encoding="utf-8")
    what = "resolved or checked" if upstream == "none" else "checked"
    assert f"# Not {what} by uv: their own index did not serve them where this was made.\n" in text
    assert f"#   astronomer-providers-logging==1.3.0: {problem}\n" in text
    assert "\nastronomer-providers-logging==1.3.0\n" in text


def test_a_private_index_behind_netrc_credentials(
    invoke: Invoke, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = write_netrc(world.directory / "netrc", "127.0.0.1", "robot", "s3cret")
    monkeypatch.setenv("NETRC", str(netrc))
    with AuthIndexServer("robot", "s3cret") as private:
        private.add("astronomer-providers-logging", "1.3.0", upload_time=OLD)
        with_private(world, private.url)
        args = (*RESOLVE, "9.2.0", "--upstream", "none", "--hashes")
        outputs = []
        for fmt in ("json", "table"):
            result = invoke(*args, "-f", fmt, matrix=world.matrix)
            assert result.exit_code == 0, result.stderr
            outputs += [result.stdout, result.stderr]
        assert private.authorized > 0 and private.refused_agents <= {"uv"}
        text = (world.directory / "constraints-3.11.txt").read_text(encoding="utf-8")
        assert f"extra {private.url}" in text and "Not resolved" not in text
    assert "astronomer-providers-logging==1.3.0 \\\n    --hash=sha256:" in text
    for shown in (*outputs, text):
        assert "robot" not in shown and "s3cret" not in shown


# -- a flavor -----------------------------------------------------------------------------------

STANDARD = {"alpha": "1.0", "beta": "2.0", "native": "2.0"}
SLIM = {"beta": "2.0"}
SLIM_FILE = "constraints-slim-3.11.txt"


def with_slim(world: World) -> None:
    """11.0.0 pins alpha 1.0, beta 2.0 and native 2.0 (upstream: 1.0); its slim image pins beta
    2.0 alone."""
    for tag in (X86_TAG, ARM_TAG):
        world.index.add("native", "2.0", tags=tag, upload_time=OLD)
    entry = factories.release(
        "11.0.0",
        "2.7.2",
        released=date(2023, 10, 12),
        packages=STANDARD,
        flavors={"slim": {"packages": SLIM}},
    )
    upstream = {
        "constraints_url": f"{world.index.base}/files/constraints-{{airflow}}-{{python}}.txt",
        "index_url": world.index.url,
    }
    text = factories.toml_text(factories.document(entry, upstream=upstream))
    world.matrix.write_text(text, encoding="utf-8")


def written(world: World) -> list[str]:
    return sorted(p.name for p in world.directory.glob("constraints-*.txt"))


def test_a_flavors_pins_overlay_upstream(invoke: Invoke, world: World) -> None:
    """The slim set: upstream's pins with the slim image's on top; native, pinned 2.0 by the
    standard image alone, stays at upstream's 1.0."""
    with_slim(world)
    data = payload(
        invoke(*RESOLVE, "11.0.0", "--flavor", "slim", "-f", "json", matrix=world.matrix)
    )
    assert (data["release"], data["flavor"], data["file"], data["path"]) == (
        "11.0.0",
        "slim",
        SLIM_FILE,
        SLIM_FILE,
    )
    assert data["overrides"] == [{"package": "beta", "upstream": "1.0", "release": "2.0"}]
    assert data["added"] == [{"package": "apache-airflow", "version": "2.7.2"}]
    text = (world.directory / SLIM_FILE).read_text(encoding="utf-8")
    header, body = text.split("\n\n", 1)
    assert body == "alpha==1.0\napache-airflow==2.7.2\nbeta==2.0\nnative==1.0\n"
    assert header.startswith(
        "# Constraints of Astro Runtime 11.0.0 (slim image): Apache Airflow 2.7.2, Python 3.11\n"
    )
    digest = hashlib.sha256(b"apache-airflow==2.7.2\nbeta==2.0\n").hexdigest()
    assert f"#             pins sha256:{digest}\n" in header
    assert written(world) == [SLIM_FILE]
    standard = payload(invoke(*RESOLVE, "11.0.0", "-f", "json", matrix=world.matrix))
    assert (standard["flavor"], standard["file"]) == (None, "constraints-3.11.txt")
    assert [o["package"] for o in standard["overrides"]] == ["beta", "native"]
    assert written(world) == ["constraints-3.11.txt", SLIM_FILE]
    assert (world.directory / SLIM_FILE).read_text(encoding="utf-8") == text


def test_the_table_and_the_printed_file_say_the_flavor(invoke: Invoke, world: World) -> None:
    with_slim(world)
    table = ok(invoke(*RESOLVE, "11.0.0", "--flavor", "slim", matrix=world.matrix))
    assert "Constraints of Astro Runtime 11.0.0 (slim image) for Python 3.11 (Airflow 2.7.2)" in (
        table
    )
    assert f"\nwrote {SLIM_FILE}: 4 pins (2 as upstream, 1 overridden, 1 added by the" in table
    result = invoke(*RESOLVE, "11.0.0", "--flavor", "slim", "-o", "-", matrix=world.matrix)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (world.directory / SLIM_FILE).read_text(encoding="utf-8")
    assert result.stderr.startswith(f"printed {SLIM_FILE}: 4 pins")


def test_upstream_none_resolves_a_smaller_set_for_a_flavor(invoke: Invoke, world: World) -> None:
    with_slim(world)
    args = (*RESOLVE, "11.0.0", "--upstream", "none", "-f", "json")
    assert payload(invoke(*args, matrix=world.matrix))["pins"] == 4
    data = payload(invoke(*args, "--flavor", "slim", matrix=world.matrix))
    assert (data["flavor"], data["pins"], data["upstream"]) == ("slim", 2, None)
    text = (world.directory / SLIM_FILE).read_text(encoding="utf-8")
    assert text.split("\n\n", 1)[1] == "apache-airflow==2.7.2\nbeta==2.0\n"
    assert "# 2 pins resolved by uv, the slim image's 2 among them.\n" in text
    assert world.index.count(f"/files/{UPSTREAM_FILE}") == 0


def test_check_and_hashes_of_a_flavor(invoke: Invoke, world: World) -> None:
    with_slim(world)
    args = (*RESOLVE, "11.0.0", "--flavor", "slim", "--check", "--hashes", "-f", "json")
    data = payload(invoke(*args, matrix=world.matrix))
    assert [(c["architecture"], c["ok"]) for c in data["checks"]] == [
        ("amd64", True),
        ("arm64", True),
    ]
    text = (world.directory / SLIM_FILE).read_text(encoding="utf-8")
    assert "# Checked with uv " in text and "native==1.0 \\\n    --hash=sha256:" in text


@pytest.mark.parametrize(
    ("release", "message"),
    [
        ("11.0.0", "11.0.0 has no flavor 'fat'; its flavors: slim"),
        ("9.2.0", "9.2.0 has no flavor 'fat'; it has only the standard image"),
    ],
)
@pytest.mark.parametrize("upstream", ["none", "default"])
def test_an_unknown_flavor_exits_2_before_any_request(
    invoke: Invoke, world: World, release: str, message: str, upstream: str
) -> None:
    if release == "11.0.0":
        with_slim(world)
    extra = ("--upstream", "none") if upstream == "none" else ()
    args = (*RESOLVE, release, "--flavor", "fat", "--check", *extra)
    assert failed(invoke(*args, matrix=world.matrix), 2) == f"astroctl: error: {message}\n"
    assert world.index.requests == []
    assert written(world) == []


def test_a_flavor_from_a_file_loads_no_index_client(world: World) -> None:
    """Start-up time: --flavor (providers.listing) brings no HTTP library or index client."""
    with_slim(world)
    (world.directory / "up-2.7.2-3.11.txt").write_text("alpha==1.0\n", encoding="utf-8")
    template = f"file://{world.directory}/up-{{airflow}}-{{python}}.txt"
    args = ("--matrix", str(world.matrix), *RESOLVE, "11.0.0", "--flavor", "slim")
    modules = loaded_modules(*args, "--upstream", template, cwd=world.directory)
    assert written(world) == [SLIM_FILE]
    heavy = {"httpx", "astroctl.seams.index", "astroctl.providers.outdated", "packaging.tags"}
    assert not heavy & modules, sorted(heavy & modules)


# -- failures -----------------------------------------------------------------------------------


def test_a_set_that_does_not_install_on_arm64_exits_3(invoke: Invoke, world: World) -> None:
    stderr = failed(invoke(*RESOLVE, "9.3.0", "--check", matrix=world.matrix), 3)
    assert stderr.startswith(
        "astroctl: error: the constraint set of Astro Runtime 9.3.0 for Python 3.11 does not "
        "install (nothing written):\n"
        "  amd64 (x86_64-manylinux_2_36): installs\n"
        "  arm64 (aarch64-manylinux_2_36): no solution\n"
    )
    assert "x86only" in stderr and "manylinux_2_17_x86_64" in stderr  # uv's own explanation
    assert not (world.directory / "constraints-3.11.txt").exists()


def test_two_pins_in_conflict_exit_3(invoke: Invoke, world: World) -> None:
    stderr = failed(invoke(*RESOLVE, "9.4.0", "--check", matrix=world.matrix), 3)
    assert "amd64 (x86_64-manylinux_2_36): no solution" in stderr
    assert "delta" in stderr


def test_without_check_a_broken_set_is_still_written(invoke: Invoke, world: World) -> None:
    ok(invoke(*RESOLVE, "9.3.0", matrix=world.matrix))
    assert (world.directory / "constraints-3.11.txt").is_file()


BAD = [
    (("9.9.9",), "no release matches '9.9.9'"),
    (("9.2.0", "--python", "3.12"), "--python '3.12': 9.2.0 ships Python 3.10, 3.11, not 3.12"),
    (("9.2.0", "--output", "missing"), "--output missing: no such directory"),
    (("9.2.0", "--exclude-newer", "yesterday"), "--exclude-newer 'yesterday' is not a date"),
    (("9.2.0", "--upstream", "ftp://example.invalid/c.txt"), "not an http(s) or file URL"),
    (("9.2.0", "-f", "yaml"), "--format 'yaml' is not a format"),
    (("9.2.0", "--offline", "--refresh"), "--offline and --refresh contradict each other"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_exits_2(
    invoke: Invoke, world: World, args: tuple[str, ...], message: str
) -> None:
    stderr = failed(invoke(*RESOLVE, *args, matrix=world.matrix), 2)
    assert message in stderr


def test_a_malformed_upstream_file_exits_2_naming_the_line(invoke: Invoke, world: World) -> None:
    world.index.add_file("constraints", UPSTREAM_FILE, b"alpha==1.0\r\n\r\nbeta>=1\r\n")
    stderr = failed(invoke(*RESOLVE, "9.2.0", matrix=world.matrix), 2)
    assert stderr == (
        f"astroctl: error: {world.upstream_url}: 1 malformed line\n"
        "  line 3: not an exact name==version pin: 'beta>=1'\n"
    )


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault.not_found(), "HTTP 404 Not Found: upstream publishes no constraints"),
        (Fault.error(403), "HTTP 403 Forbidden"),
    ],
)
def test_an_upstream_that_cannot_be_fetched_exits_1(
    invoke: Invoke, world: World, fault: Fault, message: str
) -> None:
    world.index.fail(f"/files/{UPSTREAM_FILE}", fault)
    stderr = failed(invoke(*RESOLVE, "9.2.0", matrix=world.matrix), 1)
    assert message in stderr


@pytest.mark.usefixtures("no_backoff")
def test_an_upstream_file_cut_short_writes_nothing(invoke: Invoke, world: World) -> None:
    """Every attempt gets half the file and a closed connection: exit 1, and neither the
    output file nor a cache entry holds the half."""
    world.index.fail(f"/files/{UPSTREAM_FILE}", *[Fault.truncated()] * 5)
    stderr = failed(invoke(*RESOLVE, "9.2.0", "--check", matrix=world.matrix), 1)
    assert f"GET {world.upstream_url}: connection failed" in stderr
    assert "after 5 attempts" in stderr and "Traceback" not in stderr
    assert not (world.directory / "constraints-3.11.txt").exists()
    assert not list((world.directory / "cache").glob("constraints-v1/*/*"))
    assert world.index.count(f"/files/{UPSTREAM_FILE}") == 5


@pytest.mark.usefixtures("no_backoff")
def test_an_upstream_file_cut_short_once_is_fetched_again(invoke: Invoke, world: World) -> None:
    world.index.fail(f"/files/{UPSTREAM_FILE}", Fault.truncated())
    args = (*RESOLVE, "9.2.0", "-f", "json")
    result = invoke(*args, matrix=world.matrix)
    assert result.exit_code == 0 and "retrying in" in result.stderr
    data = json.loads(result.stdout)
    assert data["upstream"]["sha256"] == hashlib.sha256(UPSTREAM).hexdigest()
    assert world.index.count(f"/files/{UPSTREAM_FILE}") == 2


def test_offline_without_a_cache_exits_1(invoke: Invoke, world: World) -> None:
    stderr = failed(invoke(*RESOLVE, "9.2.0", "--offline", matrix=world.matrix), 1)
    assert "not in the cache" in stderr and "run once without --offline" in stderr
    assert world.index.requests == []


def test_help(invoke: Invoke) -> None:
    result = invoke(*RESOLVE, "-h", matrix=None)
    assert result.exit_code == 0
    for option in (
        "--python X.Y",
        "--flavor NAME",
        "--output DIR",
        "--hashes",
        "--check",
        "--upstream URL|none",
    ):
        assert option in result.stdout


@pytest.mark.usefixtures("no_backoff")
def test_an_upstream_file_that_drips_forever_writes_nothing(
    invoke: Invoke, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upstream answers at once, then drips its ~11 KB body a byte every 0.2 s (over half
    an hour; every read is quick). Each attempt ends at ``$ASTROCTL_HTTP_ATTEMPT_TIME`` (0.3 s)
    and is retried; after the fifth, one plain line: exit 1, no output file, no cache entry."""
    import time  # here, not at the top: this module is shared, and this test was added last

    monkeypatch.setenv("ASTROCTL_HTTP_ATTEMPT_TIME", "0.3")
    path = f"/files/{UPSTREAM_FILE}"
    world.index.add_file("constraints", UPSTREAM_FILE, UPSTREAM + b"# padding\r\n" * 1000)
    world.index.fail(path, *[Fault.dripping(0.2)] * 10)
    started = time.monotonic()
    stderr = failed(invoke(*RESOLVE, "9.2.0", "--check", matrix=world.matrix), 1)
    elapsed = time.monotonic() - started
    reason = "timed out reading the response body (not complete after 0.3 s)"
    *notes, last = stderr.splitlines()
    assert last == f"astroctl: error: GET {world.upstream_url}: {reason} after 5 attempts"
    assert len(notes) == 4 and all(note.endswith(f": {reason}") for note in notes)
    assert world.index.count(path) == 5
    assert elapsed < 5  # 5 attempts of 0.3-0.5 s; the drip would take 37 minutes
    assert not (world.directory / "constraints-3.11.txt").exists()
    assert not list((world.directory / "cache").glob("constraints-v1/*/*"))
