"""A release's constraint set: overlay, render, and check with the real uv.

uv resolves against the loopback index of ``tests/index_server`` with every proxy pointed at a
dead loopback port, so neither astroctl nor uv leaves the machine.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from astroctl import __version__
from astroctl.errors import EXIT_PROBLEMS, ChecksFailed, InputError, OperationError
from astroctl.matrix.model import Matrix
from astroctl.providers.constraints import (
    ConstraintsDoNotInstall,
    Inputs,
    Options,
    Override,
    Resolution,
    overlay,
    pins_digest,
    release_pins,
    render,
    resolve,
    write,
)
from astroctl.providers.target import IndexChoice
from astroctl.providers.upstream import Pin, UpstreamFile, parse_constraints
from astroctl.seams.http import Http
from astroctl.seams.process import Runner
from tests.helpers import RecordingRunner, assert_golden
from tests.index_server import IndexServer
from tests.providers.resolving import (
    ARM_TAG,
    OLD,
    RELEASED,
    UPSTREAM,
    X86_TAG,
    release_matrix,
    run_resolve,
)
from tests.seams.private_index import AuthIndexServer, closed_port, write_netrc

pytestmark = pytest.mark.usefixtures("sandbox")  # see conftest.py

URL = "https://constraints.example/constraints-2.7.2/constraints-3.11.txt"


# -- the overlay ---------------------------------------------------------------------------------


def test_the_release_wins_and_every_change_is_reported() -> None:
    upstream = parse_constraints(
        "amazon==8.7.0\nboto3==1.28.0\ncelery==5.3.4 ; python_version >= '3.8'\nhttp==4.5.2\n",
        "up",
    )
    merged = overlay(upstream, {"amazon": "8.7.1", "celery": "5.3.5", "http": "4.5.2.0", "x": "1"})
    assert merged.overrides == (
        Override("amazon", "8.7.0", "8.7.1"),
        Override("celery", "5.3.4", "5.3.5"),
    )
    assert merged.added == (Pin("x", "1"),)
    assert merged.kept == 2  # boto3 untouched, http the same version spelled otherwise
    assert [p.requirement for p in merged.pins] == [
        "amazon==8.7.1",
        "boto3==1.28.0",
        'celery==5.3.5; python_version >= "3.8"',  # the upstream marker stays
        "http==4.5.2.0",  # the release's spelling
        "x==1",
    ]


def test_release_pins_include_airflow() -> None:
    matrix = release_matrix({"astronomer-providers": "1.18.0"}, airflow="2.7.2+astro.1")
    assert release_pins(matrix.releases[-1]) == {
        "apache-airflow": "2.7.2+astro.1",
        "astronomer-providers": "1.18.0",
    }


# -- the file ------------------------------------------------------------------------------------


SAMPLE = "amazon==8.7.0\nboto3==1.28.0\npywin32==306; sys_platform == 'win32'\n"


def sample(hashes: dict[str, tuple[str, ...]] | None = None, text: str = SAMPLE) -> Resolution:
    body = text.encode()
    upstream = UpstreamFile(
        URL, hashlib.sha256(body).hexdigest(), parse_constraints(text, URL), "network"
    )
    matrix = release_matrix({"amazon": "8.7.1", "astronomer-providers": "1.18.0"})
    release = matrix.releases[-1]
    resolution = Resolution(
        release,
        "3.11",
        URL,
        upstream,
        overlay(upstream.pins, release_pins(release)),
        Inputs("data/compatibility.toml"),
        hashes=hashes,
    )
    return replace(resolution, text=render(resolution))


def test_the_file_names_its_inputs_and_is_sorted() -> None:
    text = sample().text.replace(f"astroctl {__version__} ", "astroctl VERSION ")
    assert_golden("constraints/constraints-3.11.txt", text)


def test_the_same_inputs_give_the_same_bytes() -> None:
    first = sample().text
    assert sample().text == first
    reordered = sample(text="".join(reversed(SAMPLE.splitlines(keepends=True))))
    assert reordered.text.split("\n\n", 1)[1] == first.split("\n\n", 1)[1]


def test_the_header_names_the_digests() -> None:
    resolution = sample()
    header = resolution.text.split("\n\n", 1)[0]
    assert f"sha256:{resolution.upstream.sha256}" in header  # type: ignore[union-attr]
    assert f"pins sha256:{pins_digest(release_pins(resolution.release))}" in header
    assert "release 9.2.0 (2023-10-12)" in header


def test_hashes_are_written_in_pips_hash_checking_format() -> None:
    text = sample({"amazon": ("sha256:aa", "sha256:bb"), "boto3": ("sha256:cc",)}).text
    assert text.split("\n\n", 1)[1].splitlines() == [
        "amazon==8.7.1 \\",
        "    --hash=sha256:aa \\",
        "    --hash=sha256:bb",
        "apache-airflow==2.7.2",
        "astronomer-providers==1.18.0",
        "boto3==1.28.0 \\",
        "    --hash=sha256:cc",
        'pywin32==306; sys_platform == "win32"',
    ]


def test_write_is_atomic_and_refuses_a_missing_directory(tmp_path: Path) -> None:
    resolution = sample()
    path = write(resolution, tmp_path)
    assert path == tmp_path / "constraints-3.11.txt"
    assert path.read_text(encoding="utf-8") == resolution.text
    assert [p.name for p in tmp_path.iterdir()] == ["constraints-3.11.txt"]
    with pytest.raises(InputError, match="not a directory"):
        write(resolution, tmp_path / "missing")


# -- resolving with uv ---------------------------------------------------------------------------


def test_a_set_that_installs_on_both_architectures(index: IndexServer, tmp_path: Path) -> None:
    matrix = release_matrix({"beta": "2.0"})
    result = run_resolve(matrix, index, tmp_path, UPSTREAM, check=True)
    assert [(c.architecture, c.platform, c.ok) for c in result.checks] == [
        ("amd64", "x86_64-manylinux_2_36", True),
        ("arm64", "aarch64-manylinux_2_36", True),
    ]
    assert result.overlay.overrides == (Override("beta", "1.0", "2.0"),)
    assert [p.requirement for p in result.pins] == [
        "alpha==1.0",
        "apache-airflow==2.7.2",
        "beta==2.0",
        "native==1.0",
    ]
    assert result.hashes is None
    assert result.inputs.index == IndexChoice(index.url, "--index-url")
    assert result.inputs.exclude_newer == RELEASED
    assert "# Checked with uv " in result.text
    assert (
        "installs on linux/amd64, linux/arm64 (wheels up to manylinux_2_36: "
        "the glibc of Debian bookworm)." in result.text
    )


def test_a_package_with_only_an_x86_64_wheel_fails_on_arm64(
    index: IndexServer, tmp_path: Path
) -> None:
    matrix = release_matrix({"x86only": "1.0"})
    with pytest.raises(ConstraintsDoNotInstall) as caught:
        run_resolve(matrix, index, tmp_path, UPSTREAM, check=True)
    failure = caught.value
    assert failure.exit_code == EXIT_PROBLEMS
    assert [(c.architecture, c.ok) for c in failure.checks] == [("amd64", True), ("arm64", False)]
    lines = failure.message.splitlines()
    assert lines[:3] == [
        "the constraint set of Astro Runtime 9.2.0 for Python 3.11 does not install "
        "(nothing written):",
        "  amd64 (x86_64-manylinux_2_36): installs",
        "  arm64 (aarch64-manylinux_2_36): no solution",
    ]
    assert "x86only" in failure.message and "manylinux_2_17_x86_64" in failure.message


def test_an_architecture_the_release_does_not_ship_is_not_checked(
    index: IndexServer, tmp_path: Path
) -> None:
    matrix = release_matrix({"x86only": "1.0"}, architectures=("amd64",))
    result = run_resolve(matrix, index, tmp_path, UPSTREAM, check=True)
    assert [c.architecture for c in result.checks] == ["amd64"]


def test_two_pins_in_conflict_fail_the_check(index: IndexServer, tmp_path: Path) -> None:
    matrix = release_matrix({"beta": "2.0", "delta": "1.0"})  # delta needs beta<2
    with pytest.raises(ConstraintsDoNotInstall) as caught:
        run_resolve(matrix, index, tmp_path, UPSTREAM, check=True)
    assert [c.ok for c in caught.value.checks] == [False, False]
    assert "delta" in caught.value.message and "beta" in caught.value.message


def test_a_pin_uploaded_after_the_release_date_fails_the_check(
    index: IndexServer, tmp_path: Path
) -> None:
    matrix = release_matrix({"beta": "3.0"})
    with pytest.raises(ConstraintsDoNotInstall, match="exclude-newer"):
        run_resolve(matrix, index, tmp_path, UPSTREAM, check=True)
    later = run_resolve(matrix, index, tmp_path, UPSTREAM, check=True, exclude_newer=None)
    assert all(c.ok for c in later.checks)


def test_hashes_hold_for_both_architectures(index: IndexServer, tmp_path: Path) -> None:
    matrix = release_matrix({})
    result = run_resolve(matrix, index, tmp_path, UPSTREAM, hashes=True)
    assert result.hashes is not None
    assert set(result.hashes) == {"alpha", "apache-airflow", "beta", "native"}
    assert len(result.hashes["native"]) == 2  # the x86_64 wheel and the aarch64 wheel
    assert len(result.hashes["alpha"]) == 1
    native = result.text.split("native==1.0 \\\n", 1)[1].splitlines()[:2]
    assert [line.split(":")[0] for line in native] == ["    --hash=sha256", "    --hash=sha256"]
    assert native[0].endswith(" \\") and not native[1].endswith("\\")


def test_what_the_set_does_not_pin_is_reported(index: IndexServer, tmp_path: Path) -> None:
    notes: list[str] = []
    result = run_resolve(release_matrix({}), index, tmp_path, "alpha==1.0\n", notes, check=True)
    assert [c.unpinned for c in result.checks] == [("beta==2.0",), ("beta==2.0",)]
    assert notes == [
        "amd64: the set does not pin what it needs: beta==2.0",
        "arm64: the set does not pin what it needs: beta==2.0",
    ]


def test_check_with_hashes_keeps_the_files_either_architecture_installs(
    index: IndexServer, tmp_path: Path
) -> None:
    matrix = release_matrix({"x86sdist": "1.0"})
    result = run_resolve(matrix, index, tmp_path, UPSTREAM, check=True, hashes=True)
    assert result.hashes is not None
    x86_wheel = f"x86sdist-1.0-{X86_TAG}.whl"
    wanted = [file_hash(index, x86_wheel), file_hash(index, "x86sdist-1.0.tar.gz")]
    assert result.hashes["x86sdist"] == tuple(sorted(wanted))  # not the Windows wheel's
    assert [c.from_source for c in result.checks] == [(), ("x86sdist==1.0",)]


def uv_compiles(runner: Runner) -> list[tuple[str, ...]]:
    """The ``uv pip compile`` argvs ``runner`` was asked to run."""
    return [argv for argv in runner.recorded if argv[1:3] == ("pip", "compile")]


def file_hash(index: IndexServer, filename: str) -> str:
    """``sha256:<hex>`` of a file as the index serves it."""
    import httpx

    response = httpx.get(index.base + index.file_path(filename))
    response.raise_for_status()
    return "sha256:" + hashlib.sha256(response.content).hexdigest()


@pytest.mark.parametrize("check", [True, False], ids=["check", "no-check"])
def test_hashes_take_one_uv_run_per_architecture(
    index: IndexServer, tmp_path: Path, check: bool
) -> None:
    runner = Runner(timeout=60)
    matrix = release_matrix({"x86sdist": "1.0"})
    options: dict[str, Any] = {"check": check, "hashes": True, "runner": runner}
    result = run_resolve(matrix, index, tmp_path, UPSTREAM, **options)
    compiles = uv_compiles(runner)
    platforms = [argv[argv.index("--python-platform") + 1] for argv in compiles]
    assert sorted(platforms) == ["aarch64-manylinux_2_36", "x86_64-manylinux_2_36"]
    assert all("pylock.toml" in argv and "--generate-hashes" not in argv for argv in compiles)
    assert sorted(c.argv for c in result.checks) == sorted(compiles)
    assert result.hashes is not None and result.hashes["x86sdist"]


def test_hashes_of_platform_wheels_are_those_of_the_release_architectures(
    index: IndexServer, tmp_path: Path
) -> None:
    """Linux x86_64 and aarch64 wheels and the sdist; a Windows or macOS wheel is never
    installed in the image, so pip's --require-hashes does not need it."""
    files = {
        tag: index.add("mixed", "1.0", tags=tag, upload_time=OLD)[0]
        for tag in (X86_TAG, ARM_TAG, "cp311-cp311-win_amd64", "cp311-cp311-macosx_11_0_arm64")
    }
    (sdist,) = index.add("mixed", "1.0", wheel=False, sdist=True, upload_time=OLD)
    wanted = sorted(file_hash(index, name) for name in (files[X86_TAG], files[ARM_TAG], sdist))
    for check in (True, False):
        matrix = release_matrix({"mixed": "1.0"})
        result = run_resolve(matrix, index, tmp_path, UPSTREAM, check=check, hashes=True)
        assert result.hashes is not None
        assert result.hashes["mixed"] == tuple(wanted)
        assert [c.from_source for c in result.checks] == [(), ()]
    block = result.text.split("mixed==1.0 \\\n", 1)[1].splitlines()[:3]
    assert block == [
        f"    --hash={wanted[0]} \\",
        f"    --hash={wanted[1]} \\",
        f"    --hash={wanted[2]}",
    ]


