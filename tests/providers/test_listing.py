"""A release's packages with their facts, and the changes between two images of releases."""

from __future__ import annotations

import pytest

from astroctl.errors import InputError
from astroctl.matrix import store
from astroctl.matrix.model import ChangeKind, Matrix
from astroctl.matrix.selectors import select
from astroctl.providers.listing import ListedPackage, compare, counts, flavored, list_packages
from tests.helpers import SNAPSHOT


@pytest.fixture(scope="module")
def snapshot() -> Matrix:
    return store.load(SNAPSHOT)


def test_list_attaches_the_matrix_facts(snapshot: Matrix) -> None:
    release = select(snapshot, "9.17.0").release
    listing = list_packages(snapshot, release)
    assert [p.package for p in listing.packages] == sorted(release.packages)
    by_name = {p.package: p for p in listing.packages}
    assert by_name["astronomer-providers"] == ListedPackage(
        "astronomer-providers",
        release.packages["astronomer-providers"],
        maintained=True,
        runtime_only=True,
    )
    logging = by_name["astronomer-providers-logging"]
    assert logging.index == "https://pip.astronomer.io/v2/"
    assert not logging.maintained
    assert listing.maintained == sum(snapshot.facts(n).maintained for n in release.packages)
    assert listing.runtime_only == sum(snapshot.facts(n).runtime_only for n in release.packages)


def test_a_flavor_lists_its_own_packages(snapshot: Matrix) -> None:
    release = select(snapshot, "11.0.0").release
    slim = list_packages(snapshot, release, "slim")
    assert slim.flavor == "slim"
    assert {p.package: p.version for p in slim.packages} == dict(release.flavors["slim"])
    assert len(slim.packages) < len(release.packages)


def test_an_unknown_flavor_names_the_flavors_there_are(snapshot: Matrix) -> None:
    with pytest.raises(InputError, match=r"11\.0\.0 has no flavor 'fat'; its flavors: slim"):
        flavored(select(snapshot, "11.0.0").release, "fat")
    with pytest.raises(InputError, match=r"9\.17\.0 has no flavor 'slim'; it has only the"):
        flavored(select(snapshot, "9.17.0").release, "slim")


def test_no_flavor_is_the_standard_image(snapshot: Matrix) -> None:
    release = select(snapshot, "11.0.0").release
    assert flavored(release, None) is release


def test_compare_counts_each_kind(snapshot: Matrix) -> None:
    old, new = select(snapshot, "8.0.0").release, select(snapshot, "9.0.0").release
    diff = compare(old, new)
    assert dict(counts(diff)) == {
        ChangeKind.ADDED: 2,
        ChangeKind.MAJOR: 2,
        ChangeKind.MINOR: 14,
    }
    assert ChangeKind.UNCHANGED not in counts(compare(old, new, include_unchanged=True))


def test_unchanged_are_counted_on_request(snapshot: Matrix) -> None:
    old, new = select(snapshot, "9.16.0").release, select(snapshot, "9.17.0").release
    same = {
        n for n in old.packages.keys() & new.packages.keys() if old.packages[n] == new.packages[n]
    }
    same |= {"apache-airflow"} if old.airflow == new.airflow else set()
    assert same
    assert ChangeKind.UNCHANGED not in counts(compare(old, new))
    assert counts(compare(old, new, include_unchanged=True))[ChangeKind.UNCHANGED] == len(same)


def test_compare_of_a_flavor_compares_its_pins(snapshot: Matrix) -> None:
    old, new = select(snapshot, "11.0.0").release, select(snapshot, "11.1.0").release
    diff = compare(old, new, flavor="slim")
    slim = set(old.flavors["slim"]) | set(new.flavors["slim"]) | {"apache-airflow"}
    assert {c.package for c in diff.changes} <= slim
    assert "apache-airflow-providers-amazon" not in {c.package for c in diff.changes}
