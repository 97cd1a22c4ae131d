"""Fixtures shared by the tests of the constraint set (``test_upstream``, ``test_constraints``,
``test_builds``): a sandbox for astroctl's and uv's requests, an HTTP ``client`` for loopback, and
the loopback index uv resolves against. None is autouse: a module asks for the sandbox with
``pytestmark``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from astroctl.seams.http import Http, HttpSettings
from tests.helpers import keep_on_loopback
from tests.index_server import IndexServer
from tests.providers.resolving import add_packages

FAST = HttpSettings(
    timeout=5.0, connect_timeout=2.0, retries=0, backoff=0.01, max_backoff=0.01, max_retry_time=2.0
)


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No proxy for astroctl's own requests to loopback; uv's go nowhere but loopback."""
    keep_on_loopback(monkeypatch, tmp_path)


@pytest.fixture
def client() -> Iterator[Http]:
    """An HTTP client for loopback: short timeouts, no retries."""
    with Http(FAST) as http:
        yield http


@pytest.fixture
def index() -> Iterator[IndexServer]:
    """The loopback index with the packages of :func:`~tests.providers.resolving.add_packages`."""
    with IndexServer() as running:
        add_packages(running)
        yield running
