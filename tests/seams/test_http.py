"""The HTTP seam against a real HTTP(S) server on loopback that plays scripted replies."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NoReturn

import httpx
import pytest

from astroctl import __version__
from astroctl.errors import EXIT_FAILED, InputError, OperationError
from astroctl.seams.http import (
    ATTEMPT_TIME_VARIABLE,
    Http,
    HttpClient,
    HttpSettings,
    HttpStatusError,
    check_status,
    retry_after,
    retryable_status,
    shown_url,
    trust_store,
)
from astroctl.seams.tls import TrustOnUse
from tests.index_server import Fault, IndexServer

# Fast enough for a test, slow enough to measure: waits of 10-20 ms between attempts.
FAST = HttpSettings(
    timeout=2.0, connect_timeout=1.0, retries=3, backoff=0.02, max_backoff=0.02, max_retry_time=3.0
)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds before answering


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class Script:
    """Replies per path, played in order; the last one repeats. Every request is logged."""

    replies: dict[str, list[Reply]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def on(self, path: str, *replies: Reply) -> None:
        self.replies[path] = list(replies)

    def take(self, method: str, path: str, headers: dict[str, str]) -> Reply:
        with self.lock:
            self.seen.append(Seen(method, path, headers, time.monotonic()))
            queue = self.replies.get(path, [Reply(404, b"not here")])
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def count(self, path: str) -> int:
        return sum(1 for s in self.seen if s.path == path)


def handler_for(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            reply = script.take(self.command, self.path, dict(self.headers.items()))
            if reply.delay and script.stop.wait(reply.delay):
                return
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        def do_GET(self) -> None:
            self._answer()

        def do_HEAD(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self._answer()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up mid-reply (a timeout test) is expected, not news."""


class Server:
    def __init__(self, script: Script, tls: ssl.SSLContext | None = None) -> None:
        self.script = script
        self.httpd = QuietServer(("127.0.0.1", 0), handler_for(script))
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.base = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.script.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture(autouse=True)
def _no_proxy_no_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback is reached directly and trusted as the test says, whatever the shell set."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server(Script())
    yield running
    running.close()


@pytest.fixture
def http() -> Iterator[Http]:
    with Http(FAST) as client:
        yield client


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# --- the happy path ---------------------------------------------------------------------------


def test_get_returns_the_response_and_says_who_it_is(server: Server, http: Http) -> None:
    server.script.on("/simple/", Reply(200, b"index", (("Content-Type", "text/html"),)))
    response = http.get(server.url("/simple/"), headers={"Accept": "text/html"})
    assert (response.status_code, response.text) == (200, "index")
    seen = server.script.seen[0]
    assert (
        seen.headers["User-Agent"] == f"astroctl/{__version__} (+python httpx/{httpx.__version__})"
    )
    assert seen.headers["Accept"] == "text/html"
    assert response.http_version == "HTTP/1.1"


def test_params_and_head(server: Server, http: Http) -> None:
    server.script.on("/v2/?n=1", Reply(200, b"body"))
    assert http.get(server.url("/v2/"), params={"n": "1"}).text == "body"
    assert http.head(server.url("/v2/?n=1")).text == ""
    assert [s.method for s in server.script.seen] == ["GET", "HEAD"]


def test_user_agent_can_be_set(server: Server) -> None:
    server.script.on("/", Reply())
    with Http(HttpSettings(user_agent="release-bot/1")) as http:
        http.get(server.url("/"))
    assert server.script.seen[0].headers["User-Agent"] == "release-bot/1"


def test_redirects_are_followed(server: Server, http: Http) -> None:
    server.script.on("/old", Reply(301, b"", (("Location", "/new"),)))
    server.script.on("/new", Reply(200, b"here"))
    assert http.get(server.url("/old")).text == "here"


def test_one_client_is_built_lazily_and_reused(server: Server) -> None:
    server.script.on("/", Reply())
    http = Http(FAST)
    assert http._client is None
    http.get(server.url("/"))
    first = http.client()
    http.get(server.url("/"))
    assert http.client() is first
    http.close()
    assert first.is_closed
    http.close()  # closing twice is harmless


