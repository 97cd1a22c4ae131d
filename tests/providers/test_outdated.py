"""The newest compatible version of each package, against a real index on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from astroctl.errors import InputError, OperationError
from astroctl.matrix.model import ChangeKind, Level, Matrix, Upstream
from astroctl.providers.outdated import (
    Outdated,
    PackageStatus,
    airflow_conflict,
    find_outdated,
    python_admits,
    within,
)
from astroctl.providers.target import IndexChoice, Target, choose_index, private_index, target_of
from astroctl.seams.http import Http, HttpSettings
from tests import factories
from tests.index_server import Fault, IndexServer
from tests.seams.private_index import AuthIndexServer, closed_port, write_netrc

FAST = HttpSettings(
    timeout=5.0, connect_timeout=2.0, retries=2, backoff=0.02, max_backoff=0.02, max_retry_time=3.0
)
TARGET = Target("3.11", "2.7.2")
AMAZON = "apache-airflow-providers-amazon"
HTTP_PROVIDER = "apache-airflow-providers-http"
GOOGLE = "apache-airflow-providers-google"
LOGGING = "astronomer-providers-logging"
Find = Callable[..., Outdated]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("NETRC", "/nonexistent/netrc")  # no credentials but a test's own


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer() as running:
        yield running


@pytest.fixture
def http() -> Iterator[Http]:
    with Http(FAST) as client:
        yield client


def release_matrix(pins: dict[str, str], **top: Any) -> Matrix:
    """One released 9.2.0 (Python 3.11, Airflow 2.7.2) with these pins."""
    entry = factories.release("9.2.0", "2.7.2", released=date(2023, 10, 12), packages=pins)
    return factories.build(factories.document(entry, **top))


@pytest.fixture
def find(server: IndexServer, http: Http, tmp_path: Path) -> Find:
    """``find_outdated`` of the matrix's only release against ``server``, one cache per test."""

    def run(matrix: Matrix, **options: Any) -> Outdated:
        options.setdefault("index", IndexChoice(server.url, "--index-url"))
        options.setdefault("cache_dir", tmp_path / "cache")
        return find_outdated(matrix, matrix.releases[-1], http=http, **options)

    return run


def by_name(result: Outdated) -> dict[str, PackageStatus]:
    return {p.package: p for p in result.packages}


# -- the rules, without an index ------------------------------------------------------------------


def test_the_index_is_the_option_then_pip_index_url_then_the_matrix() -> None:
    matrix = release_matrix({})
    environ = {"PIP_INDEX_URL": "https://mirror.example/simple", "PIP_EXTRA_INDEX_URL": "a b"}
    assert choose_index("https://given.example/simple", environ, matrix) == IndexChoice(
        "https://given.example/simple", "--index-url", ("a", "b")
    )
    assert choose_index(None, environ, matrix) == IndexChoice(
        "https://mirror.example/simple", "$PIP_INDEX_URL", ("a", "b")
    )
    assert choose_index(None, {}, matrix) == IndexChoice(
        Upstream().index_url, "[upstream] index_url", ()
    )
    assert choose_index("  ", {"PIP_INDEX_URL": " "}, matrix).origin == "[upstream] index_url"


@pytest.mark.parametrize(
    ("requires_dist", "conflict"),
    [
        ([], None),
        (["apache-airflow>=2.6.0"], None),
        (["apache-airflow>=2.8.0"], "apache-airflow>=2.8.0"),
        (["Apache_Airflow >=2.8"], "Apache_Airflow >=2.8"),
        (["apache-airflow<2.7"], "apache-airflow<2.7"),
        (["apache-airflow>=2.8; python_version >= '3.12'"], None),
        (["apache-airflow>=2.8; python_version < '3.12'"], "apache-airflow>=2.8; python_version"),
        (["apache-airflow>=2.8; python_full_version == '3.11.0'"], "apache-airflow>=2.8"),
        (["apache-airflow>=3; extra == 'v3'"], None),
        (["apache-airflow>=3; sys_platform == 'win32'"], None),
        (["apache-airflow>=3; platform_system == 'Darwin'"], None),
        (["apache-airflow>=3; platform_machine == 'aarch64'"], None),
        (["apache-airflow>=3; platform_machine == 'x86_64'"], "apache-airflow>=3"),
        (["requests>=99", "apache-airflow-providers-common-sql>=99"], None),
        (["not a requirement ((", "apache-airflow>=2.8"], "apache-airflow>=2.8"),
        (["apache-airflow[celery]>=2.7.0,<2.8"], None),
    ],
)
def test_airflow_requirements_are_read_for_the_runtime(
    requires_dist: list[str], conflict: str | None
) -> None:
    found = airflow_conflict(requires_dist, TARGET)
    if conflict is None:
        assert found is None
    else:
        assert found is not None and found.startswith(conflict)


