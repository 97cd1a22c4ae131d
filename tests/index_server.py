"""A real package index on loopback for tests: PEP 503 HTML and PEP 691 JSON over HTTP/1.1.

    with IndexServer() as index:
        index.add("apache-airflow-providers-http", "4.1.0", requires_dist=["requests>=2"])
        client = PackageIndex(index.url, http=http, cache_dir=tmp_path)

The server listens on 127.0.0.1 (a free port) in a thread and serves the projects a test adds:
real wheels (zip files with ``<name>-<version>.dist-info/METADATA``) and sdists (``.tar.gz`` with
a top-level ``PKG-INFO``), built in memory. It answers

* ``/simple/`` and ``/simple/<name>/`` as PEP 691 JSON or PEP 503 HTML, chosen by ``Accept``
  (no ``Accept``: HTML; a name not in normal form redirects to it);
* ``/files/<filename>`` and, for wheels, ``/files/<filename>.metadata`` (PEP 658/714);
* ``ETag`` and ``Last-Modified`` on pages, with ``304 Not Modified`` for a request whose
  ``If-None-Match`` (or, without one, ``If-Modified-Since``) still holds.

Every request is logged (:attr:`IndexServer.requests`), the largest number in flight at once is
kept (:attr:`IndexServer.max_in_flight`), and :meth:`IndexServer.fail` queues faults for a path:
an error status, a 429 with ``Retry-After``, a wrong content type, invalid JSON, a slow answer, a
dropped connection, a body cut short or a body dripped a few bytes at a time.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import html
import io
import json
import re
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType, TracebackType
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import canonicalize_name
from packaging.version import Version

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
_OFFERS = (  # what a page can be served as, in the server's order of preference
    (JSON_TYPE, "json"),
    ("application/vnd.pypi.simple.latest+json", "json"),
    (HTML_TYPE, "html"),
    ("application/vnd.pypi.simple.latest+html", "html"),
    ("text/html", "html"),
)
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


# -- faults and the log ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour for one request (see the constructors below)."""

    status: int = 503
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds before answering
    serve: bool = False  # answer as usual after the delay (with ``content_type`` if set)
    content_type: str | None = None
    disconnect: bool = False  # close the connection without an answer
    truncate: bool = False  # the usual answer, its body cut in half, then the connection closed
    drip: float = 0.0  # seconds between writes of the body, ``chunk`` bytes each (0: at once)
    chunk: int = 1

    @classmethod
    def error(cls, status: int = 503, body: bytes = b"") -> Fault:
        return cls(status=status, body=body)

    @classmethod
    def too_many_requests(cls, retry_after: str = "0") -> Fault:
        return cls(status=429, headers=(("Retry-After", retry_after),))

    @classmethod
    def not_found(cls) -> Fault:
        return cls(status=404, body=b"Not Found")

    @classmethod
    def wrong_content_type(cls, content_type: str = "text/plain") -> Fault:
        """The usual body, labelled with another content type."""
        return cls(serve=True, content_type=content_type)

    @classmethod
    def invalid_json(cls) -> Fault:
        return cls(
            status=200, body=b'{"meta": {"api-version": "1.1"}, "files": [', content_type=JSON_TYPE
        )

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """The usual answer, ``seconds`` late."""
        return cls(serve=True, delay=seconds)

    @classmethod
    def drop(cls) -> Fault:
        return cls(disconnect=True)

    @classmethod
    def truncated(cls) -> Fault:
        """The usual status and headers (``Content-Length`` of the whole body), half the body,
        then the connection closed: a download cut short."""
        return cls(serve=True, truncate=True)

    @classmethod
    def dripping(
        cls, pause: float, chunk: int = 1, headers: tuple[tuple[str, str], ...] = ()
    ) -> Fault:
        """The usual status and headers (``Content-Length`` of the whole body, and ``headers``)
        at once, then the body ``chunk`` bytes at a time, ``pause`` seconds apart: every read
        is quick, the whole body slow. A client that hangs up ends the drip."""
        if pause <= 0 or chunk < 1:
            raise ValueError("a drip needs a positive pause and chunks of at least one byte")
        return cls(serve=True, headers=headers, drip=pause, chunk=chunk)


