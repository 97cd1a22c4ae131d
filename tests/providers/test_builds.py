"""What building a pin from source takes: classified from the files of its version, read from
its index's page after uv's check, said per pin and platform, and a failure with
``wheels_only``.

uv resolves against the loopback index of ``tests/index_server`` with every proxy pointed at a
dead loopback port, so neither astroctl nor uv leaves the machine.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from astroctl.errors import EXIT_PROBLEMS
from astroctl.providers.builds import BuildsFromSource, classify_build
from astroctl.providers.constraints import ConstraintsDoNotInstall
from astroctl.seams.http import Http
from astroctl.seams.process import ProcessResult, Runner
from tests.index_server import Fault, IndexServer
from tests.providers.resolving import OLD, UPSTREAM, release_matrix, run_resolve

pytestmark = pytest.mark.usefixtures("sandbox")  # see conftest.py


# -- what a build from source takes ------------------------------------------------------------


def wheel(*tags: str) -> tuple[str, tuple[str, ...]]:
    """A wheel as the classification reads it: its (expanded, sorted) tags."""
    return "wheel", tuple(sorted(tags))


SDIST = ("sdist", ())


def test_a_version_with_only_platform_wheels_is_native_and_its_wheels_are_named_short() -> None:
    """psutil 5.9.5's kind of wheels: abi3 ones with several manylinux tags each, Windows,
    macOS, and old cp27 ones; the newest Python and Linux first, three, then a count."""
    files = [
        SDIST,
        wheel("cp27-cp27m-win_amd64"),
        wheel("cp27-cp27mu-manylinux2010_x86_64"),
        wheel("cp36-abi3-win_amd64"),
        wheel("cp36-abi3-macosx_10_9_x86_64"),
        wheel(
            "cp36-abi3-manylinux_2_12_x86_64",
            "cp36-abi3-manylinux2010_x86_64",
            "cp36-abi3-manylinux_2_17_x86_64",
            "cp36-abi3-manylinux2014_x86_64",
        ),
        wheel("cp36-abi3-manylinux_2_12_i686", "cp36-abi3-manylinux2010_i686"),
        wheel("cp38-abi3-macosx_11_0_arm64"),
    ]
    assert classify_build(files, "3.11") == (
        "native",
        "it needs a compiler and headers: it has compiled code (wheels only for cp38-abi3 "
        "macosx arm64, cp36-abi3 manylinux x86_64, cp36-abi3 manylinux i686 and 4 more)",
    )
    assert classify_build([wheel("cp311-cp311-win_amd64")], "3.11") == (
        "native",
        "it needs a compiler and headers: it has compiled code (wheels only for cp311-cp311 "
        "win_amd64)",
    )


def test_a_platform_independent_wheel_not_for_this_python_is_pure() -> None:
    assert classify_build([wheel("py2-none-any"), SDIST], "3.11") == (
        "pure",
        "pure Python, it builds without a compiler (its platform-independent wheel "
        "py2-none-any is not for Python 3.11)",
    )
    kind, detail = classify_build([wheel("cp27-none-any"), wheel("py26-none-any")], "3.11")
    assert kind == "pure"
    assert "(its platform-independent wheels cp27-none-any, py26-none-any are not for" in detail
    # a pure-Python wheel beside platform wheels: it builds without a compiler
    assert classify_build([wheel("py2-none-any"), wheel("cp27-cp27m-win32")], "3.11")[0] == "pure"


def test_no_wheel_at_all_is_sdist_only_and_nothing_read_is_unknown() -> None:
    assert classify_build([SDIST], "3.11") == (
        "sdist-only",
        "no wheel for any platform (sdist only): pure Python unless it has extensions",
    )
    for nothing in (None, ()):
        assert classify_build(nothing, "3.11") == (
            "unknown",
            "the image needs a compiler unless it is pure Python",
        )


# -- pins built from source, found by uv's check -----------------------------------------------


def test_pins_without_a_wheel_are_found_per_platform(index: IndexServer, tmp_path: Path) -> None:
    """Without an HTTP client no page is asked: every pin built from source is ``unknown``,
    said as before the index was read (one warning per pin and platform)."""
    notes: list[str] = []
    pins = {"sdonly": "1.0", "x86sdist": "1.0", "oldarm": "1.0"}
    result = run_resolve(release_matrix(pins), index, tmp_path, UPSTREAM, notes, check=True)
    assert [(c.architecture, c.ok, c.from_source) for c in result.checks] == [
        ("amd64", True, ("sdonly==1.0",)),
        ("arm64", True, ("oldarm==1.0", "sdonly==1.0", "x86sdist==1.0")),
    ]
    assert notes == [
        f"{pin} has no wheel for linux/{arch} (Python 3.11): pip builds it from source "
        "there; the image needs a compiler unless it is pure Python"
        for pin, arch in [
            ("oldarm==1.0", "arm64"),
            ("sdonly==1.0", "amd64"),
            ("sdonly==1.0", "arm64"),
            ("x86sdist==1.0", "arm64"),
        ]
    ]
    assert {build.kind for build in result.source_builds} == {"unknown"}
    assert (
        "# Checked with uv " in result.text
        and ": installs on linux/amd64, linux/arm64 (wheels up to manylinux_2_36: "
        "the glibc of Debian bookworm); without a wheel there, built from source:\n"
        "#   oldarm==1.0 on linux/arm64: the image needs a compiler unless it is pure Python\n"
        "#   sdonly==1.0 on linux/amd64, linux/arm64: the image needs a compiler unless it is "
        "pure Python\n"
        "#   x86sdist==1.0 on linux/arm64: the image needs a compiler unless it is pure Python\n"
        in result.text
    )


FROM_SOURCE = {"sdonly": "1.0", "x86sdist": "1.0", "oldarm": "1.0", "py2only": "1.0", "late": "1.0"}
NATIVE_X86SDIST = (
    "it needs a compiler and headers: it has compiled code (wheels only for cp311-cp311 "
    "manylinux x86_64, cp311-cp311 win_amd64)"
)


def astroctl_pages(server: IndexServer) -> list[str]:
    """The project pages astroctl (not uv) asked of ``server``, sorted."""
    return sorted(
        r.path
        for r in server.requests
        if r.headers.get("user-agent", "").startswith("astroctl") and r.path.startswith("/simple/")
    )


def test_what_a_build_from_source_takes_is_read_from_the_index(
    index: IndexServer, client: Http, tmp_path: Path
) -> None:
    notes: list[str] = []
    matrix = release_matrix(FROM_SOURCE)
    options: dict[str, Any] = {"http": client, "cache_dir": tmp_path / "cache", "fresh_for": 600}
    result = run_resolve(matrix, index, tmp_path, UPSTREAM, notes, check=True, **options)
    sdist_only = "no wheel for any platform (sdist only): pure Python unless it has extensions"
    assert [(b.requirement, b.architectures, b.kind, b.detail) for b in result.source_builds] == [
        (
            "oldarm==1.0",
            ("arm64",),
            "native",
            "it needs a compiler and headers: it has compiled code (wheels only for "
            "cp311-cp311 manylinux x86_64, cp310-cp310 manylinux aarch64)",
        ),
        ("x86sdist==1.0", ("arm64",), "native", NATIVE_X86SDIST),
        # a py3-none-any wheel came after the release date: uv did not see it, nor does this
        ("late==1.0", ("amd64", "arm64"), "sdist-only", sdist_only),
        ("sdonly==1.0", ("amd64", "arm64"), "sdist-only", sdist_only),
        (
            "py2only==1.0",
            ("amd64", "arm64"),
            "pure",
            "pure Python, it builds without a compiler (its platform-independent wheel "
            "py2-none-any is not for Python 3.11)",
        ),
    ]
    assert [b.needs_compiler for b in result.source_builds] == [True, True, False, False, False]
    # those needing a compiler first, one warning per pin and platform
    assert [note.split(" has no wheel for ")[0] for note in notes] == [
        "oldarm==1.0",
        "x86sdist==1.0",
        "late==1.0",
        "late==1.0",
        "sdonly==1.0",
        "sdonly==1.0",
        "py2only==1.0",
        "py2only==1.0",
    ]
    assert notes[1] == (
        "x86sdist==1.0 has no wheel for linux/arm64 (Python 3.11): pip builds it from source "
        f"there; {NATIVE_X86SDIST}"
    )
    assert notes[4] == (
        "sdonly==1.0 has no wheel for linux/amd64 (Python 3.11): pip builds it from source "
        f"there; {sdist_only}"
    )
    header = result.text.split("\n\n", 1)[0].splitlines()
    assert header[-6:] == [
        f"# Checked with uv {result.inputs.uv_version}: installs on linux/amd64, linux/arm64 "
        "(wheels up to manylinux_2_36: the glibc of Debian bookworm); "
        "without a wheel there, built from source:",
        "#   oldarm==1.0 on linux/arm64: it needs a compiler and headers: it has compiled code "
        "(wheels only for cp311-cp311 manylinux x86_64, cp310-cp310 manylinux aarch64)",
        f"#   x86sdist==1.0 on linux/arm64: {NATIVE_X86SDIST}",
        f"#   late==1.0 on linux/amd64, linux/arm64: {sdist_only}",
        f"#   sdonly==1.0 on linux/amd64, linux/arm64: {sdist_only}",
        "#   py2only==1.0 on linux/amd64, linux/arm64: pure Python, it builds without a "
        "compiler (its platform-independent wheel py2-none-any is not for Python 3.11)",
    ]
    # one page per package built from source, and no other
    assert astroctl_pages(index) == [f"/simple/{name}/" for name in sorted(FROM_SOURCE)]


def test_a_warm_cache_asks_no_page_and_gives_the_same_bytes(
    index: IndexServer, client: Http, tmp_path: Path
) -> None:
    matrix = release_matrix(FROM_SOURCE)
    options: dict[str, Any] = {"http": client, "cache_dir": tmp_path / "cache", "fresh_for": 600}
    first = run_resolve(matrix, index, tmp_path, UPSTREAM, check=True, **options)
    assert len(astroctl_pages(index)) == len(FROM_SOURCE)
    index.clear_log()
    again = run_resolve(matrix, index, tmp_path, UPSTREAM, check=True, **options)
    assert astroctl_pages(index) == []  # fresh pages: the seam's freshness rules
    assert again.text == first.text
    assert again.source_builds == first.source_builds
    refreshed = run_resolve(
        matrix, index, tmp_path, UPSTREAM, check=True, **(options | {"fresh_for": 0})
    )
    assert len(astroctl_pages(index)) == len(FROM_SOURCE)  # revalidated (--refresh)
    assert refreshed.text == first.text


def test_a_set_built_entirely_from_wheels_asks_no_page(
    index: IndexServer, client: Http, tmp_path: Path
) -> None:
    options: dict[str, Any] = {"http": client, "cache_dir": tmp_path / "cache"}
    result = run_resolve(release_matrix({}), index, tmp_path, UPSTREAM, check=True, **options)
    assert result.source_builds == ()
    assert astroctl_pages(index) == []


def test_offline_without_the_pages_the_kind_is_unknown_and_said(
    index: IndexServer, client: Http, tmp_path: Path
) -> None:
    """uv's cache has what it needs, astroctl's has no page: the run still succeeds, each pin
    is said as before the index was read, and a warning says why."""
    matrix = release_matrix({"x86sdist": "1.0"})
    online: dict[str, Any] = {"http": client, "cache_dir": tmp_path / "cache"}
    run_resolve(matrix, index, tmp_path, UPSTREAM, check=True, **online)
    index.clear_log()
    notes: list[str] = []
    offline: dict[str, Any] = {"offline": True, "cache_dir": tmp_path / "other-cache"}
    result = run_resolve(matrix, index, tmp_path, UPSTREAM, notes, check=True, **offline)
    assert index.requests == []
    (build,) = result.source_builds
    assert (build.kind, build.detail) == (
        "unknown",
        "the image needs a compiler unless it is pure Python",
    )
    assert notes == [
        "x86sdist==1.0: cannot tell whether building it from source needs a compiler: project "
        f"'x86sdist': the page from {index.url} is not in the cache; run once without --offline",
        "x86sdist==1.0 has no wheel for linux/arm64 (Python 3.11): pip builds it from source "
        "there; the image needs a compiler unless it is pure Python",
    ]
    assert (
        "#   x86sdist==1.0 on linux/arm64: the image needs a compiler unless it is pure Python\n"
        in result.text
    )
    cached = run_resolve(
        matrix, index, tmp_path, UPSTREAM, check=True, offline=True, cache_dir=tmp_path / "cache"
    )
    assert [b.kind for b in cached.source_builds] == ["native"]  # the online run's page


class AfterUv(Runner):
    """A runner that calls ``then`` once uv has compiled ``count`` times (the checks done)."""

    def __init__(self, count: int, then: Callable[[], None]) -> None:
        super().__init__(timeout=60)
        self.left = count
        self.then = then
        self.lock = threading.Lock()

    def run(self, argv: Sequence[str | os.PathLike[str]], **options: Any) -> ProcessResult:
        result = super().run(argv, **options)
        if [str(word) for word in argv[1:3]] == ["pip", "compile"]:
            with self.lock:
                self.left -= 1
                if self.left == 0:
                    self.then()
        return result


def test_a_page_the_index_cannot_serve_leaves_the_kind_unknown(
    index: IndexServer, client: Http, tmp_path: Path
) -> None:
    """uv read the page; astroctl, asking after it, gets an error: a warning, not a failure."""
    notes: list[str] = []
    runner = AfterUv(2, lambda: index.fail("/simple/sdonly/", *[Fault.error(500)] * 5))
    matrix = release_matrix({"sdonly": "1.0", "x86sdist": "1.0"})
    options: dict[str, Any] = {"http": client, "cache_dir": tmp_path / "cache", "runner": runner}
    result = run_resolve(matrix, index, tmp_path, UPSTREAM, notes, check=True, **options)
    assert [(b.requirement, b.kind) for b in result.source_builds] == [
        ("x86sdist==1.0", "native"),
        ("sdonly==1.0", "unknown"),
    ]
    assert notes[0] == (
        "sdonly==1.0: cannot tell whether building it from source needs a compiler: GET "
        f"{index.url}sdonly/: HTTP 500 Internal Server Error"
    )
    assert notes[-1].endswith("the image needs a compiler unless it is pure Python")


def test_a_package_with_its_own_index_is_classified_there(
    index: IndexServer, client: Http, tmp_path: Path
) -> None:
    with IndexServer() as private:
        private.add("logging", "1.3.0", wheel=False, sdist=True, upload_time=OLD)
        matrix = release_matrix({"logging": "1.3.0"}, packages={"logging": {"index": private.url}})
        options: dict[str, Any] = {"check": True, "http": client, "cache_dir": tmp_path / "cache"}
        result = run_resolve(matrix, index, tmp_path, UPSTREAM, **options)
        assert astroctl_pages(private) == ["/simple/logging/", "/simple/logging/"]  # probe, then
    assert [(b.requirement, b.kind) for b in result.source_builds] == [
        ("logging==1.3.0", "sdist-only")
    ]
    assert astroctl_pages(index) == []


def test_a_set_with_wheels_everywhere_has_nothing_built_from_source(
    index: IndexServer, tmp_path: Path
) -> None:
    result = run_resolve(release_matrix({}), index, tmp_path, UPSTREAM, check=True)
    assert [c.from_source for c in result.checks] == [(), ()]
    assert "built from source" not in result.text


def test_wheels_only_fails_on_a_pin_built_from_source(
    index: IndexServer, client: Http, tmp_path: Path
) -> None:
    notes: list[str] = []
    matrix = release_matrix({"x86sdist": "1.0", "sdonly": "1.0"})
    options: dict[str, Any] = {"http": client, "cache_dir": tmp_path / "cache"}
    with pytest.raises(BuildsFromSource) as caught:
        run_resolve(matrix, index, tmp_path, UPSTREAM, notes, wheels_only=True, **options)
    assert caught.value.exit_code == EXIT_PROBLEMS
    assert caught.value.message.splitlines() == [
        "the constraint set of Astro Runtime 9.2.0 for Python 3.11 needs packages built from "
        "source (--wheels-only; nothing written):",
        "  x86sdist==1.0 has no wheel for linux/arm64 (Python 3.11): pip builds it from source "
        f"there; {NATIVE_X86SDIST}",
        *(
            f"  sdonly==1.0 has no wheel for linux/{arch} (Python 3.11): pip builds it from "
            "source there; no wheel for any platform (sdist only): pure Python unless it has "
            "extensions"
            for arch in ("amd64", "arm64")
        ),
    ]
    assert [b.kind for b in caught.value.builds] == ["native", "sdist-only"]
    assert notes == []
    fine = run_resolve(release_matrix({}), index, tmp_path, UPSTREAM, wheels_only=True)
    assert [c.ok for c in fine.checks] == [True, True]


def test_a_package_with_only_an_x86_64_wheel_and_no_sdist_has_no_solution_on_arm64(
    index: IndexServer, tmp_path: Path
) -> None:
    """Not a build from source: uv has nothing to install at all (see the test above)."""
    with pytest.raises(ConstraintsDoNotInstall):
        run_resolve(release_matrix({"x86only": "1.0"}), index, tmp_path, UPSTREAM, wheels_only=True)


# -- the image's glibc --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("os", "from_source", "hashed"),
    [
        # bullseye's glibc 2.31 installs the manylinux_2_31 wheels, not the manylinux_2_36 ones
        ("Debian 11.7 (bullseye)", ("glibc36==1.0",), {"glibc31": 3, "glibc36": 1}),
        ("Debian 12 (bookworm)", (), {"glibc31": 3, "glibc36": 3}),
        # an OS astroctl cannot place: uv's default Linux target, manylinux_2_28
        ("Ubuntu 22.04", ("glibc31==1.0", "glibc36==1.0"), {"glibc31": 1, "glibc36": 1}),
    ],
)
def test_the_check_takes_the_wheels_the_images_glibc_installs(
    tmp_path: Path, os: str, from_source: tuple[str, ...], hashed: dict[str, int]
) -> None:
    """A wheel for a newer manylinux than uv's default (2.28) but within the image's glibc is
    a wheel there: not "built from source", and its hash is in the --hashes set (pip in the
    image picks it: a hashed set without it would fail to install)."""
    with IndexServer() as index:
        index.add("apache-airflow", "2.7.2", upload_time=OLD)
        for name, level in (("glibc31", "2_31"), ("glibc36", "2_36")):
            for machine in ("x86_64", "aarch64"):
                tags = f"cp311-cp311-manylinux_{level}_{machine}"
                index.add(name, "1.0", tags=tags, sdist=machine == "x86_64", upload_time=OLD)
        matrix = release_matrix({"glibc31": "1.0", "glibc36": "1.0"}, os=os)
        result = run_resolve(matrix, index, tmp_path, "", check=True, hashes=True)
    assert [(c.architecture, c.from_source) for c in result.checks] == [
        ("amd64", from_source),
        ("arm64", from_source),
    ]
    assert result.hashes is not None
    assert {name: len(result.hashes[name]) for name in hashed} == hashed