def test_the_module_does_not_import_httpx_until_a_request() -> None:
    code = (
        "import sys\n"
        "from astroctl.seams.http import Http, HttpSettings\n"
        "Http(HttpSettings())\n"
        "print('httpx' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout == "False\n", result.stderr


def test_http_satisfies_the_client_protocol(server: Server, http: Http) -> None:
    server.script.on("/", Reply(200, b"via protocol"))

    def fetch(client: HttpClient, url: str) -> str:
        return client.get(url, check=True).text

    assert fetch(http, server.url("/")) == "via protocol"


# --- retries ----------------------------------------------------------------------------------


def test_503_then_200_is_retried(server: Server) -> None:
    notes: list[str] = []
    server.script.on("/flaky", Reply(503, b"busy"), Reply(200, b"fine"))
    with Http(FAST, notify=notes.append) as http:
        response = http.get(server.url("/flaky"))
    assert (response.status_code, response.text) == (200, "fine")
    assert server.script.count("/flaky") == 2
    assert len(notes) == 1
    assert notes[0].startswith("retrying in 0.0 s: HTTP 503 Service Unavailable")


@pytest.mark.parametrize("status", [500, 502, 504, 429])
def test_retryable_statuses_are_retried(server: Server, http: Http, status: int) -> None:
    server.script.on("/x", Reply(status), Reply(200))
    assert http.get(server.url("/x")).status_code == 200


def test_429_retry_after_seconds_is_honoured(server: Server, http: Http) -> None:
    server.script.on("/limited", Reply(429, b"", (("Retry-After", "1"),)), Reply(200))
    started = time.monotonic()
    assert http.get(server.url("/limited")).status_code == 200
    first, second = server.script.seen
    assert second.at - first.at >= 0.95
    assert time.monotonic() - started < 2


def test_429_retry_after_zero_retries_at_once(server: Server) -> None:
    settings = HttpSettings(retries=2, backoff=5.0, max_backoff=5.0, max_retry_time=3.0)
    server.script.on("/limited", Reply(429, b"", (("Retry-After", "0"),)), Reply(200))
    started = time.monotonic()
    with Http(settings) as http:
        assert http.get(server.url("/limited")).status_code == 200
    assert time.monotonic() - started < 0.5  # the 5 s backoff was not used


def test_retry_after_past_the_time_budget_gives_up_at_once(server: Server) -> None:
    settings = HttpSettings(retries=3, backoff=0.01, max_retry_time=2.0)
    server.script.on("/later", Reply(503, b"", (("Retry-After", "30"),)))
    started = time.monotonic()
    with Http(settings) as http:
        response = http.get(server.url("/later"))
    assert response.status_code == 503
    assert server.script.count("/later") == 1
    assert time.monotonic() - started < 0.5


def test_always_500_gives_up_after_the_retries(server: Server) -> None:
    settings = HttpSettings(retries=2, backoff=0.02, max_backoff=0.02, max_retry_time=3.0)
    server.script.on("/broken", Reply(500, b"down"))
    started = time.monotonic()
    with Http(settings) as http:
        response = http.get(server.url("/broken"))
        assert response.status_code == 500  # returned as it is: the caller decides
        with pytest.raises(HttpStatusError) as caught:
            http.get(server.url("/broken"), check=True)
    assert server.script.count("/broken") == 6  # 1 + 2 retries, twice
    assert time.monotonic() - started < 1
    assert str(caught.value) == f"GET {server.url('/broken')}: HTTP 500 Internal Server Error"


def test_retries_are_bounded_in_total_time(server: Server) -> None:
    settings = HttpSettings(retries=1000, backoff=0.05, max_backoff=0.05, max_retry_time=0.6)
    server.script.on("/broken", Reply(503))
    started = time.monotonic()
    with Http(settings) as http:
        assert http.get(server.url("/broken")).status_code == 503
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 0.8  # no wait passes the bound; the last attempt is quick
    assert 5 < server.script.count("/broken") < 30


def test_backoff_grows_exponentially_with_jitter(server: Server) -> None:
    settings = HttpSettings(retries=3, backoff=0.04, max_backoff=1.0, max_retry_time=5.0)
    notes: list[str] = []
    server.script.on("/broken", Reply(502))
    with Http(settings, notify=notes.append) as http:
        http.get(server.url("/broken"))
    times = [s.at for s in server.script.seen]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    for gap, ceiling in zip(gaps, (0.04, 0.08, 0.16), strict=True):
        assert ceiling / 2 - 0.005 <= gap <= ceiling + 0.25  # the wait, plus one request
    assert len(notes) == 3


def test_post_is_not_retried_after_a_5xx_but_is_after_a_429(server: Server, http: Http) -> None:
    server.script.on("/upload", Reply(503), Reply(200))
    assert http.request("POST", server.url("/upload")).status_code == 503
    server.script.on("/limited", Reply(429), Reply(201))
    assert http.request("post", server.url("/limited")).status_code == 201


def test_404_is_returned_not_retried(server: Server, http: Http) -> None:
    server.script.on("/simple/nothing/", Reply(404, b"no such project"))
    response = http.get(server.url("/simple/nothing/"))
    assert response.status_code == 404
    assert server.script.count("/simple/nothing/") == 1
    with pytest.raises(HttpStatusError) as caught:
        check_status(response)
    error = caught.value
    assert isinstance(error, OperationError)
    assert error.exit_code == EXIT_FAILED
    assert error.status_code == 404
    assert str(error) == f"GET {server.url('/simple/nothing/')}: HTTP 404 Not Found"


def test_check_status_returns_a_success(server: Server, http: Http) -> None:
    server.script.on("/", Reply(204, b""))
    response = http.get(server.url("/"))
    assert check_status(response) is response


# --- failures without a response --------------------------------------------------------------


def test_connection_refused_is_a_clean_error_after_retries() -> None:
    notes: list[str] = []
    url = f"http://127.0.0.1:{closed_port()}/simple/"
    started = time.monotonic()
    with Http(FAST, notify=notes.append) as http, pytest.raises(OperationError) as caught:
        http.get(url)
    assert str(caught.value) == f"GET {url}: cannot connect (Connection refused) after 4 attempts"
    assert len(notes) == FAST.retries
    assert time.monotonic() - started < 1


def test_a_slow_server_times_out_cleanly(server: Server) -> None:
    settings = HttpSettings(timeout=0.2, retries=1, backoff=0.01, max_retry_time=3.0)
    server.script.on("/slow", Reply(200, b"late", delay=5.0))
    started = time.monotonic()
    with Http(settings) as http, pytest.raises(OperationError) as caught:
        http.get(server.url("/slow"))
    assert str(caught.value) == (
        f"GET {server.url('/slow')}: timed out waiting for the response after 2 attempts"
    )
    assert server.script.count("/slow") == 2
    assert time.monotonic() - started < 1


def test_credentials_in_the_url_are_not_shown() -> None:
    url = f"http://robot:s3cret@127.0.0.1:{closed_port()}/v2/"
    with Http(HttpSettings(retries=0)) as http, pytest.raises(OperationError) as caught:
        http.get(url)
    assert "s3cret" not in str(caught.value)
    assert "robot" not in str(caught.value)
    assert str(caught.value).startswith("GET http://127.0.0.1:")


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "127.0.0.1/simple", "http://[::1/"])
def test_a_url_that_is_not_http_is_bad_input(http: Http, url: str) -> None:
    with pytest.raises(InputError, match="not an http"):
        http.get(url)


