"""A release's constraint set: parse, fetch, overlay, render, and check with the real uv.

Upstream files come from a small HTTP server on loopback (with ETags, so revalidation is seen)
or from ``file://`` URLs; uv resolves against the loopback index of ``tests/index_server`` with
every proxy pointed at a dead loopback port, so neither astroctl nor uv leaves the machine.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from astroctl import __version__
from astroctl.errors import (
    EXIT_FAILED,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    ChecksFailed,
    InputError,
    OperationError,
)
from astroctl.matrix.model import Matrix
from astroctl.providers.constraints import (
    CACHE_NAMESPACE,
    BuildsFromSource,
    ConstraintsDoNotInstall,
    Inputs,
    Options,
    Override,
    Pin,
    Resolution,
    UpstreamFile,
    classify_build,
    constraints_url,
    fetch_upstream,
    overlay,
    parse_constraints,
    pins_digest,
    release_pins,
    render,
    resolve,
    write,
)
from astroctl.providers.target import IndexChoice
from astroctl.seams.cache import DiskCache, Entry, entry_key
from astroctl.seams.http import Http, HttpSettings, HttpStatusError
from astroctl.seams.process import ProcessResult, Runner
from astroctl.seams.urls import Netrc
from astroctl.seams.uv import Uv
from tests import factories
from tests.helpers import assert_golden
from tests.index_server import Fault, IndexServer
from tests.seams.private_index import AuthIndexServer, closed_port, write_netrc

FAST = HttpSettings(
    timeout=5.0, connect_timeout=2.0, retries=0, backoff=0.01, max_backoff=0.01, max_retry_time=2.0
)
DEAD_PROXY = "http://127.0.0.1:9"
OLD = datetime(2023, 1, 1, tzinfo=UTC)
RELEASED = date(2023, 10, 12)
X86_TAG = "cp311-cp311-manylinux_2_17_x86_64"
ARM_TAG = "cp311-cp311-manylinux_2_17_aarch64"
URL = "https://constraints.example/constraints-2.7.2/constraints-3.11.txt"


# -- a constraints server ------------------------------------------------------------------------


class ConstraintsServer:
    """Serves ``files`` (path -> bytes) on 127.0.0.1 with an ETag; logs (path, If-None-Match,
    status) for every request."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.log: list[tuple[str, str | None, int]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                body = server.files.get(self.path)
                match = self.headers.get("If-None-Match")
                etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"' if body is not None else ""
                status = 404 if body is None else 304 if match == etag else 200
                server.log.append((self.path, match, status))
                self.send_response(status)
                if body is not None:
                    self.send_header("ETag", etag)
                payload = body if status == 200 and body is not None else b""
                if status != 304:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture(autouse=True)
