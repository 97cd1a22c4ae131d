"""A line's release history: predecessors by version and date, and the baseline a release is
judged against when package pins are unknown (``release audit``, SPEC section 4)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from astroctl.matrix import store
from astroctl.matrix.diff import diff_releases
from astroctl.matrix.model import ChangeKind, Matrix, Release
from astroctl.release.history import (
    baseline,
    baselines,
    has_pins,
    line_history,
    predecessor,
)
from tests.factories import build, document, release
from tests.helpers import MATRIX, SNAPSHOT


def rel(version: str, day: date | None = None, **fields: Any) -> dict[str, Any]:
    """A release entry, released on ``day`` when one is given."""
    if day is not None:
        fields["released"] = day
    return release(version, **fields)


def names(matrix: Matrix) -> dict[str, Release]:
    return {r.name: r for r in matrix.releases}


def before(matrix: Matrix, version: str) -> str | None:
    found = predecessor(matrix, names(matrix)[version])
    return found.name if found is not None else None


@pytest.fixture(scope="module")
def snapshot() -> Matrix:
    return store.load(SNAPSHOT)


@pytest.fixture(scope="module")
def real() -> Matrix:
    return store.load(MATRIX)


# -- hand-made histories ----------------------------------------------------------------------


def test_the_predecessor_is_the_highest_lower_version_released_on_or_before() -> None:
    m = build(
        document(
            rel("9.0.0", date(2024, 1, 1)),
            rel("9.1.0", date(2024, 2, 1)),
            rel("9.1.1", date(2024, 4, 1)),  # a hotfix of 9.1 after 9.2.0 shipped
            rel("9.2.0", date(2024, 3, 1)),
            rel("9.3.0", date(2024, 4, 1)),  # the same day as 9.1.1
        )
    )
    assert before(m, "9.0.0") is None
    assert before(m, "9.1.0") == "9.0.0"
    assert before(m, "9.1.1") == "9.1.0"
    assert before(m, "9.2.0") == "9.1.0"  # not 9.1.1, which shipped later
    assert before(m, "9.3.0") == "9.2.0"  # 9.1.1 is lower than 9.2.0 anyway


def test_a_release_of_the_same_day_may_be_the_predecessor() -> None:
    m = build(document(rel("5.2.0", date(2023, 1, 26)), rel("5.2.1", date(2023, 1, 26))))
    assert before(m, "5.2.1") == "5.2.0"


def test_other_lines_never_count() -> None:
    m = build(
        document(
            rel("9.0.0", date(2024, 1, 1)),
            rel("10.0.0", date(2024, 2, 1)),
            rel("9.1.0", date(2024, 3, 1)),
        )
    )
    assert before(m, "9.1.0") == "9.0.0"
    assert before(m, "10.0.0") is None


def test_missing_dates_fall_back_to_version_order() -> None:
    m = build(
        document(
            rel("9.0.0", date(2024, 5, 1)),
            rel("9.1.0"),  # undated: counts whatever the other's date
            rel("9.2.0", date(2024, 1, 1)),
            rel("9.3.0"),  # an unreleased entry follows the highest lower version
        )
    )
    assert before(m, "9.2.0") == "9.1.0"  # 9.0.0 shipped after 9.2.0; 9.1.0's date is unknown
    assert before(m, "9.3.0") == "9.2.0"


def test_prereleases_are_never_predecessors() -> None:
    m = build(
        document(
            rel("9.2.0", date(2024, 1, 1)),
            rel("9.3.0-rc.1", date(2024, 2, 1)),
            rel("9.3.0-rc.2", date(2024, 2, 8)),
            rel("9.3.0", date(2024, 2, 15)),
            rel("9.3.1-rc.1", date(2024, 3, 1)),
        )
    )
    assert before(m, "9.3.0-rc.1") == "9.2.0"
    assert before(m, "9.3.0-rc.2") == "9.2.0"  # an rc is judged against the last final
    assert before(m, "9.3.0") == "9.2.0"  # not its own rcs, whose content it has
    assert before(m, "9.3.1-rc.1") == "9.3.0"


def test_a_yanked_release_is_a_predecessor() -> None:
    m = build(
        document(
            rel("9.0.0", date(2024, 1, 1), yanked="broken"),
            rel("9.1.0", date(2024, 2, 1)),
        )
    )
    assert before(m, "9.1.0") == "9.0.0"


def test_no_lower_release_shipped_before_means_no_predecessor() -> None:
    m = build(document(rel("9.0.0", date(2024, 5, 1)), rel("9.1.0", date(2024, 1, 1))))
    assert before(m, "9.1.0") is None


def test_a_release_outside_the_matrix_has_a_predecessor() -> None:
    m = build(document(rel("9.0.0", date(2024, 1, 1)), rel("9.1.0", date(2024, 2, 1))))
    planned = build(document(rel("9.2.0"))).releases[0]
    found = predecessor(m, planned)
    assert found is not None
    assert found.name == "9.1.0"


def test_line_history_pairs_every_release_of_the_line_in_version_order() -> None:
    m = build(
        document(
            rel("9.0.0", date(2024, 1, 1)),
            rel("9.1.0", date(2024, 2, 1)),
            rel("9.0.1", date(2024, 3, 1)),
            rel("10.0.0", date(2024, 3, 1)),
        )
    )
    history = [(r.name, p.name if p else None) for r, p in line_history(m, 9)]
    assert history == [("9.0.0", None), ("9.0.1", "9.0.0"), ("9.1.0", "9.0.0")]
    assert line_history(m, 11) == ()


PINS = {"apache-airflow-providers-amazon": "8.0.0"}


def test_baseline_steps_over_releases_without_pins() -> None:
    m = build(
        document(
            rel("4.2.7", date(2022, 10, 1), packages=PINS),
            rel("4.2.8", date(2022, 11, 1)),
            rel("4.2.9", date(2022, 12, 1)),
            rel("4.2.10", date(2022, 12, 2), packages=PINS),
        )
    )
    by = names(m)
    assert not has_pins(by["4.2.8"])
    assert has_pins(by["4.2.7"])
    bridged = baseline(m, by["4.2.10"])
    assert bridged.release == by["4.2.7"]
    assert bridged.over == (by["4.2.8"], by["4.2.9"])
    # a release without pins is judged against its predecessor (its packages are not rated)
    assert baseline(m, by["4.2.9"]).release == by["4.2.8"]
    assert baseline(m, by["4.2.9"]).over == ()
    assert baseline(m, by["4.2.7"]).release is None


def test_baseline_without_a_pinned_ancestor_is_the_predecessor() -> None:
    m = build(
        document(rel("4.0.0", date(2022, 1, 1)), rel("4.0.1", date(2022, 2, 1), packages=PINS))
    )
    by = names(m)
    assert baseline(m, by["4.0.1"]).release == by["4.0.0"]
    assert baseline(m, by["4.0.1"]).over == ()


# -- the real history ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("9.11.0", "9.10.0"),  # 9.10.1 and 9.10.2 shipped after 9.11.0
        ("9.10.1", "9.10.0"),
        ("9.10.2", "9.10.1"),
        ("9.12.0", "9.11.0"),  # 9.12.0 (2024-04-11) came before 9.10.1 (2024-04-16)
        ("9.13.0", "9.12.0"),
        ("9.17.0", "9.16.0"),  # shipped after 11.0.0: another line, irrelevant
        ("11.0.0", None),
        ("5.5.0", "5.4.0"),  # 2023-11-27, eight months after 5.4.0; it lists no packages
        ("5.2.1", "5.2.0"),  # the same day
        ("4.0.0", None),
    ],
)
def test_real_predecessors(snapshot: Matrix, real: Matrix, version: str, expected: str) -> None:
    assert before(snapshot, version) == expected
    assert before(real, version) == expected


def test_real_predecessors_remove_downgrades_that_never_happened(snapshot: Matrix) -> None:
    """Previous-by-version shows three providers going down between 9.10.2 and 9.11.0; 9.11.0
    actually followed 9.10.0, and its providers only went up."""
    by = names(snapshot)
    naive = diff_releases(by["9.10.2"], by["9.11.0"]).by_kind[ChangeKind.DOWNGRADE]
    assert sorted(c.package for c in naive) == [
        "apache-airflow-providers-elasticsearch",
        "apache-airflow-providers-postgres",
        "apache-airflow-providers-redis",
    ]
    downgrades = [
        (previous.name, current.name, change.package)
        for major in snapshot.lines
        for current, previous in line_history(snapshot, major)
        if previous is not None and has_pins(previous) and has_pins(current)
        for change in diff_releases(previous, current).changes
        if change.kind is ChangeKind.DOWNGRADE
    ]
    # what remains is in the docs' tables of Runtime 4.2 (see test_audit for the verdicts)
    assert downgrades == [
        ("4.2.1", "4.2.4", "apache-airflow-providers-cncf-kubernetes"),
        ("4.2.4", "4.2.5", "apache-airflow-providers-elasticsearch"),
        ("4.2.5", "4.2.6", "apache-airflow-providers-google"),
    ]


SIX_WITHOUT_PINS = ("6.8.0", "6.9.0", "6.9.1", "6.9.2", "6.10.0")


def test_real_releases_without_pins_are_stepped_over(snapshot: Matrix) -> None:
    by = names(snapshot)
    unpinned = [r.name for r in snapshot.releases if not has_pins(r)]
    assert unpinned == ["4.2.8", "5.0.11", "5.0.12", "5.5.0", *SIX_WITHOUT_PINS]
    assert baseline(snapshot, by["4.2.9"]).release == by["4.2.7"]
    assert [r.name for r in baseline(snapshot, by["4.2.9"]).over] == ["4.2.8"]
    assert baseline(snapshot, by["5.0.13"]).release == by["5.0.10"]
    assert [r.name for r in baseline(snapshot, by["5.0.13"]).over] == ["5.0.11", "5.0.12"]
    assert baseline(snapshot, by["6.9.0"]).release == by["6.8.0"]
    assert baselines(snapshot, snapshot.releases) == tuple(
        baseline(snapshot, r) for r in snapshot.releases
    )