def test_a_pure_python_package_carries_its_wheels_hash(index: IndexServer, tmp_path: Path) -> None:
    (wheel, sdist) = index.add("purepy", "1.0", sdist=True, upload_time=OLD)
    matrix = release_matrix({"purepy": "1.0"})
    result = run_resolve(matrix, index, tmp_path, UPSTREAM, hashes=True)
    assert wheel.endswith("-py3-none-any.whl")
    assert result.hashes is not None
    assert result.hashes["purepy"] == tuple(
        sorted([file_hash(index, wheel), file_hash(index, sdist)])
    )
    assert result.hashes["alpha"] == (file_hash(index, "alpha-1.0-py3-none-any.whl"),)


def test_hashes_without_check_still_say_what_is_built_from_source(
    index: IndexServer, tmp_path: Path
) -> None:
    """The lock uv prints for the hashes is the check's: a pin with no wheel on some
    architecture is said as with --check (a warning, exit 0)."""
    notes: list[str] = []
    matrix = release_matrix({"x86sdist": "1.0"})
    result = run_resolve(matrix, index, tmp_path, UPSTREAM, notes, hashes=True)
    assert [(c.architecture, c.from_source) for c in result.checks] == [
        ("amd64", ()),
        ("arm64", ("x86sdist==1.0",)),
    ]
    assert notes == [
        "x86sdist==1.0 has no wheel for linux/arm64 (Python 3.11): pip builds it from source "
        "there; the image needs a compiler unless it is pure Python"
    ]
    assert (
        "#   x86sdist==1.0 on linux/arm64: the image needs a compiler unless it is pure Python\n"
        in result.text
    )