def _sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No proxy for astroctl's own requests to loopback; uv's go nowhere but loopback."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, DEAD_PROXY)
        monkeypatch.setenv(name.lower(), DEAD_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    monkeypatch.setenv("ASTROCTL_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))  # no credentials but a test's own


@pytest.fixture
def upstream_server() -> Iterator[ConstraintsServer]:
    running = ConstraintsServer()
    yield running
    running.close()


@pytest.fixture
def http() -> Iterator[Http]:
    with Http(FAST) as client:
        yield client


# -- parsing -------------------------------------------------------------------------------------


def test_parse_reads_pins_markers_comments_and_crlf() -> None:
    text = (
        "\ufeff# This constraints file was automatically generated\r\n"
        "#\r\n"
        "\r\n"
        "Flask_AppBuilder==4.3.6\r\n"
        "pywin32==306 ; sys_platform == 'win32'\r\n"
        "   boto3 == 1.28.0   # the AWS SDK\r\n"
        "zope.interface==6.1\r\n"
    )
    assert parse_constraints(text, "up") == (
        Pin("flask-appbuilder", "4.3.6", None, 4),
        Pin("pywin32", "306", 'sys_platform == "win32"', 5),
        Pin("boto3", "1.28.0", None, 6),
        Pin("zope-interface", "6.1", None, 7),
    )


def test_plain_pins_read_as_packaging_reads_them() -> None:
    text = "A_b.C == 1.0.post1\nx==1!2.0+local.7\ny==1.0; python_version < '3.12'\nz==1.0.*\n"
    with pytest.raises(InputError, match="line 4: not an exact name==version pin"):
        parse_constraints(text, "c.txt")
    assert parse_constraints(text.rpartition("z")[0], "c.txt") == (
        Pin("a-b-c", "1.0.post1", None, 1),
        Pin("x", "1!2.0+local.7", None, 2),
        Pin("y", "1.0", 'python_version < "3.12"', 3),
    )
    with pytest.raises(InputError, match=r"line 1: not a name==version pin: 'a==1\.0\.x'"):
        parse_constraints("a==1.0.x\n", "c.txt")


def test_parse_an_empty_file_has_no_pins() -> None:
    assert parse_constraints("# nothing\n\n", "up") == ()


def test_every_malformed_line_is_named_by_its_number() -> None:
    text = (
        "ok==1.0\n"
        "no-version\n"
        "range>=1.0\n"
        "wild==1.*\n"
        "extra[s3]==1.0\n"
        "url @ https://example.invalid/x.whl\n"
        "badver==one\n"
        "--index-url https://example.invalid/\n"
        "ok==2.0\n"
        "marker==1.0; nonsense here\n"
    )
    with pytest.raises(InputError) as caught:
        parse_constraints(text, URL)
    assert caught.value.exit_code == EXIT_USAGE
    assert caught.value.message.splitlines() == [
        f"{URL}: 9 malformed lines",
        "  line 2: not an exact name==version pin: 'no-version'",
        "  line 3: not an exact name==version pin: 'range>=1.0'",
        "  line 4: not an exact name==version pin: 'wild==1.*'",
        "  line 5: a constraint cannot name extras: 'extra[s3]==1.0'",
        "  line 6: a URL is not a pin: 'url @ https://example.invalid/x.whl'",
        "  line 7: not a name==version pin: 'badver==one'",
        "  line 8: not a name==version pin: '--index-url https://example.invalid/'",
        "  line 9: ok is pinned again (first on line 1)",
        "  line 10: not a name==version pin: 'marker==1.0; nonsense here'",
    ]


def test_a_long_list_of_problems_is_cut_short() -> None:
    text = "".join(f"bad line {n}\n" for n in range(30))
    with pytest.raises(InputError) as caught:
        parse_constraints(text, "up")
    message = caught.value.message
    assert message.splitlines()[0] == "up: 30 malformed lines"
    assert message.splitlines()[-1] == "  ... and 10 more"


def test_the_url_takes_the_public_airflow_version_and_the_python() -> None:
    template = "https://x/constraints-{airflow}/constraints-{python}.txt"
    assert constraints_url(template, "2.7.2+astro.1", "3.11") == (
        "https://x/constraints-2.7.2/constraints-3.11.txt"
    )
    with pytest.raises(InputError, match="not a PEP 440 version"):
        constraints_url(template, "two", "3.11")


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


def release_matrix(
    pins: dict[str, str],
    *,
    airflow: str = "2.7.2",
    architectures: tuple[str, ...] = ("amd64", "arm64"),
    released: date | None = RELEASED,
    **top: Any,
) -> Matrix:
    """One 9.2.0 (Python 3.11 by default, also 3.10) with these pins."""
    extra = {"released": released} if released is not None else {}
    entry = factories.release("9.2.0", airflow, packages=pins, **extra)
    lines = {9: factories.line(architectures=architectures)}
    return factories.build(factories.document(entry, lines=lines, **top))


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


# -- fetching ------------------------------------------------------------------------------------


def test_fetch_caches_revalidates_and_answers_offline(
    upstream_server: ConstraintsServer, http: Http, tmp_path: Path
) -> None:
    body = b"amazon==8.7.0\n"
    upstream_server.files["/c.txt"] = body
    url = upstream_server.url("/c.txt")
    first = fetch_upstream(url, http=http, cache_dir=tmp_path / "cache")
    assert (first.origin, first.sha256) == ("network", hashlib.sha256(body).hexdigest())
    assert first.pins == (Pin("amazon", "8.7.0", None, 1),)
    again = fetch_upstream(url, http=http, cache_dir=tmp_path / "cache")
    assert (again.origin, again.sha256, again.pins) == ("cache", first.sha256, first.pins)
    assert [status for _, _, status in upstream_server.log] == [200, 304]
    assert upstream_server.log[1][1] is not None  # If-None-Match sent
    offline = fetch_upstream(url, http=None, cache_dir=tmp_path / "cache", offline=True)
    assert (offline.origin, offline.sha256) == ("cache", first.sha256)
    assert len(upstream_server.log) == 2


def test_a_fresh_upstream_file_is_not_fetched_again(
    upstream_server: ConstraintsServer, http: Http, tmp_path: Path
) -> None:
    upstream_server.files["/c.txt"] = b"amazon==8.7.0\n"
    url = upstream_server.url("/c.txt")
    first = fetch_upstream(url, http=http, cache_dir=tmp_path, fresh_for=600)
    upstream_server.files["/c.txt"] = b"amazon==8.7.1\n"  # within the window: not seen
    again = fetch_upstream(url, http=None, cache_dir=tmp_path, fresh_for=600)
    assert (again.origin, again.sha256) == ("cache", first.sha256)
    assert [status for _, _, status in upstream_server.log] == [200]
    refreshed = fetch_upstream(url, http=http, cache_dir=tmp_path, fresh_for=0)  # --refresh
    assert refreshed.pins[0].version == "8.7.1" and refreshed.origin == "network"


def test_an_expired_upstream_file_is_revalidated_and_dated_anew(
    upstream_server: ConstraintsServer, http: Http, tmp_path: Path
) -> None:
    upstream_server.files["/c.txt"] = b"amazon==8.7.0\n"
    url = upstream_server.url("/c.txt")
    fetch_upstream(url, http=http, cache_dir=tmp_path, fresh_for=600)
    cache = DiskCache(tmp_path)
    key = entry_key("constraints", url)
    entry = cache.read(CACHE_NAMESPACE, key)
    assert entry is not None and entry.get("fetched")
    aged = {**entry.fields, "fetched": f"{float(entry.fields['fetched']) - 601:.3f}"}
    cache.write(CACHE_NAMESPACE, key, Entry(entry.body, aged))
    assert fetch_upstream(url, http=http, cache_dir=tmp_path, fresh_for=600).origin == "cache"
    assert [(status, match is not None) for _, match, status in upstream_server.log] == [
        (200, False),
        (304, True),
    ]
    fetch_upstream(url, http=None, cache_dir=tmp_path, fresh_for=600)  # fresh again
    assert len(upstream_server.log) == 2


def test_the_upstream_file_is_fetched_with_netrc_credentials(http: Http, tmp_path: Path) -> None:
    netrc = write_netrc(tmp_path / "netrc", "127.0.0.1", "robot", "s3cret")
    with AuthIndexServer("robot", "s3cret") as private:
        private.add_file("constraints", "c.txt", b"amazon==8.7.0\n")
        url = f"{private.base}/files/c.txt"
        with pytest.raises(HttpStatusError, match="HTTP 401"):
            fetch_upstream(url, http=http, cache_dir=tmp_path, netrc=Netrc({"NETRC": "/none"}))
        found = fetch_upstream(
            url, http=http, cache_dir=tmp_path / "c", netrc=Netrc({"NETRC": str(netrc)})
        )
        assert found.pins == (Pin("amazon", "8.7.0", None, 1),)
        assert private.authorized == 1
    cached = [p.read_bytes() for p in (tmp_path / "c").rglob("*") if p.is_file()]
    assert cached and not any(b"s3cret" in data or b"robot" in data for data in cached)


def test_a_changed_upstream_file_is_noticed(
    upstream_server: ConstraintsServer, http: Http, tmp_path: Path
) -> None:
    upstream_server.files["/c.txt"] = b"amazon==8.7.0\n"
    url = upstream_server.url("/c.txt")
    old = fetch_upstream(url, http=http, cache_dir=tmp_path)
    upstream_server.files["/c.txt"] = b"amazon==8.7.1\n"
    notes: list[str] = []
    new = fetch_upstream(url, http=http, cache_dir=tmp_path, notify=notes.append)
    assert new.previous_sha256 == old.sha256 != new.sha256
    assert new.pins[0].version == "8.7.1"
    assert notes == [
        f"{url} changed since it was cached (sha256 {old.sha256[:12]}... -> {new.sha256[:12]}...)"
    ]


def test_offline_without_a_cached_copy_says_so(tmp_path: Path) -> None:
    with pytest.raises(OperationError, match="run once without --offline") as caught:
        fetch_upstream(URL, http=None, cache_dir=tmp_path, offline=True)
    assert caught.value.exit_code == EXIT_FAILED


def test_a_missing_upstream_file_suggests_the_ways_out(
    upstream_server: ConstraintsServer, http: Http, tmp_path: Path
) -> None:
    with pytest.raises(OperationError) as caught:
        fetch_upstream(upstream_server.url("/nope.txt"), http=http, cache_dir=tmp_path)
    assert caught.value.exit_code == EXIT_FAILED
    assert "HTTP 404" in caught.value.message
    assert "--upstream none" in caught.value.message


def test_an_unreachable_upstream_is_an_operation_error(http: Http, tmp_path: Path) -> None:
    with pytest.raises(OperationError, match="cannot connect") as caught:
        fetch_upstream("http://127.0.0.1:9/c.txt", http=http, cache_dir=tmp_path)
    assert caught.value.exit_code == EXIT_FAILED


def test_a_malformed_upstream_names_the_url_and_the_line(
    upstream_server: ConstraintsServer, http: Http, tmp_path: Path
) -> None:
    upstream_server.files["/c.txt"] = b"# ok\namazon==8.7.0\n<html>\n"
    url = upstream_server.url("/c.txt")
    with pytest.raises(InputError) as caught:
        fetch_upstream(url, http=http, cache_dir=tmp_path)
    assert caught.value.message.splitlines() == [
        f"{url}: 1 malformed line",
        "  line 3: not a name==version pin: '<html>'",
    ]


def test_a_cache_that_cannot_be_written_is_a_warning(
    upstream_server: ConstraintsServer, http: Http, tmp_path: Path
) -> None:
    upstream_server.files["/c.txt"] = b"amazon==8.7.0\n"
    blocked = tmp_path / "file"
    blocked.write_text("")
    notes: list[str] = []
    found = fetch_upstream(
        upstream_server.url("/c.txt"), http=http, cache_dir=blocked, notify=notes.append
    )
    assert found.pins
    assert notes and notes[0].startswith("cannot cache the upstream constraints:")


def test_file_urls_are_read_in_place(tmp_path: Path) -> None:
    path = tmp_path / "constraints 3.11.txt"
    path.write_bytes(b"amazon==8.7.0\r\n")
    found = fetch_upstream(path.as_uri(), http=None, offline=True)
    assert (found.origin, found.pins) == ("file", (Pin("amazon", "8.7.0", None, 1),))
    with pytest.raises(OperationError, match="cannot read"):
        fetch_upstream((tmp_path / "missing.txt").as_uri(), http=None)
    with pytest.raises(InputError, match="names a local file"):
        fetch_upstream("file://host/c.txt", http=None)
    with pytest.raises(InputError, match="not an http"):
        fetch_upstream("ftp://example.invalid/c.txt", http=None)
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9==1.0\n")
    with pytest.raises(InputError, match="not UTF-8"):
        fetch_upstream((tmp_path / "latin.txt").as_uri(), http=None)


# -- resolving with uv ---------------------------------------------------------------------------


@pytest.fixture
def index() -> Iterator[IndexServer]:
    """Airflow 2.7.2 (needs beta), alpha (needs beta), beta 1.0 / 2.0 / 3.0 (3.0 after the
    release date), delta (needs beta<2), native (x86_64 and aarch64 wheels), x86only; sdonly
    (an sdist, no wheel), x86sdist (an x86_64 wheel, a Windows wheel and an sdist), oldarm (a
    wheel for Python 3.10 on aarch64 only, and an sdist), py2only (a py2-none-any wheel and an
    sdist), late (an sdist, and a py3-none-any wheel uploaded after the release date)."""
    with IndexServer() as running:
        running.add("apache-airflow", "2.7.2", requires_dist=["beta>=1"], upload_time=OLD)
        running.add("alpha", "1.0", requires_dist=["beta>=1"], upload_time=OLD)
        running.add("beta", "1.0", upload_time=OLD)
        running.add("beta", "2.0", upload_time=OLD)
        running.add("beta", "3.0", upload_time=datetime(2023, 10, 20, tzinfo=UTC))
        running.add("delta", "1.0", requires_dist=["beta<2"], upload_time=OLD)
        running.add("native", "1.0", tags=X86_TAG, upload_time=OLD)
        running.add("native", "1.0", tags=ARM_TAG, upload_time=OLD)
        running.add("x86only", "1.0", tags=X86_TAG, upload_time=OLD)
        running.add("sdonly", "1.0", wheel=False, sdist=True, upload_time=OLD)
        running.add("x86sdist", "1.0", tags=X86_TAG, sdist=True, upload_time=OLD)
        running.add("x86sdist", "1.0", tags="cp311-cp311-win_amd64", upload_time=OLD)
        running.add("oldarm", "1.0", tags=X86_TAG, sdist=True, upload_time=OLD)
        running.add("oldarm", "1.0", tags="cp310-cp310-manylinux_2_17_aarch64", upload_time=OLD)
        running.add("py2only", "1.0", tags="py2-none-any", sdist=True, upload_time=OLD)
        running.add("late", "1.0", wheel=False, sdist=True, upload_time=OLD)
        running.add("late", "1.0", upload_time=datetime(2023, 10, 20, tzinfo=UTC))  # after
        yield running


def run_resolve(
    matrix: Matrix,
    index: IndexServer,
    tmp_path: Path,
    upstream_text: str | None,
    notes: list[str] | None = None,
    **options: Any,
) -> Resolution:
    if upstream_text is None:
        options.setdefault("upstream", "none")
    else:
        source = tmp_path / "upstream-2.7.2-3.11.txt"
        source.write_text(upstream_text, encoding="utf-8")
        options.setdefault("upstream", f"file://{tmp_path}/upstream-{{airflow}}-{{python}}.txt")
    options.setdefault("exclude_newer", matrix.releases[-1].released)
    options.setdefault("uv_cache_dir", tmp_path / "uv-cache")
    http = options.pop("http", None)
    runner = options.pop("runner", None) or Runner(timeout=60)
    return resolve(
        matrix,
        matrix.releases[-1],
        Options(**options),
        http=http,
        uv=Uv(runner),
        index=IndexChoice(index.url, "--index-url"),
        matrix_label="compatibility.toml",
        notify=(notes if notes is not None else []).append,
    )


UPSTREAM = "alpha==1.0\nbeta==1.0\nnative==1.0\n"


def test_a_set_that_installs_on_both_architectures(index: IndexServer, tmp_path: Path) -> None:
    matrix = release_matrix({"beta": "2.0"})
    result = run_resolve(matrix, index, tmp_path, UPSTREAM, check=True)
    assert [(c.architecture, c.platform, c.ok) for c in result.checks] == [
        ("amd64", "x86_64-unknown-linux-gnu", True),
        ("arm64", "aarch64-unknown-linux-gnu", True),
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
    assert "installs on linux/amd64, linux/arm64." in result.text


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
        "  amd64 (x86_64-unknown-linux-gnu): installs",
        "  arm64 (aarch64-unknown-linux-gnu): no solution",
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
        and ": installs on linux/amd64, linux/arm64; without a wheel there, built from source:\n"
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
    index: IndexServer, http: Http, tmp_path: Path
) -> None:
    notes: list[str] = []
    matrix = release_matrix(FROM_SOURCE)
    options: dict[str, Any] = {"http": http, "cache_dir": tmp_path / "cache", "fresh_for": 600}
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
        f"# Checked with uv {result.inputs.uv_version}: installs on linux/amd64, linux/arm64; "
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
    index: IndexServer, http: Http, tmp_path: Path
) -> None:
    matrix = release_matrix(FROM_SOURCE)
    options: dict[str, Any] = {"http": http, "cache_dir": tmp_path / "cache", "fresh_for": 600}
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
    index: IndexServer, http: Http, tmp_path: Path
) -> None:
    options: dict[str, Any] = {"http": http, "cache_dir": tmp_path / "cache"}
    result = run_resolve(release_matrix({}), index, tmp_path, UPSTREAM, check=True, **options)
    assert result.source_builds == ()
    assert astroctl_pages(index) == []


