"""The versioning policy engine (SPEC section 5): version steps, the changes between two
releases, the level they require under dated rules, and the check of one against the other."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import partial, reduce
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from astroctl.matrix import store
from astroctl.matrix.model import (
    DEFAULT_POLICY,
    PACKAGE_CHANGES,
    Change,
    Level,
    Matrix,
    NoteType,
    Policy,
    PolicyRule,
    Release,
    ReleaseNote,
)
from astroctl.release.policy import (
    Difference,
    Reason,
    bump,
    changes,
    check,
    highest,
    required,
)
from astroctl.versions import parse_runtime
from tests.factories import matrix
from tests.helpers import MATRIX

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
L = Level
C = Change
DAY = date(2024, 3, 1)
PINS = {"apache-airflow-providers-amazon": "8.7.1", "astronomer-providers": "1.18.0"}
_BASE = replace(
    matrix("9.1.0").releases[0],
    airflow="2.7.1",
    python="3.11",
    python_versions=("3.10", "3.11"),
    architectures=("amd64",),
    os="Debian 11.7 (bullseye)",
    packages=PINS,
    released=DAY,
)


def rel(version: str = "9.1.0", **fields: Any) -> Release:
    """The base release (9.1.0, Airflow 2.7.1, two pins) with ``fields`` replaced."""
    return replace(_BASE, version=parse_runtime(version), **fields)


def v(text: str) -> Any:
    return parse_runtime(text)


def rows(old: Release, new: Release, **kw: Any) -> list[tuple[str, str, str | None, str | None]]:
    return [(d.change.value, d.subject, d.old, d.new) for d in changes(old, new, **kw)]


def texts(old: Release | None, new: Release, policy: Policy | None = None, **kw: Any) -> list[str]:
    return [r.text for r in required(old, new, policy or Policy(), **kw).reasons]


# -- bump ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "level"),
    [
        ("9.2.0", "10.0.0", L.MAJOR),
        ("9.2.0", "9.3.0", L.MINOR),
        ("9.2.0", "9.2.1", L.PATCH),
        ("9.2.5", "9.3.0", L.MINOR),
        ("9.2.0", "11.1.3", L.MAJOR),
        ("9.2.0", "9.3.0-rc.1", L.MINOR),  # the X.Y.Z cores are compared
        ("9.3.0-rc.1", "9.4.0", L.MINOR),
        ("9.3.0-rc.1", "9.3.0-rc.2", L.PATCH),  # within one core: a patch step
        ("9.3.0-rc.2", "9.3.0", L.PATCH),
        ("9.2.0", "9.2.0", None),
        ("9.3.0", "9.2.0", None),
        ("9.3.0", "9.3.0-rc.1", None),
        ("10.0.0", "9.17.0", None),
    ],
)
def test_bump(old: str, new: str, level: Level | None) -> None:
    assert bump(v(old), v(new)) is level


small = st.integers(min_value=0, max_value=4)


@st.composite
def versions(draw: st.DrawFn) -> str:
    core = f"{draw(small)}.{draw(small)}.{draw(small)}"
    rc = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=3)))
    return core if rc is None else f"{core}-rc.{rc}"


@PROPERTY
@given(versions(), versions())
def test_bump_is_none_exactly_when_not_higher(a: str, b: str) -> None:
    assert (bump(v(a), v(b)) is None) == (not v(b) > v(a))


@PROPERTY
@given(versions(), versions(), versions())
def test_bump_grows_with_version_order(a: str, b: str, c: str) -> None:
    """Over a < b < c the step a -> c is the larger of its two parts, so it never shrinks as
    the new version grows."""
    distinct = sorted({v(a), v(b), v(c)})
    assume(len(distinct) == 3)
    x, y, z = distinct
    whole, first, second = bump(x, z), bump(x, y), bump(y, z)
    assert whole is not None and first is not None and second is not None
    assert whole is highest((first, second))
    assert whole.rank >= first.rank


# -- changes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("airflow", "change"),
    [
        ("3.0.0", C.AIRFLOW_MAJOR),
        ("2.8.0", C.AIRFLOW_MINOR),
        ("2.7.2", C.AIRFLOW_PATCH),
        ("2.7.1+astro.1", C.AIRFLOW_PATCH),  # a local build
        ("2.7.1.post1", C.AIRFLOW_PATCH),
        ("2.7.0", C.AIRFLOW_DOWNGRADE),
    ],
)
def test_airflow_changes(airflow: str, change: Change) -> None:
    assert rows(rel(), rel(airflow=airflow)) == [(change.value, "apache-airflow", "2.7.1", airflow)]


def test_local_build_back_to_the_public_release_is_a_patch_change() -> None:
    old = rel(airflow="2.7.1+astro.2")
    assert rows(old, rel()) == [("airflow-patch", "apache-airflow", "2.7.1+astro.2", "2.7.1")]


def test_package_changes_carry_the_diff_kinds() -> None:
    old = rel(packages={"a": "1.0.0", "b": "1.0.0", "c": "1.0.0", "d": "1.0.0", "e": "2.0.0"})
    new = rel(packages={"a": "2.0.0", "b": "1.1.0", "c": "1.0.1", "d": "1.0.0", "f": "0.1"})
    assert rows(old, new) == [
        ("major", "a", "1.0.0", "2.0.0"),
        ("minor", "b", "1.0.0", "1.1.0"),
        ("patch", "c", "1.0.0", "1.0.1"),
        ("removed", "e", "2.0.0", None),
        ("added", "f", None, "0.1"),
    ]
    assert all(d.package == d.subject for d in changes(old, new))


def test_downgrades_and_other_package_changes() -> None:
    old = rel(packages={"a": "3.0.2", "b": "7.0.0"})
    new = rel(packages={"a": "2.2.0", "b": "7.0.0+astro.2"})
    assert rows(old, new) == [
        ("downgrade", "a", "3.0.2", "2.2.0"),
        ("other", "b", "7.0.0", "7.0.0+astro.2"),
    ]


def test_an_apache_airflow_pin_is_never_a_package_change() -> None:
    old = rel(packages={**PINS, "apache-airflow": "2.7.1"})
    new = rel(airflow="2.7.2", packages={**PINS, "apache-airflow": "2.7.1"})
    assert rows(old, new) == [("airflow-patch", "apache-airflow", "2.7.1", "2.7.2")]


def test_a_release_without_pins_has_unknown_pins() -> None:
    """No package table is no information, not every package removed."""
    assert rows(rel(), rel(packages={})) == []
    assert rows(rel(packages={}), rel()) == []
    assert rows(rel(packages={}), rel(airflow="2.7.2", packages={})) == [
        ("airflow-patch", "apache-airflow", "2.7.1", "2.7.2")
    ]


def test_platform_changes() -> None:
    new = rel(
        python="3.12",
        python_versions=("3.11", "3.12", "3.9"),
        architectures=("arm64",),
        os="Debian 12 (bookworm)",
    )
    assert rows(rel(), new) == [
        ("python-default", "default Python", "3.11", "3.12"),
        ("python-added", "Python 3.9", None, "3.9"),
        ("python-added", "Python 3.12", None, "3.12"),  # in Python order: 3.9 < 3.12
        ("python-removed", "Python 3.10", "3.10", None),
        ("architecture-added", "arm64", None, "arm64"),
        ("architecture-removed", "amd64", "amd64", None),
        ("os", "OS", "Debian 11.7 (bullseye)", "Debian 12 (bookworm)"),
    ]
    assert all(d.package is None for d in changes(rel(), new))


def test_notes_are_changes_of_their_type() -> None:
    notes = (
        ReleaseNote(NoteType.BREAKING, "Drops the old API"),
        ReleaseNote(NoteType.SECURITY, "Fixes CVE-2024-1"),
    )
    new = rel(notes=notes)
    assert rows(rel(), new) == [
        ("breaking", "Drops the old API", None, None),
        ("security", "Fixes CVE-2024-1", None, None),
    ]
    given_notes = [ReleaseNote(NoteType.FEATURE, "A new operator")]
    assert rows(rel(), new, notes=given_notes) == [("feature", "A new operator", None, None)]
    assert rows(rel(), new, notes=[]) == []


def test_no_changes() -> None:
    assert changes(rel(), rel("9.2.0")) == ()


def test_difference_package() -> None:
    assert Difference(C.MINOR, "x", "1.0", "1.1").package == "x"
    assert Difference(C.AIRFLOW_MINOR, "apache-airflow", "2.7.1", "2.8.0").package is None


# -- required -----------------------------------------------------------------------------------


def test_the_required_level_is_the_highest_and_reasons_are_sorted() -> None:
    new = rel(
        "9.2.0",
        airflow="2.7.2",
        packages={"apache-airflow-providers-amazon": "8.10.0", "astronomer-providers": "1.18.1"},
        python_versions=("3.10", "3.11", "3.12"),
    )
    requirement = required(rel(), new, Policy())
    assert requirement.level is L.MINOR
    assert [r.text for r in requirement.reasons] == [
        "Python 3.12 distribution added: minor",
        "apache-airflow-providers-amazon 8.7.1 -> 8.10.0 is a minor change: minor",
        "apache-airflow 2.7.1 -> 2.7.2 is a patch change: patch",
        "astronomer-providers 1.18.0 -> 1.18.1 is a patch change: patch",
    ]


def test_nothing_changed_requires_nothing() -> None:
    assert required(rel(), rel("9.2.0"), Policy()).level is None
    assert required(rel(), rel("9.2.0"), Policy()).reasons == ()


def test_the_first_release_of_a_line_is_major() -> None:
    requirement = required(None, rel("10.0.0"), Policy())
    assert requirement.level is L.MAJOR
    assert [r.text for r in requirement.reasons] == ["first release of line 10: major"]
    assert requirement.reasons[0].change is None
    assert requirement.reasons[0].rule is None


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({"airflow": "2.8.0"}, "apache-airflow 2.7.1 -> 2.8.0 is a minor change: major"),
        ({"airflow": "3.0.0"}, "apache-airflow 2.7.1 -> 3.0.0 is a major change: major"),
        ({"airflow": "2.7.0"}, "apache-airflow 2.7.1 -> 2.7.0 is a downgrade: major"),
        (
            {"airflow": "2.7.1+astro.1"},
            "apache-airflow 2.7.1 -> 2.7.1+astro.1 is a local or post build change: patch",
        ),
        ({"packages": {**PINS, "x": "1.0"}}, "x 1.0 added: minor"),
        (
            {"packages": {"astronomer-providers": "1.18.0"}},
            "apache-airflow-providers-amazon 8.7.1 removed: major",
        ),
        (
            {"packages": {**PINS, "astronomer-providers": "1.17.0"}},
            "astronomer-providers 1.18.0 -> 1.17.0 is a downgrade: major",
        ),
        (
            {"packages": {**PINS, "astronomer-providers": "1.18.0.post1"}},
            "astronomer-providers 1.18.0 -> 1.18.0.post1 is a change of only its pre, post, "
            "dev or local part: patch",
        ),
        ({"python": "3.10"}, "default Python changed from 3.11 to 3.10: major"),
        ({"python_versions": ("3.11",)}, "Python 3.10 distribution removed: major"),
        ({"architectures": ("amd64", "arm64")}, "architecture arm64 added: minor"),
        ({"architectures": ()}, "architecture amd64 removed: major"),
        ({"os": "Debian 12"}, "OS changed from Debian 11.7 (bullseye) to Debian 12: major"),
        (
            {"notes": (ReleaseNote(NoteType.BUGFIX, "Fixes the scheduler"),)},
            "bugfix note: Fixes the scheduler: patch",
        ),
    ],
)
def test_reason_texts(fields: dict[str, Any], text: str) -> None:
    assert texts(rel(), rel("9.2.0", **fields)) == [text]


HISTORY = Policy(
    rules=(
        PolicyRule(C.MINOR, L.PATCH, "astronomer-providers", None, "minors were patches then"),
        PolicyRule(C.MINOR, L.MINOR, "astronomer-providers", date(2023, 1, 1), "now minor"),
        PolicyRule(C.ADDED, L.PATCH, None, date(2024, 6, 1)),
    )
)
MINOR_BUMP = {**PINS, "astronomer-providers": "1.19.0"}


def test_a_release_is_judged_by_the_rules_of_its_release_date() -> None:
    old = rel(released=date(2022, 1, 1))
    then = rel("9.1.1", packages=MINOR_BUMP, released=date(2022, 6, 1))
    later = rel("9.2.0", packages=MINOR_BUMP, released=date(2023, 6, 1))
    assert texts(old, then, HISTORY) == [
        "astronomer-providers 1.18.0 -> 1.19.0 is a minor change: patch (minors were patches then)"
    ]
    assert texts(old, later, HISTORY) == [
        "astronomer-providers 1.18.0 -> 1.19.0 is a minor change: minor "
        "(rule since 2023-01-01, now minor)"
    ]
    assert required(old, then, HISTORY).level is L.PATCH
    assert required(old, then, HISTORY, on=date(2023, 1, 1)).level is L.MINOR


def test_an_unreleased_entry_is_judged_by_the_newest_rules() -> None:
    unreleased = rel("9.2.0", packages={**MINOR_BUMP, "x": "1.0"}, released=None)
    requirement = required(rel(), unreleased, HISTORY)
    assert [r.text for r in requirement.reasons] == [
        "astronomer-providers 1.18.0 -> 1.19.0 is a minor change: minor "
        "(rule since 2023-01-01, now minor)",
        "x 1.0 added: patch (rule since 2024-06-01)",
    ]


def test_per_package_tables_and_file_defaults_rate_changes() -> None:
    policy = Policy(
        default={**DEFAULT_POLICY, C.PYTHON_ADDED: L.PATCH},
        packages={"astronomer-providers": {C.MINOR: L.PATCH}},
    )
    new = rel(packages=MINOR_BUMP, python_versions=("3.10", "3.11", "3.12"))
    assert texts(rel(), new, policy) == [
        "Python 3.12 distribution added: patch",
        "astronomer-providers 1.18.0 -> 1.19.0 is a minor change: patch (the matrix's policy)",
    ]


# -- check --------------------------------------------------------------------------------------


def test_check_passes_when_the_bump_covers_the_changes() -> None:
    new = rel("9.2.0", packages={**PINS, "x": "1.0"})
    result = check(rel(), new, Policy())
    assert (result.bump, result.required, result.ok) == (L.MINOR, L.MINOR, True)
    assert result.old == rel()
    assert result.over == ()
    assert [r.text for r in result.reasons] == ["x 1.0 added: minor"]


def test_check_fails_when_the_bump_is_lower() -> None:
    result = check(rel(), rel("9.1.1", packages={**PINS, "x": "1.0"}), Policy())
    assert (result.bump, result.required, result.ok) == (L.PATCH, L.MINOR, False)


def test_a_step_that_is_not_higher_is_never_ok() -> None:
    result = check(rel("9.2.0"), rel("9.1.0"), Policy())
    assert (result.bump, result.required, result.ok) == (None, None, False)
    assert not check(rel(), rel(), Policy()).ok


def test_a_promotion_passes_and_a_late_minor_change_does_not() -> None:
    candidate = rel("9.3.0-rc.2")
    assert check(candidate, rel("9.3.0"), Policy()).ok
    late = check(candidate, rel("9.3.0", packages={**PINS, "x": "1.0"}), Policy())
    assert (late.bump, late.required, late.ok) == (L.PATCH, L.MINOR, False)


def test_check_across_lines() -> None:
    old = rel("8.10.0", airflow="2.6.3", python="3.10", python_versions=("3.10",))
    result = check(old, rel("9.0.0"), Policy())
    assert (result.bump, result.required, result.ok) == (L.MAJOR, L.MAJOR, True)
    assert result.reasons[0].text == "apache-airflow 2.6.3 -> 2.7.1 is a minor change: major"


# -- the real matrix's rules --------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> Matrix:
    return store.load(MATRIX)


def test_the_real_policy_rates_maintained_minors_by_their_time(real: Matrix) -> None:
    by = {r.name: r for r in real.releases}
    before_2023 = required(by["6.0.1"], by["6.0.2"], real.policy)
    assert (
        "astronomer-providers 1.9.0 -> 1.10.0 is a minor change: patch (before 2023, minor "
        "versions of the maintained packages shipped in patch releases)"
    ) in [r.text for r in before_2023.reasons]
    from_2023 = required(by["5.1.0"], by["5.2.0"], real.policy)
    assert (
        "astronomer-providers 1.13.0 -> 1.14.0 is a minor change: minor (rule since 2023-01-01, "
        "from 2023, minor versions of the maintained packages need minor releases)"
    ) in [r.text for r in from_2023.reasons]
    rule = real.policy.rule_on(C.MINOR, "openlineage-airflow", date(2022, 6, 1))
    assert rule.level is L.PATCH
    assert real.policy.rule_on(C.MINOR, "openlineage-airflow", None).level is L.MINOR
    # other packages keep SPEC's table at every date
    assert real.policy.rule_on(C.MINOR, "apache-airflow-providers-amazon", DAY).level is L.MINOR


# -- properties ---------------------------------------------------------------------------------

Edit = Callable[[Release], Release]
levels = st.sampled_from(list(Level))


def _pin(package: str, version: str | None) -> Edit:
    def edit(release: Release) -> Release:
        pins = dict(release.packages)
        if version is None:
            pins.pop(package, None)
        else:
            pins[package] = version
        return replace(release, packages=pins)

    return edit


def _field(**fields: Any) -> Edit:
    return lambda release: replace(release, **fields)


def _note(kind: NoteType) -> Edit:
    note = ReleaseNote(kind, f"a {kind.value} note")
    return lambda release: replace(release, notes=(*release.notes, note))


PROPERTY_BASE = rel(
    packages={"keep": "1.0.0", "p0": "1.2.3", "p1": "1.2.3", "p2": "1.2.3", "p3": "1.2.3"}
)
PACKAGE_VERSIONS = st.sampled_from(["2.0.0", "1.3.0", "1.2.4", "1.2.3.post1", "1.0.0", None])

# Every edit touches its own field or key, so edits apply independently of one another.
EDITS: tuple[st.SearchStrategy[Edit], ...] = (
    st.sampled_from(["3.0.0", "2.8.0", "2.7.2", "2.7.1+astro.1", "2.7.0"]).map(
        lambda airflow: _field(airflow=airflow)
    ),
    *(PACKAGE_VERSIONS.map(partial(_pin, f"p{i}")) for i in range(4)),
    st.just(_pin("new0", "0.1.0")),
    st.just(_pin("new1", "5.0")),
    st.just(_field(python="3.10")),
    st.sampled_from([("3.10", "3.11", "3.12"), ("3.11",), ("3.11", "3.12")]).map(
        lambda pythons: _field(python_versions=pythons)
    ),
    st.sampled_from([("amd64", "arm64"), ("arm64",)]).map(
        lambda arches: _field(architectures=arches)
    ),
    st.just(_field(os="Debian 12 (bookworm)")),
    *(st.just(_note(kind)) for kind in NoteType),
)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    default = {change: draw(levels) for change in Change}
    rules = draw(
        st.lists(
            st.builds(
                PolicyRule,
                st.sampled_from(list(Change)),
                levels,
                st.none(),
                st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2026, 1, 1))),
            ),
            max_size=4,
        )
    )
    package_rules = draw(
        st.lists(
            st.builds(
                PolicyRule,
                st.sampled_from(PACKAGE_CHANGES),
                levels,
                st.sampled_from(["p0", "p1", "new0"]),
                st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2026, 1, 1))),
            ),
            max_size=3,
        )
    )
    return Policy(default=default, rules=(*rules, *package_rules))


@st.composite
def edit_sets(draw: st.DrawFn) -> list[Edit]:
    chosen = draw(st.lists(st.sampled_from(range(len(EDITS))), unique=True, max_size=8))
    return [draw(EDITS[index]) for index in chosen]


def _apply(release: Release, edits: list[Edit]) -> Release:
    return reduce(lambda current, edit: edit(current), edits, release)


@PROPERTY
@given(edit_sets(), policies(), st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2026, 1, 1))))
def test_required_is_the_highest_single_change(
    edits: list[Edit], policy: Policy, day: date | None
) -> None:
    """The level a change set requires is the highest level any one of its changes requires
    alone (SPEC 5), and its reasons are the single changes' reasons together."""
    old = PROPERTY_BASE
    new = _apply(replace(old, version=parse_runtime("9.2.0"), released=day), edits)
    whole = required(old, new, policy)
    singles = [required(old, edit(replace(new, **_unchanged(old))), policy) for edit in edits]
    assert whole.level is highest(s.level for s in singles if s.level is not None)
    assert Counter(whole.reasons) == sum((Counter(s.reasons) for s in singles), Counter())
    ranks = [r.level.rank for r in whole.reasons]
    assert ranks == sorted(ranks, reverse=True)


