"""The on-disk cache: entries written whole (a temporary file and a rename), read with suspicion.

The cache lives in the user cache directory: the ``cache_dir`` a caller passes, else
``$ASTROCTL_CACHE_DIR``, else ``$XDG_CACHE_HOME/astroctl``, else ``~/.cache/astroctl``.

An entry is one file: a first line ``astroctl-cache 1``, a line of JSON (the entry's fields, the
body's size and a SHA-256 over the fields and the body), then the body's bytes. A reader checks
all of it: an entry that is missing, truncated, from another format or altered reads as absent
(the caller fetches it again), never as an error. A write goes to a temporary file in the same
directory that is renamed over the entry, so a reader sees the old entry or the new one. Nothing
is fsynced: a cache entry lost or torn by a crash is found out by its checksum and fetched again,
and skipping the fsyncs keeps a run that caches hundreds of pages fast.

Freshness: an answer that can change (a project page, an upstream constraints file) is stored with
the time it was fetched or last revalidated (``fetched``, seconds since the epoch) and, when the
server said, its own lifetime (``max-age``: ``Cache-Control: max-age`` less ``Age``; ``0`` for
``no-cache`` or ``no-store``). :func:`is_fresh` says whether it may be used without asking the
server again: for the server's lifetime, but never longer than the caller's limit, which
:func:`cache_ttl` reads from ``$ASTROCTL_CACHE_TTL`` (seconds; default 600, ten minutes, as
PyPI's own ``max-age`` for its project pages; ``0``: always ask).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from astroctl.errors import OperationError

CACHE_DIR_VARIABLE = "ASTROCTL_CACHE_DIR"
TTL_VARIABLE = "ASTROCTL_CACHE_TTL"
DEFAULT_TTL = 600.0  # seconds: PyPI's own max-age for its project pages
MAGIC = b"astroctl-cache 1\n"
MAX_HEADER = 64 * 1024  # the JSON line of an entry; anything longer is not ours


@dataclass(frozen=True)
class Entry:
    """One cached thing: its bytes and a few string fields about them (URL, ETag, ...)."""

    body: bytes
    fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, name: str) -> str | None:
        return self.fields.get(name)


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$ASTROCTL_CACHE_DIR``, else ``$XDG_CACHE_HOME/astroctl``, else ``~/.cache/astroctl``.

    A relative ``$XDG_CACHE_HOME`` is ignored, as the XDG specification says.
    """
    env = os.environ if environ is None else environ
    chosen = env.get(CACHE_DIR_VARIABLE, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "astroctl"
    try:
        home = Path.home()
    except (RuntimeError, KeyError) as exc:  # no $HOME and no passwd entry
        raise OperationError(
            f"cannot find a cache directory (no home directory); set ${CACHE_DIR_VARIABLE}"
        ) from exc
    return home / ".cache" / "astroctl"


def cache_ttl(environ: Mapping[str, str] | None = None) -> float:
    """How long, at most, a cached page may be used without asking: ``$ASTROCTL_CACHE_TTL``
    seconds (``0``: always ask), else :data:`DEFAULT_TTL`. An InputError for anything else."""
    from astroctl.seams.http import seconds_setting

    wanted = "a number of seconds such as 600 (0: always ask)"
    seconds = seconds_setting(TTL_VARIABLE, environ, wanted, zero=True)
    return DEFAULT_TTL if seconds is None else seconds


def lifetime(cache_control: str | None, age: str | None = None) -> str | None:
    """The lifetime an answer's ``Cache-Control`` and ``Age`` headers give it, as stored in an
    entry's ``max-age`` field: whole seconds as text, ``"0"`` for ``no-cache``/``no-store``,
    None when they say nothing (then only the caller's limit applies)."""
    if not cache_control:
        return None
    seconds: int | None = None
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-cache", "no-store"):
            return "0"
        if name == "max-age":
            try:
                seconds = max(0, int(value.strip().strip('"')))
            except ValueError:
                return "0"  # a lifetime that cannot be read is none (RFC 9111, 4.2.1)
    if seconds is None:
        return None
    try:
        already = max(0, int((age or "0").strip()))
    except ValueError:
        already = 0
    return str(max(0, seconds - already))


def freshness_fields(cache_control: str | None, age: str | None = None) -> dict[str, str]:
    """The fields that date an entry fetched (or revalidated) now: ``fetched``, ``max-age``."""
    # to the millisecond below: rounded up, an entry read back within that millisecond would be
    # dated in the future and not fresh (seen as a flaky test: fetched, then at once not fresh)
    fields = {"fetched": f"{math.floor(time.time() * 1000) / 1000:.3f}"}
    stored = lifetime(cache_control, age)
    if stored is not None:
        fields["max-age"] = stored
    return fields


def is_fresh(entry: Entry, ttl: float, now: float | None = None) -> bool:
    """Whether ``entry`` may be used without asking the server: younger than its own
    ``max-age`` and than ``ttl``. An entry without a date, or dated in the future (a clock set
    back), is not fresh."""
    if ttl <= 0:
        return False
    try:
        fetched = float(entry.get("fetched") or "nan")
        limit = min(ttl, float(entry.get("max-age") or math.inf))
    except ValueError:
        return False
    age = (time.time() if now is None else now) - fetched
    return 0 <= age < limit  # False for a NaN


def entry_key(*parts: str) -> str:
    """A file-name-safe key for the parts (a URL, a hash): the SHA-256 of their joined text."""
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


class DiskCache:
    """Entries under ``root/<namespace>/<key[:2]>/<key>``; keys come from :func:`entry_key`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: set[Path] = set()  # directories this instance made (or found) already

    def path(self, namespace: str, key: str) -> Path:
        if not key.isalnum() or not namespace.replace("/", "").replace("-", "").isalnum():
            raise ValueError(f"not a cache key: {namespace!r} {key!r}")
        return self.root / namespace / key[:2] / key

    def read(self, namespace: str, key: str) -> Entry | None:
        """The entry, or None when it is absent, unreadable or not intact."""
        try:
            data = self.path(namespace, key).read_bytes()
        except OSError:
            return None
        return decode(data)

    def write(self, namespace: str, key: str, entry: Entry) -> None:
        """Store the entry whole; an OperationError says why it could not be."""
        path = self.path(namespace, key)
        data = encode(entry)
        if path.parent in self._made:  # a run writes hundreds of entries: mkdir once per folder
            try:
                write_bytes(path, data)
                return
            except OperationError:
                self._made.discard(path.parent)  # removed meanwhile? made again below
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OperationError(f"{path.parent}: cannot create: {exc.strerror or exc}") from exc
        write_bytes(path, data)
        self._made.add(path.parent)


def encode(entry: Entry) -> bytes:
    line = _header(entry.fields, entry.body)
    return MAGIC + line + b"\n" + entry.body


def _header(fields: Mapping[str, str], body: bytes) -> bytes:
    """The JSON line: the fields, the body's size, and a SHA-256 over the fields and the body."""
    named = {k: v for k, v in fields.items() if k not in ("size", "sha256")}
    canonical = json.dumps(named, sort_keys=True, ensure_ascii=True).encode("ascii")
    digest = hashlib.sha256(canonical + b"\n" + body).hexdigest()
    header = {**named, "size": str(len(body)), "sha256": digest}
    return json.dumps(header, sort_keys=True, ensure_ascii=True).encode("ascii")


def decode(data: bytes) -> Entry | None:
    """The entry in ``data``, or None when it is not one this format wrote, whole."""
    if not data.startswith(MAGIC):
        return None
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER)
    if end < 0:
        return None
    try:
        header = json.loads(data[len(MAGIC) : end])
    except ValueError:
        return None
    if not isinstance(header, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in header.items()
    ):
        return None
    body = data[end + 1 :]
    if _header(header, body) != data[len(MAGIC) : end]:
        return None
    fields = {k: v for k, v in header.items() if k not in ("size", "sha256")}
    return Entry(body, MappingProxyType(fields))


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and a rename.

    Readers see the old content or the new, never a mix; on failure the temporary file is removed
    and an OperationError names the path. (Unlike :func:`astroctl.seams.fs.write_text`, nothing
    is fsynced: see the module's docstring.)
    """
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as exc:
        raise OperationError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise OperationError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