def test_the_seam_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    with Http(FAST) as http, pytest.raises(OperationError):
        http.get(f"http://127.0.0.1:{closed_port()}/")
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("errno", "text", "attempts"),
    [
        (socket.EAI_NONAME, "Name or service not known", 1),
        (socket.EAI_AGAIN, "Temporary failure in name resolution", 2),
    ],
)
def test_a_name_that_does_not_resolve_is_not_asked_again_and_again(
    monkeypatch: pytest.MonkeyPatch, errno: int, text: str, attempts: int
) -> None:
    """The resolver's "no such name" is final: not retried (each retry waited the backoff, on
    every run, for a private index this network cannot see). A temporary resolver failure gets
    one more try, not ``retries``. The resolver is replaced: no test asks a real DNS server."""
    asked: list[str] = []

    def unknown(host: str, *args: object, **kwargs: object) -> NoReturn:
        asked.append(host)
        raise socket.gaierror(errno, text)

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    notes: list[str] = []
    with Http(FAST, notify=notes.append) as http, pytest.raises(OperationError) as caught:
        http.get("http://index.example.invalid/simple/")
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    assert caught.value.message == (
        f"GET http://index.example.invalid/simple/: cannot connect ({text}){tries}"
    )
    assert asked == ["index.example.invalid"] * attempts
    assert len(notes) == attempts - 1
    assert all(note.endswith(f": cannot connect ({text})") for note in notes)


