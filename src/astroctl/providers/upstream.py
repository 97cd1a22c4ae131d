"""Airflow's upstream constraints file: where it is, how it is fetched and cached, and its pins.

:func:`constraints_url` makes the file's URL from a template (``[upstream] constraints_url`` or
``--upstream``) for a release's Airflow (its public version: ``2.7.2`` for ``2.7.2+astro.1``)
and Python. :func:`fetch_upstream` reads the file through the HTTP seam, cached on disk by URL
with the body's SHA-256 (used without a request while fresh, as a project page is: see
:mod:`astroctl.seams.cache`; then revalidated with its ETag, with the netrc credentials of its
host as the index seam sends them; ``offline`` answers from the cache alone; a ``file://`` URL
is read in place), and :func:`parse_constraints` reads it: ``name==version`` lines, markers after
``;`` kept, comments, blank lines and CRLF allowed, names normalized; every malformed line is
reported at once by its line number.

A :class:`Pin` is one line of a constraint set: of the upstream file, and of the set
:mod:`astroctl.providers.constraints` makes from it. Nothing here prints: warnings go to
``notify``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlsplit

from packaging.version import InvalidVersion, Version

from astroctl.errors import InputError, OperationError
from astroctl.seams.cache import (
    DiskCache,
    Entry,
    default_cache_dir,
    entry_key,
    freshness_fields,
    is_fresh,
)
from astroctl.seams.http import HttpClient, check_status, shown_url
from astroctl.seams.urls import Netrc
from astroctl.versions import normalize_name

if TYPE_CHECKING:
    import httpx

Notify = Callable[[str], None]
Origin = Literal["network", "cache", "file"]

CACHE_NAMESPACE = "constraints-v1"
# the field of a cache entry that holds the file's pins as parsed (see _dump_pins): a run that
# answers from the cache parses nothing (a line with a marker needs packaging's parsers, ~20 ms)
PINS_FIELD = "pins-1"
MAX_SIZE = 16 * 1024 * 1024  # an upstream constraints file larger than this is not read
_SHOWN_ERRORS = 20  # malformed lines named in one error


@dataclass(frozen=True)
class Pin:
    """One line of a constraint set: ``name==version``, with its marker when it has one."""

    name: str  # canonical (PEP 503)
    version: str
    marker: str | None = None
    line: int | None = None  # where it was in the upstream file

    @property
    def requirement(self) -> str:
        """``name==version`` (``; marker`` when there is one)."""
        pinned = f"{self.name}=={self.version}"
        return f"{pinned}; {self.marker}" if self.marker else pinned


@dataclass(frozen=True)
class UpstreamFile:
    """Airflow's constraints file as read: where from, its SHA-256 and its pins."""

    url: str
    sha256: str
    pins: tuple[Pin, ...]
    origin: Origin  # fetched now, answered from the cache, or read from a file:// URL
    previous_sha256: str | None = None  # the cached copy's, when the file changed since


def constraints_url(template: str, airflow: str, python: str) -> str:
    """``template`` with ``{airflow}`` (the public version: no ``+local`` part) and
    ``{python}`` (``3.11``) substituted."""
    try:
        public = Version(airflow).public
    except InvalidVersion as exc:
        raise InputError(f"Airflow version {airflow!r} is not a PEP 440 version") from exc
    return template.replace("{airflow}", public).replace("{python}", python)


def parse_constraints(text: str, source: str) -> tuple[Pin, ...]:
    """The pins of a constraints file; an :class:`InputError` naming ``source`` and the line
    number of every malformed line (and of every name pinned twice)."""
    pins: list[Pin] = []
    seen: dict[str, int] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        line = _strip_comment(raw.removesuffix("\r")).strip()
        if not line:
            continue
        try:
            pin = _pin(line, number)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}: {raw.strip()!r}")
            continue
        if pin.name in seen:
            problems.append(
                f"line {number}: {pin.name} is pinned again (first on line {seen[pin.name]})"
            )
            continue
        seen[pin.name] = number
        pins.append(pin)
    if problems:
        shown = problems[:_SHOWN_ERRORS]
        more = len(problems) - len(shown)
        tail = [f"  ... and {more} more"] if more else []
        noun = "line" if len(problems) == 1 else "lines"
        lines = [f"{source}: {len(problems)} malformed {noun}", *(f"  {p}" for p in shown), *tail]
        raise InputError("\n".join(lines))
    return tuple(pins)