@dataclass(frozen=True)
class Request:
    """One request the server answered."""

    method: str
    path: str
    headers: Mapping[str, str]  # names in lower case
    status: int  # 0 for a dropped connection
    client_port: int  # one per connection: requests sharing it came over one connection
    started: float  # time.monotonic()
    ended: float

    @property
    def conditional(self) -> bool:
        return "if-none-match" in self.headers or "if-modified-since" in self.headers


# -- distributions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServedFile:
    """A file of a project as the index lists and serves it."""

    project: str  # canonical
    version: str
    filename: str
    data: bytes
    metadata: bytes | None = None  # the PEP 658 metadata file; None: the index has none
    requires_python: str | None = None
    yanked: str | None = None  # the reason, "" for none; None: not yanked
    upload_time: datetime | None = None
    listed_hash: str | None = None  # sha256 on the page; None: the data's own
    listed_metadata_hash: str | None = None  # sha256 of the metadata file on the page


def metadata_text(
    name: str,
    version: str,
    *,
    requires_python: str | None = None,
    requires_dist: Iterable[str] = (),
    metadata_version: str = "2.1",
    dynamic: Iterable[str] = (),
) -> bytes:
    """A core metadata file (METADATA or PKG-INFO)."""
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    lines += [f"Dynamic: {d}" for d in dynamic]
    if requires_python is not None:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {r}" for r in requires_dist]
    lines += ["", f"{name} {version}, built for a test.", ""]
    return "\n".join(lines).encode("utf-8")


def dist_name(name: str) -> str:
    """The name as it appears in wheel and sdist file names."""
    return re.sub(r"[-_.]+", "_", name).lower()


def build_wheel(
    name: str, version: str, metadata: bytes, tags: str = "py3-none-any"
) -> tuple[str, bytes]:
    """A wheel's file name and bytes: a package, METADATA, WHEEL and RECORD."""
    stem = f"{dist_name(name)}-{Version(version)}"
    info = f"{stem}.dist-info"
    members = {
        f"{dist_name(name)}/__init__.py": b"",
        f"{info}/METADATA": metadata,
        f"{info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tags}\n"
        ).encode(),
    }
    record = "".join(f"{path},,\n" for path in members) + f"{info}/RECORD,,\n"
    members[f"{info}/RECORD"] = record.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            archive.writestr(zipfile.ZipInfo(path, ZIP_TIME), data)
    return f"{stem}-{tags}.whl", buffer.getvalue()


def build_sdist(name: str, version: str, pkg_info: bytes) -> tuple[str, bytes]:
    """An sdist's file name and bytes: ``<stem>/PKG-INFO`` and ``<stem>/pyproject.toml``, and
    a decoy ``PKG-INFO`` deeper down that a reader must not take for the real one."""
    stem = f"{dist_name(name)}-{Version(version)}"
    decoy = metadata_text(name, "0+decoy", metadata_version="2.2")
    members = {
        f"{stem}/PKG-INFO": pkg_info,
        f"{stem}/pyproject.toml": b"[project]\nname = 'x'\n",
        f"{stem}/src/{dist_name(name)}.egg-info/PKG-INFO": decoy,
    }
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed,
        tarfile.open(fileobj=compressed, mode="w") as archive,
    ):
        for path, data in members.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return f"{stem}.tar.gz", buffer.getvalue()


@dataclass
class _Project:
    name: str  # as first added
    files: dict[str, ServedFile] = field(default_factory=dict)
    modified: int = 0  # whole seconds, for Last-Modified


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


# -- the server ---------------------------------------------------------------------------------


