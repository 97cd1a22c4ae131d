"""``release audit`` (SPEC section 4): every release against its predecessor under the policy in
force on its release date; hand-made histories, then the real one's findings pinned."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from astroctl.matrix import store
from astroctl.matrix.model import Level, Matrix
from astroctl.release.audit import Audit, audit
from astroctl.release.policy import Check
from tests.factories import build, document, release
from tests.helpers import MATRIX, SNAPSHOT

L = Level


def rel(version: str, day: date, **packages: str) -> dict[str, Any]:
    """A release of ``day`` with these pins (keyword names use '_' for '-'), Airflow 2.M.0."""
    entry = release(version, f"2.{version.split('.')[0]}.0", released=day)
    if packages:
        entry["packages"] = {name.replace("_", "-"): pin for name, pin in packages.items()}
    return entry


def verdicts(result: Audit) -> list[tuple[str, str, str | None, str | None, bool]]:
    return [
        (
            c.old.name,
            c.new.name,
            c.bump.value if c.bump else None,
            c.required.value if c.required else None,
            c.ok,
        )
        for c in result.entries
    ]


def short(entry: Check) -> list[str]:
    """The reasons that need more than the release's bump gave."""
    return [r.text for r in entry.reasons if entry.bump is None or r.level.rank > entry.bump.rank]


# -- hand-made histories ----------------------------------------------------------------------


def test_every_release_is_judged_against_its_predecessor() -> None:
    m = build(
        document(
            rel("9.0.0", date(2024, 1, 1), a="1.0.0"),
            rel("9.1.0", date(2024, 2, 1), a="1.1.0"),
            rel("9.1.1", date(2024, 4, 1), a="1.2.0"),  # a minor change in a patch release
            rel("9.2.0", date(2024, 3, 1), a="1.1.1"),  # followed 9.1.0, not 9.1.1
        )
    )
    result = audit(m)
    assert verdicts(result) == [
        ("9.0.0", "9.1.0", "minor", "minor", True),
        ("9.1.0", "9.1.1", "patch", "minor", False),
        ("9.1.0", "9.2.0", "minor", "patch", True),
    ]
    assert [c.new.name for c in result.violations] == ["9.1.1"]
    assert not result.ok
    assert short(result.violations[0]) == ["a 1.1.0 -> 1.2.0 is a minor change: minor"]
    assert [(s.release.name, s.reason, s.first) for s in result.skipped] == [
        ("9.0.0", "first release of line 9", True)
    ]


def test_a_clean_history_passes() -> None:
    m = build(
        document(
            rel("9.0.0", date(2024, 1, 1), a="1.0.0"),
            rel("9.0.1", date(2024, 1, 5), a="1.0.1"),
            rel("10.0.0", date(2024, 1, 3), a="2.0.0"),
        )
    )
    result = audit(m)
    assert result.ok
    assert result.violations == ()
    assert [s.release.name for s in result.skipped] == ["9.0.0", "10.0.0"]


def test_a_release_dated_before_every_lower_one_is_skipped_not_first() -> None:
    m = build(document(rel("9.0.0", date(2024, 5, 1)), rel("9.1.0", date(2024, 1, 1))))
    skipped = audit(m).skipped
    assert [(s.release.name, s.first) for s in skipped] == [("9.0.0", True), ("9.1.0", False)]
    assert skipped[1].reason == (
        "no lower release of line 9 was released on or before it (2024-01-01)"
    )


def test_releases_without_pins_are_stepped_over() -> None:
    m = build(
        document(
            rel("5.0.10", date(2022, 10, 17), a="1.0.0", b="1.0.0"),
            rel("5.0.11", date(2022, 11, 2)),
            rel("5.0.12", date(2022, 11, 9)),
            rel("5.0.13", date(2022, 12, 12), a="1.0.1", b="1.0.0"),
        )
    )
    result = audit(m)
    # 5.0.11 and 5.0.12 are judged without packages; 5.0.13 against 5.0.10, not "everything
    # added" against 5.0.12
    assert verdicts(result) == [
        ("5.0.10", "5.0.11", "patch", None, True),
        ("5.0.11", "5.0.12", "patch", None, True),
        ("5.0.10", "5.0.13", "patch", "patch", True),
    ]
    assert [r.name for r in result.entries[2].over] == ["5.0.11", "5.0.12"]


def test_each_release_is_judged_by_the_rules_of_its_date() -> None:
    rules = [
        {"change": "minor", "level": "patch", "package": "a", "reason": "old rule"},
        {"change": "minor", "level": "minor", "package": "a", "since": date(2023, 1, 1)},
    ]
    m = build(
        document(
            rel("6.0.0", date(2022, 9, 1), a="1.0.0"),
            rel("6.0.1", date(2022, 10, 1), a="1.1.0"),
            rel("6.0.2", date(2023, 2, 1), a="1.2.0"),
            policy={"rules": rules},
        )
    )
    result = audit(m)
    assert verdicts(result) == [
        ("6.0.0", "6.0.1", "patch", "patch", True),
        ("6.0.1", "6.0.2", "patch", "minor", False),
    ]
    assert [r.text for r in result.entries[0].reasons] == [
        "a 1.0.0 -> 1.1.0 is a minor change: patch (old rule)"
    ]


def test_the_releases_audited_may_be_chosen() -> None:
    m = build(
        document(
            rel("9.0.0", date(2024, 1, 1), a="1.0.0"),
            rel("9.0.1", date(2024, 2, 1), a="2.0.0"),
            rel("9.1.0", date(2024, 3, 1), a="2.0.0"),
        )
    )
    chosen = [r for r in m.releases if r.name in ("9.0.0", "9.1.0")]
    result = audit(m, chosen)
    assert verdicts(result) == [("9.0.1", "9.1.0", "minor", None, True)]
    assert [s.release.name for s in result.skipped] == ["9.0.0"]
    assert audit(m, []) == Audit((), ())


