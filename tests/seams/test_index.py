"""The package-index seam against a real index on loopback (tests/index_server.py)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from astroctl.errors import EXIT_FAILED, EXIT_USAGE, InputError, OperationError
from astroctl.seams.cache import (
    MAGIC,
    DiskCache,
    Entry,
    decode,
    default_cache_dir,
    encode,
    entry_key,
)
from astroctl.seams.http import Http, HttpSettings, HttpStatusError
from astroctl.seams.index import (
    ACCEPT,
    METADATA,
    PAGES,
    DistFile,
    IndexUnreachable,
    MetadataUnavailable,
    PackageIndex,
    Project,
    ProjectNotFound,
    VersionNotFound,
    classify,
    parse_project_page,
    project_url,
)
from tests.index_server import (
    Fault,
    IndexServer,
    build_wheel,
    metadata_text,
)
from tests.seams.private_index import AuthIndexServer, closed_port, write_netrc

# Waits of 10-20 ms between attempts: retries are exercised without slowing the suite.
FAST = HttpSettings(
    timeout=2.0, connect_timeout=1.0, retries=3, backoff=0.02, max_backoff=0.02, max_retry_time=3.0
)
WHEN = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
MakeIndex = Callable[..., PackageIndex]


@pytest.fixture(autouse=True)
def _no_proxy_no_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback is reached directly, whatever the shell set."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "SSL_CERT_DIR", "ASTROCTL_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NETRC", "/nonexistent/netrc")  # no credentials but a test's own


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer() as running:
        yield running


@pytest.fixture
def http() -> Iterator[Http]:
    with Http(FAST) as client:
        # Build the httpx client before the index's threads share it: Http.client() builds it
        # lazily without a lock, and two first requests racing would each build one (the loser
        # leaks its connection pool: a ResourceWarning that pytest turns into an error).
        client.client()
        yield client


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def make_index(server: IndexServer, http: Http, cache: Path) -> MakeIndex:
    """A fresh client (a new run of the CLI) of ``server`` sharing the one cache directory."""

    def make(**options: object) -> PackageIndex:
        url = options.pop("url", server.url)
        options.setdefault("cache_dir", cache)
        return PackageIndex(str(url), http=http, **options)  # type: ignore[arg-type]

    return make


def gets(server: IndexServer, suffix: str = "") -> list[str]:
    return [r.path for r in server.requests if r.path.endswith(suffix)]


# -- project pages ----------------------------------------------------------------------------


def test_json_page_lists_the_files(server: IndexServer, make_index: MakeIndex) -> None:
    server.add("Foo.Bar", "1.10", requires_python=">=3.8", upload_time=WHEN, sdist=True)
    server.add("foo-bar", "1.9")
    server.add("foo_bar", "2.0b1", tags="cp311-cp311-manylinux_2_17_x86_64")
    project = make_index().project("FOO_bar")
    assert project.name == "foo-bar"
    assert project.versions() == ("1.9", "1.10", "2.0b1")
    wheel, sdist = project.files_of("1.10.0")
    assert (wheel.filename, wheel.kind, wheel.version) == (
        "foo_bar-1.10-py3-none-any.whl",
        "wheel",
        "1.10",
    )
    assert wheel.url == f"{server.base}/files/foo_bar-1.10-py3-none-any.whl"
    assert wheel.requires_python == ">=3.8"
    assert wheel.upload_time == WHEN  # PEP 700: only the JSON form has it, so JSON was served
    assert set(wheel.hashes) == {"sha256"}
    assert wheel.metadata is not None and set(wheel.metadata) == {"sha256"}
    assert wheel.yanked is None and wheel.index == server.url
    assert (sdist.kind, sdist.metadata, sdist.tags) == ("sdist", None, ())
    (binary,) = project.files_of("2.0b1")
    assert binary.python_tags == {"cp311"} and binary.platform_tags == {"manylinux_2_17_x86_64"}
    (request,) = server.requests
    assert request.path == "/simple/foo-bar/"
    assert request.headers["accept"] == ACCEPT


def test_html_only_index_gives_the_same_files(http: Http, cache: Path) -> None:
    with IndexServer() as json_index, IndexServer(json=False) as html_index:
        for index in (json_index, html_index):
            index.add(
                "demo", "1.0", requires_python=">=3.8,<4", yanked="broken <b>", upload_time=WHEN
            )
            index.add("demo", "1.1", sdist=True)
        read = [
            PackageIndex(i.url, http=http, cache_dir=cache / str(n)).project("demo")
            for n, i in enumerate((json_index, html_index))
        ]

    def comparable(project: Project) -> list[DistFile]:
        """The files but for what tells the two servers apart and what only JSON has."""
        return [
            replace(f, url=f.url.rpartition("/")[2], index="", upload_time=None, size=None)
            for f in project.files
        ]

    assert comparable(read[0]) == comparable(read[1])
    assert read[0].files[0].upload_time == WHEN and read[1].files[0].upload_time is None
    assert read[1].files[0].requires_python == ">=3.8,<4"  # sent as &gt;=3.8,&lt;4
    assert read[1].files[0].yanked == "broken <b>"


def test_accept_negotiation_picks_json_then_html() -> None:
    body = b'<a href="/f/demo-1.0.tar.gz#sha256=AB" data-requires-python="&gt;=3.9">x</a>'
    for content_type in (
        "text/html",
        "text/html; charset=utf-8",
        "application/vnd.pypi.simple.v1+html",
    ):
        (file,) = parse_project_page(body, content_type, "https://i.test/simple/demo/", "demo")
        assert (file.url, file.requires_python) == ("https://i.test/f/demo-1.0.tar.gz", ">=3.9")
        assert dict(file.hashes) == {"sha256": "ab"}
    json_body = b'{"meta": {"api-version": "1.0"}, "name": "demo", "files": []}'
    assert (
        parse_project_page(
            json_body, "application/vnd.pypi.simple.v1+json", "https://i.test/", "demo"
        )
        == ()
    )
    assert ACCEPT.startswith("application/vnd.pypi.simple.v1+json,")


def test_html_attributes_are_read_as_pep_503_and_658_say() -> None:
    page = b"""<!DOCTYPE html><html><head>
    <meta name="pypi:repository-version" content="1.0"><base href="https://files.test/pkgs/">
    </head><body>
    <a href="demo-1.0-py3-none-any.whl#sha256=aa" data-yanked data-dist-info-metadata="true">a</a>
    <a href="demo-1.1-py3-none-any.whl" data-yanked="bad &amp; broken"
       data-core-metadata="sha256=CC" data-dist-info-metadata="sha256=dd">b</a>
    <a href="demo-1.2.tar.gz" data-requires-python="&gt;=3.8,!=3.9.*">c</a>
    <a href="other-1.0.tar.gz">d</a><a href="demo-1.0.exe">e</a><a href="https://files.test/">f</a>
    <a name="no-href">g</a>
    </body></html>"""
    files = parse_project_page(page, "text/html", "https://i.test/simple/demo/", "demo")
    first, second, third, other, exe = files
    assert first.url == "https://files.test/pkgs/demo-1.0-py3-none-any.whl"
    assert (first.yanked, first.metadata, dict(first.hashes)) == ("", {}, {"sha256": "aa"})
    assert second.yanked == "bad & broken"
    assert second.metadata == {"sha256": "cc"}  # PEP 714: data-core-metadata wins
    assert third.requires_python == ">=3.8,!=3.9.*"
    assert (other.kind, other.version) == ("sdist", None)  # another project's file
    assert (exe.kind, exe.version) == ("other", None)


def test_json_fields_are_read_as_pep_691_and_714_say() -> None:
    page = b"""{"meta": {"api-version": "1.1"}, "name": "demo", "files": [
      {"filename": "demo-1.0-py3-none-any.whl", "url": "https://f.test/demo-1.0-py3-none-any.whl",
       "hashes": {"SHA256": "AA"}, "dist-info-metadata": true, "yanked": true, "size": 10},
      {"filename": "demo-1.1-py3-none-any.whl", "url": "../../x/demo-1.1-py3-none-any.whl",
       "hashes": {}, "core-metadata": {"sha256": "bb"}, "dist-info-metadata": false,
       "yanked": "reason", "requires-python": ">=3.8", "upload-time": "2024-05-01T12:30:00Z"},
      {"filename": "demo-1.2.tar.gz", "url": "/y/demo-1.2.tar.gz", "hashes": {},
       "core-metadata": false, "yanked": false, "requires-python": "", "upload-time": "never"}
    ]}"""
    first, second, third = parse_project_page(
        page, "application/vnd.pypi.simple.v1+json", "https://i.test/simple/demo/", "demo"
    )
    assert (first.yanked, first.metadata, dict(first.hashes), first.size) == (
        "",
        {},
        {"sha256": "aa"},
        10,
    )
    assert second.url == "https://i.test/x/demo-1.1-py3-none-any.whl"
    assert (second.yanked, second.metadata, second.requires_python) == (
        "reason",
        {"sha256": "bb"},
        ">=3.8",
    )
    assert second.upload_time == WHEN
    assert (third.url, third.yanked, third.metadata) == (
        "https://i.test/y/demo-1.2.tar.gz",
        None,
        None,
    )
    assert (third.requires_python, third.upload_time) == (None, None)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"files": [', "application/vnd.pypi.simple.v1+json", "invalid JSON project page"),
        (b"[]", "application/vnd.pypi.simple.v1+json", "not a JSON object"),
        (b'{"files": {}}', "application/vnd.pypi.simple.v1+json", "no list of files"),
        (
            b'{"files": [{"filename": "a.whl"}]}',
            "application/vnd.pypi.simple.v1+json",
            "files[0].url",
        ),
        (
            b'{"files": [{"url": "a.whl"}]}',
            "application/vnd.pypi.simple.v1+json",
            "files[0].filename",
        ),
        (b'{"files": [3]}', "application/vnd.pypi.simple.v1+json", "files[0] is not an object"),
        (
            b'{"meta": {"api-version": "2.0"}, "files": []}',
            "application/vnd.pypi.simple.v1+json",
            "API version 2.0",
        ),
        (b'<meta name="pypi:repository-version" content="2.1">', "text/html", "API version 2.1"),
        (b"{}", "application/json", "unexpected content type 'application/json'"),
        (b"x", "", "unexpected content type 'none'"),
    ],
)
def test_unreadable_pages_are_clear_errors(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(
        OperationError, match=message.replace("[", r"\[").replace("(", r"\(")
    ) as caught:
        parse_project_page(body, content_type, "https://user:secret@i.test/simple/demo/", "demo")
    assert "secret" not in str(caught.value) and "https://i.test/simple/demo/" in str(caught.value)


def test_yanked_versions_prereleases_and_latest(server: IndexServer, make_index: MakeIndex) -> None:
    server.add("demo", "1.0")
    server.add("demo", "1.1", yanked=True)
    server.add("demo", "1.2", requires_python=">=3.12")
    server.add("demo", "2.0rc1")
    project = make_index().project("demo")
    assert project.files_of("1.1")[0].yanked == ""
    assert project.is_yanked("1.1") and not project.is_yanked("1.0")
    assert project.versions(yanked=False) == ("1.0", "1.2", "2.0rc1")
    assert project.versions(prereleases=False) == ("1.0", "1.1", "1.2")
    assert project.latest() == "1.2"
    assert project.latest(prereleases=True) == "2.0rc1"
    assert project.latest(python="3.11") == "1.0"  # 1.2 needs 3.12, 1.1 is yanked
    assert project.files_of("not a version") == ()


def test_names_and_urls_are_checked(server: IndexServer, make_index: MakeIndex) -> None:
    for bad in ("../etc", "a b", "-x", ""):
        with pytest.raises(InputError, match="not a valid project name"):
            make_index().project(bad)
    for bad in ("ftp://i.test/simple", "i.test/simple", "https:///simple"):
        with pytest.raises(InputError, match="not an http"):
            make_index(url=bad)
    assert project_url("https://i.test/simple", "Foo.Bar") == "https://i.test/simple/foo-bar/"
    assert server.requests == []


def test_classify() -> None:
    assert classify("demo-1.0-py2.py3-none-any.whl", "demo") == (
        "wheel",
        "1.0",
        ("py2-none-any", "py3-none-any"),
    )
    assert classify("Demo-1.0.zip", "demo") == ("sdist", "1.0", ())
    assert classify("demo-latest.tar.gz", "demo") == ("sdist", None, ())
    assert classify("demo-1.0-x.whl", "demo") == ("wheel", None, ())


# -- metadata ---------------------------------------------------------------------------------


def test_metadata_file_is_read_and_the_wheel_is_not_downloaded(
    server: IndexServer, make_index: MakeIndex
) -> None:
    (wheel,) = server.add(
        "demo", "1.0", requires_python=">=3.8", requires_dist=["a>=1", 'b; extra == "x"']
    )
    index = make_index()
    metadata = index.metadata(index.project("demo"), "1.0")
    assert metadata.requires_dist == ("a>=1", 'b; extra == "x"')
    assert (metadata.name, metadata.version, metadata.requires_python) == ("demo", "1.0", ">=3.8")
    assert (metadata.filename, metadata.source) == (wheel, "metadata")
    assert server.paths() == ["/simple/demo/", server.metadata_path(wheel)]


def test_without_a_metadata_file_the_wheel_is_read(http: Http, cache: Path) -> None:
    with IndexServer(metadata_files=False) as server:
        (wheel,) = server.add("demo", "1.0", requires_dist=["a"])
        index = PackageIndex(server.url, http=http, cache_dir=cache)
        metadata = index.metadata(index.project("demo"), "1.0")
        assert (metadata.requires_dist, metadata.source) == (("a",), "wheel")
        assert server.paths() == ["/simple/demo/", server.file_path(wheel)]


def test_a_listed_metadata_file_that_is_missing_falls_back_to_the_wheel(
    server: IndexServer, make_index: MakeIndex
) -> None:
    (wheel,) = server.add("demo", "1.0", requires_dist=["a"])
    server.fail(server.metadata_path(wheel), Fault.not_found())
    index = make_index()
    assert index.metadata(index.project("demo"), "1.0").source == "wheel"
    assert gets(server)[1:] == [server.metadata_path(wheel), server.file_path(wheel)]


def test_metadata_file_hash_is_checked(server: IndexServer, make_index: MakeIndex) -> None:
    (wheel,) = server.add("demo", "1.0", requires_dist=["a"])
    server.tamper(wheel, metadata=metadata_text("demo", "1.0", requires_dist=["evil"]))
    index = make_index()
    with pytest.raises(
        OperationError,
        match=re.escape("metadata file of demo-1.0-py3-none-any.whl: sha256 hash mismatch"),
    ):
        index.metadata(index.project("demo"), "1.0")
    assert not list(index.cache.root.glob("index-v1/metadata/*/*"))  # nothing bad was cached


def test_wheel_hash_is_checked(http: Http, cache: Path) -> None:
    with IndexServer(metadata_files=False) as server:
        (wheel,) = server.add("demo", "1.0")
        server.tamper(
            wheel,
            data=build_wheel("demo", "1.0", metadata_text("demo", "1.0", requires_dist=["x"]))[1],
        )
        index = PackageIndex(server.url, http=http, cache_dir=cache)
        with pytest.raises(
            OperationError, match=re.escape("demo-1.0-py3-none-any.whl: sha256 hash mismatch")
        ):
            index.metadata(index.project("demo"), "1.0")


def test_metadata_file_without_a_hash_is_used(http: Http, cache: Path) -> None:
    with IndexServer(metadata_hashes=False, json=False) as server:
        server.add("demo", "1.0", requires_dist=["a"])
        index = PackageIndex(server.url, http=http, cache_dir=cache)
        project = index.project("demo")
        assert project.files[0].metadata == {}
        assert index.metadata(project, "1.0").source == "metadata"


def test_the_best_file_of_a_version_is_read(server: IndexServer, make_index: MakeIndex) -> None:
    server.add("demo", "1.0", sdist=True, tags="cp311-cp311-linux_x86_64", metadata_file=False)
    server.add("demo", "1.0", requires_dist=["universal"])  # py3-none-any, with a metadata file
    index = make_index()
    metadata = index.metadata(index.project("demo"), "1.0")
    assert (metadata.filename, metadata.source) == ("demo-1.0-py3-none-any.whl", "metadata")


def test_an_sdist_with_reliable_pkg_info_is_read(
    server: IndexServer, make_index: MakeIndex
) -> None:
    (sdist,) = server.add(
        "demo", "1.0", wheel=False, sdist=True, requires_dist=["a"], requires_python=">=3.9"
    )
    index = make_index()
    metadata = index.metadata(index.project("demo"), "1.0")
    assert (metadata.requires_dist, metadata.requires_python) == (("a",), ">=3.9")
    assert (metadata.source, metadata.filename) == ("sdist", sdist)  # not the decoy egg-info


@pytest.mark.parametrize(("level", "dynamic"), [("2.1", ()), ("2.2", ("Requires-Dist",))])
def test_an_sdist_without_reliable_metadata_is_skipped_and_said(
    server: IndexServer, make_index: MakeIndex, level: str, dynamic: tuple[str, ...]
) -> None:
    server.add(
        "demo", "1.0", wheel=False, sdist=True, sdist_metadata_version=level, dynamic=dynamic
    )
    server.add("demo", "2.0")
    notes: list[str] = []
    index = make_index(notify=notes.append)
    project = index.project("demo")
    with pytest.raises(
        MetadataUnavailable, match=r"demo 1\.0: no metadata: only the sdist demo-1\.0\.tar\.gz"
    ) as caught:
        index.metadata(project, "1.0")
    assert caught.value.exit_code == EXIT_FAILED
    found = index.metadata_many([(project, "1.0"), (project, "2.0")])
    assert list(found) == [("demo", "2.0")]
    assert notes == [f"skipped: {caught.value}"]


def test_a_missing_version_is_bad_input(server: IndexServer, make_index: MakeIndex) -> None:
    server.add("demo", "1.0")
    index = make_index()
    with pytest.raises(
        VersionNotFound, match=re.escape("project 'demo' has no version '9.9'")
    ) as caught:
        index.metadata(index.project("demo"), "9.9")
    assert caught.value.exit_code == EXIT_USAGE


def test_metadata_of_another_version_or_a_broken_wheel_is_an_error(
    server: IndexServer, make_index: MakeIndex
) -> None:
    filename, data = build_wheel("demo", "1.0", metadata_text("demo", "1.1"))
    server.add_file("demo", filename, data, metadata=metadata_text("demo", "1.1"))
    server.add_file("demo", "demo-2.0-py3-none-any.whl", b"not a zip")
    index = make_index()
    project = index.project("demo")
    with pytest.raises(
        OperationError, match=re.escape("its metadata describes demo 1.1, not demo 1.0")
    ):
        index.metadata(project, "1.0")
    with pytest.raises(
        OperationError, match=re.escape("demo-2.0-py3-none-any.whl: not a readable wheel")
    ):
        index.metadata(project, "2.0")


# -- extra indexes ----------------------------------------------------------------------------


def test_extra_indexes_add_files_and_the_first_index_wins(http: Http, cache: Path) -> None:
    with IndexServer() as primary, IndexServer() as extra:
        primary.add("demo", "1.0", requires_dist=["primary"])
        extra.add("demo", "1.0", requires_dist=["extra"])  # the same file name: primary wins
        extra.add("demo", "1.1", requires_dist=["extra"])
        extra.add("only-extra", "3.0")
        index = PackageIndex(
            primary.url, http=http, extra_urls=[extra.url, primary.url], cache_dir=cache
        )
        assert index.urls == (primary.url, extra.url)
        project = index.project("demo")
        assert project.indexes == (primary.url, extra.url)
        assert [(f.version, f.index) for f in project.files] == [
            ("1.0", primary.url),
            ("1.1", extra.url),
        ]
        assert index.metadata(project, "1.0").requires_dist == ("primary",)
        assert index.metadata(project, "1.1").requires_dist == ("extra",)
        assert index.project("only-extra").indexes == (extra.url,)
        with pytest.raises(
            ProjectNotFound, match="project 'nowhere' not found on any of"
        ) as caught:
            index.project("nowhere")
        assert primary.url in str(caught.value) and extra.url in str(caught.value)


def test_credentials_are_sent_but_never_shown_or_stored(
    server: IndexServer, make_index: MakeIndex, cache: Path
) -> None:
    server.add("demo", "1.0")
    url = server.url.replace("http://", "http://robot:s3cret@")
    index = make_index(url=url)
    index.metadata(index.project("demo"), "1.0")
    assert all(r.headers["authorization"].startswith("Basic ") for r in server.requests)
    assert all(b"s3cret" not in p.read_bytes() for p in cache.rglob("*") if p.is_file())
    with pytest.raises(ProjectNotFound) as caught:
        index.project("nope")
    assert "s3cret" not in str(caught.value) and server.url in str(caught.value)


# -- the cache --------------------------------------------------------------------------------


def test_a_second_run_revalidates_pages_and_gets_304(
    server: IndexServer, make_index: MakeIndex
) -> None:
    for name in ("a", "b", "c"):
        server.add(name, "1.0")
    first = make_index().projects(["a", "b", "c"])
    assert all(not r.conditional and r.status == 200 for r in server.requests)
    server.clear_log()
    second = make_index().projects(["a", "b", "c"])
    assert second == first
    assert len(server.requests) == 3
    assert all(r.conditional and r.status == 304 for r in server.requests)
    assert all("if-none-match" in r.headers for r in server.requests)


def test_last_modified_alone_revalidates_too(http: Http, cache: Path) -> None:
    with IndexServer(etag=False) as server:
        server.add("demo", "1.0")
        PackageIndex(server.url, http=http, cache_dir=cache).project("demo")
        server.clear_log()
        PackageIndex(server.url, http=http, cache_dir=cache).project("demo")
        (request,) = server.requests
        assert "if-modified-since" in request.headers and request.status == 304


def test_a_changed_page_is_fetched_again(server: IndexServer, make_index: MakeIndex) -> None:
    server.add("demo", "1.0")
    assert make_index().project("demo").versions() == ("1.0",)
    server.add("demo", "1.1")
    assert make_index().project("demo").versions() == ("1.0", "1.1")
    assert [r.status for r in server.requests] == [200, 200]
    assert server.requests[1].conditional


def test_metadata_second_run_makes_no_request(server: IndexServer, make_index: MakeIndex) -> None:
    server.add("demo", "1.0", requires_dist=["a"])
    index = make_index()
    first = index.metadata(index.project("demo"), "1.0")
    project = index.project("demo")  # remembered by this client: no request
    server.clear_log()
    assert make_index().metadata(project, "1.0") == first
    assert server.requests == []


def test_offline_answers_from_the_cache_alone(http: Http, cache: Path) -> None:
    with IndexServer() as server, IndexServer() as extra:
        server.add("demo", "1.0", requires_dist=["a"])
        online = PackageIndex(server.url, http=http, extra_urls=[extra.url], cache_dir=cache)
        project = online.project("demo")
        metadata = online.metadata(project, "1.0")
        extra.clear_log()
        server.clear_log()
        offline = PackageIndex(
            server.url, http=http, extra_urls=[extra.url], cache_dir=cache, offline=True
        )
        assert offline.project("demo") == project  # the extra index's 404 was remembered too
        assert offline.metadata(project, "1.0") == metadata
        assert server.requests == [] and extra.requests == []


def test_offline_miss_is_a_clear_error(server: IndexServer, make_index: MakeIndex) -> None:
    server.add("demo", "1.0")
    with pytest.raises(
        OperationError,
        match=r"'demo': the page from .* is not in the cache; run once without --offline",
    ):
        make_index(offline=True).project("demo")
    project = make_index().project("demo")
    with pytest.raises(
        OperationError,
        match=r"metadata of demo 1.0 .* not in the cache; run once without --offline",
    ):
        make_index(offline=True).metadata(project, "1.0")
    assert [r.path for r in server.requests] == ["/simple/demo/"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],
        lambda data: data[:-1] + bytes([data[-1] ^ 1]),
        lambda data: b"garbage\n" + data,
        lambda data: MAGIC + b"{not json\n" + data,
        lambda data: data.replace(b'"url": "http:', b'"url": "htTp:'),
    ],
    ids=["empty", "truncated", "altered", "foreign", "bad-header", "header-edited"],
)
def test_a_corrupt_cache_entry_is_fetched_again(
    server: IndexServer, make_index: MakeIndex, cache: Path, damage: Callable[[bytes], bytes]
) -> None:
    server.add("demo", "1.0", requires_dist=["a"])
    index = make_index()
    expected = index.metadata(index.project("demo"), "1.0")
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert len(entries) == 2
    for path in entries:
        path.write_bytes(damage(path.read_bytes()))
    server.clear_log()
    again = make_index()
    assert again.metadata(again.project("demo"), "1.0") == expected
    assert [(r.status, r.conditional) for r in server.requests] == [(200, False), (200, False)]


def test_the_cache_layout(server: IndexServer, make_index: MakeIndex, cache: Path) -> None:
    (wheel,) = server.add("demo", "1.0")
    index = make_index()
    project = index.project("demo")
    index.metadata(project, "1.0")
    page = entry_key(f"{server.url}demo/")
    file = project.files[0]
    meta = entry_key(file.url, f"sha256={file.hashes['sha256']}")
    assert sorted(
        p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()
    ) == sorted([f"{PAGES}/{page[:2]}/{page}", f"{METADATA}/{meta[:2]}/{meta}"])
    entry = DiskCache(cache).read(PAGES, page)
    assert entry is not None and entry.get("etag") and entry.get("last-modified")
    assert entry.get("content-type") == "application/vnd.pypi.simple.v1+json"
    stored = DiskCache(cache).read(METADATA, meta)
    assert stored is not None and stored.get("source") == "metadata"
    assert stored.body.startswith(b"Metadata-Version: ") and wheel


def test_cache_entries_round_trip_and_refuse_damage() -> None:
    entry = Entry(b"body\n\x00bytes", {"url": "https://i.test/", "etag": '"x"'})
    data = encode(entry)
    assert decode(data) == Entry(entry.body, dict(entry.fields))
    assert decode(data + b"x") is None
    assert decode(data.replace(b"astroctl-cache 1", b"astroctl-cache 2")) is None
    assert decode(MAGIC + b"[]\n") is None
    assert decode(MAGIC + b'{"size": 1}\n') is None
    assert decode(MAGIC + b"x" * 70000) is None


def test_the_cache_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    assert default_cache_dir({}) == home / ".cache" / "astroctl"
    assert default_cache_dir({"XDG_CACHE_HOME": "relative"}) == home / ".cache" / "astroctl"
    assert default_cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/astroctl")
    chosen = {"XDG_CACHE_HOME": "/x", "ASTROCTL_CACHE_DIR": "~/c"}
    assert default_cache_dir(chosen) == home / "c"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("ASTROCTL_CACHE_DIR", raising=False)
    assert default_cache_dir() == tmp_path / "xdg" / "astroctl"


def test_the_cache_defaults_to_the_user_cache_directory(
    server: IndexServer, http: Http, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ASTROCTL_CACHE_DIR", str(tmp_path / "env-cache"))
    server.add("demo", "1.0")
    PackageIndex(server.url, http=http).project("demo")
    assert list((tmp_path / "env-cache" / PAGES).rglob("*"))


def test_a_cache_that_cannot_be_written_is_noted_once(
    server: IndexServer, make_index: MakeIndex, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    server.add("a", "1.0")
    server.add("b", "1.0")
    notes: list[str] = []
    index = make_index(cache_dir=blocker, notify=notes.append)
    assert set(index.projects(["a", "b"])) == {"a", "b"}
    assert len(notes) == 1 and notes[0].startswith("index answers are not cached: ")


# -- concurrency ------------------------------------------------------------------------------


def test_projects_are_fetched_concurrently_within_the_bound(
    server: IndexServer, make_index: MakeIndex
) -> None:
    names = [f"p{n}" for n in range(12)]
    for name in names:
        server.add(name, "1.0")
    server.delay = 0.05
    seen: list[tuple[int, int, str]] = []
    threads: set[str] = set()

    def progress(done: int, total: int, name: str) -> None:
        seen.append((done, total, name))
        threads.add(threading.current_thread().name)

    started = time.monotonic()
    found = make_index(max_workers=4).projects([*names, "p0"], progress)
    elapsed = time.monotonic() - started
    assert list(found) == names and all(found[n].name == n for n in names)
    assert 2 <= server.max_in_flight <= 4
    assert elapsed < 12 * 0.05 * 0.75  # not one after another
    assert len({r.client_port for r in server.requests}) <= 4  # one pool of kept-alive connections
    assert seen[0] == (0, 12, "") and [s[0] for s in seen] == list(range(13))
    assert {s[2] for s in seen[1:]} == set(names) and threads == {threading.current_thread().name}


def test_metadata_many_is_concurrent_and_keyed(server: IndexServer, make_index: MakeIndex) -> None:
    for n in range(6):
        server.add("demo", f"1.{n}", requires_dist=[f"dep{n}"])
    index = make_index(max_workers=3)
    project = index.project("demo")
    server.delay = 0.05
    server.clear_log()
    seen: list[tuple[int, int, str]] = []
    found = index.metadata_many([(project, f"1.{n}") for n in range(6)], lambda *a: seen.append(a))
    assert {k: m.requires_dist for k, m in found.items()} == {
        ("demo", f"1.{n}"): (f"dep{n}",) for n in range(6)
    }
    assert 2 <= server.max_in_flight <= 3
    assert seen[0] == (0, 6, "") and {s[2] for s in seen[1:]} == {f"demo 1.{n}" for n in range(6)}


def test_one_failure_stops_the_batch(server: IndexServer, make_index: MakeIndex) -> None:
    for n in range(5):
        server.add(f"p{n}", "1.0")
    with pytest.raises(
        ProjectNotFound, match=re.escape("project 'missing' not found on http://127.0.0.1")
    ) as caught:
        make_index(max_workers=2).projects(["p0", "p1", "missing", "p2", "p3", "p4"])
    assert caught.value.exit_code == EXIT_USAGE and caught.value.name == "missing"


# -- errors and retries -----------------------------------------------------------------------


def test_a_missing_project_is_bad_input(server: IndexServer, make_index: MakeIndex) -> None:
    with pytest.raises(
        ProjectNotFound, match=rf"project 'Nope' not found on {server.url}$"
    ) as caught:
        make_index().project("Nope")
    assert caught.value.exit_code == EXIT_USAGE


def test_invalid_json_is_an_error_and_not_cached(
    server: IndexServer, make_index: MakeIndex
) -> None:
    server.add("demo", "1.0")
    server.fail(server.page_path("demo"), Fault.invalid_json())
    with pytest.raises(OperationError, match=rf"{server.url}demo/: invalid JSON project page"):
        make_index().project("demo")
    assert make_index(offline=False).project("demo").versions() == ("1.0",)
    assert not server.requests[1].conditional


def test_a_wrong_content_type_is_an_error(server: IndexServer, make_index: MakeIndex) -> None:
    server.add("demo", "1.0")
    server.fail(server.page_path("demo"), Fault.wrong_content_type("text/plain; charset=utf-8"))
    with pytest.raises(
        OperationError, match="unexpected content type 'text/plain; charset=utf-8'"
    ) as caught:
        make_index().project("demo")
    assert caught.value.exit_code == EXIT_FAILED


def test_503_then_200_is_retried(server: IndexServer, make_index: MakeIndex) -> None:
    server.add("demo", "1.0")
    server.fail(server.page_path("demo"), Fault.error(503), Fault.drop())
    assert make_index().project("demo").versions() == ("1.0",)
    assert [r.status for r in server.requests] == [503, 0, 200]


def test_429_waits_as_retry_after_says(server: IndexServer, make_index: MakeIndex) -> None:
    (wheel,) = server.add("demo", "1.0")
    index = make_index()
    project = index.project("demo")
    server.fail(server.metadata_path(wheel), Fault.too_many_requests("0.2"))
    started = time.monotonic()
    index.metadata(project, "1.0")
    assert time.monotonic() - started >= 0.2  # the backoff alone would be 20 ms
    assert [r.status for r in server.requests[1:]] == [429, 200]


def test_a_lasting_error_names_the_url(server: IndexServer, make_index: MakeIndex) -> None:
    server.add("demo", "1.0")
    server.fail(server.page_path("demo"), *[Fault.error(500)] * 4)
    with pytest.raises(HttpStatusError, match=rf"GET {server.url}demo/: HTTP 500") as caught:
        make_index().project("demo")
    assert caught.value.exit_code == EXIT_FAILED
    assert server.count(server.page_path("demo")) == 4


def test_a_slow_index_times_out(server: IndexServer, cache: Path) -> None:
    server.add("demo", "1.0")
    server.fail(server.page_path("demo"), Fault.slow(2.0))
    settings = HttpSettings(timeout=0.1, connect_timeout=0.5, retries=0, max_retry_time=1.0)
    with (
        Http(settings) as http,
        pytest.raises(OperationError, match="timed out waiting for the response"),
    ):
        PackageIndex(server.url, http=http, cache_dir=cache).project("demo")


# -- indexes that do not answer, answering what can be -----------------------------------------


class CountingHttp:
    """The HTTP seam, counting the GETs the index client makes."""

    def __init__(self, http: Http) -> None:
        self.http = http
        self.urls: list[str] = []

    def get(self, url: str, **options: Any) -> Any:
        self.urls.append(url)
        return self.http.get(url, **options)

    def close(self) -> None:
        self.http.close()


def test_an_index_that_gives_no_answer_is_asked_once(http: Http, cache: Path) -> None:
    counting = CountingHttp(http)
    with closed_port() as down:
        index = PackageIndex(down.url, http=counting, cache_dir=cache)
        first = index.lookup(["alpha"])
        rest = index.lookup(["beta", "gamma"])
    assert counting.urls == [f"{down.url}alpha/"]  # beta and gamma fail without a request
    errors = [first["alpha"], rest["beta"], rest["gamma"]]
    assert all(isinstance(error, IndexUnreachable) for error in errors)
    assert {str(error) for error in errors} == {
        f"{down.url}: cannot connect (Connection refused) after 4 attempts"
    }
    unreachable = first["alpha"]
    assert isinstance(unreachable, IndexUnreachable) and unreachable.exit_code == EXIT_FAILED
    assert (unreachable.url, unreachable.reason) == (
        down.url,
        "cannot connect (Connection refused) after 4 attempts",
    )


def test_an_unreachable_index_is_named_without_credentials(http: Http, cache: Path) -> None:
    with closed_port() as down:
        url = down.url.replace("http://", "http://robot:s3cret@")
        with pytest.raises(IndexUnreachable) as caught:
            PackageIndex(url, http=http, cache_dir=cache).project("alpha")
    assert str(caught.value).startswith(f"{down.url}: cannot connect")
    assert "s3cret" not in str(caught.value) and "robot" not in str(caught.value)


def test_lookup_answers_what_it_can(server: IndexServer, make_index: MakeIndex) -> None:
    for name in ("p0", "p2"):
        server.add(name, "1.0")
    server.add("p3", "1.0")
    server.fail(server.page_path("p3"), *[Fault.error(500)] * 4)
    found = make_index(max_workers=2).lookup(["p0", "p1", "p2", "p3"])
    assert list(found) == ["p0", "p1", "p2", "p3"]
    assert isinstance(found["p0"], Project) and isinstance(found["p2"], Project)
    assert isinstance(found["p1"], ProjectNotFound)
    assert str(found["p1"]) == f"project 'p1' not found on {server.url}"
    assert isinstance(found["p3"], HttpStatusError)
    assert str(found["p3"]) == f"GET {server.url}p3/: HTTP 500 Internal Server Error"


def test_lookup_still_raises_a_name_that_is_no_name(
    server: IndexServer, make_index: MakeIndex
) -> None:
    with pytest.raises(InputError, match="is not a valid project name"):
        make_index().lookup(["ok", "not a name!"])


def test_lookup_metadata_answers_what_it_can(server: IndexServer, make_index: MakeIndex) -> None:
    (wheel,) = server.add("demo", "1.0", requires_dist=["apache-airflow>=2"])
    server.add("demo", "2.0")
    server.add("demo", "3.0", wheel=False, sdist=True, sdist_metadata_version="2.1")
    server.fail(server.metadata_path(wheel), *[Fault.error(503)] * 4)
    notes: list[str] = []
    index = make_index(notify=notes.append)
    project = index.project("demo")
    found, failed = index.lookup_metadata([(project, "1.0"), (project, "2.0"), (project, "3.0")])
    assert list(found) == [("demo", "2.0")]
    assert list(failed) == [("demo", "1.0")]
    assert "HTTP 503" in str(failed[("demo", "1.0")])
    assert len(notes) == 1 and notes[0].startswith("skipped: demo 3.0: no metadata")


# -- credentials ---------------------------------------------------------------------------------


def test_netrc_credentials_are_sent_to_their_host_and_never_stored(
    http: Http, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = write_netrc(tmp_path / "netrc", "127.0.0.1", "robot", "s3cret")
    monkeypatch.setenv("NETRC", str(netrc))
    with AuthIndexServer("robot", "s3cret") as private:
        private.add("demo", "1.0", requires_dist=["apache-airflow>=2"])
        private.add("demo", "1.1", metadata_file=False)  # the wheel itself is downloaded
        index = PackageIndex(private.url, http=http, cache_dir=cache)
        project = index.project("demo")
        assert index.metadata(project, "1.0").requires_dist == ("apache-airflow>=2",)
        assert index.metadata(project, "1.1").version == "1.1"
        assert private.refused == 0 and private.authorized == 3
    stored = [p.read_bytes() for p in cache.rglob("*") if p.is_file()]
    assert stored and not any(b"s3cret" in data or b"robot" in data for data in stored)


def test_without_netrc_credentials_a_private_index_is_an_error_naming_it(
    http: Http, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "missing"))
    with AuthIndexServer("robot", "s3cret") as private:
        private.add("demo", "1.0")
        found = PackageIndex(private.url, http=http, cache_dir=cache).lookup(["demo"])
        assert str(found["demo"]) == f"GET {private.url}demo/: HTTP 401 Unauthorized"
