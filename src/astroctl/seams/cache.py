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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from astroctl.errors import OperationError

CACHE_DIR_VARIABLE = "ASTROCTL_CACHE_DIR"
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


def entry_key(*parts: str) -> str:
    """A file-name-safe key for the parts (a URL, a hash): the SHA-256 of their joined text."""
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


class DiskCache:
    """Entries under ``root/<namespace>/<key[:2]>/<key>``; keys come from :func:`entry_key`."""

    def __init__(self, root: Path) -> None:
        self.root = root

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
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OperationError(f"{path.parent}: cannot create: {exc.strerror or exc}") from exc
        write_bytes(path, encode(entry))


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
