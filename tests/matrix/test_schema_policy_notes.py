"""Schema 1 extensions: dated policy rules (``[[policy.rules]]``) and a release's change notes
(``[[releases.notes]]``), read, checked, written back and round-tripped through the store."""

from __future__ import annotations

from datetime import date

import pytest

from astroctl.errors import MatrixInvalid
from astroctl.matrix import store
from astroctl.matrix.model import Change, Level, NoteType, PolicyRule, ReleaseNote
from tests.factories import build, document, release

HISTORY = {
    "rules": [
        {
            "change": "minor",
            "package": "astronomer-providers",
            "level": "patch",
            "reason": "before 2023 its minor bumps shipped in patch releases",
        },
        {
            "change": "minor",
            "package": "astronomer-providers",
            "level": "minor",
            "since": date(2023, 1, 1),
        },
        {"change": "os", "level": "minor", "since": date(2024, 1, 1)},
    ],
    "default": {"python-added": "patch"},
}


def test_rules_are_read_in_order() -> None:
    m = build(document(release("9.0.0"), policy=HISTORY))
    assert m.policy.rules == (
        PolicyRule(
            Change.MINOR,
            Level.PATCH,
            "astronomer-providers",
            None,
            "before 2023 its minor bumps shipped in patch releases",
        ),
        PolicyRule(Change.MINOR, Level.MINOR, "astronomer-providers", date(2023, 1, 1)),
        PolicyRule(Change.OS, Level.MINOR, None, date(2024, 1, 1)),
    )
    assert m.policy.default[Change.PYTHON_ADDED] is Level.PATCH


@pytest.mark.parametrize(
    ("change", "package", "on", "level"),
    [
        (Change.MINOR, "astronomer-providers", date(2022, 6, 1), Level.PATCH),
        (Change.MINOR, "astronomer-providers", date(2023, 1, 1), Level.MINOR),
        (Change.MINOR, "astronomer-providers", None, Level.MINOR),
        (Change.MINOR, "apache-airflow-providers-amazon", date(2022, 6, 1), Level.MINOR),
        (Change.OS, None, date(2023, 12, 31), Level.MAJOR),
        (Change.OS, None, date(2024, 1, 1), Level.MINOR),
        (Change.PYTHON_ADDED, None, date(2020, 1, 1), Level.PATCH),
        (Change.AIRFLOW_MINOR, None, None, Level.MAJOR),
    ],
)
def test_the_rule_in_force_on_a_day(
    change: Change, package: str | None, on: date | None, level: Level
) -> None:
    policy = build(document(release("9.0.0"), policy=HISTORY)).policy
    assert policy.rule_on(change, package, on).level is level


def test_a_package_rule_beats_a_general_one() -> None:
    policy = build(
        document(
            release("9.0.0"),
            policy={
                "rules": [
                    {"change": "major", "level": "minor", "since": date(2024, 1, 1)},
                    {
                        "change": "major",
                        "level": "patch",
                        "package": "x",
                        "since": date(2020, 1, 1),
                    },
                ]
            },
        )
    ).policy
    assert policy.rule_on(Change.MAJOR, "x", date(2025, 1, 1)).level is Level.PATCH
    assert policy.rule_on(Change.MAJOR, "y", date(2025, 1, 1)).level is Level.MINOR
    assert policy.rule_on(Change.MAJOR, "y", date(2023, 1, 1)).level is Level.MAJOR


def test_notes_are_read_in_order() -> None:
    notes = [
        {"type": "bugfix", "text": "Fixed the scheduler's **heartbeat**."},
        {"type": "security", "text": "Fixed CVE-2024-1234 in `cryptography`."},
    ]
    m = build(document(release("9.0.0", notes=notes)))
    assert m.releases[0].notes == (
        ReleaseNote(NoteType.BUGFIX, "Fixed the scheduler's **heartbeat**."),
        ReleaseNote(NoteType.SECURITY, "Fixed CVE-2024-1234 in `cryptography`."),
    )


