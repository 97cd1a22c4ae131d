"""Fresh project pages, pages cached as their parsed files, metadata cached with its fields, and
the calling thread's pass over the cache (seams/cache.py and seams/index.py), on loopback."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from astroctl.errors import InputError
from astroctl.seams import index as index_seam
from astroctl.seams.cache import (
    DEFAULT_TTL,
    DiskCache,
    Entry,
    cache_ttl,
    entry_key,
    freshness_fields,
    is_fresh,
    lifetime,
)
from astroctl.seams.http import Http, HttpSettings
from astroctl.seams.index import (
    FILES_FORM,
    METADATA,
    PAGES,
    PackageIndex,
    dump_files,
    load_files,
)
from tests.index_server import IndexServer

FAST = HttpSettings(timeout=2.0, connect_timeout=1.0, retries=0, max_retry_time=3.0)
MakeIndex = Callable[..., PackageIndex]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in ("ASTROCTL_CACHE_DIR", "ASTROCTL_CACHE_TTL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", "/nonexistent/netrc")


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer() as running:
        yield running


@pytest.fixture
def http() -> Iterator[Http]:
    with Http(FAST) as client:
        client.client()
        yield client


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def make_index(server: IndexServer, http: Http, cache: Path) -> MakeIndex:
    """A new client (a new run) of ``server`` on the one cache; fresh for 600 s by default."""

    def make(**options: object) -> PackageIndex:
        options.setdefault("cache_dir", cache)
        options.setdefault("fresh_for", 600.0)
        return PackageIndex(server.url, http=http, **options)  # type: ignore[arg-type]

    return make


def page_entry(server: IndexServer, cache: Path, name: str) -> Entry:
    entry = DiskCache(cache).read(PAGES, entry_key(f"{server.url}{name}/"))
    assert entry is not None
    return entry


def age_page(server: IndexServer, cache: Path, name: str, seconds: float) -> None:
    """Make the cached page ``seconds`` older."""
    entry = page_entry(server, cache, name)
    fields = dict(entry.fields)
    fields["fetched"] = f"{float(fields['fetched']) - seconds:.3f}"
    DiskCache(cache).write(PAGES, entry_key(f"{server.url}{name}/"), Entry(entry.body, fields))


# -- the rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cache_control", "age", "expected"),
    [
        (None, None, None),
        ("public", None, None),
        ("max-age=600, public", None, "600"),
        ("public, MAX-AGE=600", "100", "500"),
        ('max-age="60"', None, "60"),
        ("max-age=60", "900", "0"),
        ("max-age=60", "soon", "60"),
        ("no-cache", None, "0"),
        ("max-age=600, no-store", None, "0"),
        ("max-age=ten", None, "0"),
    ],
)
def test_the_lifetime_an_answer_gives(
    cache_control: str | None, age: str | None, expected: str | None
) -> None:
    assert lifetime(cache_control, age) == expected


def test_an_entry_is_fresh_within_its_lifetime_and_the_limit() -> None:
    now = 1_000_000.0
    dated = Entry(b"", {"fetched": f"{now - 100:.3f}"})
    assert is_fresh(dated, 600, now)
    assert not is_fresh(dated, 100, now)  # the limit
    assert not is_fresh(dated, 0, now)  # 0: always ask
    assert not is_fresh(Entry(b"", {**dated.fields, "max-age": "50"}), 600, now)
    assert is_fresh(Entry(b"", {**dated.fields, "max-age": "500"}), 600, now)
    assert not is_fresh(Entry(b"", {"fetched": f"{now + 60:.3f}"}), 600, now)  # clock set back
    assert not is_fresh(Entry(b"", {}), 600, now)  # never dated: an earlier astroctl's
    assert not is_fresh(Entry(b"", {"fetched": "yesterday"}), 600, now)
    assert not is_fresh(Entry(b"", {"fetched": "nan"}), 600, now)
    fields = freshness_fields("max-age=30", None)
    assert fields["max-age"] == "30" and abs(float(fields["fetched"]) - time.time()) < 5


def test_an_entry_is_fresh_the_moment_it_is_dated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dated to the millisecond below, never above: read back within the same millisecond (a
    second request of one run), it is not mistaken for an entry from the future."""
    monkeypatch.setattr(time, "time", lambda: 1_000_000.0006)
    fields = freshness_fields(None, None)
    assert fields["fetched"] == "1000000.000"
    assert is_fresh(Entry(b"", fields), 600)