def test_a_local_airflow_build_is_its_public_version() -> None:
    assert airflow_conflict(["apache-airflow>=2.7.0"], Target("3.11", "2.7.2+astro.1")) is None


@pytest.mark.parametrize(
    ("requires_python", "admitted"),
    [
        (None, True),
        ("", True),
        (">=3.8", True),
        (">=3.11", True),
        (">=3.12", False),
        ("<3.11", False),
        ("~=3.10", True),
        (">=3.11.1", False),
        ("not a specifier", True),
    ],
)
def test_requires_python(requires_python: str | None, admitted: bool) -> None:
    assert python_admits(requires_python, "3.11") is admitted


@pytest.mark.parametrize(
    ("level", "candidate", "allowed"),
    [
        (Level.PATCH, "8.7.2", True),
        (Level.PATCH, "8.7.1.post1", True),
        (Level.PATCH, "8.8.0", False),
        (Level.MINOR, "8.8.0", True),
        (Level.MINOR, "9.0.0", False),
        (Level.MAJOR, "9.0.0", True),
        (Level.MINOR, "1!8.8.0", False),
    ],
)
def test_within_a_level(level: Level, candidate: str, allowed: bool) -> None:
    assert within(level, Version("8.7.1"), Version(candidate)) is allowed


def test_the_target_is_a_python_the_release_ships() -> None:
    release = release_matrix({}).releases[0]
    assert target_of(release) == Target("3.11", "2.7.2")
    assert target_of(release, "3.10") == Target("3.10", "2.7.2")
    with pytest.raises(InputError, match=r"--python '3\.12': 9\.2\.0 ships Python 3\.10, 3\.11"):
        target_of(release, "3.12")


# -- against the index ----------------------------------------------------------------------------


def test_newer_python_and_airflow_yanked_and_prereleases_are_skipped(
    server: IndexServer, find: Find
) -> None:
    server.add(AMAZON, "8.7.1", requires_dist=["apache-airflow>=2.6.0"])
    server.add(AMAZON, "8.8.0", requires_dist=["apache-airflow>=2.6.0"])
    server.add(AMAZON, "8.9.0", yanked="broken upload", requires_dist=["apache-airflow>=2.6"])
    server.add(AMAZON, "8.10.0", requires_dist=["apache-airflow>=2.8.0"])
    server.add(AMAZON, "8.11.0rc1", requires_dist=["apache-airflow>=2.6.0"])
    server.add(AMAZON, "9.0.0", requires_python=">=3.12", requires_dist=["apache-airflow>=2.6"])
    result = find(release_matrix({AMAZON: "8.7.1"}))
    (amazon,) = result.packages
    assert amazon == PackageStatus(
        AMAZON,
        "8.7.1",
        "8.8.0",
        ChangeKind.MINOR,
        newest="9.0.0",
        held_back="9.0.0 requires Python >=3.12",
        index=server.url,
    )


def test_an_airflow_requirement_is_named_when_it_holds_the_newest_back(
    server: IndexServer, find: Find
) -> None:
    server.add(HTTP_PROVIDER, "4.5.0")
    server.add(HTTP_PROVIDER, "4.5.1", requires_dist=["apache-airflow>=2.8.0", "requests"])
    (status,) = find(release_matrix({HTTP_PROVIDER: "4.5.0"})).packages
    assert (status.latest, status.change) == ("4.5.0", ChangeKind.UNCHANGED)
    assert status.held_back == "4.5.1 requires apache-airflow>=2.8.0"


def test_the_level_caps_the_change(server: IndexServer, find: Find) -> None:
    for version in ("10.9.0", "10.9.1", "10.10.0", "11.0.0"):
        server.add(GOOGLE, version)
    matrix = release_matrix({GOOGLE: "10.9.0"})
    expected = {
        Level.PATCH: ("10.9.1", ChangeKind.PATCH, "11.0.0 is a major upgrade, above --level patch"),
        Level.MINOR: (
            "10.10.0",
            ChangeKind.MINOR,
            "11.0.0 is a major upgrade, above --level minor",
        ),
        Level.MAJOR: ("11.0.0", ChangeKind.MAJOR, None),
    }
    for level, (latest, change, held_back) in expected.items():
        (status,) = find(matrix, level=level).packages
        assert (status.latest, status.change, status.held_back) == (latest, change, held_back)
        assert status.newest == "11.0.0"


