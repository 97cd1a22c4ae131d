"""Where the matrix lives and how it is read and written (SPEC section 2).

Discovery order: ``--matrix PATH``, then ``$ASTROCTL_MATRIX``, then ``data/compatibility.toml``
found by walking up from the working directory, then the default embedded in the package.
"""

from __future__ import annotations

import gc
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from astroctl.errors import InputError, MatrixInvalid, OperationError, Violation
from astroctl.matrix.model import Matrix
from astroctl.matrix.schema import build_matrix, to_document
from astroctl.seams import fs

ENV_VAR = "ASTROCTL_MATRIX"
RELATIVE_PATH = Path("data") / "compatibility.toml"
EMBEDDED_NAME = "compatibility.toml"
# The largest matrix file read: ~5x a 2,000-release, 150-package matrix. A bigger one is refused
# before it can exhaust memory (a file that keeps growing, or /dev/zero behind a symlink).
MAX_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
_SYNTAX_AT = re.compile(r"at line ([0-9]{1,18}) column ([0-9]{1,18})")
_MAX_SYNTAX_MESSAGE = 300  # characters of the parser's message kept


class Origin(Enum):
    OPTION = "--matrix"
    ENVIRONMENT = f"${ENV_VAR}"
    PROJECT = "project"
    EMBEDDED = "embedded default"


@dataclass(frozen=True)
class MatrixSource:
    path: Path
    origin: Origin

    @property
    def writable(self) -> bool:
        return self.origin is not Origin.EMBEDDED

    def require_writable(self) -> None:
        """Refuse to write the embedded default: it belongs to the installed package."""
        if not self.writable:
            raise InputError(
                f"{self.path}: refusing to write the embedded default matrix; "
                f"pass --matrix PATH, set ${ENV_VAR}, or run inside a project with "
                f"{RELATIVE_PATH}"
            )


def embedded_path() -> Path:
    """The matrix shipped inside the package (or, in a source checkout, the project's own)."""
    package = Path(__file__).resolve().parent.parent  # astroctl/
    packaged = package / EMBEDDED_NAME
    if packaged.is_file():
        return packaged
    checkout = package.parent.parent / RELATIVE_PATH  # src/astroctl -> the project root
    if checkout.is_file():
        return checkout
    raise OperationError(f"{packaged}: the embedded matrix is missing from this installation")


def locate(
    option: Path | None, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> MatrixSource:
    """Find the matrix file in discovery order."""
    if option is not None:
        return MatrixSource(option, Origin.OPTION)
    environ = os.environ if environ is None else environ
    from_env = environ.get(ENV_VAR, "")
    if from_env:
        return MatrixSource(Path(from_env), Origin.ENVIRONMENT)
    start = (cwd or Path.cwd()).resolve()
    for directory in (start, *start.parents):
        candidate = directory / RELATIVE_PATH
        if candidate.is_file():
            return MatrixSource(candidate, Origin.PROJECT)
    return MatrixSource(embedded_path(), Origin.EMBEDDED)


_FILE_KINDS: Mapping[int, str] = MappingProxyType(
    {
        stat.S_IFIFO: "is a FIFO (named pipe)",
        stat.S_IFCHR: "is a character device",
        stat.S_IFBLK: "is a block device",
        stat.S_IFSOCK: "is a socket",
    }
)


def read_text(path: Path) -> str:
    """The matrix file's text: a regular file of at most :data:`MAX_BYTES` bytes of UTF-8.

    The file is opened without blocking and checked through its descriptor before a byte is
    read, so a FIFO cannot hang the read, a device cannot feed it forever, and nothing can swap
    the file between the check and the read.
    """
    data = _read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _read_bytes(path: Path) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        _require_regular_if_there(path)  # a socket cannot be opened: say what it is
        raise _unreadable(path, exc) from None
    try:
        status = os.fstat(fd)
        _require_regular(path, status)
        data = _read_at_most(fd, MAX_BYTES + 1, first=status.st_size + 1)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise InputError(_too_large(path))
    return data


def _read_at_most(fd: int, limit: int, *, first: int) -> bytes:
    """Up to ``limit`` bytes; the size the file claims is read at once (usually all of it)."""
    chunks: list[bytes] = []
    total, want = 0, min(first, limit)
    while total < limit:
        chunk = os.read(fd, want)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = min(_CHUNK, limit - total)
    return b"".join(chunks)


def _require_regular_if_there(path: Path) -> None:
    try:
        status = os.stat(path)
    except OSError:
        return
    _require_regular(path, status)


def _require_regular(path: Path, status: os.stat_result) -> None:
    mode = status.st_mode
    if stat.S_ISDIR(mode):
        raise InputError(f"{path}: is a directory, not a matrix file")
    if not stat.S_ISREG(mode):
        kind = _FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise InputError(f"{path}: {kind}, not a matrix file (a matrix is a regular file)")
    if status.st_size > MAX_BYTES:
        raise InputError(_too_large(path))


def _too_large(path: Path) -> str:
    mib, rest = divmod(MAX_BYTES, 1024 * 1024)
    limit = f"{MAX_BYTES} bytes" if rest or not mib else f"{mib} MiB"
    return f"{path}: larger than {limit}, the most a matrix file may be; refusing to read it"


def _unreadable(path: Path, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path}: no such matrix file")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{path}: is a directory, not a matrix file")
    if isinstance(exc, PermissionError):
        return InputError(f"{path}: cannot read the matrix file (permission denied)")
    return InputError(f"{path}: cannot read the matrix file: {exc.strerror or exc}")