def _unchanged(old: Release) -> dict[str, Any]:
    """The fields an edit may touch, as they are in ``old``: a clean slate for one edit."""
    return {
        "airflow": old.airflow,
        "packages": old.packages,
        "python": old.python,
        "python_versions": old.python_versions,
        "architectures": old.architectures,
        "os": old.os,
        "notes": old.notes,
    }


@PROPERTY
@given(edit_sets(), policies())
def test_a_release_with_no_changes_requires_nothing(edits: list[Edit], policy: Policy) -> None:
    release = replace(_apply(PROPERTY_BASE, edits), notes=())
    assume(release.packages)
    again = replace(release, version=parse_runtime("9.1.1"))
    assert required(release, again, policy).level is None
    assert required(release, again, policy).reasons == ()
    assert check(release, again, policy).ok
    assert not check(release, release, policy).ok  # not higher


def test_a_note_reason_is_one_line() -> None:
    notes = (ReleaseNote(NoteType.FEATURE, "Adds a\n  new   operator\n"),)
    assert texts(rel(), rel("9.2.0", notes=notes)) == ["feature note: Adds a new operator: minor"]


def test_reason_is_hashable_and_plain() -> None:
    reason = Reason(C.OS, L.MAJOR, "OS", "a", "b", PolicyRule(C.OS, L.MAJOR))
    assert reason.text == "OS changed from a to b: major"
    assert {reason: 1}[reason] == 1