def test_a_major_upgrade_that_is_incompatible_falls_back_within_the_major(
    server: IndexServer, find: Find
) -> None:
    server.add(GOOGLE, "10.9.0")
    for minor in range(10, 16):  # six newer minors, all needing a newer Airflow but the first
        airflow = "2.6" if minor == 10 else "2.8"
        server.add(GOOGLE, f"10.{minor}.0", requires_dist=[f"apache-airflow>={airflow}"])
    server.add(GOOGLE, "11.0.0", requires_python=">=3.12")
    (status,) = find(release_matrix({GOOGLE: "10.9.0"})).packages
    assert (status.latest, status.change) == ("10.10.0", ChangeKind.MINOR)
    assert status.held_back == "11.0.0 requires Python >=3.12"
    read = [p for p in server.paths() if p.endswith(".metadata")]
    assert len(read) == 6  # 11.0.0 was ruled out by its page; 10.9.0 is the pin


def test_the_pin_is_latest_when_nothing_is_newer(server: IndexServer, find: Find) -> None:
    server.add(AMAZON, "8.0.0")
    server.add(HTTP_PROVIDER, "4.0.0")
    server.add(HTTP_PROVIDER, "4.1.0rc1")
    result = find(release_matrix({AMAZON: "8.7.1", HTTP_PROVIDER: "4.0.0"}))
    amazon, http = result.packages
    assert (amazon.latest, amazon.change, amazon.newest, amazon.held_back) == (
        "8.7.1",
        ChangeKind.UNCHANGED,
        "8.0.0",
        None,
    )
    assert (http.latest, http.change, http.newest) == ("4.0.0", ChangeKind.UNCHANGED, "4.0.0")
    assert result.updates == ()
    assert dict(result.pins) == {}


def test_a_private_index_serves_its_packages(tmp_path: Path) -> None:
    with IndexServer() as public, IndexServer() as private, Http(FAST) as http:
        public.add(AMAZON, "8.8.0")
        private.add("astronomer-providers-logging", "1.5.0")
        public.add("astronomer-providers-logging", "99.0.0")  # a squatter: never asked
        matrix = release_matrix(
            {AMAZON: "8.7.1", "astronomer-providers-logging": "1.4.7"},
            packages={"astronomer-providers-logging": {"index": private.url}},
        )
        choice = IndexChoice(public.url, "--index-url")
        result = find_outdated(
            matrix, matrix.releases[0], http=http, index=choice, cache_dir=tmp_path
        )
        logging = by_name(result)["astronomer-providers-logging"]
        assert (logging.latest, logging.index) == ("1.5.0", private.url)
        assert by_name(result)[AMAZON].latest == "8.8.0"
        assert not any("logging" in path for path in public.paths())


def test_extra_indexes_add_files(tmp_path: Path) -> None:
    with IndexServer() as primary, IndexServer() as extra, Http(FAST) as http:
        primary.add(AMAZON, "8.8.0")
        extra.add(AMAZON, "8.9.0")
        choice = IndexChoice(primary.url, "$PIP_INDEX_URL", (extra.url,))
        matrix = release_matrix({AMAZON: "8.7.1"})
        (status,) = find_outdated(
            matrix, matrix.releases[0], http=http, index=choice, cache_dir=tmp_path
        ).packages
        assert status.latest == "8.9.0"


def test_a_package_the_index_lacks_is_reported_with_the_fix(
    server: IndexServer, find: Find
) -> None:
    server.add(AMAZON, "8.8.0")
    notes: list[str] = []
    result = find(release_matrix({AMAZON: "8.7.1", LOGGING: "1.4.7"}), notify=notes.append)
    logging = by_name(result)[LOGGING]
    expected = (
        f"project '{LOGGING}' not found on {server.url}; if it is served from another index, "
        f'set [packages."{LOGGING}"] index in the matrix'
    )
    assert logging == PackageStatus(
        LOGGING, "1.4.7", None, None, index=server.url, problem=expected
    )
    assert not logging.outdated
    assert by_name(result)[AMAZON].latest == "8.8.0"
    assert result.problems == (logging,)
    assert dict(result.pins) == {AMAZON: "8.8.0"}
    assert notes == [
        f"{LOGGING}: not looked up: {expected}",
        "1 of 2 packages could not be looked up (shown with its problem); the other was answered",
    ]


