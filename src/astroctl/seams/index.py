"""The package-index seam: project pages and distribution metadata from PEP 503/691 indexes.

A project's page is asked for as PEP 691 JSON (``Accept: application/vnd.pypi.simple.v1+json``)
with PEP 503 HTML as the fallback, and parsed by the content type the index answers with:
file names and URLs, hashes, ``requires-python``, yanked status (PEP 592), PEP 658/714 metadata
files and upload times (PEP 700). A project's files are the union over the primary index and the
extra indexes, the first index winning for a file name; a project that no index has is a
:class:`ProjectNotFound` (bad input, exit 2).

A version's metadata (``Requires-Dist``, ``Requires-Python``) comes from the best file of that
version: a wheel whose index serves its metadata file (PEP 658; its hash checked when the index
gives one), else a wheel, downloaded and read (``*.dist-info/METADATA``), else an sdist's
``PKG-INFO`` when it is reliable (PEP 643: Metadata-Version 2.2 or later, requirements not
dynamic). A version with only an unreliable sdist is :class:`MetadataUnavailable`.

Every answer is cached on disk (see :mod:`astroctl.seams.cache`, under ``index-v1/``): metadata
is immutable and cached for good, keyed by the file's URL and hash, with its parsed fields beside
the text; a project page is cached as the files it lists (:func:`dump_files`: a later run parses
nothing), used without a request while it is fresh (``fresh_for`` seconds at most, and the
lifetime the index's ``Cache-Control`` gives it; 0, the default, asks every time), then
revalidated with ``If-None-Match``/``If-Modified-Since`` (a 304 reuses and re-dates it); a 404
is remembered for offline runs. ``offline=True`` answers from the cache alone, however old.

Pages and metadata for many projects are fetched concurrently by a bounded thread pool over the
one shared HTTP client (:mod:`astroctl.seams.http`, which retries and reports transport errors);
what the cache answers alone is answered first, in the calling thread.
The seam prints nothing: progress goes to a ``progress(done, total, name)`` callback and notes
(a version skipped, a cache that cannot be written) to ``notify``.

An index that gives no answer (no connection, a connect timeout, TLS refused) after the HTTP
seam's retries is :class:`IndexUnreachable`; the host is then remembered as down for the client's
lifetime, so the other projects asked of it fail at once instead of each retrying for seconds.
:meth:`PackageIndex.lookup` and :meth:`PackageIndex.lookup_metadata` answer what they can and
return each project's (or version's) failure beside the answers, for a caller that reports a
package it could not look up instead of stopping.

Credentials come from a netrc file only (``$NETRC``, else ``~/.netrc``, read as pip and uv read
it): a request to a host the file names carries its login as HTTP Basic auth, unless the URL
has credentials of its own (from ``$PIP_INDEX_URL``). A URL with credentials given as an argument
or in the matrix is refused by :func:`~astroctl.seams.urls.refuse_credentials` (that module
holds the URL rules and netrc). Credentials never reach a message: every URL shown goes through
:func:`~astroctl.seams.http.shown_url`.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from astroctl.errors import AstroctlError, InputError, OperationError
from astroctl.seams.cache import (
    DiskCache,
    Entry,
    default_cache_dir,
    entry_key,
    freshness_fields,
    is_fresh,
)
from astroctl.seams.http import HttpClient, check_status, shown_url
from astroctl.seams.urls import Netrc, has_credentials, index_url

if TYPE_CHECKING:
    from concurrent.futures import Future

    import httpx

    from astroctl.seams.http import Headers

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
ACCEPT = f"{JSON_TYPE}, {HTML_TYPE};q=0.2, text/html;q=0.01"
PAGE_FORMATS = MappingProxyType(
    {
        JSON_TYPE: "json",
        "application/vnd.pypi.simple.latest+json": "json",
        HTML_TYPE: "html",
        "application/vnd.pypi.simple.latest+html": "html",
        "text/html": "html",
    }
)
HASH_NAMES = ("sha512", "sha384", "sha256", "sha224")  # the strongest one given is checked
MAX_METADATA = 16 * 1024 * 1024  # a METADATA or PKG-INFO larger than this is not read
PAGES = "index-v1/pages"
FILES_FORM = "files-1"  # a page entry holding the parsed files (see dump_files), not the page
METADATA = "index-v1/metadata"
OFFLINE_HINT = "run once without --offline"
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")

Kind = Literal["wheel", "sdist", "other"]
Source = Literal["metadata", "wheel", "sdist"]
_SOURCES: Mapping[str, Source] = MappingProxyType(
    {"metadata": "metadata", "wheel": "wheel", "sdist": "sdist"}
)
_KINDS: Mapping[str, Kind] = MappingProxyType(
    {"wheel": "wheel", "sdist": "sdist", "other": "other"}
)
Progress = Callable[[int, int, str], None]
Notify = Callable[[str], None]
_T = TypeVar("_T")
_R = TypeVar("_R")


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


# -- errors -------------------------------------------------------------------------------------


class ProjectNotFound(InputError):
    """No index has the project (exit 2: the name is bad input)."""

    def __init__(self, name: str, indexes: Sequence[str]) -> None:
        self.name = name
        self.indexes = tuple(indexes)
        where = ", ".join(shown_url(url) for url in self.indexes)
        scope = where if len(self.indexes) == 1 else f"any of {where}"
        super().__init__(f"project {name!r} not found on {scope}")


class VersionNotFound(InputError):
    """The project has no file of that version (exit 2)."""

    def __init__(self, name: str, version: str) -> None:
        self.name = name
        self.version = version
        super().__init__(f"project {name!r} has no version {version!r} on the index")


class IndexUnreachable(OperationError):
    """An index (or a file host) gave no answer: no connection, a timeout connecting or a TLS
    failure, after the HTTP seam's retries (exit 1)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{shown_url(url)}: {reason}")


