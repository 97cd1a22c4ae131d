"""Fixtures shared by the tests of the constraint set (``test_upstream``, ``test_constraints``,
``test_builds``): a sandbox for astroctl's and uv's requests, an HTTP ``client`` for loopback, and
the loopback index uv resolves against. None is autouse: a module asks for the sandbox with
``pytestmark``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from astroctl.seams.http import Http, HttpSettings
from tests.index_server import IndexServer
from tests.providers.resolving import ARM_TAG, OLD, X86_TAG

FAST = HttpSettings(
    timeout=5.0, connect_timeout=2.0, retries=0, backoff=0.01, max_backoff=0.01, max_retry_time=2.0
)
DEAD_PROXY = "http://127.0.0.1:9"


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No proxy for astroctl's own requests to loopback; uv's go nowhere but loopback."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, DEAD_PROXY)
        monkeypatch.setenv(name.lower(), DEAD_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    monkeypatch.setenv("ASTROCTL_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))  # no credentials but a test's own


@pytest.fixture
def client() -> Iterator[Http]:
    """An HTTP client for loopback: short timeouts, no retries."""
    with Http(FAST) as http:
        yield http


@pytest.fixture
def index() -> Iterator[IndexServer]:
    """Airflow 2.7.2 (needs beta), alpha (needs beta), beta 1.0 / 2.0 / 3.0 (3.0 after the
    release date), delta (needs beta<2), native (x86_64 and aarch64 wheels), x86only; sdonly
    (an sdist, no wheel), x86sdist (an x86_64 wheel, a Windows wheel and an sdist), oldarm (a
    wheel for Python 3.10 on aarch64 only, and an sdist), py2only (a py2-none-any wheel and an
    sdist), late (an sdist, and a py3-none-any wheel uploaded after the release date)."""
    with IndexServer() as running:
        running.add("apache-airflow", "2.7.2", requires_dist=["beta>=1"], upload_time=OLD)
        running.add("alpha", "1.0", requires_dist=["beta>=1"], upload_time=OLD)
        running.add("beta", "1.0", upload_time=OLD)
        running.add("beta", "2.0", upload_time=OLD)
        running.add("beta", "3.0", upload_time=datetime(2023, 10, 20, tzinfo=UTC))
        running.add("delta", "1.0", requires_dist=["beta<2"], upload_time=OLD)
        running.add("native", "1.0", tags=X86_TAG, upload_time=OLD)
        running.add("native", "1.0", tags=ARM_TAG, upload_time=OLD)
        running.add("x86only", "1.0", tags=X86_TAG, upload_time=OLD)
        running.add("sdonly", "1.0", wheel=False, sdist=True, upload_time=OLD)
        running.add("x86sdist", "1.0", tags=X86_TAG, sdist=True, upload_time=OLD)
        running.add("x86sdist", "1.0", tags="cp311-cp311-win_amd64", upload_time=OLD)
        running.add("oldarm", "1.0", tags=X86_TAG, sdist=True, upload_time=OLD)
        running.add("oldarm", "1.0", tags="cp310-cp310-manylinux_2_17_aarch64", upload_time=OLD)
        running.add("py2only", "1.0", tags="py2-none-any", sdist=True, upload_time=OLD)
        running.add("late", "1.0", wheel=False, sdist=True, upload_time=OLD)
        running.add("late", "1.0", upload_time=datetime(2023, 10, 20, tzinfo=UTC))  # after
        yield running