def test_a_package_from_a_private_index_is_found_there(tmp_path: Path, index: IndexServer) -> None:
    with IndexServer() as private:
        private.add("logging", "1.3.0", upload_time=OLD)
        matrix = release_matrix({"logging": "1.3.0"}, packages={"logging": {"index": private.url}})
        result = run_resolve(matrix, index, tmp_path, UPSTREAM, check=True)
        assert f"extra {private.url}" in result.text
    assert all(c.ok for c in result.checks)


# -- private indexes: asked before uv, left out when they do not answer ------------------------


def test_a_private_index_that_is_down_is_left_out_and_said(
    index: IndexServer, client: Http, tmp_path: Path
) -> None:
    notes: list[str] = []
    with closed_port() as down:
        matrix = release_matrix(
            {"alpha": "1.0", "logging": "1.3.0"}, packages={"logging": {"index": down.url}}
        )
        options: dict[str, Any] = {"check": True, "http": client, "cache_dir": tmp_path / "cache"}
        result = run_resolve(matrix, index, tmp_path, None, notes, **options)
    problem = f"{down.url}: cannot connect (Connection refused)"
    (left,) = result.inputs.left_out
    assert (left.name, left.version, left.index) == ("logging", "1.3.0", down.url)
    assert left.problem == problem
    assert notes == [
        f"logging==1.3.0: left out of uv's resolution and check: {problem}; it is pinned in "
        "the file unchecked, and the header says so"
    ]
    assert [p.requirement for p in result.pins] == [
        "alpha==1.0",
        "apache-airflow==2.7.2",
        "beta==2.0",
        "logging==1.3.0",
    ]
    assert result.inputs.extra_index_urls == ()  # uv was never told of the index that is down
    assert all(c.ok for c in result.checks)
    assert not any(down.base in word for c in result.checks for word in c.argv)
    assert result.overlay.added == ()  # pinned as the release pins it, not "resolved"
    header = [line for line in result.text.splitlines() if line.startswith("#")]
    assert header[-5:] == [
        "# 4 pins: 3 resolved by uv, the release's 2 among them, and 1 of the release's not "
        "resolved.",
        f"# Checked with uv {result.inputs.uv_version}: installs on linux/amd64, linux/arm64 "
        "(wheels up to manylinux_2_36: the glibc of Debian bookworm).",
        "# Not resolved or checked by uv: their own index did not serve them where this was made.",
        "# They are pinned below as the release pins them; what they need is not in this set:",
        f"#   logging==1.3.0: {problem}",
    ]