def test_a_private_index_that_is_down_leaves_the_others_answered(
    server: IndexServer, http: Http, tmp_path: Path
) -> None:
    server.add(AMAZON, "8.8.0")
    server.add(HTTP_PROVIDER, "4.5.0")
    notes: list[str] = []
    with closed_port() as down:
        matrix = release_matrix(
            {AMAZON: "8.7.1", HTTP_PROVIDER: "4.4.0", LOGGING: "1.4.7", "astro-extra": "1.0"},
            packages={LOGGING: {"index": down.url}, "astro-extra": {"index": down.url}},
        )
        result = find_outdated(
            matrix,
            matrix.releases[0],
            http=http,
            index=IndexChoice(server.url, "--index-url"),
            cache_dir=tmp_path,
            notify=notes.append,
        )
    problem = f"{down.url}: cannot connect (Connection refused) after 3 attempts"
    assert [(p.package, p.latest, p.change, p.index, p.problem) for p in result.packages] == [
        (AMAZON, "8.8.0", ChangeKind.MINOR, server.url, None),
        (HTTP_PROVIDER, "4.5.0", ChangeKind.MINOR, server.url, None),
        ("astro-extra", None, None, down.url, problem),
        (LOGGING, None, None, down.url, problem),
    ]
    assert notes == [
        f"astro-extra, {LOGGING}: not looked up: {problem}",
        "2 of 4 packages could not be looked up (shown with their problems); "
        "the other 2 were answered",
    ]
    assert not any("logging" in path or "extra" in path for path in server.paths())


def test_a_failed_metadata_read_is_that_packages_problem(server: IndexServer, find: Find) -> None:
    (wheel,) = server.add(AMAZON, "8.8.0")
    server.add(HTTP_PROVIDER, "4.5.0")
    server.fail(server.metadata_path(wheel), *[Fault.error(503)] * 3)
    result = find(release_matrix({AMAZON: "8.7.1", HTTP_PROVIDER: "4.4.0"}))
    amazon = by_name(result)[AMAZON]
    assert (amazon.latest, amazon.change, amazon.newest) == (None, None, "8.8.0")
    assert amazon.problem == (
        f"GET {server.base}/files/{wheel}.metadata: HTTP 503 Service Unavailable"
    )
    assert by_name(result)[HTTP_PROVIDER].latest == "4.5.0"


def test_when_no_package_can_be_looked_up_it_is_an_error(http: Http, tmp_path: Path) -> None:
    matrix = release_matrix({AMAZON: "8.7.1", LOGGING: "1.4.7"})
    with closed_port() as down, pytest.raises(OperationError) as caught:
        find_outdated(
            matrix,
            matrix.releases[0],
            http=http,
            index=IndexChoice(down.url, "--index-url"),
            cache_dir=tmp_path,
        )
    assert caught.value.message == (
        "no package of 9.2.0 could be looked up:\n"
        f"  {AMAZON}: {down.url}: cannot connect (Connection refused) after 3 attempts\n"
        f"  {LOGGING}: {down.url}: cannot connect (Connection refused) after 3 attempts"
    )


def test_when_nothing_is_answered_a_failed_metadata_read_makes_it_an_operation_error(
    server: IndexServer, find: Find
) -> None:
    (wheel,) = server.add(AMAZON, "8.8.0")
    server.fail(server.metadata_path(wheel), *[Fault.error(503)] * 3)
    with pytest.raises(OperationError) as caught:
        find(release_matrix({AMAZON: "8.7.1", LOGGING: "1.4.7"}))
    assert not isinstance(caught.value, InputError)
    assert f"  {AMAZON}: GET " in caught.value.message
    assert f"  {LOGGING}: project '{LOGGING}' not found on" in caught.value.message


def test_when_no_index_has_any_package_it_is_bad_input(server: IndexServer, find: Find) -> None:
    with pytest.raises(InputError) as caught:
        find(release_matrix({AMAZON: "8.7.1"}))
    assert caught.value.message.startswith(
        f"no package of 9.2.0 could be looked up:\n  {AMAZON}: project '{AMAZON}' not found on"
    )


# -- credentials ----------------------------------------------------------------------------------