def _strip_comment(line: str) -> str:
    """A line without its comment: ``#`` at the start or after whitespace (as pip reads it)."""
    if "#" not in line:
        return line
    if line.lstrip().startswith("#"):
        return ""
    for index, char in enumerate(line):
        if char == "#" and index and line[index - 1] in " \t":
            return line[:index]
    return line


# ``name==version`` and nothing else, as most lines are: read without packaging's parser
_PLAIN_PIN = re.compile(
    r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)[ \t]*==[ \t]*([A-Za-z0-9][A-Za-z0-9.+!_-]*)"
)


def _pin(line: str, number: int) -> Pin:
    plain = _PLAIN_PIN.fullmatch(line)
    if plain is not None:
        try:
            Version(plain[2])
        except InvalidVersion:
            pass  # the full reading below names the problem
        else:
            return Pin(normalize_name(plain[1]), plain[2], None, number)
    from packaging.markers import InvalidMarker
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        requirement = Requirement(line)
    except (InvalidRequirement, InvalidMarker) as exc:
        raise ValueError("not a name==version pin") from exc
    if requirement.url is not None:
        raise ValueError("a URL is not a pin")
    if requirement.extras:
        raise ValueError("a constraint cannot name extras")
    specifiers = list(requirement.specifier)
    if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
        raise ValueError("not an exact name==version pin")
    version = specifiers[0].version
    try:
        Version(version)
    except InvalidVersion as exc:
        raise ValueError(f"{version!r} is not a PEP 440 version") from exc
    marker = str(requirement.marker) if requirement.marker is not None else None
    return Pin(normalize_name(requirement.name), version, marker, number)