class MetadataUnavailable(OperationError):
    """No file of the version has metadata to trust (only an sdist with dynamic metadata)."""

    def __init__(self, name: str, version: str, reason: str) -> None:
        self.name = name
        self.version = version
        super().__init__(f"{name} {version}: no metadata: {reason}")


# -- what an index lists ------------------------------------------------------------------------


@dataclass(frozen=True)
class DistFile:
    """One file of a project's page."""

    filename: str
    url: str  # absolute, without the hash fragment
    version: str | None  # canonical PEP 440 text; None when the file name gives none
    kind: Kind
    requires_python: str | None = None
    yanked: str | None = None  # the reason ("" when none was given), None when not yanked
    hashes: Mapping[str, str] = field(default_factory=_empty, hash=False)
    # PEP 658/714: the metadata file's hashes when the index serves one ({} without a hash)
    metadata: Mapping[str, str] | None = field(default=None, hash=False)
    upload_time: datetime | None = None
    size: int | None = None
    tags: tuple[str, ...] = ()  # a wheel's tags, e.g. ("py3-none-any",); empty otherwise
    index: str = ""  # the index URL whose page listed the file

    @property
    def python_tags(self) -> frozenset[str]:
        return frozenset(tag.split("-")[0] for tag in self.tags)

    @property
    def abi_tags(self) -> frozenset[str]:
        return frozenset(tag.split("-")[1] for tag in self.tags)

    @property
    def platform_tags(self) -> frozenset[str]:
        return frozenset(tag.split("-")[2] for tag in self.tags)

    @property
    def metadata_url(self) -> str | None:
        """Where the PEP 658 metadata file is, when the index has one."""
        return None if self.metadata is None else self.url + ".metadata"


@dataclass(frozen=True)
class Project:
    """A project's files, the union over the indexes that list it."""

    name: str  # canonical (PEP 503)
    files: tuple[DistFile, ...]
    indexes: tuple[str, ...] = ()  # the indexes that had the project, in order

    @cached_property
    def _by_version(self) -> Mapping[Version, tuple[DistFile, ...]]:
        grouped: dict[Version, list[DistFile]] = {}
        parsed: dict[str, Version] = {}  # a version's files share its text: parsed once
        for file in self.files:
            text = file.version
            if text is not None:
                version = parsed.get(text)
                if version is None:
                    version = parsed[text] = Version(text)
                grouped.setdefault(version, []).append(file)
        return MappingProxyType({v: tuple(grouped[v]) for v in sorted(grouped)})

    @cached_property
    def _texts(self) -> Mapping[str, Version]:
        """Each version's canonical text, and every spelling its files use, to the version."""
        texts = {str(version): version for version in self._by_version}
        for file in self.files:
            if file.version is not None and file.version not in texts:
                texts[file.version] = Version(file.version)
        return MappingProxyType(texts)

    def versions(self, *, yanked: bool = True, prereleases: bool = True) -> tuple[str, ...]:
        """The versions, PEP 440 ascending; a version is yanked when all its files are."""
        return tuple(
            str(version)
            for version, files in self._by_version.items()
            if (yanked or not _all_yanked(files)) and (prereleases or not version.is_prerelease)
        )

    def files_of(self, version: str) -> tuple[DistFile, ...]:
        """The files of a version (any PEP 440 spelling of it), () when there are none."""
        known = self._texts.get(version)
        if known is not None:
            return self._by_version.get(known, ())
        try:
            return self._by_version.get(Version(version), ())
        except InvalidVersion:
            return ()

    def is_yanked(self, version: str) -> bool:
        files = self.files_of(version)
        return bool(files) and _all_yanked(files)

    def latest(self, *, prereleases: bool = False, python: str | None = None) -> str | None:
        """The highest version not yanked with a file whose Requires-Python admits ``python``."""
        for version in reversed(tuple(self._by_version)):
            files = self._by_version[version]
            if version.is_prerelease and not prereleases:
                continue
            if any(f.yanked is None and _admits(f.requires_python, python) for f in files):
                return str(version)
        return None


@dataclass(frozen=True)
class Metadata:
    """What a distribution's core metadata says about what it needs."""

    name: str
    version: str
    requires_python: str | None
    requires_dist: tuple[str, ...]
    filename: str = ""  # the distribution file it describes
    source: Source = "wheel"  # a PEP 658 metadata file, a downloaded wheel, or an sdist's PKG-INFO


def _all_yanked(files: Iterable[DistFile]) -> bool:
    return all(f.yanked is not None for f in files)


