"""Schema 1 of the matrix file: TOML document <-> :class:`~astroctl.matrix.model.Matrix`.

The façade of the three layers, so callers need one import:

- :mod:`~astroctl.matrix.checker` reads untrusted values into typed ones, collecting violations;
- :mod:`~astroctl.matrix.reader` checks every invariant of SPEC section 2 (:func:`build_matrix`);
- :mod:`~astroctl.matrix.writer` turns a matrix back into a document (:func:`to_document`);

and :mod:`~astroctl.matrix.sourcemap` finds the file line of a violation.
"""

from __future__ import annotations

from astroctl.matrix.reader import (
    ENV_KEYS,
    FLAVOR_KEYS,
    IMAGE_KEYS,
    LINE_KEYS,
    OVERRIDABLE_KEYS,
    PACKAGE_KEYS,
    POLICY_KEYS,
    RELEASE_KEYS,
    TOP_KEYS,
    UPSTREAM_KEYS,
    build_matrix,
)
from astroctl.matrix.writer import to_document

__all__ = [
    "ENV_KEYS",
    "FLAVOR_KEYS",
    "IMAGE_KEYS",
    "LINE_KEYS",
    "OVERRIDABLE_KEYS",
    "PACKAGE_KEYS",
    "POLICY_KEYS",
    "RELEASE_KEYS",
    "TOP_KEYS",
    "UPSTREAM_KEYS",
    "build_matrix",
    "to_document",
]
