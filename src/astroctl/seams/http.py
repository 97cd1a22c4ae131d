"""The HTTP seam: the one httpx client the package index and registry clients share.

httpx is imported only when the first request is made (CLI start-up time matters). The client:

* times out: ``connect_timeout`` to connect, ``timeout`` for each read, write and pool wait,
  and ``max_attempt_time`` (default 300 s; ``$ASTROCTL_HTTP_ATTEMPT_TIME`` for a client built
  without settings, as the CLI's is) for one attempt, from sending the request to the last byte
  of the body, redirects included: httpx's timeouts are per read, so a server that sends the
  headers and then drips the body a byte every few seconds would otherwise hold an attempt open
  forever. The limit is checked as each piece of the body arrives (an attempt ends at most one
  read's ``timeout`` past it; headers dripped line by line are not bounded), and an attempt
  past it is a timeout like any other: retried, then "timed out reading the response body
  (not complete after N s)";
* retries connection failures, timeouts, 5xx (but 501/505) and 429 with exponential backoff and
  jitter, honouring ``Retry-After`` (seconds or an HTTP date), bounded in count (``retries``)
  and in total time: no wait or new attempt starts unless the wait ends within
  ``max_retry_time`` of the first attempt, so one request takes at most ``max_retry_time`` plus
  one attempt's own ``max_attempt_time``. Only idempotent methods are retried after a 5xx.
  A host name the resolver says does not exist ("Name or service not known", ``EAI_NONAME``)
  is not retried: that answer is the resolver's own, and another try would wait the backoff
  to hear it again; any other resolver failure ("Temporary failure in name resolution") is
  retried once, not ``retries`` times, as each attempt can wait seconds on the resolver;
* always verifies TLS. Trust comes from, in order: ``ca_bundle``; ``$SSL_CERT_FILE``;
  ``$REQUESTS_CA_BUNDLE`` (what pip and requests users already set behind a TLS-intercepting
  proxy); the system trust store (which also honours ``$SSL_CERT_DIR``); certifi, httpx's own,
  when the system has none. A bundle replaces the trust store, it does not add to it;
  the trust is loaded (~20 ms for a bundle of a few hundred certificates) before the first
  https request, or at the first TLS handshake however it comes (a redirect, a proxy): a run
  that speaks only plain http to a loopback or internal index never loads it;
* says who it is (``astroctl/<version> (+python httpx/<version>)``), speaks HTTP/1.1 over a
  small connection pool, follows redirects, and honours ``$HTTPS_PROXY``/``$NO_PROXY``.

A response of any status is returned as it is (an index client decides what a 404 means);
:func:`check_status` (or ``check=True``) turns a non-2xx into one clean :class:`HttpStatusError`.
A request that never got a response raises :class:`~astroctl.errors.OperationError` with one
plain line naming the method and URL, never an httpx traceback.
"""

from __future__ import annotations

import functools
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from astroctl import __version__
from astroctl.errors import InputError, OperationError

if TYPE_CHECKING:
    import ssl

    import httpx

    from astroctl.seams.tls import TrustOnUse

CA_BUNDLE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")  # read in this order
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
DNS_RETRIES = 1  # a resolver failure is asked once more, not ``retries`` times (unless final)
ATTEMPT_TIME_VARIABLE = "ASTROCTL_HTTP_ATTEMPT_TIME"
_DEADLINE = "astroctl.attempt_deadline"  # the request extension that carries an attempt's end
Notify = Callable[[str], None]
Headers = Mapping[str, str]
Params = Mapping[str, str]
_E = TypeVar("_E", bound=BaseException)