def test_credentials_are_refused_from_the_option_and_the_matrix() -> None:
    keyed = "https://robot:s3cret@private.example/simple/"
    plain = release_matrix({})
    with pytest.raises(InputError, match=r"^--index-url 'https://private\.example/simple/': cred"):
        choose_index(keyed, {}, plain)
    matrix = release_matrix({}, upstream={"index_url": keyed})
    with pytest.raises(InputError, match=r"^\[upstream\] index_url 'https://private\.example"):
        choose_index(None, {}, matrix)
    assert choose_index(keyed.replace("robot:s3cret@", ""), {}, matrix).origin == "--index-url"
    # the environment may carry them, as pip allows
    assert choose_index(None, {"PIP_INDEX_URL": keyed}, plain).url == keyed
    private = release_matrix({LOGGING: "1.4.7"}, packages={LOGGING: {"index": keyed}})
    with pytest.raises(InputError) as caught:
        private_index(private, LOGGING)
    assert caught.value.message.startswith(
        f"[packages.\"{LOGGING}\"] index 'https://private.example/simple/': credentials in a URL"
    )
    assert "netrc" in caught.value.message and "s3cret" not in caught.value.message
    assert "robot" not in caught.value.message


def test_netrc_credentials_open_a_private_index(
    server: IndexServer, http: Http, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "NETRC", str(write_netrc(tmp_path / "netrc", "127.0.0.1", "robot", "s3cret"))
    )
    server.add(AMAZON, "8.8.0")
    with AuthIndexServer("robot", "s3cret") as private:
        private.add(LOGGING, "1.5.0")
        matrix = release_matrix(
            {AMAZON: "8.7.1", LOGGING: "1.4.7"}, packages={LOGGING: {"index": private.url}}
        )
        result = find_outdated(
            matrix,
            matrix.releases[0],
            http=http,
            index=IndexChoice(server.url, "--index-url"),
            cache_dir=tmp_path / "cache",
        )
        assert private.refused == 0 and private.authorized > 0
    assert by_name(result)[LOGGING].latest == "1.5.0"
    assert result.problems == ()


def test_offline_after_one_online_run_asks_nothing(server: IndexServer, find: Find) -> None:
    server.add(AMAZON, "8.7.1")
    server.add(AMAZON, "8.8.0", requires_dist=["apache-airflow>=2.8"])
    server.add(AMAZON, "8.7.2", requires_dist=["apache-airflow>=2.6"])
    matrix = release_matrix({AMAZON: "8.7.1"})
    online = find(matrix)
    server.clear_log()
    assert find(matrix, offline=True) == online
    assert server.requests == []


def test_offline_without_a_cache_says_what_to_do(server: IndexServer, find: Find) -> None:
    server.add(AMAZON, "8.8.0")
    with pytest.raises(OperationError, match="run once without --offline"):
        find(release_matrix({AMAZON: "8.7.1"}), offline=True)
    assert server.requests == []


def test_a_second_run_revalidates_pages_and_reads_no_metadata(
    server: IndexServer, find: Find
) -> None:
    server.add(AMAZON, "8.8.0", requires_dist=["apache-airflow>=2.6"])
    matrix = release_matrix({AMAZON: "8.7.1"})
    find(matrix)
    server.clear_log()
    find(matrix)
    assert [(r.path, r.status, r.conditional) for r in server.requests] == [
        (server.page_path(AMAZON), 304, True)
    ]


def test_pages_and_metadata_are_fetched_concurrently(tmp_path: Path) -> None:
    names = [f"apache-airflow-providers-p{n}" for n in range(12)]
    with IndexServer(delay=0.05) as slow, Http(FAST) as http:
        for name in names:
            slow.add(name, "1.0.0")
            slow.add(name, "1.1.0")
        matrix = release_matrix(dict.fromkeys(names, "1.0.0"))
        choice = IndexChoice(slow.url, "--index-url")
        result = find_outdated(
            matrix, matrix.releases[0], http=http, index=choice, cache_dir=tmp_path / "c"
        )
        assert {p.latest for p in result.packages} == {"1.1.0"}
        assert slow.max_in_flight > 1


def test_progress_reports_each_stage_to_its_total(server: IndexServer, find: Find) -> None:
    server.add(AMAZON, "8.8.0")
    server.add(HTTP_PROVIDER, "4.5.0")
    calls: list[tuple[str, int, int, str]] = []
    find(
        release_matrix({AMAZON: "8.7.1", HTTP_PROVIDER: "4.4.0"}),
        progress=lambda *call: calls.append(call),
    )
    stages = {stage for stage, *_ in calls}
    assert stages == {"index pages", "metadata"}
    for stage in stages:
        done, total = [(d, t) for s, d, t, _ in calls if s == stage][-1]
        assert done == total == 2


def test_airflow_is_not_a_package_to_update(server: IndexServer, find: Find) -> None:
    server.add(AMAZON, "8.8.0")
    result = find(release_matrix({AMAZON: "8.7.1"}))  # Airflow is the release's airflow key
    assert [p.package for p in result.packages] == [AMAZON]
    assert "/simple/apache-airflow/" not in server.paths()
