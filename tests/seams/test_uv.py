"""The uv seam: the real uv binary (from the ``uv`` wheel) against a real index on loopback.

uv is a separate process, beyond the reach of the in-process network guard, so every test here
also points ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` at a closed loopback port with only
loopback exempt: a request uv made to anywhere but 127.0.0.1 would fail instead of leaving the
machine. Each test has its own uv cache under ``tmp_path``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from astroctl.errors import EXIT_FAILED, EXIT_PROBLEMS, OperationError
from astroctl.seams import uv as uv_seam
from astroctl.seams.cache import DiskCache
from astroctl.seams.process import ProcessFailed, Runner
from astroctl.seams.uv import (
    PLATFORMS,
    CompileResult,
    ResolutionFailed,
    Uv,
    environment,
    exclude_newer_stamp,
    find_binary,
    index_environment,
    parse_compiled,
    parse_lock,
)
from tests.helpers import RecordingRunner, keep_on_loopback
from tests.index_server import IndexServer
from tests.seams.private_index import AuthIndexServer, closed_port, write_netrc

AMD64 = PLATFORMS["amd64"]
ARM64 = PLATFORMS["arm64"]
OLD = datetime(2023, 1, 1, tzinfo=UTC)
X86_TAG = "cp311-cp311-manylinux_2_17_x86_64"
ARM_TAG = "cp311-cp311-manylinux_2_17_aarch64"


@pytest.fixture(autouse=True)
def _uv_stays_on_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    keep_on_loopback(monkeypatch, tmp_path)


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer() as running:
        running.add("alpha", "1.0", requires_dist=["beta>=1"], upload_time=OLD)
        running.add("beta", "1.0", upload_time=OLD)
        running.add("beta", "2.0", upload_time=datetime(2023, 10, 12, 23, 59, tzinfo=UTC))
        running.add("beta", "3.0", upload_time=datetime(2023, 10, 13, 0, 0, 1, tzinfo=UTC))
        running.add("native", "1.0", tags=X86_TAG, upload_time=OLD)
        running.add("native", "1.0", tags=ARM_TAG, upload_time=OLD)
        running.add("x86only", "1.0", tags=X86_TAG, upload_time=OLD)
        yield running


@pytest.fixture
def uv() -> Uv:
    return Uv(Runner(timeout=60))


def requirements(tmp_path: Path, *lines: str, name: str = "requirements.txt") -> Path:
    path = tmp_path / name
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def compile_on(
    uv: Uv, server: IndexServer, tmp_path: Path, *lines: str, **options: object
) -> CompileResult:
    kwargs: dict[str, object] = {
        "python_version": "3.11",
        "platform": AMD64,
        "index_url": server.url,
        "cache_dir": tmp_path / "uv-cache",
    }
    kwargs.update(options)
    return uv.compile(requirements(tmp_path, *lines), **kwargs)  # type: ignore[arg-type]


# -- resolving -----------------------------------------------------------------------------------


def test_compile_returns_the_pins_uv_chose(uv: Uv, server: IndexServer, tmp_path: Path) -> None:
    result = compile_on(uv, server, tmp_path, "alpha")
    assert dict(result.pins) == {"alpha": "1.0", "beta": "3.0"}
    assert dict(result.hashes) == {"alpha": (), "beta": ()}
    assert result.text.startswith("alpha==1.0\n")
    assert result.argv[1:3] == ("pip", "compile")


def test_a_platform_wheel_resolves_on_its_platform_only(
    uv: Uv, server: IndexServer, tmp_path: Path
) -> None:
    assert compile_on(uv, server, tmp_path, "x86only").pins == {"x86only": "1.0"}
    with pytest.raises(ResolutionFailed) as caught:
        compile_on(uv, server, tmp_path, "x86only", platform=ARM64)
    failure = caught.value
    assert failure.exit_code == EXIT_PROBLEMS
    assert (failure.python_version, failure.platform) == ("3.11", ARM64)
    assert "No solution found" in failure.explanation
    assert "x86only" in failure.explanation
    assert "manylinux_2_17_x86_64" in failure.explanation  # uv's hint: where wheels exist
    assert failure.message.startswith(f"no solution for Python 3.11 on {ARM64}:\n  ")


def test_a_lock_lists_the_hashes_of_the_files_for_its_target(
    uv: Uv, server: IndexServer, tmp_path: Path
) -> None:
    """Per platform: the wheels installable there and the sdist; never another OS's wheel."""
    server.add("native", "1.0", tags="cp311-cp311-win_amd64", upload_time=OLD)
    server.add("native", "1.0", tags="cp311-cp311-macosx_11_0_arm64", upload_time=OLD)
    server.add("native", "1.0", wheel=False, sdist=True, upload_time=OLD)
    files = server_hashes(server, "native")
    assert len(files) == 5
    sdist = files["native-1.0.tar.gz"]
    amd = compile_on(uv, server, tmp_path, "native", lock=True)
    arm = compile_on(uv, server, tmp_path, "native", platform=ARM64, lock=True)
    assert amd.pins == arm.pins == {"native": "1.0"}
    assert amd.hashes["native"] == tuple(sorted([files[f"native-1.0-{X86_TAG}.whl"], sdist]))
    assert arm.hashes["native"] == tuple(sorted([files[f"native-1.0-{ARM_TAG}.whl"], sdist]))
    assert amd.from_source == arm.from_source == ()
    plain = compile_on(uv, server, tmp_path, "native")
    assert dict(plain.hashes) == {"native": ()}  # without the lock, uv lists no files


