"""Builders for small, hand-made matrices: documents (as parsed TOML), TOML text and Matrix values.

Every line gets its own Airflow minor by default (major M ships Airflow 2.M), so any set of
versions builds a valid matrix without the caller thinking about the parity invariant.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import tomli_w

from astroctl.matrix.model import Matrix
from astroctl.matrix.schema import build_matrix
from astroctl.versions import parse_runtime

Document = dict[str, Any]

REPO = Path(__file__).resolve().parents[1]
REAL_MATRIX = REPO / "data" / "compatibility.toml"
SOURCE = "test.toml"


def line(
    *,
    channel: str = "stable",
    end_of_maintenance: date = date(2030, 1, 31),
    python: str = "3.11",
    python_versions: Iterable[str] = ("3.10", "3.11"),
    os: str = "Debian 12 (bookworm)",
    architectures: Iterable[str] = ("amd64", "arm64"),
) -> Document:
    """A ``[lines.N]`` table."""
    return {
        "channel": channel,
        "end_of_maintenance": end_of_maintenance,
        "python": python,
        "python_versions": list(python_versions),
        "os": os,
        "architectures": list(architectures),
    }


def default_airflow(version: str) -> str:
    """Airflow ``2.M.p`` for runtime ``M.m.p``: one Airflow minor per major, distinct per major."""
    parsed = parse_runtime(version)
    return f"2.{parsed.major}.{parsed.patch}"


def release(version: str, airflow: str | None = None, **fields: Any) -> Document:
    """A ``[[releases]]`` entry; keyword arguments become its other keys."""
    entry: Document = {"version": version, "airflow": airflow or default_airflow(version)}
    entry.update(fields)
    return entry


def document(
    *releases: Document,
    lines: Mapping[int, Document] | None = None,
    **top: Any,
) -> Document:
    """A whole schema 1 document; by default one :func:`line` for every major of ``releases``."""
    if lines is None:
        majors = sorted({int(str(r["version"]).split(".")[0]) for r in releases})
        lines = {major: line() for major in majors}
    doc: Document = {"schema": 1}
    doc.update(top)
    doc["lines"] = {str(major): copy.deepcopy(dict(entry)) for major, entry in lines.items()}
    doc["releases"] = [copy.deepcopy(r) for r in releases]
    return doc


def toml_text(doc: Mapping[str, Any], header: str = "") -> str:
    """The TOML text of a document, with an optional leading comment block."""
    body = tomli_w.dumps(dict(doc))
    return f"{header}\n\n{body}" if header else body


def build(doc: Mapping[str, Any], header: str = "") -> Matrix:
    """Validate and build a document (raises ``MatrixInvalid`` like the real loader)."""
    return build_matrix(doc, SOURCE, header)


def matrix(*versions: str, yanked: Iterable[str] = ()) -> Matrix:
    """A matrix of bare releases; the versions listed in ``yanked`` are yanked."""
    gone = set(yanked)
    entries = [
        release(v, **({"yanked": f"{v} broke things"} if v in gone else {})) for v in versions
    ]
    return build(document(*entries))