def test_rules_and_notes_round_trip_through_the_file() -> None:
    notes = [{"type": "breaking", "text": 'Quotes " and\nnewlines survive'}]
    m = build(document(release("9.0.0", notes=notes, packages={"a": "1.0"}), policy=HISTORY))
    text = store.dumps(m)
    assert text.count("[[releases.notes]]") == 1
    assert store.loads(text, "again.toml") == m
    assert store.dumps(store.loads(text, "again.toml")) == text


@pytest.mark.parametrize(
    ("policy", "key", "message"),
    [
        ({"rules": [{"change": "minr", "level": "patch"}]}, "change", "expected"),
        ({"rules": [{"change": "minor", "level": "small"}]}, "level", "expected"),
        ({"rules": [{"change": "minor"}]}, "level", "missing"),
        ({"rules": [{"change": "os", "level": "patch", "package": "x"}]}, "package", "cannot"),
        ({"rules": [{"change": "minor", "level": "patch", "package": "Bad_Name"}]}, "package", ""),
        ({"rules": [{"change": "minor", "level": "patch", "since": "2023"}]}, "since", "date"),
        ({"rules": [{"change": "minor", "level": "patch", "when": 1}]}, "when", "unknown key"),
        ({"rules": {"change": "minor"}}, "rules", "array of tables"),
        ({"default": {"python-gone": "major"}}, "python-gone", "unknown key"),
        ({"packages": {"x": {"os": "major"}}}, "os", "unknown key"),
    ],
)
def test_bad_rules_are_violations(policy: dict[str, object], key: str, message: str) -> None:
    with pytest.raises(MatrixInvalid) as caught:
        build(document(release("9.0.0"), policy=policy))
    found = [v for v in caught.value.violations if v.key == key]
    assert found, caught.value.message
    assert message in found[0].message


@pytest.mark.parametrize(
    ("notes", "key", "message"),
    [
        ([{"type": "fix", "text": "x"}], "notes[0].type", "expected one of breaking"),
        ([{"type": "bugfix", "text": "  "}], "notes[0].text", "non-empty"),
        ([{"type": "bugfix"}], "notes[0].text", "non-empty"),
        ([{"type": "bugfix", "text": "x", "cve": "1"}], "notes[0].cve", "unknown key"),
        ("bugfix: x", "notes", "array of tables"),
    ],
)
def test_bad_notes_are_violations(notes: object, key: str, message: str) -> None:
    with pytest.raises(MatrixInvalid) as caught:
        build(document(release("9.0.0", notes=notes)))
    found = [v for v in caught.value.violations if v.key == key]
    assert found, caught.value.message
    assert message in found[0].message
    assert found[0].release == "9.0.0"


def test_a_package_table_beats_a_general_rule() -> None:
    policy = build(
        document(
            release("9.0.0"),
            policy={
                "packages": {"x": {"minor": "patch"}},
                "rules": [{"change": "minor", "level": "major"}],
            },
        )
    ).policy
    assert policy.rule_on(Change.MINOR, "x", date(2025, 1, 1)).level is Level.PATCH
    assert policy.rule_on(Change.MINOR, "y", date(2025, 1, 1)).level is Level.MAJOR


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (
            {
                "rules": [
                    {"change": "minor", "level": "patch"},
                    {"change": "minor", "level": "major"},
                ]
            },
            r"says again what policy\.rules\[0\] says",
        ),
        ({"packages": {"apache-airflow": {"minor": "patch"}}}, "not as a package"),
        (
            {"rules": [{"change": "minor", "level": "patch", "package": "apache-airflow"}]},
            "not as a package",
        ),
    ],
)
def test_rules_that_cannot_mean_anything_are_violations(
    policy: dict[str, object], message: str
) -> None:
    with pytest.raises(MatrixInvalid, match=message):
        build(document(release("9.0.0"), policy=policy))


def test_apache_airflow_is_never_a_package_pin() -> None:
    with pytest.raises(MatrixInvalid, match="not one of its package pins") as caught:
        build(document(release("9.0.0", packages={"apache-airflow": "2.9.3"})))
    (violation,) = caught.value.violations
    assert (violation.release, violation.key) == ("9.0.0", "packages.apache-airflow")