# --- a body that drips -------------------------------------------------------------------------

# httpx's timeouts are per read: a body sent a byte at a time, each byte within ``timeout``,
# never times out. ``max_attempt_time`` bounds one attempt from the request to the last byte.
DRIP_BODY = b"".join(hashlib.sha256(str(n).encode()).hexdigest().encode() for n in range(64))
DRIPPING = HttpSettings(
    timeout=2.0,
    connect_timeout=1.0,
    retries=2,
    backoff=0.02,
    max_backoff=0.02,
    max_retry_time=5.0,
    max_attempt_time=0.5,
)


@pytest.fixture
def index() -> Iterator[IndexServer]:
    with IndexServer() as running:
        running.add_file("x", "c.txt", DRIP_BODY[:100])
        running.add_file("x", "big.txt", DRIP_BODY)
        running.add_file("x", "big.txt.gz", gzip.compress(DRIP_BODY, mtime=0))
        running.add("old-name", "1.0")
        yield running


def test_a_body_that_drips_forever_ends_each_attempt_and_then_the_request(
    index: IndexServer,
) -> None:
    """100 bytes, one every 0.1 s (10 s in all, every read quick) against a 0.5 s limit: three
    attempts of about 0.6 s, each retried, then one plain line."""
    path = index.file_path("c.txt")
    index.fail(path, *[Fault.dripping(0.1)] * 3)
    url = index.base + path
    notes: list[str] = []
    started = time.monotonic()
    with Http(DRIPPING, notify=notes.append) as http, pytest.raises(OperationError) as caught:
        http.get(url)
    elapsed = time.monotonic() - started
    reason = "timed out reading the response body (not complete after 0.5 s)"
    assert caught.value.message == f"GET {url}: {reason} after 3 attempts"
    assert caught.value.exit_code == EXIT_FAILED
    assert [note.partition(": ")[2] for note in notes] == [reason, reason]
    assert index.count(path) == 3
    assert 1.5 <= elapsed < 3.0  # 3 x (0.5 s + at most one 0.1 s pause); the drip takes 10 s