def test_the_limit_comes_from_the_environment() -> None:
    assert cache_ttl({}) == DEFAULT_TTL == 600
    assert cache_ttl({"ASTROCTL_CACHE_TTL": " 0 "}) == 0
    assert cache_ttl({"ASTROCTL_CACHE_TTL": "90.5"}) == 90.5
    for bad in ("-1", "ten", "inf", "nan"):
        with pytest.raises(InputError, match=r"\$ASTROCTL_CACHE_TTL .* is not a number"):
            cache_ttl({"ASTROCTL_CACHE_TTL": bad})


# -- pages ----------------------------------------------------------------------------------------


def test_a_fresh_page_is_not_asked_for_again(server: IndexServer, make_index: MakeIndex) -> None:
    server.add("demo", "1.0")
    first = make_index().project("demo")
    server.add("demo", "1.1")  # the index changes: within the window, the cache answers
    server.clear_log()
    assert make_index().project("demo") == first
    assert server.requests == []


def test_without_a_window_every_page_is_revalidated(
    server: IndexServer, make_index: MakeIndex
) -> None:
    server.add("demo", "1.0")
    make_index().project("demo")
    server.clear_log()
    make_index(fresh_for=0).project("demo")  # what --refresh and ASTROCTL_CACHE_TTL=0 give
    (request,) = server.requests
    assert request.conditional and request.status == 304


def test_an_expired_page_is_revalidated_with_its_etag_and_dated_anew(
    server: IndexServer, make_index: MakeIndex, cache: Path
) -> None:
    server.add("demo", "1.0")
    make_index().project("demo")
    age_page(server, cache, "demo", 601)
    server.clear_log()
    assert make_index().project("demo").versions() == ("1.0",)
    (request,) = server.requests
    assert "if-none-match" in request.headers and request.status == 304
    server.clear_log()
    make_index().project("demo")  # the 304 dated it: fresh again
    assert server.requests == []


def test_an_expired_page_that_changed_is_fetched(
    server: IndexServer, make_index: MakeIndex, cache: Path
) -> None:
    server.add("demo", "1.0")
    make_index().project("demo")
    server.add("demo", "1.1")
    age_page(server, cache, "demo", 601)
    assert make_index().project("demo").versions() == ("1.0", "1.1")
    assert [r.status for r in server.requests] == [200, 200]


def test_the_index_max_age_is_honoured(
    server: IndexServer, make_index: MakeIndex, cache: Path
) -> None:
    server.page_headers = (("Cache-Control", "max-age=120, public"), ("Age", "20"))
    server.add("demo", "1.0")
    make_index().project("demo")
    assert page_entry(server, cache, "demo").get("max-age") == "100"
    server.clear_log()
    make_index().project("demo")
    assert server.requests == []
    age_page(server, cache, "demo", 101)  # past the index's 100 s, within our 600
    make_index().project("demo")
    assert [r.status for r in server.requests] == [304]


def test_no_cache_from_the_index_means_every_run_asks(
    server: IndexServer, make_index: MakeIndex
) -> None:
    server.page_headers = (("Cache-Control", "no-cache"),)
    server.add("demo", "1.0")
    make_index().project("demo")
    server.clear_log()
    make_index().project("demo")
    assert [(r.status, r.conditional) for r in server.requests] == [(304, True)]


def test_offline_uses_an_expired_page(
    server: IndexServer, make_index: MakeIndex, cache: Path
) -> None:
    server.add("demo", "1.0")
    first = make_index().project("demo")
    age_page(server, cache, "demo", 10_000)
    server.clear_log()
    assert make_index(offline=True).project("demo") == first
    assert server.requests == []


def test_a_page_is_cached_as_its_files(
    server: IndexServer, make_index: MakeIndex, cache: Path
) -> None:
    server.add("demo", "1.0", requires_python=">=3.8", sdist=True)
    index = make_index()
    project = index.project("demo")
    entry = page_entry(server, cache, "demo")
    assert entry.get("form") == FILES_FORM and entry.get("etag")
    assert load_files(entry.body, index.url) == project.files
    assert load_files(dump_files(project.files), index.url) == project.files
    assert load_files(b"[[1, 2]]", index.url) is None
    assert load_files(b'{"files": []}', index.url) is None
    assert load_files(b'[["a.whl", "u", null, "wheel", null, null, {}, null, null]]', "") is None
    egg = b'[["a.whl", "u", null, "egg", null, null, {}, null, null, 1, []]]'
    assert load_files(egg, "") is None
    assert load_files(b"not json", index.url) is None