def test_with_an_upstream_file_a_package_left_out_is_not_checked_nor_hashed(
    index: IndexServer, client: Http, tmp_path: Path
) -> None:
    with closed_port() as down:
        matrix = release_matrix({"logging": "1.3.0"}, packages={"logging": {"index": down.url}})
        options: dict[str, Any] = {"hashes": True, "http": client, "cache_dir": tmp_path / "cache"}
        result = run_resolve(matrix, index, tmp_path, UPSTREAM, **options)
    assert [item.name for item in result.inputs.left_out] == ["logging"]
    assert result.hashes is not None and "logging" not in result.hashes
    assert "\nlogging==1.3.0\n" in result.text  # the pin, without a hash
    assert "# Not checked by uv: their own index did not serve them" in result.text
    assert "what they need is not in this set, and they carry no hashes:" in result.text


def test_a_private_index_that_answers_is_asked_first_and_given_to_uv(
    index: IndexServer, client: Http, tmp_path: Path
) -> None:
    with IndexServer() as private:
        private.add("logging", "1.3.0", upload_time=OLD)
        matrix = release_matrix({"logging": "1.3.0"}, packages={"logging": {"index": private.url}})
        options: dict[str, Any] = {"check": True, "http": client, "cache_dir": tmp_path / "cache"}
        result = run_resolve(matrix, index, tmp_path, UPSTREAM, **options)
        assert private.paths()[0] == "/simple/logging/"  # astroctl's one question, then uv's
        assert result.inputs.extra_index_urls == (private.url,)
    assert result.inputs.left_out == ()
    assert all(c.ok for c in result.checks)
    assert "Not checked" not in result.text


