"""Airflow's upstream constraints file: its URL, parsing it, and fetching it (cached,
revalidated, with netrc credentials) or reading it from a ``file://`` URL.

Upstream files come from a small HTTP server on loopback (with ETags, so revalidation is seen)
or from ``file://`` URLs.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from astroctl.errors import EXIT_FAILED, EXIT_USAGE, InputError, OperationError
from astroctl.providers.upstream import (
    CACHE_NAMESPACE,
    PINS_FIELD,
    Pin,
    constraints_url,
    fetch_upstream,
    parse_constraints,
)
from astroctl.seams.cache import DiskCache, Entry, entry_key
from astroctl.seams.http import Http, HttpStatusError
from astroctl.seams.urls import Netrc
from tests.seams.private_index import AuthIndexServer, write_netrc

pytestmark = pytest.mark.usefixtures("sandbox")  # see conftest.py

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


@pytest.fixture
def upstream_server() -> Iterator[ConstraintsServer]:
    running = ConstraintsServer()
    yield running
    running.close()


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


# -- fetching ------------------------------------------------------------------------------------


def test_fetch_caches_revalidates_and_answers_offline(
    upstream_server: ConstraintsServer, client: Http, tmp_path: Path
) -> None:
    body = b"amazon==8.7.0\n"
    upstream_server.files["/c.txt"] = body
    url = upstream_server.url("/c.txt")
    first = fetch_upstream(url, http=client, cache_dir=tmp_path / "cache")
    assert (first.origin, first.sha256) == ("network", hashlib.sha256(body).hexdigest())
    assert first.pins == (Pin("amazon", "8.7.0", None, 1),)
    again = fetch_upstream(url, http=client, cache_dir=tmp_path / "cache")
    assert (again.origin, again.sha256, again.pins) == ("cache", first.sha256, first.pins)
    assert [status for _, _, status in upstream_server.log] == [200, 304]
    assert upstream_server.log[1][1] is not None  # If-None-Match sent
    offline = fetch_upstream(url, http=None, cache_dir=tmp_path / "cache", offline=True)
    assert (offline.origin, offline.sha256) == ("cache", first.sha256)
    assert len(upstream_server.log) == 2


def test_a_fresh_upstream_file_is_not_fetched_again(
    upstream_server: ConstraintsServer, client: Http, tmp_path: Path
) -> None:
    upstream_server.files["/c.txt"] = b"amazon==8.7.0\n"
    url = upstream_server.url("/c.txt")
    first = fetch_upstream(url, http=client, cache_dir=tmp_path, fresh_for=600)
    upstream_server.files["/c.txt"] = b"amazon==8.7.1\n"  # within the window: not seen
    again = fetch_upstream(url, http=None, cache_dir=tmp_path, fresh_for=600)
    assert (again.origin, again.sha256) == ("cache", first.sha256)
    assert [status for _, _, status in upstream_server.log] == [200]
    refreshed = fetch_upstream(url, http=client, cache_dir=tmp_path, fresh_for=0)  # --refresh
    assert refreshed.pins[0].version == "8.7.1" and refreshed.origin == "network"


def test_an_expired_upstream_file_is_revalidated_and_dated_anew(
    upstream_server: ConstraintsServer, client: Http, tmp_path: Path
) -> None:
    upstream_server.files["/c.txt"] = b"amazon==8.7.0\n"
    url = upstream_server.url("/c.txt")
    fetch_upstream(url, http=client, cache_dir=tmp_path, fresh_for=600)
    cache = DiskCache(tmp_path)
    key = entry_key("constraints", url)
    entry = cache.read(CACHE_NAMESPACE, key)
    assert entry is not None and entry.get("fetched")
    aged = {**entry.fields, "fetched": f"{float(entry.fields['fetched']) - 601:.3f}"}
    cache.write(CACHE_NAMESPACE, key, Entry(entry.body, aged))
    assert fetch_upstream(url, http=client, cache_dir=tmp_path, fresh_for=600).origin == "cache"
    assert [(status, match is not None) for _, match, status in upstream_server.log] == [
        (200, False),
        (304, True),
    ]
    fetch_upstream(url, http=None, cache_dir=tmp_path, fresh_for=600)  # fresh again
    assert len(upstream_server.log) == 2


def test_the_upstream_file_is_fetched_with_netrc_credentials(client: Http, tmp_path: Path) -> None:
    netrc = write_netrc(tmp_path / "netrc", "127.0.0.1", "robot", "s3cret")
    with AuthIndexServer("robot", "s3cret") as private:
        private.add_file("constraints", "c.txt", b"amazon==8.7.0\n")
        url = f"{private.base}/files/c.txt"
        with pytest.raises(HttpStatusError, match="HTTP 401"):
            fetch_upstream(url, http=client, cache_dir=tmp_path, netrc=Netrc({"NETRC": "/none"}))
        found = fetch_upstream(
            url, http=client, cache_dir=tmp_path / "c", netrc=Netrc({"NETRC": str(netrc)})
        )
        assert found.pins == (Pin("amazon", "8.7.0", None, 1),)
        assert private.authorized == 1
    cached = [p.read_bytes() for p in (tmp_path / "c").rglob("*") if p.is_file()]
    assert cached and not any(b"s3cret" in data or b"robot" in data for data in cached)


def test_a_changed_upstream_file_is_noticed(
    upstream_server: ConstraintsServer, client: Http, tmp_path: Path
) -> None:
    upstream_server.files["/c.txt"] = b"amazon==8.7.0\n"
    url = upstream_server.url("/c.txt")
    old = fetch_upstream(url, http=client, cache_dir=tmp_path)
    upstream_server.files["/c.txt"] = b"amazon==8.7.1\n"
    notes: list[str] = []
    new = fetch_upstream(url, http=client, cache_dir=tmp_path, notify=notes.append)
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
    upstream_server: ConstraintsServer, client: Http, tmp_path: Path
) -> None:
    with pytest.raises(OperationError) as caught:
        fetch_upstream(upstream_server.url("/nope.txt"), http=client, cache_dir=tmp_path)
    assert caught.value.exit_code == EXIT_FAILED
    assert "HTTP 404" in caught.value.message
    assert "--upstream none" in caught.value.message


def test_an_unreachable_upstream_is_an_operation_error(client: Http, tmp_path: Path) -> None:
    with pytest.raises(OperationError, match="cannot connect") as caught:
        fetch_upstream("http://127.0.0.1:9/c.txt", http=client, cache_dir=tmp_path)
    assert caught.value.exit_code == EXIT_FAILED


def test_a_malformed_upstream_names_the_url_and_the_line(
    upstream_server: ConstraintsServer, client: Http, tmp_path: Path
) -> None:
    upstream_server.files["/c.txt"] = b"# ok\namazon==8.7.0\n<html>\n"
    url = upstream_server.url("/c.txt")
    with pytest.raises(InputError) as caught:
        fetch_upstream(url, http=client, cache_dir=tmp_path)
    assert caught.value.message.splitlines() == [
        f"{url}: 1 malformed line",
        "  line 3: not a name==version pin: '<html>'",
    ]


def test_a_cache_that_cannot_be_written_is_a_warning(
    upstream_server: ConstraintsServer, client: Http, tmp_path: Path
) -> None:
    upstream_server.files["/c.txt"] = b"amazon==8.7.0\n"
    blocked = tmp_path / "file"
    blocked.write_text("")
    notes: list[str] = []
    found = fetch_upstream(
        upstream_server.url("/c.txt"), http=client, cache_dir=blocked, notify=notes.append
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


# -- the parsed pins kept in the cache -------------------------------------------------------------

MARKED = (
    b"# with a marker, which needs packaging's parsers\r\n"
    b"amazon==8.7.0\r\n"
    b"pywin32==306 ; sys_platform=='win32'\r\n"
    b"\r\n"
    b"beta==1.0 # trailing comment\r\n"
)


def test_a_cached_file_is_answered_with_its_pins_as_parsed(
    upstream_server: ConstraintsServer, client: Http, tmp_path: Path
) -> None:
    upstream_server.files["/c.txt"] = MARKED
    url = upstream_server.url("/c.txt")
    fetched = fetch_upstream(url, http=client, cache_dir=tmp_path, fresh_for=600)
    entry = DiskCache(tmp_path).read(CACHE_NAMESPACE, entry_key("constraints", url))
    assert entry is not None and entry.get(PINS_FIELD)
    again = fetch_upstream(url, http=None, cache_dir=tmp_path, offline=True)
    assert again.origin == "cache"
    assert again.pins == fetched.pins == parse_constraints(MARKED.decode(), url)
    assert again.pins[1] == Pin("pywin32", "306", 'sys_platform == "win32"', 3)
    assert again.sha256 == fetched.sha256


@pytest.mark.parametrize("stored", [None, "", "not json", '[["a","1",null]]', '[[1,"1",null,2]]'])
def test_a_cache_entry_without_readable_pins_is_parsed_again(
    upstream_server: ConstraintsServer, client: Http, tmp_path: Path, stored: str | None
) -> None:
    """An entry of an earlier astroctl (no field), or one whose field does not read as pins:
    the file itself is parsed; a revalidation (304) then stores the pins beside it."""
    upstream_server.files["/c.txt"] = MARKED
    url = upstream_server.url("/c.txt")
    expected = fetch_upstream(url, http=client, cache_dir=tmp_path, fresh_for=600).pins
    cache = DiskCache(tmp_path)
    key = entry_key("constraints", url)
    entry = cache.read(CACHE_NAMESPACE, key)
    assert entry is not None
    fields = {k: v for k, v in entry.fields.items() if k != PINS_FIELD}
    if stored is not None:
        fields[PINS_FIELD] = stored
    fields["fetched"] = f"{float(fields['fetched']) - 601:.3f}"  # expired: revalidated next
    cache.write(CACHE_NAMESPACE, key, Entry(entry.body, fields))
    assert fetch_upstream(url, http=None, cache_dir=tmp_path, offline=True).pins == expected
    assert fetch_upstream(url, http=client, cache_dir=tmp_path, fresh_for=600).pins == expected
    assert [status for _, _, status in upstream_server.log] == [200, 304]
    revalidated = cache.read(CACHE_NAMESPACE, key)
    assert revalidated is not None and revalidated.get(PINS_FIELD) not in (None, "", stored)


def test_a_cached_file_with_markers_loads_no_packaging_parser(
    upstream_server: ConstraintsServer, client: Http, tmp_path: Path
) -> None:
    """Start-up time: a marker line needs packaging's marker parser (~20 ms to import); answered
    from the cache, the file is not parsed again."""
    upstream_server.files["/c.txt"] = MARKED
    url = upstream_server.url("/c.txt")
    fetch_upstream(url, http=client, cache_dir=tmp_path, fresh_for=600)
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from astroctl.providers.upstream import fetch_upstream\n"
        f"found = fetch_upstream({url!r}, http=None, cache_dir=Path({str(tmp_path)!r}), "
        "offline=True)\n"
        "assert found.pins[1].marker == 'sys_platform == \"win32\"', found.pins\n"
        "print(sorted(m for m in sys.modules if m.startswith('packaging.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stdout
    assert "packaging.markers" not in loaded and "packaging.requirements" not in loaded