# -- the real history ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot() -> Audit:
    return audit(store.load(SNAPSHOT))


@pytest.fixture(scope="module")
def real() -> tuple[Matrix, Audit]:
    m = store.load(MATRIX)
    return m, audit(m)


VIOLATIONS = [
    # 2021-2022 patch releases carrying provider minors, majors and additions
    *("4.0.3", "4.0.4", "4.0.8", "4.0.10", "4.0.11", "4.2.1", "4.2.4", "4.2.5", "4.2.6"),
    *("4.2.7", "4.2.9", "5.0.1", "5.0.2", "5.0.4", "5.0.6", "5.0.7", "5.0.8", "5.0.10"),
    *("5.0.13", "6.0.1", "6.0.2", "6.0.3", "6.0.4"),
    # a 2023 patch release with a provider major and minors
    "7.4.3",
    # minor releases carrying a provider's new major version
    *("4.1.0", "5.1.0", "5.3.0", "6.1.0", "6.3.0", "6.5.0", "6.7.0", "7.1.0", "7.3.0"),
    *("8.4.0", "8.10.0", "9.16.0"),
]


def _level(level: Level | None) -> str | None:
    return level.value if level is not None else None


def _by_version(entries: tuple[Check, ...]) -> list[str]:
    return [c.new.name for c in entries]


def test_the_real_history_audited(snapshot: Audit) -> None:
    assert len(snapshot.entries) == 111
    assert [(s.release.name, s.first) for s in snapshot.skipped] == [
        (f"{major}.0.0", True) for major in range(4, 12)
    ]
    assert sorted(_by_version(snapshot.violations)) == sorted(VIOLATIONS)
    levels = Counter((_level(c.bump), _level(c.required)) for c in snapshot.violations)
    assert levels == {("patch", "minor"): 12, ("patch", "major"): 12, ("minor", "major"): 12}
    # Airflow's rules were never broken: 28 Airflow patch changes, all within their bump
    airflow = [(c, r) for c in snapshot.entries for r in c.reasons if r.subject == "apache-airflow"]
    assert len(airflow) == 28
    assert all(c.bump is not None and r.level.rank <= c.bump.rank for c, r in airflow)
    # and lines 10 and 11 are clean
    assert not [c for c in snapshot.violations if c.new.major >= 10]


def test_the_real_findings_by_kind(snapshot: Audit) -> None:
    found = Counter(
        r.change.value if r.change else None
        for c in snapshot.violations
        for r in c.reasons
        if c.bump is not None and r.level.rank > c.bump.rank
    )
    assert found == {
        "minor": 56,
        "major": 47,
        "added": 14,
        "downgrade": 3,
        "removed": 3,
        "architecture-added": 1,
    }


def test_real_findings_in_detail(snapshot: Audit) -> None:
    by = {c.new.name: c for c in snapshot.entries}
    # the predecessor by date: 9.11.0 followed 9.10.0 and only went up
    assert by["9.11.0"].old.name == "9.10.0"
    assert by["9.11.0"].ok
    # downgrades recorded in the 4.2 tables
    assert short(by["4.2.5"]) == [
        "apache-airflow-providers-elasticsearch 3.0.2 -> 2.2.0 is a downgrade: major",
        "apache-airflow-providers-google 6.7.0 -> 6.8.0 is a minor change: minor",
    ]
    # multi-arch images started in a patch release
    assert short(by["6.0.4"]) == [
        "architecture arm64 added: minor",
        "astronomer-providers 1.10.0 -> 1.11.1 is a minor change: minor",
    ]
    # the 9.16.0 table lacks three packages that 9.15.0 and 9.17.0 have (a gap in the docs)
    assert short(by["9.16.0"]) == [
        "apache-airflow-providers-microsoft-azure 6.3.0 -> 10.1.2 is a major change: major",
        "astro-sdk-python 1.8.0 removed: major",
        "astronomer-providers 1.18.4 removed: major",
        "astronomer-providers-logging 1.5.1 removed: major",
    ]
    assert by["9.17.0"].ok
    # releases without pins: judged without packages; the next one bridges the gap
    assert by["5.5.0"].old.name == "5.4.0"
    assert (by["5.5.0"].required, by["5.5.0"].ok) == (None, True)
    assert by["5.0.13"].old.name == "5.0.10"
    assert [r.name for r in by["5.0.13"].over] == ["5.0.11", "5.0.12"]
    assert by["4.2.9"].old.name == "4.2.7"


def test_the_real_matrix_judges_2022_by_the_rules_of_2022(real: tuple[Matrix, Audit]) -> None:
    """The importer's dated rules: astronomer-providers' minors needed only a patch release
    before 2023. They soften two reasons, and no verdict: 6.0.2 and 6.0.4 carried other
    changes that need a minor release."""
    matrix, result = real
    assert len(matrix.policy.rules) == 4
    assert sorted(_by_version(result.violations)) == sorted(VIOLATIONS)
    by = {c.new.name: c for c in result.entries}
    assert short(by["6.0.4"]) == ["architecture arm64 added: minor"]
    assert short(by["6.0.2"]) == [
        "apache-airflow-providers-sftp 4.0.0 added: minor",
        "apache-airflow-providers-ssh 3.1.0 added: minor",
    ]
    rated = [r.text for r in by["6.0.2"].reasons if r.subject == "astronomer-providers"]
    assert rated == [
        "astronomer-providers 1.9.0 -> 1.10.0 is a minor change: patch (before 2023, minor "
        "versions of the maintained packages shipped in patch releases)"
    ]
