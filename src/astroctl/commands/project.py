"""Where a project keeps what a release writes: the matrix, CHANGELOG.md and ``changes/``.

The project root is the directory holding ``data/compatibility.toml`` (or, for a matrix kept
elsewhere, the matrix file's own directory).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from astroctl.matrix.store import MatrixSource

CHANGELOG = "CHANGELOG.md"
FRAGMENTS = "changes"


@dataclass(frozen=True)
class Project:
    root: Path
    matrix: Path

    @property
    def changelog(self) -> Path:
        return self.root / CHANGELOG

    @property
    def fragments(self) -> Path:
        return self.root / FRAGMENTS


def project_of(source: MatrixSource) -> Project:
    path = source.path.absolute()
    directory = path.parent
    root = directory.parent if directory.name == "data" else directory
    return Project(root=root, matrix=path)