def server_hashes(server: IndexServer, name: str) -> dict[str, str]:
    """The sha256 of every file the index lists for ``name`` by file name, read from the
    index itself."""
    import hashlib

    import httpx

    page = httpx.get(
        f"{server.url}{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    ).json()
    found = {}
    for item in page["files"]:
        data = httpx.get(f"{server.url}{name}/{item['url']}", follow_redirects=True).content
        found[item["filename"]] = "sha256:" + hashlib.sha256(data).hexdigest()
    return found


def test_a_constraints_file_bounds_the_resolution(
    uv: Uv, server: IndexServer, tmp_path: Path
) -> None:
    constraints = requirements(tmp_path, "beta==1.0", name="constraints.txt")
    result = compile_on(uv, server, tmp_path, "alpha", constraints=constraints)
    assert dict(result.pins) == {"alpha": "1.0", "beta": "1.0"}


def test_conflicting_pins_are_a_resolution_failure(
    uv: Uv, server: IndexServer, tmp_path: Path
) -> None:
    constraints = requirements(tmp_path, "beta==1.0", name="constraints.txt")
    with pytest.raises(ResolutionFailed) as caught:
        compile_on(uv, server, tmp_path, "beta==2.0", constraints=constraints)
    assert "beta" in caught.value.explanation


@pytest.mark.parametrize(
    ("day", "beta"),
    [(date(2023, 10, 11), "1.0"), (date(2023, 10, 12), "2.0"), (date(2023, 10, 13), "3.0")],
)
def test_exclude_newer_keeps_what_was_uploaded_by_the_end_of_the_day_utc(
    uv: Uv, server: IndexServer, tmp_path: Path, day: date, beta: str
) -> None:
    result = compile_on(uv, server, tmp_path, "beta", exclude_newer=day)
    assert result.pins == {"beta": beta}


def test_exclude_newer_explains_a_pin_uploaded_later(
    uv: Uv, server: IndexServer, tmp_path: Path
) -> None:
    with pytest.raises(ResolutionFailed) as caught:
        compile_on(uv, server, tmp_path, "beta==3.0", exclude_newer=date(2023, 10, 12))
    assert "exclude-newer" in caught.value.explanation


def test_exclude_newer_is_a_utc_timestamp() -> None:
    assert exclude_newer_stamp(date(2023, 10, 12)) == "2023-10-13T00:00:00Z"
    assert exclude_newer_stamp(date(2023, 12, 31)) == "2024-01-01T00:00:00Z"


def test_offline_answers_from_uvs_cache_or_says_what_is_missing(
    uv: Uv, server: IndexServer, tmp_path: Path
) -> None:
    with pytest.raises(OperationError, match="run once without --offline") as caught:
        compile_on(uv, server, tmp_path, "alpha", offline=True)
    assert not isinstance(caught.value, ResolutionFailed)
    assert caught.value.exit_code == EXIT_FAILED
    assert server.requests == []
    online = compile_on(uv, server, tmp_path, "alpha")
    server.clear_log()
    assert compile_on(uv, server, tmp_path, "alpha", offline=True).pins == online.pins
    assert server.requests == []


def test_uv_sees_only_the_indexes_and_options_of_the_argv(
    uv: Uv, server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's UV_* settings (an extra index, constraints, a cutoff) and a uv.toml in the
    working directory do not reach the resolution."""
    with IndexServer() as other:
        other.add("beta", "9.0", upload_time=OLD)
        monkeypatch.setenv("UV_EXTRA_INDEX_URL", other.url)
        monkeypatch.setenv("UV_INDEX", other.url)
        monkeypatch.setenv("UV_CONSTRAINT", str(requirements(tmp_path, "beta==1.0", name="c")))
        monkeypatch.setenv("UV_EXCLUDE_NEWER", "2023-01-02T00:00:00Z")
        (tmp_path / "uv.toml").write_text(f'extra-index-url = ["{other.url}"]\n')
        monkeypatch.chdir(tmp_path)
        assert compile_on(uv, server, tmp_path, "beta").pins == {"beta": "3.0"}
        assert other.requests == []


def test_extra_indexes_are_passed_on(uv: Uv, server: IndexServer, tmp_path: Path) -> None:
    with IndexServer() as private:
        private.add("gamma", "1.0", upload_time=OLD)
        result = compile_on(uv, server, tmp_path, "gamma", extra_index_urls=[private.url])
    assert result.pins == {"gamma": "1.0"}


def test_an_extra_index_that_is_down_fails_every_resolution(
    uv: Uv, server: IndexServer, tmp_path: Path
) -> None:
    """uv asks an extra index first, for every package: one that gives no answer fails even a
    resolution of packages it does not serve (why constraints resolve asks it beforehand)."""
    with closed_port() as down, pytest.raises(ProcessFailed) as caught:
        compile_on(uv, server, tmp_path, "beta", extra_index_urls=[down.url])
    assert caught.value.exit_code == EXIT_FAILED
    assert f"{down.base}/simple/beta/" in caught.value.message


def test_netrc_credentials_reach_a_private_index(
    uv: Uv, server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uv reads the netrc file $NETRC names, as astroctl does: nothing is put in the argv."""
    with AuthIndexServer("robot", "s3cret") as private:
        private.add("gamma", "1.0", upload_time=OLD)
        monkeypatch.setenv(
            "NETRC", str(write_netrc(tmp_path / "netrc", "127.0.0.1", "robot", "s3cret"))
        )
        result = compile_on(uv, server, tmp_path, "gamma", extra_index_urls=[private.url])
        assert result.pins == {"gamma": "1.0"}
        assert private.authorized > 0
    assert not any("robot" in word or "s3cret" in word for word in result.argv)
    assert "s3cret" not in result.text


def with_credentials(url: str, user: str = "robot", password: str = "s3cret") -> str:  # noqa: S107
    return url.replace("http://", f"http://{user}:{password}@", 1)


@pytest.mark.parametrize("where", ["index_url", "extra_index_urls"])
def test_credentials_in_an_index_url_reach_uv_through_its_environment_only(
    uv: Uv, server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A $PIP_INDEX_URL with a token in it: uv gets it as UV_INDEX_URL / UV_EXTRA_INDEX_URL,
    never on its command line (readable by every user of the machine, quoted by errors)."""
    monkeypatch.setenv("NETRC", str(tmp_path / "no-such-netrc"))
    with AuthIndexServer("robot", "s3cret") as private:
        private.add("gamma", "1.0", upload_time=OLD)
        private.add("beta", "1.0", upload_time=OLD)
        options: dict[str, object] = (
            {"index_url": with_credentials(private.url)}
            if where == "index_url"
            else {"extra_index_urls": [server.url, with_credentials(private.url)]}
        )
        result = compile_on(uv, server, tmp_path, "gamma", **options)
        assert result.pins == {"gamma": "1.0"}
        assert private.authorized > 0
    assert not any("s3cret" in word for word in result.argv)
    flag = "--index-url" if where == "index_url" else "--extra-index-url"
    assert flag not in result.argv  # extras all in the environment or none: their order stays


def test_index_environment_holds_only_urls_with_credentials() -> None:
    plain, secret = "https://pypi.org/simple", "https://robot:tok@pip.example/simple"
    assert index_environment(plain, [plain]) == {}
    assert index_environment(secret) == {"UV_INDEX_URL": secret}
    assert index_environment(plain, [plain, secret]) == {"UV_EXTRA_INDEX_URL": f"{plain} {secret}"}
    assert index_environment("https://pip.example/simple/a@b/") == {}  # an @ in the path
    user_only = "https://robot@pip.example/simple/"
    assert index_environment(user_only) == {"UV_INDEX_URL": user_only}


def test_a_failure_never_shows_the_credentials_of_an_index_url(uv: Uv, tmp_path: Path) -> None:
    """Both indexes are down: uv fails, and the error quotes its command line and output."""
    with closed_port() as down, pytest.raises(ProcessFailed) as caught:
        uv.compile(
            requirements(tmp_path, "beta"),
            python_version="3.11",
            platform=AMD64,
            index_url=with_credentials(down.url),
            extra_index_urls=[with_credentials(down.url, "ci", "hunter2")],
            cache_dir=tmp_path / "uv-cache",
        )
    assert f"{down.base}/simple/beta/" in caught.value.message
    assert "s3cret" not in caught.value.message and "hunter2" not in caught.value.message


def test_without_credentials_a_private_index_refuses_uv(
    uv: Uv, server: IndexServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uv takes a 401 for "not on this index": the package is not found, and uv says why."""
    monkeypatch.setenv("NETRC", str(tmp_path / "no-such-netrc"))
    with AuthIndexServer("robot", "s3cret") as private, pytest.raises(ResolutionFailed) as caught:
        private.add("gamma", "1.0", upload_time=OLD)
        compile_on(uv, server, tmp_path, "gamma", extra_index_urls=[private.url])
    assert "401 Unauthorized" in caught.value.explanation
    assert private.authorized == 0


def test_another_failure_of_uv_is_an_operation_error(
    uv: Uv, server: IndexServer, tmp_path: Path
) -> None:
    with pytest.raises(ProcessFailed) as caught:
        compile_on(uv, server, tmp_path, "alpha==not a version")
    assert caught.value.exit_code == EXIT_FAILED
    assert "pip compile" in caught.value.message
    assert "alpha==not a version" in caught.value.message


# -- the argv, the binary and the environment ------------------------------------------------


def test_the_argv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/bundle.pem")
    binary = tmp_path / "uv"
    binary.write_text("")
    uv = Uv(Runner(), binary, interpreter=Path("/usr/bin/python3"))
    argv = uv.compile_argv(
        Path("req.txt"),
        python_version="3.11",
        platform=ARM64,
        constraints=Path("c.txt"),
        index_url="https://pypi.org/simple",
        extra_index_urls=["https://pip.example/v2/"],
        exclude_newer=date(2023, 10, 12),
        cache_dir=Path("/cache"),
        offline=True,
        lock=True,
    )
    assert argv == [
        str(binary),
        "pip",
        "compile",
        "req.txt",
        "--no-config",
        "--python",
        "/usr/bin/python3",
        "--python-version",
        "3.11",
        "--python-platform",
        "aarch64-unknown-linux-gnu",
        "--index-url",
        "https://pypi.org/simple",
        "--extra-index-url",
        "https://pip.example/v2/",
        "-c",
        "c.txt",
        "--exclude-newer",
        "2023-10-13T00:00:00Z",
        "--format",
        "pylock.toml",
        "--cache-dir",
        "/cache",
        "--offline",
        "--no-header",
        "--no-annotate",
        "--quiet",
        "--color",
        "never",
    ]


def test_without_a_ca_bundle_uv_uses_the_system_trust_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    uv = Uv(Runner(), Path(sys.executable))
    argv = uv.compile_argv(Path("r"), python_version="3.11", platform=AMD64, index_url="u")
    assert "--native-tls" in argv
    assert "-c" not in argv and "--exclude-newer" not in argv and "--offline" not in argv


def test_the_environment_keeps_only_uvs_tuning() -> None:
    env = environment(
        {
            "UV_INDEX_URL": "a",
            "UV_EXTRA_INDEX_URL": "b",
            "UV_CONSTRAINT": "c",
            "UV_CACHE_DIR": "/cache",
            "UV_NATIVE_TLS": "1",
            "REQUESTS_CA_BUNDLE": "/bundle.pem",
            "PATH": "/bin",
        }
    )
    assert env == {
        "UV_INDEX_URL": None,
        "UV_EXTRA_INDEX_URL": None,
        "UV_CONSTRAINT": None,
        "UV_NO_CONFIG": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "NO_COLOR": "1",
        "SSL_CERT_FILE": "/bundle.pem",  # the HTTP seam's trust, handed to uv
    }
    assert "SSL_CERT_FILE" not in environment({"SSL_CERT_FILE": "/a", "REQUESTS_CA_BUNDLE": "/b"})


def test_the_binary_comes_from_the_uv_wheel() -> None:
    from uv import find_uv_bin

    assert find_binary() == Path(find_uv_bin())
    assert Uv(Runner()).version()[0].isdigit()


def test_without_the_uv_package_uv_on_path_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "uv", None)  # import uv fails
    shim = tmp_path / "bin" / "uv"
    shim.parent.mkdir()
    shim.write_text("#!/bin/sh\necho 'uv 9.9.9'\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", str(shim.parent))
    assert find_binary() == shim
    assert Uv(Runner()).version() == "9.9.9"


def test_the_version_is_remembered_per_binary(tmp_path: Path) -> None:
    """Asked once per binary: the cache key changes when the file is replaced."""
    shim = tmp_path / "bin" / "uv"
    shim.parent.mkdir()
    shim.write_text("#!/bin/sh\necho 'uv 9.9.9'\n")
    shim.chmod(0o755)
    runner = Runner()
    versions = DiskCache(tmp_path / "cache")
    assert Uv(runner, shim, versions=versions).version() == "9.9.9"
    assert Uv(runner, shim, versions=versions).version() == "9.9.9"
    assert [argv[1:] for argv in runner.recorded] == [("--version",)]
    replacement = tmp_path / "new-uv"
    replacement.write_text("#!/bin/sh\necho 'uv 10.0.0 (abc 2026-01-01)'\n")
    replacement.chmod(0o755)
    replacement.replace(shim)  # an upgrade: another file at the same path
    assert Uv(runner, shim, versions=versions).version() == "10.0.0"
    assert len(runner.recorded) == 2
    assert Uv(runner, shim).version() == "10.0.0"  # no cache: asked every time
    assert len(runner.recorded) == 3


def test_without_uv_anywhere_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "uv", None)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OperationError, match="pip install uv"):
        find_binary()
    with pytest.raises(OperationError, match="pip install uv"):
        Uv(Runner(), tmp_path / "missing-uv").version()
    with pytest.raises(OperationError) as caught:
        Uv(Runner()).compile(tmp_path, python_version="3.11", platform=AMD64, index_url="u")
    assert caught.value.message == uv_seam.INSTALL_HINT