def test_offline_without_the_pages_the_kind_is_unknown_and_said(
    index: IndexServer, http: Http, tmp_path: Path
) -> None:
    """uv's cache has what it needs, astroctl's has no page: the run still succeeds, each pin
    is said as before the index was read, and a warning says why."""
    matrix = release_matrix({"x86sdist": "1.0"})
    online: dict[str, Any] = {"http": http, "cache_dir": tmp_path / "cache"}
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
    index: IndexServer, http: Http, tmp_path: Path
) -> None:
    """uv read the page; astroctl, asking after it, gets an error: a warning, not a failure."""
    notes: list[str] = []
    runner = AfterUv(2, lambda: index.fail("/simple/sdonly/", *[Fault.error(500)] * 5))
    matrix = release_matrix({"sdonly": "1.0", "x86sdist": "1.0"})
    options: dict[str, Any] = {"http": http, "cache_dir": tmp_path / "cache", "runner": runner}
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
    index: IndexServer, http: Http, tmp_path: Path
) -> None:
    with IndexServer() as private:
        private.add("logging", "1.3.0", wheel=False, sdist=True, upload_time=OLD)
        matrix = release_matrix({"logging": "1.3.0"}, packages={"logging": {"index": private.url}})
        options: dict[str, Any] = {"check": True, "http": http, "cache_dir": tmp_path / "cache"}
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
    index: IndexServer, http: Http, tmp_path: Path
) -> None:
    notes: list[str] = []
    matrix = release_matrix({"x86sdist": "1.0", "sdonly": "1.0"})
    options: dict[str, Any] = {"http": http, "cache_dir": tmp_path / "cache"}
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
    assert sorted(platforms) == ["aarch64-unknown-linux-gnu", "x86_64-unknown-linux-gnu"]
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
    index: IndexServer, http: Http, tmp_path: Path
) -> None:
    notes: list[str] = []
    with closed_port() as down:
        matrix = release_matrix(
            {"alpha": "1.0", "logging": "1.3.0"}, packages={"logging": {"index": down.url}}
        )
        options: dict[str, Any] = {"check": True, "http": http, "cache_dir": tmp_path / "cache"}
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
        f"# Checked with uv {result.inputs.uv_version}: installs on linux/amd64, linux/arm64.",
        "# Not resolved or checked by uv: their own index did not serve them where this was made.",
        "# They are pinned below as the release pins them; what they need is not in this set:",
        f"#   logging==1.3.0: {problem}",
    ]


