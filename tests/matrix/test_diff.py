"""Classified package changes between two releases (SPEC section 4, ``providers diff``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.version import Version

from astroctl.errors import InputError
from astroctl.matrix import store
from astroctl.matrix.diff import (
    AIRFLOW_PACKAGE,
    PackageChange,
    ReleaseDiff,
    Rename,
    classify,
    core_name,
    diff_releases,
    find_renames,
)
from astroctl.matrix.model import ChangeKind, Matrix, Release
from astroctl.matrix.selectors import select
from astroctl.versions import parse_runtime
from tests.factories import matrix
from tests.helpers import MATRIX, SNAPSHOT

K = ChangeKind
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
_BASE = matrix("9.1.0").releases[0]


def rel(version: str = "9.1.0", airflow: str = "2.7.1", **packages: str) -> Release:
    """A release with these pins; keyword names use '_' for '-'."""
    pins = {name.replace("_", "-"): pin for name, pin in packages.items()}
    return replace(_BASE, version=parse_runtime(version), airflow=airflow, packages=pins)


def rows(diff: ReleaseDiff) -> list[tuple[str, str | None, str | None, str]]:
    return [(c.package, c.old, c.new, c.kind.value) for c in diff.changes]


@pytest.fixture(scope="module")
def real() -> Matrix:
    return store.load(MATRIX)


@pytest.fixture(scope="module")
def snapshot() -> Matrix:
    return store.load(SNAPSHOT)


def by_name(m: Matrix, version: str) -> Release:
    return next(r for r in m.releases if r.name == version)


# --- classification of one version change ------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        # equal versions, missing release components are zero
        ("1.2.3", "1.2.3", K.UNCHANGED),
        ("1.2", "1.2.0", K.UNCHANGED),
        ("1.0+astro.1", "1.0.0+astro.1", K.UNCHANGED),
        # up: the first release component that differs names the kind
        ("1.2.3", "2.0.0", K.MAJOR),
        ("1.9", "2.0.0rc1", K.MAJOR),
        ("0.9.9", "1", K.MAJOR),
        ("1.2.3", "1.3.0", K.MINOR),
        ("1.2", "1.3", K.MINOR),
        ("7.0.0+astro.2", "7.1.0", K.MINOR),
        ("2.7.2+astro.1", "2.8.0", K.MINOR),
        ("1.2.3", "1.2.4", K.PATCH),
        ("1.2.3", "1.2.3.1", K.PATCH),
        ("1.2", "1.2.1", K.PATCH),
        ("1.0.0", "1.0.0.0.1", K.PATCH),
        ("1.2.3.post2", "1.2.4.dev0", K.PATCH),
        # down: the release segment went back
        ("1.2.3", "1.2.2", K.DOWNGRADE),
        ("3.0.2", "2.2.0", K.DOWNGRADE),
        ("2.0.0rc1", "1.9", K.DOWNGRADE),
        ("1.2.3.1", "1.2.3", K.DOWNGRADE),
        ("1.3.0", "1.2.9+astro.1", K.DOWNGRADE),
        # same release segment: only pre, post, dev or local parts differ, either direction
        ("7.0.0", "7.0.0+astro.2", K.OTHER),
        ("7.0.0+astro.2", "7.0.0", K.OTHER),
        ("7.0.0+astro.1", "7.0.0+astro.2", K.OTHER),
        ("1.0", "1.0.post1", K.OTHER),
        ("1.0.post1", "1.0", K.OTHER),
        ("2.0.0rc1", "2.0.0", K.OTHER),
        ("2.0.0", "2.0.0rc1", K.OTHER),
        ("2.0.0rc1", "2.0.0rc2", K.OTHER),
        ("1.0.dev1", "1.0", K.OTHER),
        ("1.0", "1.0.0.post1", K.OTHER),
        # an epoch change resets the scheme: not comparable
        ("1.0", "1!1.0", K.OTHER),
        ("1!1.0", "2.0", K.OTHER),
        ("1!1.0", "1!1.1", K.MINOR),
    ],
)
def test_classify(old: str, new: str, kind: ChangeKind) -> None:
    assert classify(old, new) is kind


def test_classify_takes_parsed_versions() -> None:
    assert classify(Version("1.0"), "1.1") is K.MINOR
    assert classify("1.1", Version("1.0")) is K.DOWNGRADE


@pytest.mark.parametrize(("old", "new"), [("1.0", "banana"), ("not a version", "1.0")])
def test_classify_rejects_a_non_pep440_version(old: str, new: str) -> None:
    with pytest.raises(InputError, match="is not a PEP 440 version"):
        classify(old, new)


# --- the diff of two releases -----------------------------------------------------------------


def test_added_removed_and_changed_packages_in_name_order_airflow_first() -> None:
    old = rel(airflow="2.7.1", zeta="1.0", beta="1.0", alpha="2.0")
    new = rel("9.2.0", airflow="2.7.2", zeta="1.1", gamma="0.1", alpha="2.0")
    diff = diff_releases(old, new)
    assert rows(diff) == [
        ("apache-airflow", "2.7.1", "2.7.2", "patch"),
        ("beta", "1.0", None, "removed"),
        ("gamma", None, "0.1", "added"),
        ("zeta", "1.0", "1.1", "minor"),
    ]
    assert diff.old is old
    assert diff.new is new
    assert diff.renames == ()


def test_unchanged_packages_only_on_request() -> None:
    old = rel(alpha="1.0", beta="2.0")
    new = rel("9.1.1", alpha="1.0.0", beta="2.1")
    assert rows(diff_releases(old, new)) == [("beta", "2.0", "2.1", "minor")]
    assert rows(diff_releases(old, new, include_unchanged=True)) == [
        ("apache-airflow", "2.7.1", "2.7.1", "unchanged"),
        ("alpha", "1.0", "1.0.0", "unchanged"),
        ("beta", "2.0", "2.1", "minor"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("2.6.3", "2.7.0", K.MINOR),
        ("2.7.2", "2.7.2+astro.1", K.OTHER),
        ("2.7.2+astro.1", "2.7.3", K.PATCH),
        ("2.9.0", "3.0.0", K.MAJOR),
        ("2.7.1", "2.6.3", K.DOWNGRADE),
    ],
)
def test_airflow_is_a_package_when_it_changed(old: str, new: str, kind: ChangeKind) -> None:
    diff = diff_releases(rel(airflow=old), rel(airflow=new))
    assert diff.changes == (PackageChange(AIRFLOW_PACKAGE, old, new, kind),)
    assert diff.airflow == diff.changes[0]


def test_airflow_absent_when_unchanged() -> None:
    diff = diff_releases(rel(alpha="1.0"), rel(alpha="2.0"))
    assert diff.airflow is None
    assert [c.package for c in diff.changes] == ["alpha"]


def test_the_airflow_field_wins_over_an_apache_airflow_pin() -> None:
    old = rel(airflow="2.7.1", apache_airflow="2.5.0")
    new = rel(airflow="2.7.2", apache_airflow="2.7.1")
    assert rows(diff_releases(old, new)) == [("apache-airflow", "2.7.1", "2.7.2", "patch")]


def test_a_bad_pin_names_the_package_and_releases() -> None:
    old = rel(alpha="1.0")
    new = rel("9.2.0", alpha="one point one")
    with pytest.raises(InputError, match=r"alpha \(9\.1\.0 -> 9\.2\.0\).*PEP 440"):
        diff_releases(old, new)


def test_by_kind_get_and_is_upgrade() -> None:
    old = rel(a="1.0", b="1.0", c="1.0", d="1.0", e="1.0")
    new = rel(a="2.0", b="1.1", c="1.0.1", d="0.9", f="1.0")
    diff = diff_releases(old, new)
    assert {kind: [c.package for c in group] for kind, group in diff.by_kind.items()} == {
        K.ADDED: ["f"],
        K.REMOVED: ["e"],
        K.MAJOR: ["a"],
        K.MINOR: ["b"],
        K.PATCH: ["c"],
        K.DOWNGRADE: ["d"],
    }
    assert list(diff.by_kind) == [K.ADDED, K.REMOVED, K.MAJOR, K.MINOR, K.PATCH, K.DOWNGRADE]
    assert diff.get("b") == PackageChange("b", "1.0", "1.1", K.MINOR)
    assert diff.get("nothing") is None
    assert [c.package for c in diff.changes if c.is_upgrade] == ["a", "b", "c"]


# --- renames ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("package", "core"),
    [
        ("openlineage-airflow", "openlineage"),
        ("apache-airflow-providers-openlineage", "openlineage"),
        ("apache-airflow-providers-cncf-kubernetes", "cncf-kubernetes"),
        ("astronomer-providers-logging", "logging"),
        ("airflow-provider-duckdb", "duckdb"),
        ("airflow-providers-foo", "foo"),
        ("airflow-dbt", "dbt"),
        ("great-expectations-airflow-provider", "great-expectations"),
        ("astronomer-providers", "astronomer-providers"),
        ("astro-sdk-python", "astro-sdk-python"),
        ("Apache_Airflow.Providers-Foo", "foo"),
        ("airflow-airflow", "airflow"),
    ],
)
def test_core_name(package: str, core: str) -> None:
    assert core_name(package) == core


def test_a_rename_is_reported_and_both_packages_stay_in_the_changes() -> None:
    old = rel(openlineage_airflow="1.2.0", amazon="8.0")
    new = rel("9.2.0", apache_airflow_providers_openlineage="1.1.0", amazon="8.0")
    diff = diff_releases(old, new)
    assert diff.renames == (Rename("openlineage-airflow", "apache-airflow-providers-openlineage"),)
    assert rows(diff) == [
        ("apache-airflow-providers-openlineage", None, "1.1.0", "added"),
        ("openlineage-airflow", "1.2.0", None, "removed"),
    ]


def test_no_rename_without_a_matching_core() -> None:
    old = rel(openlineage_airflow="1.2.0", airflow_provider_duckdb="0.1")
    new = rel(apache_airflow_providers_datadog="3.3.1", duckdb_tools="0.2")
    assert diff_releases(old, new).renames == ()


def test_every_matching_pair_is_a_suspected_rename() -> None:
    old = rel(airflow_provider_duckdb="0.1", duckdb_airflow="0.2")
    new = rel(apache_airflow_providers_duckdb="1.0")
    assert diff_releases(old, new).renames == (
        Rename("airflow-provider-duckdb", "apache-airflow-providers-duckdb"),
        Rename("duckdb-airflow", "apache-airflow-providers-duckdb"),
    )


def test_airflow_itself_is_never_renamed() -> None:
    # Without the exclusion, apache-airflow's core would be "apache", as is this provider's.
    changes = [
        PackageChange(AIRFLOW_PACKAGE, "2.7.1", None, K.REMOVED),
        PackageChange("apache-airflow-providers-apache", None, "1.0", K.ADDED),
    ]
    assert core_name(AIRFLOW_PACKAGE) == core_name("apache-airflow-providers-apache")
    assert find_renames(changes) == ()


# --- the real data ---------------------------------------------------------------------------


def test_8_0_to_9_0_moves_airflow_a_minor(real: Matrix) -> None:
    old, new = select(real, "8.0").release, select(real, "9.0").release
    assert (old.name, new.name) == ("8.0.0", "9.0.0")
    diff = diff_releases(old, new)
    assert diff.changes[0] == PackageChange(AIRFLOW_PACKAGE, "2.6.0", "2.7.0", K.MINOR)
    assert diff.airflow == diff.changes[0]


def test_8_0_0_to_9_0_0_counts(snapshot: Matrix) -> None:
    old, new = by_name(snapshot, "8.0.0"), by_name(snapshot, "9.0.0")
    diff = diff_releases(old, new, include_unchanged=True)
    assert Counter(c.kind for c in diff.changes) == {K.MINOR: 14, K.MAJOR: 2, K.ADDED: 2}
    assert [c.package for c in diff.by_kind[K.MAJOR]] == [
        "apache-airflow-providers-cncf-kubernetes",
        "apache-airflow-providers-elasticsearch",
    ]
    assert diff.by_kind[K.ADDED] == (
        PackageChange("apache-airflow-providers-datadog", None, "3.3.1", K.ADDED),
        PackageChange("astronomer-providers-logging", None, "1.1.0", K.ADDED),
    )
    assert diff.renames == ()


def test_openlineage_provider_arrives_in_9_2_0(snapshot: Matrix) -> None:
    # openlineage-airflow is in no package table of the data (its versions are only in release
    # notes prose), so the real 9.1.0 -> 9.2.0 diff shows the provider added and no rename.
    old, new = by_name(snapshot, "9.1.0"), by_name(snapshot, "9.2.0")
    diff = diff_releases(old, new)
    assert diff.by_kind[K.ADDED] == (
        PackageChange("apache-airflow-providers-openlineage", None, "1.1.0", K.ADDED),
    )
    assert diff.renames == ()
    # With the package the notes say 9.1.0 shipped, the rename is found.
    pins = {**old.packages, "openlineage-airflow": "1.2.0"}
    diff = diff_releases(replace(old, packages=pins), new)
    assert diff.renames == (Rename("openlineage-airflow", "apache-airflow-providers-openlineage"),)
    assert diff.get("openlineage-airflow") == PackageChange(
        "openlineage-airflow", "1.2.0", None, K.REMOVED
    )


def test_elasticsearch_downgrade_in_4_2_5(snapshot: Matrix) -> None:
    diff = diff_releases(by_name(snapshot, "4.2.4"), by_name(snapshot, "4.2.5"))
    assert diff.get("apache-airflow-providers-elasticsearch") == PackageChange(
        "apache-airflow-providers-elasticsearch", "3.0.2", "2.2.0", K.DOWNGRADE
    )


def test_local_version_in_8_5_0(snapshot: Matrix) -> None:
    package = "apache-airflow-providers-cncf-kubernetes"
    into = diff_releases(by_name(snapshot, "8.4.0"), by_name(snapshot, "8.5.0"))
    assert into.get(package) == PackageChange(package, "7.0.0", "7.0.0+astro.2", K.OTHER)
    out = diff_releases(by_name(snapshot, "8.5.0"), by_name(snapshot, "8.6.0"))
    assert out.get(package) == PackageChange(package, "7.0.0+astro.2", "7.1.0", K.MINOR)


def test_no_suspected_rename_between_neighbours(snapshot: Matrix) -> None:
    totals: Counter[ChangeKind] = Counter()
    for old, new in pairwise(snapshot.releases):
        diff = diff_releases(old, new)
        assert diff.renames == (), (old.name, new.name)
        totals.update(c.kind for c in diff.changes)
    assert totals[K.OTHER] == 1  # 8.4.0 -> 8.5.0's +astro.2
    assert K.UNCHANGED not in totals


# --- properties ------------------------------------------------------------------------------

_MIRROR = {
    K.ADDED: {K.REMOVED},
    K.REMOVED: {K.ADDED},
    K.MAJOR: {K.DOWNGRADE},
    K.MINOR: {K.DOWNGRADE},
    K.PATCH: {K.DOWNGRADE},
    K.DOWNGRADE: {K.MAJOR, K.MINOR, K.PATCH},
    K.OTHER: {K.OTHER},
    K.UNCHANGED: {K.UNCHANGED},
}

_small = st.integers(min_value=0, max_value=3)


@st.composite
def pep440(draw: st.DrawFn) -> str:
    """Versions close together, so that equal release segments and epochs are common."""
    epoch = draw(st.sampled_from(["", "", "", "1!"]))
    release = ".".join(str(n) for n in draw(st.lists(_small, min_size=1, max_size=4)))
    pre = draw(st.sampled_from(["", "", "a1", "rc1", "rc2"]))
    post = draw(st.sampled_from(["", "", ".post1"]))
    dev = draw(st.sampled_from(["", "", ".dev0"]))
    local = draw(st.sampled_from(["", "", "+astro.1", "+astro.2"]))
    return f"{epoch}{release}{pre}{post}{dev}{local}"


_names = st.sampled_from(
    ["alpha", "beta", "openlineage-airflow", "apache-airflow-providers-openlineage", "gamma"]
)
_pins = st.dictionaries(_names, pep440(), max_size=5)


@PROPERTY
@given(pep440(), pep440())
def test_classify_mirrors(a: str, b: str) -> None:
    assert classify(b, a) in _MIRROR[classify(a, b)]


def _mirrored(forward: ReleaseDiff, backward: ReleaseDiff) -> None:
    ahead = {c.package: c for c in forward.changes}
    back = {c.package: c for c in backward.changes}
    assert ahead.keys() == back.keys()
    for package, change in ahead.items():
        assert (back[package].old, back[package].new) == (change.new, change.old)
        assert back[package].kind in _MIRROR[change.kind]
    assert {(r.new_package, r.old_package) for r in backward.renames} == {
        (r.old_package, r.new_package) for r in forward.renames
    }


@PROPERTY
@given(pep440(), _pins, pep440(), _pins, st.booleans())
def test_diff_mirrors(
    air_a: str, pins_a: Mapping[str, str], air_b: str, pins_b: Mapping[str, str], every: bool
) -> None:
    a, b = rel(airflow=air_a, **pins_a), rel(airflow=air_b, **pins_b)
    forward = diff_releases(a, b, include_unchanged=every)
    _mirrored(forward, diff_releases(b, a, include_unchanged=every))
    names = [c.package for c in forward.changes]
    assert names == sorted(names, key=lambda n: (n != AIRFLOW_PACKAGE, n))


@PROPERTY
@given(pep440(), _pins)
def test_diff_with_itself(airflow: str, pins: Mapping[str, str]) -> None:
    a = rel(airflow=airflow, **pins)
    assert diff_releases(a, a).changes == ()
    every = diff_releases(a, a, include_unchanged=True)
    assert {c.kind for c in every.changes} <= {K.UNCHANGED}
    assert len(every.changes) == len(pins) + 1
    assert every.renames == ()