# -- reading uv's output -----------------------------------------------------------------------


def test_parse_compiled_joins_continuations_and_reads_hashes() -> None:
    text = (
        "# a comment\n"
        "Alpha_Pkg==1.0 \\\n"
        "    --hash=sha256:aa \\\n"
        "    --hash=sha256:bb\n"
        "beta==2.0 ; python_version >= '3.8' \\\n"
        "    --hash=sha256:cc\n"
        "\n"
        "gamma==3.0\n"
        "    # via alpha-pkg\n"
    )
    pins, hashes = parse_compiled(text)
    assert pins == {"alpha-pkg": "1.0", "beta": "2.0", "gamma": "3.0"}
    assert hashes == {
        "alpha-pkg": ("sha256:aa", "sha256:bb"),
        "beta": ("sha256:cc",),
        "gamma": (),
    }


def test_parse_compiled_refuses_what_it_cannot_read() -> None:
    with pytest.raises(OperationError, match="cannot read"):
        parse_compiled("-e ./src\n")


def test_a_lock_names_the_packages_without_a_wheel() -> None:
    text = """lock-version = "1.0"
created-by = "uv"

[[packages]]
name = "Alpha_One"
version = "1.0"
wheels = [
    { url = "http://x/a.whl", hashes = { sha256 = "bb" } },
    { url = "http://x/b.whl", hashes = { sha256 = "aa" } },
]

[[packages]]
name = "psutil"
version = "5.9.5"
sdist = { url = "http://x/psutil-5.9.5.tar.gz", hashes = { sha256 = "cc" } }
"""
    pins, hashes, from_source = parse_lock(text)
    assert pins == {"alpha-one": "1.0", "psutil": "5.9.5"}
    assert hashes == {"alpha-one": ("sha256:aa", "sha256:bb"), "psutil": ("sha256:cc",)}
    assert from_source == ("psutil==5.9.5",)
    with pytest.raises(OperationError, match="cannot read"):
        parse_lock("[[packages]]\nname = 'x'\n")
    with pytest.raises(OperationError, match="cannot read"):
        parse_lock("not = toml = at all")


def test_the_binary_is_found_once_when_threads_ask_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """--check's worker threads ask for the binary at once; finding it reads sysconfig, whose
    first use is not thread-safe (seen: EXE read as None), so only one thread may look."""
    binary = tmp_path / "uv"
    binary.write_text("#!/bin/sh\n", encoding="utf-8")
    calls: list[int] = []
    inside = threading.Event()

    def slow_find() -> Path:
        calls.append(1)
        inside.set()
        time.sleep(0.2)  # the other threads arrive while this one is still looking
        return binary

    monkeypatch.setattr(uv_seam, "find_binary", slow_find)
    shared = Uv(RecordingRunner())
    found: list[Path] = []
    threads = [threading.Thread(target=lambda: found.append(shared.binary)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert inside.is_set()
    assert calls == [1]
    assert found == [binary] * 4
