"""Answers cut short (half the body, then the connection closed) on loopback: the index seam
retries them, and nothing half-received is parsed or cached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from astroctl.errors import OperationError
from astroctl.seams.http import Http, HttpSettings
from astroctl.seams.index import PackageIndex
from tests.index_server import Fault, IndexServer

# three attempts, 10 ms apart
QUICK = HttpSettings(
    timeout=2.0, connect_timeout=1.0, retries=2, backoff=0.01, max_backoff=0.01, max_retry_time=3.0
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("NETRC", "/nonexistent/netrc")


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer() as running:
        running.add("demo", "1.0", requires_dist=["a>=1"])
        yield running


@pytest.fixture
def notes() -> list[str]:
    return []


@pytest.fixture
def http(notes: list[str]) -> Iterator[Http]:
    with Http(QUICK, notify=notes.append) as client:
        client.client()
        yield client


def cached(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file()]


def test_a_page_cut_short_every_time_is_an_error_and_nothing_is_cached(
    server: IndexServer, http: Http, tmp_path: Path, notes: list[str]
) -> None:
    server.fail(server.page_path("demo"), *[Fault.truncated()] * 3)
    index = PackageIndex(server.url, http=http, cache_dir=tmp_path)
    with pytest.raises(OperationError) as caught:
        index.project("demo")
    message = caught.value.message
    assert message.startswith(f"GET {server.url}demo/: connection failed (")
    assert message.endswith("after 3 attempts")
    assert len(notes) == 2 and all(n.startswith("retrying in ") for n in notes)
    assert cached(tmp_path) == []
    assert server.count(server.page_path("demo")) == 3


def test_a_page_cut_short_once_is_fetched_again_whole(
    server: IndexServer, http: Http, tmp_path: Path, notes: list[str]
) -> None:
    server.fail(server.page_path("demo"), Fault.truncated())
    project = PackageIndex(server.url, http=http, cache_dir=tmp_path).project("demo")
    assert project.versions() == ("1.0",)
    assert len(notes) == 1
    again = PackageIndex(server.url, http=http, cache_dir=tmp_path, offline=True)
    assert again.project("demo") == project  # what was cached is the whole page


def test_a_metadata_file_cut_short_is_not_cached(
    server: IndexServer, http: Http, tmp_path: Path
) -> None:
    index = PackageIndex(server.url, http=http, cache_dir=tmp_path)
    project = index.project("demo")
    (wheel,) = project.files
    server.fail(server.metadata_path(wheel.filename), *[Fault.truncated()] * 3)
    with pytest.raises(OperationError, match="connection failed"):
        index.metadata(project, "1.0")
    assert [p.parent.parent.name for p in cached(tmp_path)] == ["pages"]
    assert index.metadata(project, "1.0").requires_dist == ("a>=1",)  # whole, the next time