def test_a_private_index_without_the_package_leaves_it_out(
    index: IndexServer, client: Http, tmp_path: Path
) -> None:
    with IndexServer() as private:
        private.add("other", "1.0", upload_time=OLD)
        matrix = release_matrix(
            {"logging": "1.3.0", "other": "1.0"},
            packages={"logging": {"index": private.url}, "other": {"index": private.url}},
        )
        options: dict[str, Any] = {"check": True, "http": client, "cache_dir": tmp_path / "cache"}
        result = run_resolve(matrix, index, tmp_path, UPSTREAM, **options)
        (left,) = result.inputs.left_out
        assert left.problem == f"project 'logging' not found on {private.url}"
        assert result.inputs.extra_index_urls == (private.url,)  # still serves "other"
    assert all(c.ok for c in result.checks)


def test_offline_the_private_index_is_answered_from_the_cache(
    index: IndexServer, client: Http, tmp_path: Path
) -> None:
    with IndexServer() as private:
        private.add("logging", "1.3.0", upload_time=OLD)
        matrix = release_matrix({"logging": "1.3.0"}, packages={"logging": {"index": private.url}})
        cache = tmp_path / "cache"
        run_resolve(matrix, index, tmp_path, None, check=True, http=client, cache_dir=cache)
        private.clear_log()
        index.clear_log()
        offline = run_resolve(
            matrix, index, tmp_path, None, check=True, offline=True, cache_dir=cache
        )
        assert private.requests == [] and index.requests == []
    assert offline.inputs.left_out == ()
    fresh = tmp_path / "fresh-cache"
    notes: list[str] = []
    with pytest.raises(OperationError, match="run once without --offline"):  # uv's cache lacks it
        run_resolve(
            matrix,
            index,
            tmp_path,
            None,
            notes,
            offline=True,
            cache_dir=fresh,
            uv_cache_dir=tmp_path / "fresh-uv-cache",
        )
    assert notes and "is not in the cache; run once without --offline" in notes[0]