def test_with_an_upstream_file_a_package_left_out_is_not_checked_nor_hashed(
    index: IndexServer, http: Http, tmp_path: Path
) -> None:
    with closed_port() as down:
        matrix = release_matrix({"logging": "1.3.0"}, packages={"logging": {"index": down.url}})
        options: dict[str, Any] = {"hashes": True, "http": http, "cache_dir": tmp_path / "cache"}
        result = run_resolve(matrix, index, tmp_path, UPSTREAM, **options)
    assert [item.name for item in result.inputs.left_out] == ["logging"]
    assert result.hashes is not None and "logging" not in result.hashes
    assert "\nlogging==1.3.0\n" in result.text  # the pin, without a hash
    assert "# Not checked by uv: their own index did not serve them" in result.text
    assert "what they need is not in this set, and they carry no hashes:" in result.text


def test_a_private_index_that_answers_is_asked_first_and_given_to_uv(
    index: IndexServer, http: Http, tmp_path: Path
) -> None:
    with IndexServer() as private:
        private.add("logging", "1.3.0", upload_time=OLD)
        matrix = release_matrix({"logging": "1.3.0"}, packages={"logging": {"index": private.url}})
        options: dict[str, Any] = {"check": True, "http": http, "cache_dir": tmp_path / "cache"}
        result = run_resolve(matrix, index, tmp_path, UPSTREAM, **options)
        assert private.paths()[0] == "/simple/logging/"  # astroctl's one question, then uv's
        assert result.inputs.extra_index_urls == (private.url,)
    assert result.inputs.left_out == ()
    assert all(c.ok for c in result.checks)
    assert "Not checked" not in result.text


