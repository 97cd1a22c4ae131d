"""Where the matrix lives and how it is read and written (SPEC section 2).

Discovery order: ``--matrix PATH``, then ``$ASTROCTL_MATRIX``, then ``data/compatibility.toml``
found by walking up from the working directory, then the default embedded in the package.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from astroctl.errors import InputError, MatrixInvalid, OperationError, Violation
from astroctl.matrix.model import Matrix
from astroctl.matrix.schema import build_matrix, to_document
from astroctl.seams import fs

ENV_VAR = "ASTROCTL_MATRIX"
RELATIVE_PATH = Path("data") / "compatibility.toml"
EMBEDDED_NAME = "compatibility.toml"


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


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such matrix file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a matrix file") from None
    except PermissionError:
        raise InputError(f"{path}: cannot read the matrix file (permission denied)") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the matrix file: {exc.strerror or exc}") from None


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; a syntax error becomes a violation naming the line and column."""
    import rtoml  # compiled parser: ~8x faster than tomllib on large matrices

    try:
        document: dict[str, Any] = rtoml.loads(text)
    except rtoml.TomlParsingError as exc:
        message = " ".join(str(exc).split())
        raise MatrixInvalid(source, [Violation("TOML syntax", "", message)]) from None
    return document


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
        return build_matrix(parse_toml(text, source), source, extract_header(text))
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
        scalars = {k: v for k, v in release.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in release.items() if isinstance(v, dict)}
        chunk = "[[releases]]\n" + tomli_w.dumps(scalars, indent=2)
        if tables:
            chunk += "\n" + tomli_w.dumps({"releases": tables}, indent=2)
        chunks.append(chunk)
    body = "\n".join(chunk.rstrip("\n") + "\n" for chunk in chunks)
    return f"{header}\n\n{body}" if header else body


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