def test_netrc_credentials_reach_a_private_index_and_never_the_file(
    index: IndexServer, client: Http, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "NETRC", str(write_netrc(tmp_path / "netrc", "127.0.0.1", "robot", "s3cret"))
    )
    with AuthIndexServer("robot", "s3cret") as private:
        private.add("logging", "1.3.0", upload_time=OLD)
        matrix = release_matrix({"logging": "1.3.0"}, packages={"logging": {"index": private.url}})
        options: dict[str, Any] = {"hashes": True, "http": client, "cache_dir": tmp_path / "cache"}
        result = run_resolve(matrix, index, tmp_path, UPSTREAM, **options)
        assert private.refused_agents <= {"uv"}  # astroctl sends netrc's at once; uv after a 401
        agents = {r.headers["user-agent"].split("/")[0] for r in private.requests}
        assert agents == {"astroctl", "uv"}  # both got in
    assert result.inputs.left_out == ()
    assert result.hashes is not None and result.hashes["logging"]
    assert "robot" not in result.text and "s3cret" not in result.text


def test_credentials_in_the_matrix_are_refused(index: IndexServer, tmp_path: Path) -> None:
    keyed = index.url.replace("http://", "http://robot:s3cret@")
    matrix = release_matrix({"logging": "1.3.0"}, packages={"logging": {"index": keyed}})
    with pytest.raises(InputError, match=r'^\[packages\."logging"\] index .*netrc') as caught:
        run_resolve(matrix, index, tmp_path, UPSTREAM, check=True)
    assert "s3cret" not in caught.value.message and "robot" not in caught.value.message
    keyed_upstream = release_matrix(
        {},
        upstream={"constraints_url": "https://robot:s3cret@example.test/{airflow}-{python}.txt"},
    )
    with pytest.raises(InputError, match=r"^\[upstream\] constraints_url 'https://example"):
        run_resolve(keyed_upstream, index, tmp_path, UPSTREAM, upstream=None)


def test_upstream_none_freezes_the_resolution_as_of_the_release_date(
    index: IndexServer, tmp_path: Path
) -> None:
    matrix = release_matrix({"alpha": "1.0"})
    result = run_resolve(matrix, index, tmp_path, None)
    assert result.upstream is None and result.upstream_url is None
    assert [p.requirement for p in result.pins] == [
        "alpha==1.0",
        "apache-airflow==2.7.2",
        "beta==2.0",  # 3.0 came out after the release
    ]
    assert result.overlay.overrides == ()
    assert "upstream: none; resolved by uv" in result.text
    unreleased = run_resolve(release_matrix({"alpha": "1.0"}, released=None), index, tmp_path, None)
    assert "beta==3.0" in unreleased.text
    assert "files uploaded by no date cutoff" in unreleased.text


def test_upstream_none_with_pins_in_conflict_fails(index: IndexServer, tmp_path: Path) -> None:
    matrix = release_matrix({"beta": "2.0", "delta": "1.0"})
    with pytest.raises(ChecksFailed) as caught:
        run_resolve(matrix, index, tmp_path, None)
    assert caught.value.exit_code == EXIT_PROBLEMS
    assert caught.value.message.startswith(
        "the pins of Astro Runtime 9.2.0 do not resolve together for Python 3.11"
    )


# -- a flavor ------------------------------------------------------------------------------------


def slim_matrix(slim: dict[str, str]) -> Matrix:
    """9.2.0's standard image pins alpha 1.0 and beta 2.0; its slim image pins ``slim``."""
    return release_matrix({"alpha": "1.0", "beta": "2.0"}, flavors={"slim": slim})