@dataclass(frozen=True)
class HttpSettings:
    """How the client behaves; the defaults suit a release engineer's network."""

    timeout: float = 30.0  # seconds for each read, write and wait for a pooled connection
    connect_timeout: float = 10.0
    retries: int = 4  # after the first attempt: at most 5 attempts
    backoff: float = 0.5  # the first wait; doubled for each retry, with jitter
    max_backoff: float = 20.0  # the longest computed wait (a Retry-After may ask for more)
    max_retry_time: float = 90.0  # no retry starts later than this after the first attempt
    max_attempt_time: float = 300.0  # one attempt, from the request to the body's last byte
    ca_bundle: Path | None = None  # a PEM bundle to trust instead of the default trust store
    user_agent: str | None = None  # None: astroctl/<version> (+python httpx/<version>)
    max_connections: int = 10
    max_keepalive_connections: int = 10  # all that may be open: no churn under concurrency

    def __post_init__(self) -> None:
        for name in ("timeout", "connect_timeout", "max_retry_time", "max_attempt_time"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")
        if self.retries < 0 or self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("retries, backoff and max_backoff must not be negative")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> HttpSettings:
        """The defaults, but ``max_attempt_time`` from ``$ASTROCTL_HTTP_ATTEMPT_TIME`` (seconds)
        when it is set; an :class:`InputError` for anything but a positive number."""
        seconds = seconds_setting(
            ATTEMPT_TIME_VARIABLE, environ, "a positive number of seconds such as 300", zero=False
        )
        return cls() if seconds is None else cls(max_attempt_time=seconds)


def seconds_setting(
    variable: str, environ: Mapping[str, str] | None, wanted: str, *, zero: bool
) -> float | None:
    """``$variable`` (of ``environ``, default ``os.environ``) as a number of seconds, None when
    it is unset or blank; an :class:`InputError` "``$variable 'x'`` is not ``wanted``" for
    anything but a finite number above 0 (or 0 itself, with ``zero``)."""
    env = os.environ if environ is None else environ
    text = env.get(variable, "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not (0 <= seconds < math.inf) or (seconds == 0 and not zero):
        raise InputError(f"${variable} {text!r} is not {wanted}")
    return seconds


class HttpStatusError(OperationError):
    """A response had a status other than 2xx (exit 1)."""

    def __init__(self, method: str, url: str, status_code: int, reason: str) -> None:
        self.method = method
        self.url = url
        self.status_code = status_code
        super().__init__(f"{method} {url}: HTTP {status_code} {reason}".rstrip())


class HttpClient(Protocol):
    """What an index or registry client needs (a test hands a fake or a loopback server)."""

    def get(
        self,
        url: str,
        *,
        headers: Headers | None = None,
        params: Params | None = None,
        check: bool = False,
    ) -> httpx.Response: ...

    def close(self) -> None: ...


class Http:
    """The client: built on first use, closed by :meth:`close` or by leaving a ``with`` block.

    ``notify`` is told, in one line, about each retry ("retrying in 2.0 s: HTTP 503 ..."), so a
    command can show why it is waiting; the seam itself never prints.
    """

    def __init__(
        self, settings: HttpSettings | None = None, *, notify: Notify | None = None
    ) -> None:
        self.settings = settings if settings is not None else HttpSettings.from_environment()
        self._notify = notify
        self._client: httpx.Client | None = None
        self._tls: TrustOnUse | None = None
        self._trust = ""  # where the client's trust came from, for a TLS error
        self._building = threading.Lock()

    def client(self) -> httpx.Client:
        """The httpx client, built on first use (once, however many threads ask at once)."""
        if self._client is not None:
            return self._client
        with self._building:
            if self._client is not None:
                return self._client
            import httpx

            from astroctl.seams.tls import TrustOnUse

            settings = self.settings
            self._tls = TrustOnUse(*_chosen_bundle(settings.ca_bundle))
            self._trust = self._tls.origin
            self._client = httpx.Client(
                verify=self._tls,
                timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
                limits=httpx.Limits(
                    max_connections=settings.max_connections,
                    max_keepalive_connections=settings.max_keepalive_connections,
                ),
                headers={"User-Agent": settings.user_agent or default_user_agent()},
                http1=True,
                http2=False,
                follow_redirects=True,
                trust_env=True,
                event_hooks={"response": [_bound_body]},
            )
        return self._client

    def get(
        self,
        url: str,
        *,
        headers: Headers | None = None,
        params: Params | None = None,
        check: bool = False,
    ) -> httpx.Response:
        return self.request("GET", url, headers=headers, params=params, check=check)

    def head(
        self,
        url: str,
        *,
        headers: Headers | None = None,
        params: Params | None = None,
        check: bool = False,
    ) -> httpx.Response:
        return self.request("HEAD", url, headers=headers, params=params, check=check)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Headers | None = None,
        params: Params | None = None,
        check: bool = False,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send one request under the retry policy; with ``check``, a non-2xx raises.

        ``content`` is the request body (a registry's manifest PUT), sent again on a retry.
        """
        import httpx

        method = method.upper()
        client = self.client()
        if self._tls is not None and url[:8].lower() == "https://":
            self._tls.load()  # a broken bundle is bad input, said before any connection
        budget = _Budget(self.settings)
        while True:
            try:
                deadline = time.monotonic() + self.settings.max_attempt_time
                request = client.build_request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    content=content,
                    extensions={_DEADLINE: (deadline, self.settings.max_attempt_time)},
                )
                response = client.send(request)  # the body read, under the deadline
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise InputError(f"{method} {shown_url(url)}: not an http(s) URL: {exc}") from exc
            except httpx.HTTPError as exc:
                retry, reason = _transport_failure(exc, self._trust)
                failure = unresolved(exc)
                if retry and failure is not None:  # a name that does not resolve rarely starts to
                    retry = failure != "unknown" and budget.used < DNS_RETRIES
                wait = budget.delay(None) if retry else None
                if wait is None:
                    where = f"{method} {shown_url(url)}"
                    raise OperationError(f"{where}: {reason}{budget.tries()}") from exc
                self._wait(wait, reason)
                continue
            delay = _status_delay(method, response, budget)
            if delay is None:
                break
            response.close()
            self._wait(delay, f"HTTP {response.status_code} {response.reason_phrase}")
        return check_status(response) if check else response

    def _wait(self, delay: float, reason: str) -> None:
        if self._notify is not None:
            self._notify(f"retrying in {delay:.1f} s: {reason}")
        time.sleep(delay)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Http:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def check_status(response: httpx.Response) -> httpx.Response:
    """The response itself if its status is 2xx; otherwise a clean :class:`HttpStatusError`."""
    if response.is_success:
        return response
    request = response.request
    raise HttpStatusError(
        request.method, shown_url(str(request.url)), response.status_code, response.reason_phrase
    )


def default_user_agent() -> str:
    import httpx

    return f"astroctl/{__version__} (+python httpx/{httpx.__version__})"


def trust_store(ca_bundle: Path | None) -> tuple[ssl.SSLContext, str]:
    """The TLS verification httpx gets (never off), loaded now, and where its trust comes from."""
    from astroctl.seams.tls import TrustOnUse

    context = TrustOnUse(*_chosen_bundle(ca_bundle))
    context.load()
    return context, context.origin


def _chosen_bundle(ca_bundle: Path | None) -> tuple[Path | None, str]:
    if ca_bundle is not None:
        return ca_bundle, "ca_bundle"
    for name in CA_BUNDLE_VARIABLES:
        value = os.environ.get(name)
        if value:
            return Path(value), f"${name}"
    return None, ""


def shown_url(url: str) -> str:
    """The URL as an error may show it: without a user name or password."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not even a URL: show it as it was given, less anything before an @
        scheme, slashes, rest = url.partition("//")
        return scheme + slashes + rest.rpartition("@")[2] if slashes else url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (a delay or an HTTP date), or None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if 0 <= seconds < float("inf") else None
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def retryable_status(status_code: int) -> bool:
    """429, and any 5xx but 501 Not Implemented and 505 HTTP Version Not Supported."""
    return status_code == 429 or (500 <= status_code <= 599 and status_code not in (501, 505))


class _Budget:
    """The retries of one request: how many are left, and how long it may still take."""

    def __init__(self, settings: HttpSettings) -> None:
        import random

        self.settings = settings
        self.used = 0
        self.deadline = time.monotonic() + settings.max_retry_time
        self._jitter = random.Random()  # noqa: S311 - jitter, not cryptography

    def tries(self) -> str:
        """How an error message ends once there were retries: " after N attempts"."""
        return f" after {self.used + 1} attempts" if self.used else ""

    def delay(self, asked: float | None) -> float | None:
        """The wait before the next attempt, or None when the count or the time is used up."""
        if self.used >= self.settings.retries:
            return None
        if asked is None:
            ceiling = min(self.settings.max_backoff, self.settings.backoff * 2**self.used)
            wait = self._jitter.uniform(ceiling / 2, ceiling)
        else:
            wait = asked
        if time.monotonic() + wait >= self.deadline:
            return None
        self.used += 1
        return wait


def _status_delay(method: str, response: httpx.Response, budget: _Budget) -> float | None:
    """How long to wait before retrying after this response, or None to return it."""
    status = response.status_code
    if not retryable_status(status) or (status != 429 and method not in IDEMPOTENT):
        return None
    return budget.delay(retry_after(response.headers.get("Retry-After")))


_TIMEOUTS = MappingProxyType(
    {
        "ConnectTimeout": "connecting",
        "ReadTimeout": "waiting for the response",
        "WriteTimeout": "sending the request",
        "PoolTimeout": "waiting for a free connection",
    }
)


class _SlowBody(Exception):
    """Why an attempt's body was given up: it was not complete within ``max_attempt_time``."""

    def __init__(self, limit: float) -> None:
        super().__init__(f"timed out reading the response body (not complete after {limit:g} s)")


def _bound_body(response: httpx.Response) -> None:
    """An httpx response hook: the body of a response to one of :meth:`Http.request`'s
    attempts (a redirect's too) is read under that attempt's deadline."""
    import httpx

    bound = response.request.extensions.get(_DEADLINE)
    if bound is not None and isinstance(response.stream, httpx.SyncByteStream):
        deadline, limit = bound
        response.stream = _deadline_stream()(response.stream, response.request, deadline, limit)


@functools.cache
def _deadline_stream() -> Callable[
    [httpx.SyncByteStream, httpx.Request, float, float], httpx.SyncByteStream
]:
    """The stream class that wraps a response's body (made on first use: httpx is imported
    lazily). Between pieces of the body it checks the deadline, and past it raises
    :class:`httpx.ReadTimeout` (caused by :class:`_SlowBody`): httpx closes the response and
    its connection, and the retry policy sees a timeout."""
    import httpx

    class DeadlineStream(httpx.SyncByteStream):
        def __init__(
            self,
            stream: httpx.SyncByteStream,
            request: httpx.Request,
            deadline: float,
            limit: float,
        ) -> None:
            self._stream = stream
            self._request = request
            self._deadline = deadline
            self._limit = limit

        def __iter__(self) -> Iterator[bytes]:
            self._check()
            for chunk in self._stream:
                self._check()
                yield chunk

        def _check(self) -> None:
            if time.monotonic() > self._deadline:
                slow = _SlowBody(self._limit)
                raise httpx.ReadTimeout(str(slow), request=self._request) from slow

        def close(self) -> None:
            self._stream.close()

    return DeadlineStream


def _transport_failure(exc: httpx.HTTPError, trust: str) -> tuple[bool, str]:
    """Whether a failure is worth retrying, and a one-line reason for the user."""
    import ssl

    import httpx

    slow = _cause(exc, _SlowBody)
    if slow is not None:
        return True, str(slow)
    tls = _cause(exc, ssl.SSLError)
    if isinstance(tls, ssl.SSLCertVerificationError):
        detail = tls.verify_message or tls.reason or "certificate verify failed"
        return False, f"TLS certificate verification failed ({detail}) using {trust}"
    if tls is not None:
        return True, f"TLS handshake failed ({tls.reason or tls})"
    if isinstance(exc, httpx.TimeoutException):
        return True, f"timed out {_TIMEOUTS.get(type(exc).__name__, 'waiting')}"
    if isinstance(exc, httpx.TooManyRedirects):
        return False, "too many redirects"
    if isinstance(exc, httpx.TransportError):
        lead = "cannot connect" if isinstance(exc, httpx.ConnectError) else "connection failed"
        return True, f"{lead} ({_reason(exc)})"
    return False, _reason(exc)


def unresolved(exc: BaseException) -> str | None:
    """Whether a failure comes from a host name that could not be resolved: ``"unknown"`` when
    the resolver answered that the name does not exist (``EAI_NONAME``, or ``EAI_NODATA``
    where the platform has it), ``"failed"`` for any other resolver failure, None otherwise."""
    import socket

    found = _cause(exc, socket.gaierror)
    if found is None:
        return None
    final = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
    return "unknown" if found.errno in final else "failed"


def _cause(exc: BaseException, kind: type[_E]) -> _E | None:
    """The first exception of ``kind`` in ``exc``'s chain of causes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _reason(exc: BaseException) -> str:
    """A plain reason: an OS error's text ("Connection refused"), else the first line."""
    cause = _cause(exc, OSError)
    if cause is not None and cause.strerror:
        return cause.strerror
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