def test_a_private_index_without_the_package_leaves_it_out(
    index: IndexServer, http: Http, tmp_path: Path
) -> None:
    with IndexServer() as private:
        private.add("other", "1.0", upload_time=OLD)
        matrix = release_matrix(
            {"logging": "1.3.0", "other": "1.0"},
            packages={"logging": {"index": private.url}, "other": {"index": private.url}},
        )
        options: dict[str, Any] = {"check": True, "http": http, "cache_dir": tmp_path / "cache"}
        result = run_resolve(matrix, index, tmp_path, UPSTREAM, **options)
        (left,) = result.inputs.left_out
        assert left.problem == f"project 'logging' not found on {private.url}"
        assert result.inputs.extra_index_urls == (private.url,)  # still serves "other"
    assert all(c.ok for c in result.checks)


def test_offline_the_private_index_is_answered_from_the_cache(
    index: IndexServer, http: Http, tmp_path: Path
) -> None:
    with IndexServer() as private:
        private.add("logging", "1.3.0", upload_time=OLD)
        matrix = release_matrix({"logging": "1.3.0"}, packages={"logging": {"index": private.url}})
        cache = tmp_path / "cache"
        run_resolve(matrix, index, tmp_path, None, check=True, http=http, cache_dir=cache)
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
    index: IndexServer, http: Http, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "NETRC", str(write_netrc(tmp_path / "netrc", "127.0.0.1", "robot", "s3cret"))
    )
    with AuthIndexServer("robot", "s3cret") as private:
        private.add("logging", "1.3.0", upload_time=OLD)
        matrix = release_matrix({"logging": "1.3.0"}, packages={"logging": {"index": private.url}})
        options: dict[str, Any] = {"hashes": True, "http": http, "cache_dir": tmp_path / "cache"}
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