def test_a_page_cached_by_an_earlier_astroctl_is_still_read(
    server: IndexServer, make_index: MakeIndex, cache: Path, http: Http
) -> None:
    """Before the parsed form, a page entry held the page itself (and no date)."""
    server.add("demo", "1.0")
    expected = make_index().project("demo")
    response = http.get(f"{server.url}demo/", headers={"Accept": index_seam.ACCEPT})
    fields = {
        "status": "200",
        "url": f"{server.url}demo/",
        "content-type": response.headers["Content-Type"],
        "etag": response.headers["ETag"],
    }
    key = entry_key(f"{server.url}demo/")
    DiskCache(cache).write(PAGES, key, Entry(response.content, fields))
    server.clear_log()
    assert make_index().project("demo") == expected
    assert [(r.status, r.conditional) for r in server.requests] == [(304, True)]
    converted = page_entry(server, cache, "demo")  # kept as its files from now on
    assert converted.get("form") == FILES_FORM and converted.get("fetched")
    assert load_files(converted.body, server.url) == expected.files


def test_a_fresh_warm_lookup_starts_no_thread(
    server: IndexServer, make_index: MakeIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b", "c"):
        server.add(name, "1.0", requires_dist=["x"])
    index = make_index()
    projects = index.projects(["a", "b", "c"])
    index.metadata_many([(p, "1.0") for p in projects.values()])
    server.clear_log()

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("the thread pool was used")

    monkeypatch.setattr(PackageIndex, "_in_pool", no_pool)
    again = make_index()
    seen: list[tuple[int, int, str]] = []
    found = again.lookup(["a", "b", "c"], lambda *step: seen.append(step))
    assert found == projects and server.requests == []
    assert seen == [(0, 3, ""), (1, 3, "a"), (2, 3, "b"), (3, 3, "c")]
    answered, failed = again.lookup_metadata([(p, "1.0") for p in projects.values()])
    assert len(answered) == 3 and not failed


def test_a_stale_page_read_in_the_calling_thread_is_not_read_again(
    server: IndexServer, make_index: MakeIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.add("demo", "1.0")
    make_index().project("demo")
    reads: list[str] = []
    original = PackageIndex._cached_page

    def counted(self: PackageIndex, key: str, url: str, index: str, name: str) -> object:
        reads.append(name)
        return original(self, key, url, index, name)

    monkeypatch.setattr(PackageIndex, "_cached_page", counted)
    server.clear_log()
    make_index(fresh_for=0).lookup(["demo"])
    assert reads == ["demo"] and [r.status for r in server.requests] == [304]


# -- metadata -------------------------------------------------------------------------------------


def test_metadata_is_cached_with_its_fields(
    server: IndexServer, make_index: MakeIndex, cache: Path
) -> None:
    server.add("demo", "1.0", requires_python=">=3.9", requires_dist=["a>=1", 'b; extra == "x"'])
    index = make_index()
    project = index.project("demo")
    first = index.metadata(project, "1.0")
    (path,) = (cache / METADATA).rglob("*/*")
    entry = DiskCache(cache).read(METADATA, path.name)
    assert entry is not None
    assert (entry.get("parsed"), entry.get("name"), entry.get("version")) == ("1", "demo", "1.0")
    assert json.loads(entry.get("requires-dist") or "") == ["a>=1", 'b; extra == "x"']
    assert make_index().metadata(project, "1.0") == first
    # an entry of an earlier astroctl (the text alone) is parsed as before
    bare = {k: v for k, v in entry.fields.items() if k in ("source", "url")}
    DiskCache(cache).write(METADATA, path.name, Entry(entry.body, bare))
    server.clear_log()
    assert make_index().metadata(project, "1.0") == first
    assert server.requests == []


def test_the_cache_makes_each_folder_once_and_again_if_it_goes(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c")
    made: list[Path] = []
    original = Path.mkdir

    def mkdir(self: Path, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "mkdir", mkdir)
        key = "ab" + "0" * 62
        cache.write(PAGES, key, Entry(b"1"))
        assert made
        made.clear()
        cache.write(PAGES, key, Entry(b"2"))
        assert made == []  # known to exist: not made again
        shutil.rmtree(tmp_path / "c")  # removed while a run uses it
        cache.write(PAGES, key, Entry(b"3"))
        assert made
    assert cache.read(PAGES, key) == Entry(b"3", {})