def test_a_flavors_pins_replace_the_release_s_over_upstream(
    index: IndexServer, tmp_path: Path
) -> None:
    upstream = "alpha==0.9\nbeta==1.0\nnative==1.0\n"
    matrix = slim_matrix({"beta": "2.0"})
    standard = run_resolve(matrix, index, tmp_path, upstream)
    slim = run_resolve(matrix, index, tmp_path, upstream, flavor="slim")
    assert [o.package for o in standard.overlay.overrides] == ["alpha", "beta"]
    assert slim.overlay.overrides == (Override("beta", "1.0", "2.0"),)
    assert [p.requirement for p in slim.pins] == [
        "alpha==0.9",  # the standard image's alpha 1.0 is not in the slim image
        "apache-airflow==2.7.2",
        "beta==2.0",
        "native==1.0",
    ]
    assert (standard.flavor, standard.filename) == (None, "constraints-3.11.txt")
    assert (slim.flavor, slim.filename) == ("slim", "constraints-slim-3.11.txt")
    header = slim.text.split("\n\n", 1)[0]
    assert header.startswith(
        "# Constraints of Astro Runtime 9.2.0 (slim image): Apache Airflow 2.7.2, Python 3.11\n"
    )
    assert "release 9.2.0 (2023-10-12), slim image\n" in header
    digest = pins_digest({"apache-airflow": "2.7.2", "beta": "2.0"})
    assert f"#             pins sha256:{digest}\n" in header
    assert f"pins sha256:{digest}" not in standard.text
    assert write(slim, tmp_path) == tmp_path / "constraints-slim-3.11.txt"


def test_upstream_none_resolves_a_flavor_from_its_pins_alone(
    index: IndexServer, tmp_path: Path
) -> None:
    matrix = slim_matrix({"beta": "2.0"})
    standard = run_resolve(matrix, index, tmp_path, None)
    slim = run_resolve(matrix, index, tmp_path, None, flavor="slim", check=True)
    assert [p.requirement for p in standard.pins] == [
        "alpha==1.0",
        "apache-airflow==2.7.2",
        "beta==2.0",
    ]
    assert [p.requirement for p in slim.pins] == ["apache-airflow==2.7.2", "beta==2.0"]
    assert [c.ok for c in slim.checks] == [True, True]
    assert " for linux/amd64 from apache-airflow==2.7.2 and the slim image's pins\n" in slim.text
    assert "# 2 pins resolved by uv, the slim image's 2 among them.\n" in slim.text


def test_a_flavors_pins_in_conflict_are_named_as_the_flavors(
    index: IndexServer, tmp_path: Path
) -> None:
    matrix = slim_matrix({"beta": "2.0", "delta": "1.0"})
    with pytest.raises(ChecksFailed, match=r"^the pins of Astro Runtime 9\.2\.0 \(slim image\) "):
        run_resolve(matrix, index, tmp_path, None, flavor="slim")
    with pytest.raises(ConstraintsDoNotInstall, match=r"Astro Runtime 9\.2\.0 \(slim image\) for"):
        run_resolve(matrix, index, tmp_path, UPSTREAM, flavor="slim", check=True)


@pytest.mark.parametrize(
    ("flavors", "message"),
    [
        ({"slim": {"beta": "2.0"}}, "9.2.0 has no flavor 'fat'; its flavors: slim"),
        (None, "9.2.0 has no flavor 'fat'; it has only the standard image"),
    ],
)
def test_an_unknown_flavor_is_refused_before_anything_runs(
    index: IndexServer, tmp_path: Path, flavors: dict[str, dict[str, str]] | None, message: str
) -> None:
    runner = RecordingRunner()
    matrix = release_matrix({"beta": "2.0"}, flavors=flavors)
    for upstream in (UPSTREAM, None):
        with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
            run_resolve(matrix, index, tmp_path, upstream, flavor="fat", check=True, runner=runner)
    assert runner.calls == []
    assert index.requests == []


def test_the_python_must_be_one_the_release_ships(index: IndexServer, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"ships Python 3\.10, 3\.11, not 3\.12"):
        run_resolve(release_matrix({}), index, tmp_path, UPSTREAM, python="3.12")


def test_without_uv_nothing_that_needs_it_runs(tmp_path: Path) -> None:
    matrix = release_matrix({})
    with pytest.raises(OperationError, match="uv is needed"):
        resolve(
            matrix,
            matrix.releases[-1],
            Options(upstream="none"),
            http=None,
            uv=None,
            index=IndexChoice("http://127.0.0.1:9/simple/", "--index-url"),
            matrix_label="m",
        )