class IndexServer:
    """A loopback index. Options are attributes a test may change while it runs.

    ``json`` / ``html``: the page formats offered (an HTML-only index ignores JSON in Accept);
    ``metadata_files``: serve PEP 658 metadata files for wheels; ``metadata_hashes``: list their
    hashes (else ``true``); ``etag`` / ``last_modified``: send those validators and honour the
    conditional requests; ``absolute_urls``: file URLs on pages absolute, not relative;
    ``delay``: seconds before every answer; ``page_headers``: more headers on every page answer,
    200 or 304 (``Cache-Control``, ``Age``).
    """

    def __init__(
        self,
        *,
        json: bool = True,
        html: bool = True,
        metadata_files: bool = True,
        metadata_hashes: bool = True,
        etag: bool = True,
        last_modified: bool = True,
        absolute_urls: bool = False,
        api_version: str = "1.1",
        delay: float = 0.0,
    ) -> None:
        self.json = json
        self.html = html
        self.metadata_files = metadata_files
        self.metadata_hashes = metadata_hashes
        self.etag = etag
        self.last_modified = last_modified
        self.absolute_urls = absolute_urls
        self.api_version = api_version
        self.delay = delay
        self.page_headers: tuple[tuple[str, str], ...] = ()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._projects: dict[str, _Project] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._log: list[Request] = []
        self._in_flight = 0
        self.max_in_flight = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life -------------------------------------------------------------------------------------

    def start(self) -> IndexServer:
        httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``."""
        if self._httpd is None:
            raise RuntimeError("the index server is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def url(self) -> str:
        """The index URL (``<base>/simple/``), for ``--index-url``."""
        return f"{self.base}/simple/"

    # -- content ----------------------------------------------------------------------------------

    def add_project(self, name: str) -> None:
        """A project with no files yet (or nothing more if it exists)."""
        with self._lock:
            self._touch(name)

    def add(
        self,
        name: str,
        version: str,
        *,
        requires_python: str | None = None,
        requires_dist: Sequence[str] = (),
        yanked: bool | str = False,
        upload_time: datetime | None = None,
        wheel: bool = True,
        sdist: bool = False,
        tags: str = "py3-none-any",
        metadata_file: bool | None = None,
        sdist_metadata_version: str = "2.2",
        dynamic: Sequence[str] = (),
    ) -> tuple[str, ...]:
        """Build and publish a version: a wheel (its METADATA also as a PEP 658 file unless
        ``metadata_file`` is False, or the server's ``metadata_files`` is) and/or an sdist whose
        PKG-INFO has ``sdist_metadata_version`` and ``dynamic`` fields. Returns the file names.
        ``yanked``: True, or the reason."""
        reason = ("" if yanked is True else yanked) if yanked else None
        project = canonicalize_name(name)
        added = []
        if wheel:
            metadata = metadata_text(
                name, version, requires_python=requires_python, requires_dist=requires_dist
            )
            filename, data = build_wheel(name, version, metadata, tags)
            served = metadata if metadata_file is not False else None
            self._publish(
                ServedFile(
                    project, version, filename, data, served, requires_python, reason, upload_time
                ),
                name,
            )
            added.append(filename)
        if sdist:
            pkg_info = metadata_text(
                name,
                version,
                requires_python=requires_python,
                requires_dist=requires_dist,
                metadata_version=sdist_metadata_version,
                dynamic=dynamic,
            )
            filename, data = build_sdist(name, version, pkg_info)
            self._publish(
                ServedFile(
                    project, version, filename, data, None, requires_python, reason, upload_time
                ),
                name,
            )
            added.append(filename)
        return tuple(added)

    def add_file(
        self,
        name: str,
        filename: str,
        data: bytes,
        *,
        version: str = "",
        metadata: bytes | None = None,
        requires_python: str | None = None,
        yanked: str | None = None,
    ) -> None:
        """Publish any bytes under any file name (a broken wheel, an ``.exe``, ...)."""
        self._publish(
            ServedFile(
                canonicalize_name(name),
                version,
                filename,
                data,
                metadata,
                requires_python=requires_python,
                yanked=yanked,
            ),
            name=name,
        )

    def tamper(
        self, filename: str, *, data: bytes | None = None, metadata: bytes | None = None
    ) -> None:
        """Serve other bytes for a file or its metadata file while the page keeps the old hashes."""
        with self._lock:
            for project in self._projects.values():
                old = project.files.get(filename)
                if old is not None:
                    project.files[filename] = dataclasses.replace(
                        old,
                        data=old.data if data is None else data,
                        metadata=old.metadata if metadata is None else metadata,
                        listed_hash=_sha256(old.data),
                        listed_metadata_hash=_sha256(old.metadata) if old.metadata else None,
                    )
                    return
        raise KeyError(filename)

    def _publish(self, served: ServedFile, name: str | None = None) -> None:
        with self._lock:
            project = self._touch(name or served.project)
            project.files[served.filename] = served

    def _touch(self, name: str) -> _Project:
        """The project, created if new, marked modified now (strictly later than before)."""
        key = canonicalize_name(name)
        project = self._projects.setdefault(key, _Project(name))
        project.modified = max(int(time.time()), project.modified + 1)
        return project

    # -- faults and the log -----------------------------------------------------------------------

    def fail(self, path: str, *faults: Fault) -> None:
        """Answer the next requests for ``path`` with these faults, one each, then as usual."""
        with self._lock:
            self._faults.setdefault(path, []).extend(faults)

    def page_path(self, name: str) -> str:
        return f"/simple/{canonicalize_name(name)}/"

    def file_path(self, filename: str) -> str:
        return f"/files/{quote(filename)}"

    def metadata_path(self, filename: str) -> str:
        return self.file_path(filename) + ".metadata"

    @property
    def requests(self) -> list[Request]:
        """The requests answered so far, in the order they ended."""
        with self._lock:
            return list(self._log)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()
            self.max_in_flight = 0

    # -- answering --------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        path = urlsplit(handler.path).path
        headers = MappingProxyType({k.lower(): v for k, v in handler.headers.items()})
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            queue = self._faults.get(path)
            fault = queue.pop(0) if queue else None
        answer: _Answer | None = None
        try:
            delay = fault.delay if fault is not None and fault.delay else self.delay
            if delay and self._stop.wait(delay):
                return
            if fault is None or not fault.disconnect:
                answer = self._answer(path, headers, fault)
        finally:
            # logged before the answer leaves: a client that has it finds it in the log
            status = 0 if answer is None else answer.status
            port = handler.client_address[1]
            entry = Request(handler.command, path, headers, status, port, started, time.monotonic())
            with self._lock:
                self._in_flight -= 1
                self._log.append(entry)
        if answer is None:
            handler.close_connection = True
        elif fault is not None and fault.drip:
            self._drip(handler, answer, fault)
        else:
            _send(handler, answer, truncate=fault is not None and fault.truncate)

    def _drip(self, handler: BaseHTTPRequestHandler, answer: _Answer, fault: Fault) -> None:
        """Send ``answer``'s status and headers, then its body a chunk at a time; stop when the
        client hangs up or the server closes (the connection is then closed too)."""
        _send(handler, dataclasses.replace(answer, body=b""), length=len(answer.body))
        body = answer.body if handler.command != "HEAD" and answer.status != 304 else b""
        try:
            for start in range(0, len(body), fault.chunk):
                if start and self._stop.wait(fault.drip):
                    handler.close_connection = True
                    return
                handler.wfile.write(body[start : start + fault.chunk])
                handler.wfile.flush()
        except OSError:  # the client gave up (a broken pipe or a reset): nothing to answer
            handler.close_connection = True

    def _answer(self, path: str, headers: Mapping[str, str], fault: Fault | None) -> _Answer:
        if fault is not None and not fault.serve:
            extra = fault.headers
            if fault.content_type is not None:
                extra = (*extra, ("Content-Type", fault.content_type))
            return _Answer(fault.status, fault.body, extra)
        answer = self._route(path, headers)
        if fault is not None and fault.content_type is not None:
            kept = tuple(h for h in answer.headers if h[0].lower() != "content-type")
            answer = _Answer(
                answer.status, answer.body, (*kept, ("Content-Type", fault.content_type))
            )
        if fault is not None and fault.headers:  # more headers on the usual answer
            answer = dataclasses.replace(answer, headers=(*answer.headers, *fault.headers))
        return answer

    def _route(self, path: str, headers: Mapping[str, str]) -> _Answer:
        if path == "/simple/":
            return self._page(None, headers)
        if path.startswith("/simple/"):
            name = path[len("/simple/") :].rstrip("/")
            if path != f"/simple/{canonicalize_name(name)}/":
                return _Answer(301, headers=(("Location", f"/simple/{canonicalize_name(name)}/"),))
            return self._page(name, headers)
        if path.startswith("/files/"):
            return self._file(unquote(path[len("/files/") :]))
        return _Answer(404, b"Not Found")

    def _file(self, filename: str) -> _Answer:
        wanted_metadata = filename.endswith(".metadata")
        with self._lock:
            served = self._find(filename.removesuffix(".metadata") if wanted_metadata else filename)
        if served is None:
            return _Answer(404, b"Not Found")
        if wanted_metadata:
            if served.metadata is None or not self.metadata_files:
                return _Answer(404, b"Not Found")
            return _Answer(200, served.metadata, (("Content-Type", "application/octet-stream"),))
        return _Answer(200, served.data, (("Content-Type", "application/octet-stream"),))

    def _find(self, filename: str) -> ServedFile | None:
        for project in self._projects.values():
            if filename in project.files:
                return project.files[filename]
        return None

    def _page(self, name: str | None, headers: Mapping[str, str]) -> _Answer:
        form, media = self._negotiate(headers.get("accept"))
        if form is None:
            return _Answer(406, b"Not Acceptable")
        with self._lock:
            project = None if name is None else self._projects.get(canonicalize_name(name))
            if name is not None and project is None:
                return _Answer(404, b"Not Found")
            if project is None:
                names = sorted(p.name for p in self._projects.values())
                body, modified = self._root_body(form, names), 0
            else:
                body, modified = self._project_body(form, project), project.modified
        return self._validated(body, media, modified, headers)

    def _validated(
        self, body: bytes, media: str, modified: int, headers: Mapping[str, str]
    ) -> _Answer:
        etag = f'"{_sha256(body)[:20]}"'
        stamp = formatdate(modified, usegmt=True)
        validators: list[tuple[str, str]] = [("Vary", "Accept"), *self.page_headers]
        if self.etag:
            validators.append(("ETag", etag))
        if self.last_modified and modified:
            validators.append(("Last-Modified", stamp))
        if self._not_modified(etag, modified, headers):
            return _Answer(304, b"", tuple(validators))
        return _Answer(200, body, (("Content-Type", media), *validators))

    def _not_modified(self, etag: str, modified: int, headers: Mapping[str, str]) -> bool:
        match = headers.get("if-none-match")
        if match is not None:
            tags = {t.strip().removeprefix("W/") for t in match.split(",")}
            return self.etag and (etag in tags or "*" in tags)
        since = headers.get("if-modified-since")
        if since is None or not self.last_modified or not modified:
            return False
        try:
            return modified <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False

    def _negotiate(self, accept: str | None) -> tuple[str | None, str]:
        """The format and media type of the best offer ``Accept`` admits (HTML without one)."""
        if not accept:
            return ("html", "text/html") if self.html else ("json", JSON_TYPE)
        weights: dict[str, float] = {}
        for item in accept.split(","):
            media, *parameters = (part.strip() for part in item.split(";"))
            quality = 1.0
            for parameter in parameters:
                key, _, value = parameter.partition("=")
                if key.strip() == "q":
                    quality = float(value)
            weights[media.lower()] = quality
        best: tuple[float, str | None, str] = (0.0, None, "")
        for media, form in _OFFERS:
            if (form == "json" and not self.json) or (form == "html" and not self.html):
                continue
            quality = weights.get(
                media, weights.get(media.split("/")[0] + "/*", weights.get("*/*", 0.0))
            )
            if quality > best[0]:
                best = (quality, form, media)
        return best[1], best[2]

    def _file_url(self, filename: str) -> str:
        path = self.file_path(filename)
        return f"{self.base}{path}" if self.absolute_urls else f"../..{path}"

    def _metadata_listing(self, served: ServedFile) -> dict[str, str] | None:
        if served.metadata is None or not self.metadata_files:
            return None
        if not self.metadata_hashes:
            return {}
        return {"sha256": served.listed_metadata_hash or _sha256(served.metadata)}

    def _project_body(self, form: str, project: _Project) -> bytes:
        files = list(project.files.values())
        if form == "json":
            return json.dumps(
                {
                    "meta": {"api-version": self.api_version},
                    "name": canonicalize_name(project.name),
                    "versions": sorted({f.version for f in files if f.version}, key=Version),
                    "files": [self._json_file(f) for f in files],
                }
            ).encode()
        anchors = "".join(self._anchor(f) for f in files)
        return _html(f"Links for {project.name}", anchors, self.api_version)

    def _json_file(self, served: ServedFile) -> dict[str, object]:
        metadata = self._metadata_listing(served)
        listed: object = False if metadata is None else (metadata or True)
        item: dict[str, object] = {
            "filename": served.filename,
            "url": self._file_url(served.filename),
            "hashes": {"sha256": served.listed_hash or _sha256(served.data)},
            "requires-python": served.requires_python,
            "size": len(served.data),
            "yanked": served.yanked if served.yanked else served.yanked == "",
            "core-metadata": listed,
            "dist-info-metadata": listed,
        }
        if served.upload_time is not None:
            item["upload-time"] = served.upload_time.isoformat().replace("+00:00", "Z")
        return item

    def _anchor(self, served: ServedFile) -> str:
        digest = served.listed_hash or _sha256(served.data)
        attributes = [("href", f"{self._file_url(served.filename)}#sha256={digest}")]
        if served.requires_python is not None:
            attributes.append(("data-requires-python", served.requires_python))
        if served.yanked is not None:
            attributes.append(("data-yanked", served.yanked))
        metadata = self._metadata_listing(served)
        if metadata is not None:
            value = f"sha256={metadata['sha256']}" if metadata else "true"
            attributes += [("data-dist-info-metadata", value), ("data-core-metadata", value)]
        text = " ".join(f'{key}="{html.escape(value)}"' for key, value in attributes)
        return f"    <a {text}>{html.escape(served.filename)}</a><br/>\n"

    def _root_body(self, form: str, names: list[str]) -> bytes:
        if form == "json":
            return json.dumps(
                {
                    "meta": {"api-version": self.api_version},
                    "projects": [{"name": n} for n in names],
                }
            ).encode()
        anchors = "".join(
            f'    <a href="{canonicalize_name(n)}/">{html.escape(n)}</a><br/>\n' for n in names
        )
        return _html("Simple index", anchors, self.api_version)


def _html(title: str, anchors: str, api_version: str) -> bytes:
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{api_version}">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{html.escape(title)}</h1>\n{anchors}  </body>\n</html>\n"
    ).encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _send(
    handler: BaseHTTPRequestHandler,
    answer: _Answer,
    *,
    truncate: bool = False,
    length: int | None = None,
) -> None:
    """Send ``answer``; ``length``: the ``Content-Length`` to claim (the caller sends the body)."""
    handler.send_response(answer.status)
    for name, value in answer.headers:
        handler.send_header(name, value)
    if answer.status != 304:
        handler.send_header("Content-Length", str(len(answer.body) if length is None else length))
    handler.end_headers()
    if length is not None:
        handler.wfile.flush()
        return
    if handler.command != "HEAD" and answer.status != 304:
        handler.wfile.write(answer.body[: len(answer.body) // 2] if truncate else answer.body)
    if truncate:
        handler.wfile.flush()
        handler.close_connection = True


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 overflows under the index's 8 concurrent connections,
    # and an overflowed connect waits a full second to retry (seen with nstat).
    request_queue_size = 128

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up mid-answer (a timeout test) is expected, not news."""


def _handler_for(server: IndexServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

        def do_GET(self) -> None:
            server._handle(self)

        def do_HEAD(self) -> None:
            server._handle(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