@pytest.mark.parametrize(
    ("filename", "headers"),
    [("big.txt", ()), ("big.txt.gz", (("Content-Encoding", "gzip"),))],
    ids=["plain", "gzip"],
)
def test_the_limit_is_on_the_whole_body_not_each_read(
    index: IndexServer, filename: str, headers: tuple[tuple[str, str], ...]
) -> None:
    """The same drip (40 writes, 0.01 s apart: about 0.4 s) is read whole, and decoded, under
    a limit above its length, and given up at once under one below it."""
    path = index.file_path(filename)
    size = len(DRIP_BODY if not headers else gzip.compress(DRIP_BODY, mtime=0))
    drip = Fault.dripping(0.01, chunk=-(-size // 40), headers=headers)
    index.fail(path, drip)
    started = time.monotonic()
    with Http(HttpSettings(max_attempt_time=5.0)) as http:
        response = http.get(index.base + path, check=True)
    took = time.monotonic() - started
    assert response.content == DRIP_BODY
    assert response.headers.get("Content-Encoding") == (headers[0][1] if headers else None)
    assert 0.3 <= took < 2.0  # it did drip
    index.fail(path, drip)
    short = HttpSettings(retries=0, max_attempt_time=0.15)
    with Http(short) as http, pytest.raises(OperationError, match=r"after 0\.15 s\)$"):
        http.get(index.base + path)


def test_a_drip_then_a_good_answer_succeeds_on_the_retry(index: IndexServer) -> None:
    path = index.file_path("c.txt")
    index.fail(path, Fault.dripping(0.1))
    notes: list[str] = []
    started = time.monotonic()
    with Http(DRIPPING, notify=notes.append) as http:
        response = http.get(index.base + path, check=True)
    assert response.content == DRIP_BODY[:100]
    assert time.monotonic() - started < 1.5
    assert index.count(path) == 2
    assert len(notes) == 1 and notes[0].endswith("(not complete after 0.5 s)")


def test_a_redirect_whose_body_drips_is_bounded_too(index: IndexServer) -> None:
    """The limit covers the whole attempt: a 301 whose body drips (httpx reads a redirect's
    body before it follows it) ends the attempt; the retry is redirected as usual."""
    index.fail(
        "/simple/Old_Name/",
        Fault(status=301, body=b"." * 100, headers=(("Location", "/simple/old-name/"),), drip=0.1),
    )
    started = time.monotonic()
    with Http(DRIPPING) as http:
        response = http.get(index.url + "Old_Name/", headers={"Accept": "text/html"}, check=True)
    assert "old_name-1.0-py3-none-any.whl" in response.text
    assert time.monotonic() - started < 1.5
    assert [r.path for r in index.requests] == [
        "/simple/Old_Name/",
        "/simple/Old_Name/",
        "/simple/old-name/",
    ]


def test_the_attempt_time_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert HttpSettings.from_environment({}) == HttpSettings()
    assert HttpSettings().max_attempt_time == 300.0
    given = HttpSettings.from_environment({ATTEMPT_TIME_VARIABLE: " 2.5 "})
    assert given == HttpSettings(max_attempt_time=2.5)
    for bad in ("0", "-1", "soon", "inf", "nan"):
        with pytest.raises(InputError, match=r"ASTROCTL_HTTP_ATTEMPT_TIME .* positive number"):
            HttpSettings.from_environment({ATTEMPT_TIME_VARIABLE: bad})
    monkeypatch.setenv(ATTEMPT_TIME_VARIABLE, "7")
    assert Http().settings.max_attempt_time == 7.0  # a client built without settings (the CLI's)
    assert Http(FAST).settings is FAST


# --- TLS --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt"),
            *("ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=astroctl test"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return Certificate(cert, key)


@pytest.fixture
def tls_server(certificate: Certificate) -> Iterator[Server]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)
    running = Server(Script(), tls=context)
    running.script.on("/", Reply(200, b"secure"))
    yield running
    running.close()


def test_tls_with_an_untrusted_certificate_is_a_clean_error(tls_server: Server) -> None:
    notes: list[str] = []
    with Http(FAST, notify=notes.append) as http, pytest.raises(OperationError) as caught:
        http.get(tls_server.url("/"))
    message = str(caught.value)
    assert message.startswith(f"GET {tls_server.url('/')}: TLS certificate verification failed")
    assert "self-signed certificate" in message
    assert "\n" not in message
    assert notes == []  # a certificate does not get better by asking again
    assert tls_server.script.seen == []


def test_tls_with_the_ca_bundle_succeeds(tls_server: Server, certificate: Certificate) -> None:
    with Http(HttpSettings(ca_bundle=certificate.cert)) as http:
        assert http.get(tls_server.url("/")).text == "secure"


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_tls_trusts_the_bundle_the_environment_names(
    tls_server: Server, certificate: Certificate, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, str(certificate.cert))
    with Http(FAST) as http:
        assert http.get(tls_server.url("/")).text == "secure"


def test_the_setting_wins_over_the_environment(
    tls_server: Server, certificate: Certificate, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with Http(HttpSettings(ca_bundle=certificate.cert)) as http:
        assert http.get(tls_server.url("/")).text == "secure"


def test_ssl_cert_file_wins_over_requests_ca_bundle(
    monkeypatch: pytest.MonkeyPatch, certificate: Certificate, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing.pem"))
    _, origin = trust_store(None)
    assert origin == f"the CA bundle {certificate.cert} (from $SSL_CERT_FILE)"


def test_the_untrusted_error_names_the_trust_used(
    tls_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Http(FAST) as http, pytest.raises(OperationError, match="using the system trust store"):
        http.get(tls_server.url("/"))


def test_a_missing_or_broken_ca_bundle_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InputError, match=r"missing\.pem \(from ca_bundle\): no such file"):
        Http(HttpSettings(ca_bundle=tmp_path / "missing.pem")).get("https://127.0.0.1:1/")
    broken = tmp_path / "broken.pem"
    broken.write_text("not a certificate\n", encoding="utf-8")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(broken))
    with pytest.raises(InputError, match=r"\(from \$REQUESTS_CA_BUNDLE\): not a PEM bundle"):
        trust_store(None)


def test_tls_verification_cannot_be_turned_off() -> None:
    names = {f.name for f in fields(HttpSettings)}
    assert not names & {"verify", "insecure", "verify_tls", "ssl_verify"}
    context, origin = trust_store(None)
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert origin == "the system trust store"


def test_plain_http_never_loads_the_trust(tmp_path: Path) -> None:
    """A run that speaks only http (a loopback or internal index) does not pay ~20 ms to load
    a CA bundle it never uses; a bundle that is missing is then not an error either."""
    plain = Server(Script())
    plain.script.on("/", Reply(200, b"plain"))
    try:
        with Http(HttpSettings(ca_bundle=tmp_path / "missing.pem")) as http:
            assert http.get(plain.url("/")).content == b"plain"
            assert http._tls is not None and not http._tls.loaded
            assert http._tls.verify_mode == ssl.CERT_REQUIRED and http._tls.check_hostname
            with pytest.raises(InputError, match=r"missing\.pem \(from ca_bundle\): no such"):
                http.get("https://127.0.0.1:1/")  # said before any connection is tried
    finally:
        plain.close()


def test_a_redirect_to_https_loads_the_trust_at_the_handshake(
    tls_server: Server, certificate: Certificate
) -> None:
    plain = Server(Script())
    plain.script.on("/", Reply(301, b"", (("Location", tls_server.url("/")),)))
    try:
        with Http(HttpSettings(ca_bundle=certificate.cert)) as http:
            assert http.get(plain.url("/")).content == b"secure"
            assert http._tls is not None and http._tls.loaded
    finally:
        plain.close()


def test_a_redirect_to_https_is_verified_against_the_trust(tls_server: Server) -> None:
    """Loaded at the handshake, the trust is the system's: the self-signed server is refused."""
    plain = Server(Script())
    plain.script.on("/", Reply(301, b"", (("Location", tls_server.url("/")),)))
    try:
        with Http(FAST) as http, pytest.raises(OperationError, match="verification failed"):
            http.get(plain.url("/"))
    finally:
        plain.close()


def test_a_context_loads_its_trust_at_its_first_handshake() -> None:
    context = TrustOnUse(None)
    assert not context.loaded and context.origin == "the system trust store"
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="example.org")
    assert context.loaded and context.cert_store_stats()["x509_ca"] > 0


# --- the pieces -------------------------------------------------------------------------------

NOW = datetime(2024, 6, 15, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("0", 0.0),
        ("1", 1.0),
        (" 120 ", 120.0),
        ("1.5", 1.5),
        ("Sat, 15 Jun 2024 12:00:30 GMT", 30.0),
        ("Sat, 15 Jun 2024 11:00:00 GMT", 0.0),  # in the past: at once
        (format_datetime(datetime(2024, 6, 15, 12, 1, tzinfo=UTC), usegmt=True), 60.0),
        ("-1", None),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(header: str | None, seconds: float | None) -> None:
    assert retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(200, False), (404, False), (429, True), (500, True), (501, False), (503, True),
     (505, False), (524, True)],
)  # fmt: skip
def test_retryable_status(status: int, retryable: bool) -> None:
    assert retryable_status(status) is retryable


def test_shown_url_drops_credentials_only() -> None:
    assert shown_url("https://u:p@host:8/a?b=c") == "https://host:8/a?b=c"
    assert shown_url("https://token@host/a") == "https://host/a"
    assert shown_url("https://host/a") == "https://host/a"
    assert shown_url("http://u:p@[::1/x") == "http://[::1/x"  # not a URL, still no password


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": 0},
        {"connect_timeout": -1},
        {"max_retry_time": 0},
        {"retries": -1},
        {"max_attempt_time": 0},
        {"max_attempt_time": -1.5},
    ],
)
def test_settings_refuse_nonsense(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        HttpSettings(**options)  # type: ignore[arg-type]


def test_the_client_is_built_once_however_many_threads_ask() -> None:
    import threading

    http = Http(HttpSettings())
    barrier = threading.Barrier(8)
    built: list[object] = []

    def ask() -> None:
        barrier.wait()
        built.append(http.client())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 8
    assert all(client is built[0] for client in built)
    http.close()
