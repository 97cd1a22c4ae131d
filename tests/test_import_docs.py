"""The committed matrix is exactly what the importer makes of the documentation's fact tables."""

from __future__ import annotations

import pytest
from scripts import import_docs

from astroctl.matrix import store
from tests.helpers import MATRIX


@pytest.mark.skipif(
    not (import_docs.DATA_DIR / "runtime-releases.csv").is_file(),
    reason="the fact tables (../shared/data) are not beside this checkout",
)
def test_committed_matrix_is_the_importers_output_byte_for_byte() -> None:
    header, document = import_docs.build_document()
    assert store.dumps_document(document, header) == MATRIX.read_text(encoding="utf-8")