def _admits(requires_python: str | None, python: str | None) -> bool:
    if python is None or not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(python, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True  # as pip does: a broken Requires-Python excludes nothing


# -- URLs -----------------------------------------------------------------------------------------


def project_name(name: str) -> str:
    """The canonical (PEP 503) form of a project name; an InputError when it is not a name."""
    if not _NAME.fullmatch(name):
        raise InputError(f"{name!r} is not a valid project name")
    return canonicalize_name(name)


def project_url(index: str, name: str) -> str:
    """The project's page on an index (``<index>/<canonical name>/``)."""
    return index_url(index) + project_name(name) + "/"


# -- pages ----------------------------------------------------------------------------------------


def parse_project_page(
    body: bytes, content_type: str, page_url: str, project: str, *, index: str = ""
) -> tuple[DistFile, ...]:
    """The files a project page lists, read by its content type (PEP 691 JSON or PEP 503 HTML).

    Relative URLs are resolved against ``page_url``; an OperationError says what is wrong with a
    page that cannot be read.
    """
    media, _, parameters = content_type.partition(";")
    form = PAGE_FORMATS.get(media.strip().lower())
    where = shown_url(page_url)
    if form is None:
        shown = content_type or "none"
        raise OperationError(
            f"{where}: unexpected content type {shown!r} (not a PEP 691 JSON "
            f"or PEP 503 HTML project page)"
        )
    name = project_name(project)
    if form == "json":
        return _json_page(body, page_url, name, index)
    return _html_page(body.decode(_charset(parameters), errors="replace"), page_url, name, index)


def _charset(parameters: str) -> str:
    import codecs

    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            try:
                return codecs.lookup(value.strip().strip('"')).name
            except LookupError:
                break
    return "utf-8"


def _check_api_version(version: object, where: str) -> None:
    """PEP 629: a page of another major API version cannot be read."""
    if version is None:
        return
    major = str(version).strip().split(".", 1)[0]
    if major != "1":
        raise OperationError(
            f"{where}: repository API version {version} is not supported (astroctl reads 1.x)"
        )


def _malformed(where: str, what: str) -> OperationError:
    return OperationError(f"{where}: invalid project page: {what}")


def _json_page(body: bytes, page_url: str, project: str, index: str) -> tuple[DistFile, ...]:
    where = shown_url(page_url)
    try:
        document = json.loads(body)
    except ValueError as exc:  # also a body that is not UTF-8
        raise OperationError(f"{where}: invalid JSON project page ({exc})") from exc
    if not isinstance(document, dict):
        raise _malformed(where, "not a JSON object")
    meta = document.get("meta")
    _check_api_version(meta.get("api-version") if isinstance(meta, dict) else None, where)
    files = document.get("files")
    if not isinstance(files, list):
        raise _malformed(where, "no list of files")
    return tuple(
        _json_file(item, f"files[{n}]", page_url, project, index) for n, item in enumerate(files)
    )


def _json_file(item: object, at: str, page_url: str, project: str, index: str) -> DistFile:
    where = shown_url(page_url)
    if not isinstance(item, dict):
        raise _malformed(where, f"{at} is not an object")
    filename, url = item.get("filename"), item.get("url")
    if not isinstance(filename, str) or not filename or "/" in filename:
        raise _malformed(where, f"{at}.filename is not a file name")
    if not isinstance(url, str) or not url:
        raise _malformed(where, f"{at}.url is not a string")
    hashes = item.get("hashes", {})
    if not isinstance(hashes, dict):
        raise _malformed(where, f"{at}.hashes is not an object")
    metadata = item.get("core-metadata", item.get("dist-info-metadata"))
    size = item.get("size")
    return _dist_file(
        filename,
        urljoin(page_url, url).split("#", 1)[0],
        project,
        index,
        requires_python=_text(item.get("requires-python")),
        yanked=_json_yanked(item.get("yanked")),
        hashes=_hashes(hashes),
        metadata=(_hashes(metadata) if isinstance(metadata, dict) else {}) if metadata else None,
        upload_time=_timestamp(item.get("upload-time")),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _json_yanked(value: object) -> str | None:
    if value is True:
        return ""
    return value if isinstance(value, str) else None


def _hashes(value: Mapping[Any, object]) -> Mapping[str, str]:
    return MappingProxyType(
        {
            k.lower(): v.lower()
            for k, v in value.items()
            if isinstance(k, str) and isinstance(v, str)
        }
    )


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _html_page(text: str, page_url: str, project: str, index: str) -> tuple[DistFile, ...]:
    from astroctl.seams.anchors import Anchors  # html.parser: only for an HTML page

    parser = Anchors()
    parser.feed(text)
    parser.close()
    _check_api_version(parser.api_version, shown_url(page_url))
    base = urljoin(page_url, parser.base) if parser.base else page_url
    files = (_html_file(anchor, base, project, index) for anchor in parser.anchors)
    return tuple(f for f in files if f is not None)


def _html_file(
    anchor: Mapping[str, str | None], base: str, project: str, index: str
) -> DistFile | None:
    url, _, fragment = urljoin(base, anchor["href"] or "").partition("#")
    filename = unquote(urlsplit(url).path.rpartition("/")[2])
    if not filename:
        return None
    algorithm, _, digest = fragment.partition("=")
    hashes = {algorithm: digest} if algorithm and digest else {}
    metadata_key = (
        "data-core-metadata" if "data-core-metadata" in anchor else "data-dist-info-metadata"
    )
    return _dist_file(
        filename,
        url,
        project,
        index,
        requires_python=_text(anchor.get("data-requires-python")),
        yanked=(anchor["data-yanked"] or "") if "data-yanked" in anchor else None,
        hashes=_hashes(hashes),
        metadata=_html_metadata(anchor, metadata_key),
    )


def _html_metadata(anchor: Mapping[str, str | None], key: str) -> Mapping[str, str] | None:
    if key not in anchor:
        return None
    value = (anchor[key] or "true").strip()
    if value.lower() == "false":
        return None
    algorithm, _, digest = value.partition("=")
    return _hashes({algorithm: digest} if digest else {})


def _dist_file(
    filename: str,
    url: str,
    project: str,
    index: str,
    *,
    requires_python: str | None,
    yanked: str | None,
    hashes: Mapping[str, str],
    metadata: Mapping[str, str] | None,
    upload_time: datetime | None = None,
    size: int | None = None,
) -> DistFile:
    kind, version, tags = classify(filename, project)
    return DistFile(
        filename=filename,
        url=url,
        version=version,
        kind=kind,
        requires_python=requires_python,
        yanked=yanked,
        hashes=hashes,
        metadata=metadata,
        upload_time=upload_time,
        size=size,
        tags=tags,
        index=index,
    )


def classify(filename: str, project: str) -> tuple[Kind, str | None, tuple[str, ...]]:
    """A file's kind, its version (None unless the name is the project's) and wheel tags."""
    if filename.endswith(".whl"):
        try:
            name, version, _, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            return "wheel", None, ()
        ours = canonicalize_name(name) == project
        return "wheel", str(version) if ours else None, tuple(sorted(str(t) for t in tags))
    if filename.endswith((".tar.gz", ".zip")):
        try:
            name, version = parse_sdist_filename(filename)
        except (InvalidSdistFilename, InvalidVersion):
            return "sdist", None, ()
        return "sdist", str(version) if canonicalize_name(name) == project else None, ()
    return "other", None, ()


def dump_files(files: Iterable[DistFile]) -> bytes:
    """The files of a page as the cache keeps them (JSON; the index URL is not kept)."""
    rows = [
        [
            f.filename,
            f.url,
            f.version,
            f.kind,
            f.requires_python,
            f.yanked,
            dict(f.hashes),
            None if f.metadata is None else dict(f.metadata),
            None if f.upload_time is None else f.upload_time.isoformat(),
            f.size,
            list(f.tags),
        ]
        for f in files
    ]
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def load_files(body: bytes, index: str) -> tuple[DistFile, ...] | None:
    """The files :func:`dump_files` kept, listed by ``index``; None when the body is not that."""
    try:
        rows = json.loads(body)
        return tuple(_loaded_file(row, index) for row in rows)
    except (ValueError, TypeError, KeyError, IndexError):
        return None


def _loaded_file(row: list[Any], index: str) -> DistFile:
    filename, url, version, kind, requires_python, yanked, hashes, metadata, uploaded = row[:9]
    size, tags = row[9], row[10]
    checks = (
        isinstance(filename, str),
        isinstance(url, str),
        version is None or isinstance(version, str),
        requires_python is None or isinstance(requires_python, str),
        yanked is None or isinstance(yanked, str),
        isinstance(hashes, dict),
        metadata is None or isinstance(metadata, dict),
        size is None or isinstance(size, int),
        isinstance(tags, list),
    )
    if not all(checks) or kind not in _KINDS:
        raise ValueError("not a cached file")
    return DistFile(
        filename=filename,
        url=url,
        version=version,
        kind=_KINDS[kind],
        requires_python=requires_python,
        yanked=yanked,
        hashes=_hashes(hashes),
        metadata=None if metadata is None else _hashes(metadata),
        upload_time=None if uploaded is None else datetime.fromisoformat(uploaded),
        size=size,
        tags=tuple(str(tag) for tag in tags),
        index=index,
    )


# -- metadata -------------------------------------------------------------------------------------


def _preference(file: DistFile) -> tuple[bool, bool, bool, bool, str]:
    """Wheels first, those with a metadata file first, not yanked first, universal first."""
    universal = file.platform_tags == {"any"}
    return (
        file.kind != "wheel",
        file.metadata is None,
        file.yanked is not None,
        not universal,
        file.filename,
    )


def parse_metadata(data: bytes, file: DistFile, source: Source) -> Metadata | None:
    """The fields of a METADATA/PKG-INFO text, or None when it has no name and version."""
    read = _read_metadata(data, file, source)
    return None if read is None else read.metadata


@dataclass(frozen=True)
class _Read:
    """Metadata as read, with what says whether an sdist's may be trusted (PEP 643)."""

    metadata: Metadata
    level: str  # Metadata-Version
    dynamic: tuple[str, ...]  # Dynamic, lower case

    def fields(self) -> dict[str, str]:
        """What the cache keeps beside the text, so a later run need not parse it again."""
        m = self.metadata
        return {
            "parsed": "1",
            "name": m.name,
            "version": m.version,
            "requires-python": m.requires_python or "",
            "requires-dist": json.dumps(list(m.requires_dist)),
            "metadata-version": self.level,
            "dynamic": json.dumps(list(self.dynamic)),
        }


def _read_metadata(data: bytes, file: DistFile, source: Source) -> _Read | None:
    from packaging.metadata import parse_email

    try:
        raw, _ = parse_email(data)
    except (ValueError, LookupError):
        return None
    name, version = raw.get("name"), raw.get("version")
    if not name or not version:
        return None
    metadata = Metadata(
        name=name,
        version=version,
        requires_python=raw.get("requires_python") or None,
        requires_dist=tuple(raw.get("requires_dist", ())),
        filename=file.filename,
        source=source,
    )
    dynamic = tuple(d.lower() for d in raw.get("dynamic", ()))
    return _Read(metadata, raw.get("metadata_version", "1.0"), dynamic)


def _cached_metadata(entry: Entry, file: DistFile) -> _Read | None:
    """The metadata of a cache entry: from the fields kept beside the text when they are there
    (no parsing), else from the text; None when the entry is not usable."""
    source = _source(entry.get("source"))
    if source is None:
        return None
    if entry.get("parsed") != "1":
        return _read_metadata(entry.body, file, source)
    try:
        requires_dist = json.loads(entry.get("requires-dist") or "")
        dynamic = json.loads(entry.get("dynamic") or "")
    except ValueError:
        return None
    name, version = entry.get("name"), entry.get("version")
    lists = (requires_dist, dynamic)
    if not name or not version or not all(_strings(value) for value in lists):
        return None
    metadata = Metadata(
        name=name,
        version=version,
        requires_python=entry.get("requires-python") or None,
        requires_dist=tuple(requires_dist),
        filename=file.filename,
        source=source,
    )
    return _Read(metadata, entry.get("metadata-version") or "1.0", tuple(dynamic))


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _check_metadata(read: _Read, project: str, version: str) -> None:
    """The metadata is the version's own, and (from an sdist) to be trusted (PEP 643)."""
    metadata = read.metadata
    try:
        same = Version(metadata.version) == Version(version)
    except InvalidVersion:
        same = False
    if canonicalize_name(metadata.name) != project or not same:
        raise OperationError(
            f"{metadata.filename}: its metadata describes {metadata.name} {metadata.version}, "
            f"not {project} {version}"
        )
    if metadata.filename.endswith(".whl"):
        return
    level = read.level
    try:
        reliable = Version(level) >= Version("2.2")
    except InvalidVersion:
        reliable = False
    if not reliable or set(read.dynamic) & {"requires-dist", "requires-python"}:
        raise MetadataUnavailable(
            project,
            version,
            f"only the sdist {metadata.filename}, whose PKG-INFO (Metadata-Version {level}) "
            f"does not reliably declare its requirements",
        )


def verify(data: bytes, hashes: Mapping[str, str], what: str) -> None:
    """Check ``data`` against the strongest of ``hashes`` this seam knows (none: no check)."""
    for algorithm in HASH_NAMES:
        expected = hashes.get(algorithm)
        if expected is not None:
            actual = hashlib.new(algorithm, data).hexdigest()
            if actual != expected.lower():
                raise OperationError(
                    f"{what}: {algorithm} hash mismatch (the index says {expected}, "
                    f"the download has {actual})"
                )
            return


def wheel_metadata(data: bytes, filename: str, project: str) -> bytes:
    """The ``<name>-<version>.dist-info/METADATA`` file of a wheel's bytes."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            found = [i for i in archive.infolist() if _is_metadata_member(i.filename)]
            ours = [i for i in found if _dist_info_name(i.filename) == project] or found
            if len(ours) != 1:
                count = "no" if not ours else "several"
                raise OperationError(f"{filename}: {count} .dist-info/METADATA in the wheel")
            _check_size(ours[0].file_size, filename)
            return archive.read(ours[0])
    except _archive_errors() as exc:
        raise OperationError(f"{filename}: not a readable wheel ({exc})") from exc


def sdist_metadata(data: bytes, filename: str) -> bytes:
    """The top-level ``PKG-INFO`` of an sdist's bytes (a .tar.gz or a .zip)."""
    import tarfile
    import zipfile

    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    if _is_pkg_info_member(info.filename):
                        _check_size(info.file_size, filename)
                        return archive.read(info)
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                for member in tar:  # headers only: nothing is extracted to disk
                    if member.isfile() and _is_pkg_info_member(member.name):
                        _check_size(member.size, filename)
                        stream = tar.extractfile(member)
                        if stream is not None:
                            return stream.read()
    except _archive_errors() as exc:
        raise OperationError(f"{filename}: not a readable sdist ({exc})") from exc
    raise OperationError(f"{filename}: no PKG-INFO at the top of the sdist")


def _archive_errors() -> tuple[type[BaseException], ...]:
    """What reading a damaged zip or tar.gz raises."""
    import tarfile
    import zipfile
    import zlib

    return (
        zipfile.BadZipFile,
        tarfile.TarError,
        zlib.error,
        EOFError,
        OSError,
        NotImplementedError,
        RuntimeError,  # an encrypted zip member
    )


def _check_size(size: int, filename: str) -> None:
    if size > MAX_METADATA:
        raise OperationError(f"{filename}: its metadata is {size} bytes, too large to read")


def _is_metadata_member(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA"


def _dist_info_name(name: str) -> str:
    return canonicalize_name(name.split("/")[0].removesuffix(".dist-info").rpartition("-")[0])


def _is_pkg_info_member(name: str) -> bool:
    parts = name.removeprefix("./").split("/")
    return len(parts) == 2 and parts[0] not in ("", "..") and parts[1] == "PKG-INFO"


# -- the client -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Page:
    """A project page as known: its files, or None when the index does not have the project."""

    files: tuple[DistFile, ...] | None
    entry: Entry | None = None  # the cache entry it came from

    def fresh(self, limit: float) -> bool:
        """Whether it may be used without asking the index (see :func:`is_fresh`)."""
        return self.entry is not None and is_fresh(self.entry, limit)


class PackageIndex:
    """A client of one index (and its extra indexes) over a shared HTTP client and a disk cache.

    ``cache_dir`` defaults to :func:`~astroctl.seams.cache.default_cache_dir`. Threads may share
    an instance: projects already read are remembered for its lifetime.
    """

    def __init__(
        self,
        url: str,
        *,
        http: HttpClient,
        extra_urls: Sequence[str] = (),
        cache_dir: Path | None = None,
        offline: bool = False,
        max_workers: int = 8,
        notify: Notify | None = None,
        netrc: Netrc | None = None,
        fresh_for: float = 0.0,
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {max_workers}")
        self.url = index_url(url)
        extras = (index_url(extra) for extra in extra_urls)
        self.extra_urls = tuple(dict.fromkeys(u for u in extras if u != self.url))
        self.offline = offline
        self.max_workers = max_workers
        self.fresh_for = fresh_for
        self.cache = DiskCache(cache_dir if cache_dir is not None else default_cache_dir())
        self._http = http
        self._notify = notify
        self._lock = threading.Lock()
        self._projects: dict[str, Project] = {}
        # what the pass over the cache read before leaving an item to the thread pool
        self._pages_read: dict[str, _Page | None] = {}  # page URL -> the cached page
        self._metadata_missing: set[str] = set()  # metadata keys not (usably) cached
        self._local = threading.local()
        self._cache_trouble = False
        self._netrc = netrc if netrc is not None else Netrc(notify=notify)
        self._down: dict[str, str] = {}  # origin (scheme://host:port) -> why it gave no answer

    @property
    def urls(self) -> tuple[str, ...]:
        """The primary index, then the extra ones."""
        return (self.url, *self.extra_urls)

    # -- projects ---------------------------------------------------------------------------------

    def project(self, name: str) -> Project:
        """The project's files over all the indexes; ProjectNotFound when none has it."""
        canonical = project_name(name)
        with self._lock:
            known = self._projects.get(canonical)
        if known is not None:
            return known
        files: dict[str, DistFile] = {}
        found = []
        for index in self.urls:
            listed = self._page(index, canonical)
            if listed is not None:
                found.append(index)
                for file in listed:
                    files.setdefault(file.filename, file)
        if not found:
            raise ProjectNotFound(name, self.urls)
        project = Project(canonical, tuple(files.values()), tuple(found))
        with self._lock:
            return self._projects.setdefault(canonical, project)

    def projects(
        self, names: Sequence[str], progress: Progress | None = None
    ) -> dict[str, Project]:
        """Several projects, fetched concurrently, keyed by the names as given.

        ``progress`` is called from the calling thread: once with ``(0, total, "")``, then after
        each project with ``(done, total, name)``. The first failure stops the rest and is raised.
        """
        unique = list(dict.fromkeys(names))
        found = self._concurrently(unique, self.project, str, progress)
        return dict(zip(unique, found, strict=True))

    def lookup(
        self, names: Sequence[str], progress: Progress | None = None
    ) -> dict[str, Project | AstroctlError]:
        """Several projects, as :meth:`projects`, but a project that cannot be read (not on any
        index, an index unreachable or answering with an error, a page not cached offline) is
        answered with its error instead of stopping the others. A name that is not a project
        name is still raised."""
        unique = list(dict.fromkeys(names))

        def work(name: str) -> Project | AstroctlError:
            try:
                return self.project(name)
            except (ProjectNotFound, OperationError) as exc:
                return exc

        found = self._concurrently(unique, work, str, progress)
        return dict(zip(unique, found, strict=True))

    def _page(self, index: str, name: str) -> tuple[DistFile, ...] | None:
        url = index + name + "/"
        key = entry_key(shown_url(url))
        kept, cached = self._kept_page(url)
        if not kept:
            cached = self._cached_page(key, url, index, name)
        if self.offline:
            if cached is None:
                raise OperationError(
                    f"project {name!r}: the page from {shown_url(index)} is not in the cache; "
                    f"{OFFLINE_HINT}"
                )
            return cached.files
        if cached is not None and cached.files is not None and cached.fresh(self.fresh_for):
            return cached.files  # within its lifetime: the index is not asked
        if self._only_cache():
            with self._lock:
                self._pages_read[url] = cached  # read once: the thread that asks takes it
            raise _NeedsRequest(url)
        response = self._get(url, index, _page_headers(cached))
        if response.status_code == 304 and cached is not None:
            self._revalidated(key, url, cached, response)
            return cached.files
        if response.status_code in (404, 410):
            self._store(PAGES, key, Entry(b"", {"status": "404", "url": shown_url(url)}))
            return None
        return self._fresh_page(check_status(response), key, url, index, name)

    def _fresh_page(
        self, response: httpx.Response, key: str, url: str, index: str, name: str
    ) -> tuple[DistFile, ...]:
        """Parse a page the index sent and cache the files it lists (not the page itself): a
        later run reads them back without parsing the page again."""
        final = shown_url(str(response.url))  # parsed without credentials: they are not stored
        content_type = response.headers.get("Content-Type", "")
        files = parse_project_page(response.content, content_type, final, name, index=index)
        fields = {"status": "200", "url": final, "content-type": content_type, "form": FILES_FORM}
        for header in ("ETag", "Last-Modified"):
            value = response.headers.get(header)
            if value is not None:
                fields[header.lower()] = value
        fields.update(_dated(response))
        self._store(PAGES, key, Entry(dump_files(files), fields))
        return _lend_credentials(files, url)

    def _revalidated(self, key: str, url: str, cached: _Page, response: httpx.Response) -> None:
        """A 304: the cached page is dated anew (and takes the lifetime the answer gives); a
        page an earlier astroctl cached whole is kept as its files from now on."""
        if cached.entry is None or cached.files is None:
            return
        fields = {k: v for k, v in cached.entry.fields.items() if k != "max-age"}
        fields.update(_dated(response))
        body = cached.entry.body
        if fields.get("form") != FILES_FORM and not has_credentials(url):
            body, fields["form"] = dump_files(cached.files), FILES_FORM
        self._store(PAGES, key, Entry(body, fields))

    def _cached_page(self, key: str, url: str, index: str, name: str) -> _Page | None:
        """The page as cached, or None when it is not (or the entry cannot be read)."""
        entry = self.cache.read(PAGES, key)
        if entry is None:
            return None
        if entry.get("status") == "404":
            return _Page(None, entry)
        if entry.get("form") == FILES_FORM:
            files = load_files(entry.body, index)
            return None if files is None else _Page(_lend_credentials(files, url), entry)
        # an entry of an earlier astroctl: the page itself, parsed again
        stored = entry.get("url") or url
        base = url if stored == shown_url(url) else stored  # keep the credentials of the URL
        try:
            content_type = entry.get("content-type") or ""
            files = parse_project_page(entry.body, content_type, base, name, index=index)
        except AstroctlError:
            return None
        return _Page(files, entry)

    # -- metadata ---------------------------------------------------------------------------------

    def metadata(self, project: Project, version: str) -> Metadata:
        """The metadata of a version of the project, from its best file (see the module doc)."""
        return self._metadata(self._best_file(project, version), project.name, version)

    def metadata_many(
        self, wanted: Sequence[tuple[Project, str]], progress: Progress | None = None
    ) -> dict[tuple[str, str], Metadata]:
        """Metadata of several versions, fetched concurrently, keyed by (project name, version).

        A version whose only file is an sdist without reliable metadata is left out and
        ``notify`` says so; any other failure stops the rest and is raised. ``progress`` is
        called as for :meth:`projects`, with ``"name version"``.
        """
        jobs = {(project.name, version): (project, version) for project, version in wanted}
        chosen = [(key, self._best_file(*job)) for key, job in jobs.items()]

        def work(job: tuple[tuple[str, str], DistFile]) -> Metadata | MetadataUnavailable:
            (name, version), file = job
            try:
                return self._metadata(file, name, version)
            except MetadataUnavailable as exc:
                return exc

        results = self._concurrently(chosen, work, lambda job: " ".join(job[0]), progress)
        found: dict[tuple[str, str], Metadata] = {}
        for (key, _), result in zip(chosen, results, strict=True):
            if isinstance(result, MetadataUnavailable):
                if self._notify is not None:
                    self._notify(f"skipped: {result}")
            else:
                found[key] = result
        return found

    def lookup_metadata(
        self, wanted: Sequence[tuple[Project, str]], progress: Progress | None = None
    ) -> tuple[dict[tuple[str, str], Metadata], dict[tuple[str, str], AstroctlError]]:
        """Metadata of several versions, as :meth:`metadata_many`, but a version whose metadata
        cannot be fetched or read is answered with its error (the second mapping) instead of
        stopping the others; one without reliable metadata is left out, as there."""
        jobs = {(project.name, version): (project, version) for project, version in wanted}

        def work(key: tuple[str, str]) -> Metadata | AstroctlError:
            try:
                return self.metadata(*jobs[key])
            except MetadataUnavailable as exc:
                if self._notify is not None:
                    self._notify(f"skipped: {exc}")
                return exc
            except (OperationError, VersionNotFound) as exc:
                return exc

        keys = list(jobs)
        results = self._concurrently(keys, work, " ".join, progress)
        found: dict[tuple[str, str], Metadata] = {}
        failed: dict[tuple[str, str], AstroctlError] = {}
        for key, result in zip(keys, results, strict=True):
            if isinstance(result, Metadata):
                found[key] = result
            elif not isinstance(result, MetadataUnavailable):
                failed[key] = result
        return found, failed

    def _best_file(self, project: Project, version: str) -> DistFile:
        files = [f for f in project.files_of(version) if f.kind != "other"]
        if not files:
            if project.files_of(version):
                raise MetadataUnavailable(project.name, version, "no wheel or sdist to read")
            raise VersionNotFound(project.name, version)
        return min(files, key=_preference)

    def _metadata(self, file: DistFile, project: str, version: str) -> Metadata:
        key = entry_key(shown_url(file.url), *sorted(f"{k}={v}" for k, v in file.hashes.items()))
        with self._lock:
            known_missing = key in self._metadata_missing
            self._metadata_missing.discard(key)
        entry = None if known_missing else self.cache.read(METADATA, key)
        known = _cached_metadata(entry, file) if entry is not None else None
        if known is not None:
            _check_metadata(known, project, version)
            return known.metadata
        if self.offline:
            raise OperationError(
                f"the metadata of {project} {version} ({file.filename}) is not in the cache; "
                f"{OFFLINE_HINT}"
            )
        if self._only_cache():
            with self._lock:
                self._metadata_missing.add(key)  # read once: not usable, to be fetched
            raise _NeedsRequest(file.url)
        raw, source = self._fetch_metadata(file, project)
        fetched = _read_metadata(raw, file, source)
        if fetched is None:
            raise OperationError(f"{file.filename}: its metadata has no Name and Version")
        fields = {"source": source, "url": shown_url(file.url), **fetched.fields()}
        self._store(METADATA, key, Entry(raw, fields))
        _check_metadata(fetched, project, version)
        return fetched.metadata

    def _fetch_metadata(self, file: DistFile, project: str) -> tuple[bytes, Source]:
        if urlsplit(file.url).scheme not in ("http", "https"):
            raise OperationError(f"{file.filename}: not an http(s) URL: {shown_url(file.url)}")
        if file.metadata is not None:
            response = self._get(file.url + ".metadata")
            if response.status_code != 404:  # listed but not there: read the file itself
                data = check_status(response).content
                verify(data, file.metadata, f"the metadata file of {file.filename}")
                return data, "metadata"
        data = check_status(self._get(file.url)).content
        verify(data, file.hashes, file.filename)
        if file.kind == "wheel":
            return wheel_metadata(data, file.filename, project), "wheel"
        return sdist_metadata(data, file.filename), "sdist"

    # -- plumbing ---------------------------------------------------------------------------------

    def _get(
        self, url: str, where: str | None = None, headers: Headers | None = None
    ) -> httpx.Response:
        """GET ``url`` with the netrc credentials of its host. A host that gave no answer
        before fails at once; one that gives none now is remembered, and the failure is an
        :class:`IndexUnreachable` naming ``where`` (the index; default: the URL)."""
        origin = _origin(url)
        shown = where if where is not None else url
        with self._lock:
            reason = self._down.get(origin)
        if reason is not None:
            raise IndexUnreachable(shown, reason)
        if self._only_cache():
            raise _NeedsRequest(url)
        sent = dict(headers or {})
        authorization = self._netrc.authorization(url)
        if authorization is not None:
            sent["Authorization"] = authorization
        try:
            return self._http.get(url, headers=sent)
        except OperationError as exc:
            if not _no_answer(exc):
                raise
            reason = exc.message.removeprefix(f"GET {shown_url(url)}: ")
            with self._lock:
                self._down.setdefault(origin, reason)
            raise IndexUnreachable(shown, reason) from exc

    def _store(self, namespace: str, key: str, entry: Entry) -> None:
        """Cache an entry; a cache that cannot be written is noted once, not fatal."""
        try:
            self.cache.write(namespace, key, entry)
        except OperationError as exc:
            with self._lock:
                first, self._cache_trouble = not self._cache_trouble, True
            if first and self._notify is not None:
                self._notify(f"index answers are not cached: {exc}")

    def _concurrently(
        self,
        items: Sequence[_T],
        work: Callable[[_T], _R],
        label: Callable[[_T], str],
        progress: Progress | None,
    ) -> list[_R]:
        """``work`` on each item: first in the calling thread for the items the cache answers
        alone (a fresh page, cached metadata: threads would only add their cost), then the
        items that need a request in the thread pool."""
        total = len(items)
        if progress is not None:
            progress(0, total, "")
        results: dict[int, _R] = {}
        pending: list[int] = []
        for n, item in enumerate(items):
            try:
                with self._cache_only():
                    results[n] = work(item)
            except _NeedsRequest:
                pending.append(n)
                continue
            if progress is not None:
                progress(len(results), total, label(item))
        if pending:
            self._in_pool(items, pending, work, label, progress, results)
        return [results[n] for n in range(total)]

    def _in_pool(
        self,
        items: Sequence[_T],
        pending: Sequence[int],
        work: Callable[[_T], _R],
        label: Callable[[_T], str],
        progress: Progress | None,
        results: dict[int, _R],
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor, as_completed

        total = len(items)
        workers = min(self.max_workers, len(pending))
        with ThreadPoolExecutor(workers, thread_name_prefix="astroctl-index") as pool:
            futures: dict[Future[_R], int] = {pool.submit(work, items[n]): n for n in pending}
            try:
                for future in as_completed(futures):
                    n = futures[future]
                    results[n] = future.result()
                    if progress is not None:
                        progress(len(results), total, label(items[n]))
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise

    def _only_cache(self) -> bool:
        """Whether this thread is in the pass over the cache (see :meth:`_concurrently`)."""
        return bool(getattr(self._local, "cache_only", False))

    def _kept_page(self, url: str) -> tuple[bool, _Page | None]:
        """Whether the pass over the cache read the page at ``url`` before leaving it to the
        thread pool, and what it read (taken: the cache is read once)."""
        with self._lock:
            if url in self._pages_read:
                return True, self._pages_read.pop(url)
        return False, None

    @contextmanager
    def _cache_only(self) -> Iterator[None]:
        """Within: a request is not sent; :class:`_NeedsRequest` is raised instead."""
        self._local.cache_only = True
        try:
            yield
        finally:
            self._local.cache_only = False


class _NeedsRequest(Exception):
    """Raised instead of sending a request in the calling thread's pass over the cache."""


def _origin(url: str) -> str:
    """``scheme://host:port`` of a URL (credentials left out), what a down host is known by."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port}"
    except ValueError:
        return url


def _no_answer(exc: BaseException) -> bool:
    """Whether a failure of the HTTP seam means the host gave no answer at all: no connection,
    a timeout connecting, or TLS refused (not a slow read of one page)."""
    import ssl

    import httpx

    seen: set[int] = set()
    current: BaseException | None = exc.__cause__
    while current is not None and id(current) not in seen:
        if isinstance(current, httpx.ConnectError | httpx.ConnectTimeout | ssl.SSLError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _source(value: str | None) -> Source | None:
    return _SOURCES.get(value or "")


def _dated(response: httpx.Response) -> dict[str, str]:
    """The freshness fields of an answer received now (see :mod:`astroctl.seams.cache`)."""
    headers = response.headers
    return freshness_fields(headers.get("Cache-Control"), headers.get("Age"))


def _lend_credentials(files: tuple[DistFile, ...], page_url: str) -> tuple[DistFile, ...]:
    """The files, those on the page's own origin with the credentials of the page's URL (as a
    relative link on the page would have them; pip lends an index's credentials the same way).
    Files are parsed and cached without credentials."""
    if not has_credentials(page_url):
        return files
    page = urlsplit(page_url)
    userinfo, _, host = page.netloc.rpartition("@")
    lent = []
    for file in files:
        parts = urlsplit(file.url)
        if parts.scheme == page.scheme and parts.netloc == host:
            file = replace(file, url=urlunsplit(parts._replace(netloc=f"{userinfo}@{host}")))
        lent.append(file)
    return tuple(lent)


def _page_headers(cached: _Page | None) -> dict[str, str]:
    """Accept, and the conditions that let the index answer 304 for a cached page."""
    headers = {"Accept": ACCEPT}
    entry = cached.entry if cached is not None and cached.files is not None else None
    if entry is not None:
        etag, modified = entry.get("etag"), entry.get("last-modified")
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
    return headers