def parse_toml(text: str, source: str) -> dict[str, object]:
    """Parse TOML text; a syntax error becomes a violation naming the line and column."""
    import rtoml  # compiled parser: ~8x faster than tomllib on large matrices

    try:
        document: dict[str, object] = rtoml.loads(text)
    except rtoml.TomlParsingError as exc:
        raise MatrixInvalid(source, [_syntax_violation(str(exc))]) from None
    except UnicodeEncodeError as exc:  # a str holding a lone surrogate, never a decoded file
        line = text.count("\n", 0, exc.start) + 1
        message = f"not Unicode text: a lone surrogate at line {line}"
        raise MatrixInvalid(
            source, [Violation("TOML syntax", "", message, file_line=line)]
        ) from None
    return document


def _syntax_violation(error: str) -> Violation:
    message = " ".join(error.split())
    if len(message) > _MAX_SYNTAX_MESSAGE:
        message = message[:_MAX_SYNTAX_MESSAGE] + "..."
    found = _SYNTAX_AT.search(message)
    line = int(found.group(1)) if found else None
    return Violation("TOML syntax", "", message, file_line=line)


def extract_header(text: str) -> str:
    """The leading block of comment lines, kept when the file is rewritten."""
    header: list[str] = []
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        start = end + 1
        stripped = line.strip()
        if stripped.startswith("#"):
            header.append(line.rstrip())
        elif stripped:
            break  # the first key or table: the header is over (never split the whole file)
        elif header:
            header.append("")
    while header and not header[-1]:
        header.pop()
    return "\n".join(header)


def loads(text: str, source: str) -> Matrix:
    # The parsed document is hundreds of thousands of small, acyclic objects: the cyclic
    # collector finds nothing in them but costs ~20% of a large load, so it waits until the end.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return build_matrix(parse_toml(text, source), source, extract_header(text), text=text)
    finally:
        if enabled:
            gc.enable()


def load(path: Path) -> Matrix:
    return loads(read_text(path), str(path))


def dumps_document(document: Mapping[str, Any], header: str = "") -> str:
    """TOML text of a document; every release is a ``[[releases]]`` table, however short.

    tomli-w would write an array of short tables inline (``releases = [{...}]``); the matrix
    is read and diffed by people, so each release gets its own table whatever its length.
    """
    import tomli_w

    rest = {key: value for key, value in document.items() if key != "releases"}
    chunks = [tomli_w.dumps(rest, indent=2)] if rest else []
    for release in document.get("releases", ()):
        tables = {k: v for k, v in release.items() if isinstance(v, dict)}
        arrays = {k: v for k, v in release.items() if _is_table_array(v)}
        scalars = {k: v for k, v in release.items() if k not in tables and k not in arrays}
        chunk = "[[releases]]\n" + tomli_w.dumps(scalars, indent=2)
        for key, items in arrays.items():  # [[releases.notes]]: one table per item, never inline
            for item in items:
                chunk += f"\n[[releases.{key}]]\n" + tomli_w.dumps(item, indent=2)
        if tables:
            chunk += "\n" + tomli_w.dumps({"releases": tables}, indent=2)
        chunks.append(chunk)
    body = "\n".join(chunk.rstrip("\n") + "\n" for chunk in chunks)
    return f"{header}\n\n{body}" if header else body


def _is_table_array(value: object) -> bool:
    """An array of tables, written as ``[[releases.X]]`` tables."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def dumps(matrix: Matrix) -> str:
    return dumps_document(to_document(matrix), matrix.header)


def write_document(path: Path, document: Mapping[str, Any], header: str = "") -> None:
    """Write a raw document (after checking it builds a valid matrix) atomically."""
    text = dumps_document(document, header)
    loads(text, str(path))
    fs.write_text(path, text)


def save(source: MatrixSource, matrix: Matrix) -> None:
    """Write the matrix to its source file, atomically; never to the embedded default."""
    source.require_writable()
    fs.write_text(source.path, dumps(matrix))