def fetch_upstream(
    url: str,
    *,
    http: HttpClient | None,
    cache_dir: Path | None = None,
    offline: bool = False,
    notify: Notify | None = None,
    fresh_for: float = 0.0,
    netrc: Netrc | None = None,
) -> UpstreamFile:
    """The upstream constraints at ``url`` (http, https or file), parsed. A cached copy younger
    than ``fresh_for`` seconds (and than the lifetime the server gave it) is used without a
    request. A request carries the netrc credentials of the URL's host (``netrc``, default:
    ``$NETRC`` or ``~/.netrc``, as the index seam reads them)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        body = _read_file_url(url)
        return UpstreamFile(url, _sha256(body), parse_constraints(_text(body, url), url), "file")
    if scheme not in ("http", "https"):
        raise InputError(f"upstream constraints URL {shown_url(url)!r}: not an http(s) or file URL")
    cache = DiskCache(cache_dir if cache_dir is not None else default_cache_dir())
    cached = cache.read(CACHE_NAMESPACE, entry_key("constraints", url))
    if offline:
        if cached is None:
            raise OperationError(
                f"{shown_url(url)}: not in the cache ({cache.root}); run once without --offline"
            )
        return _from_entry(url, cached, "cache")
    if cached is not None and is_fresh(cached, fresh_for):
        return _from_entry(url, cached, "cache")
    if http is None:
        raise OperationError(f"{shown_url(url)}: no HTTP client to fetch it with")
    told = notify or _quiet
    login = netrc if netrc is not None else Netrc(notify=told)
    return _fetch(url, http, cache, cached, told, netrc=login)


def _fetch(
    url: str,
    http: HttpClient,
    cache: DiskCache,
    cached: Entry | None,
    notify: Notify,
    *,
    netrc: Netrc | None = None,
) -> UpstreamFile:
    """GET the file (revalidating a cached copy by its ETag) and cache what came; a 304 dates
    the cached copy anew."""
    headers: dict[str, str] = {}
    etag = cached.get("etag") if cached is not None else None
    if etag:
        headers["If-None-Match"] = etag
    authorization = netrc.authorization(url) if netrc is not None else None
    if authorization is not None:
        headers["Authorization"] = authorization
    response = http.get(url, headers=headers or None)
    if response.status_code == 304 and cached is not None:
        answer = _from_entry(url, cached, "cache")
        fields = {k: v for k, v in cached.fields.items() if k != "max-age"}
        fields.update(_freshness(response))
        fields[PINS_FIELD] = _dump_pins(answer.pins)  # an entry of an earlier astroctl gets them
        _keep(cache, url, Entry(cached.body, MappingProxyType(fields)), notify)
        return answer
    if response.status_code == 404:
        raise OperationError(
            f"{shown_url(url)}: HTTP 404 Not Found: upstream publishes no constraints for this "
            f"Airflow and Python; pass --upstream URL, or --upstream none to resolve the set"
        )
    body = check_status(response).content
    if len(body) > MAX_SIZE:
        raise OperationError(f"{shown_url(url)}: larger than {MAX_SIZE} bytes; not read")
    digest = _sha256(body)
    pins = parse_constraints(_text(body, url), shown_url(url))
    fields = {"url": url, "etag": response.headers.get("ETag", "")}  # the cache sums the body
    fields.update(_freshness(response))
    fields[PINS_FIELD] = _dump_pins(pins)
    _keep(cache, url, Entry(body, MappingProxyType(fields)), notify)
    previous = _sha256(cached.body) if cached is not None else None
    changed = previous if previous is not None and previous != digest else None
    if changed is not None:
        notify(
            f"{shown_url(url)} changed since it was cached (sha256 {changed[:12]}... -> "
            f"{digest[:12]}...)"
        )
    return UpstreamFile(url, digest, pins, "network", changed)


def _freshness(response: httpx.Response) -> dict[str, str]:
    return freshness_fields(response.headers.get("Cache-Control"), response.headers.get("Age"))


def _keep(cache: DiskCache, url: str, entry: Entry, notify: Notify) -> None:
    try:
        cache.write(CACHE_NAMESPACE, entry_key("constraints", url), entry)
    except OperationError as exc:
        notify(f"cannot cache the upstream constraints: {exc}")


def _quiet(message: str) -> None:
    del message


def _from_entry(url: str, entry: Entry, origin: Origin) -> UpstreamFile:
    pins = _load_pins(entry.get(PINS_FIELD))
    if pins is None:  # an entry of an earlier astroctl: the file itself, parsed again
        pins = parse_constraints(_text(entry.body, url), shown_url(url))
    return UpstreamFile(url, _sha256(entry.body), pins, origin)


def _dump_pins(pins: tuple[Pin, ...]) -> str:
    """The pins as a cache field: a JSON list of ``[name, version, marker, line]``."""
    return json.dumps([[p.name, p.version, p.marker, p.line] for p in pins], separators=(",", ":"))


def _load_pins(text: str | None) -> tuple[Pin, ...] | None:
    """The pins :func:`_dump_pins` wrote, or None when there are none or they do not read as
    such (the file is parsed again: the field is a shortcut, never the only source)."""
    if not text:
        return None
    try:
        rows = json.loads(text)
        pins = tuple(Pin(name, version, marker, line) for name, version, marker, line in rows)
    except (ValueError, TypeError):
        return None
    valid = all(
        isinstance(p.name, str)
        and isinstance(p.version, str)
        and isinstance(p.marker, str | None)
        and isinstance(p.line, int)
        for p in pins
    )
    return pins if valid else None


def _read_file_url(url: str) -> bytes:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise InputError(f"{url}: a file URL names a local file (file:///path), not a host")
    path = Path(unquote(parts.path))
    try:
        with path.open("rb") as stream:
            body = stream.read(MAX_SIZE + 1)
    except OSError as exc:
        raise OperationError(f"{url}: cannot read: {exc.strerror or exc}") from exc
    if len(body) > MAX_SIZE:
        raise OperationError(f"{url}: larger than {MAX_SIZE} bytes; not read")
    return body


def _text(body: bytes, url: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{shown_url(url)}: not UTF-8 text (byte {exc.start})") from exc


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
