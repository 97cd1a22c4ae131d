"""Release plans: pure, and what they plan is what a load of the written file gives back."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from astroctl.errors import InputError
from astroctl.matrix import store
from astroctl.matrix.model import Channel, Level, Matrix, NoteType, ReleaseNote
from astroctl.release.plan import (
    EndOfMaintenance,
    ReleaseRequest,
    UnknownPackage,
    plan_promote,
    plan_release,
)
from tests.factories import build, document, line, release
from tests.helpers import SNAPSHOT

DAY = date(2024, 8, 20)


@pytest.fixture(scope="module")
def real() -> Matrix:
    return store.load(SNAPSHOT)


def small() -> Matrix:
    pins = {"alpha": "1.0.0", "beta": "2.3.0"}
    return build(
        document(
            release("9.0.0", released=date(2024, 1, 1), packages=pins),
            release(
                "9.1.0",
                released=date(2024, 2, 1),
                packages=pins,
                flavors={"slim": {"packages": {"alpha": "1.0.0"}}},
            ),
            lines={9: line(end_of_maintenance=date(2030, 1, 31))},
        )
    )


def test_a_minor_plan_carries_the_base_forward_with_the_edits() -> None:
    plan = plan_release(
        small(),
        ReleaseRequest(Level.MINOR, DAY, sets=(("alpha", "1.1.0"),), adds=(("gamma", "0.1"),)),
    )
    assert plan.release.name == "9.2.0"
    assert (plan.base.name, plan.previous and plan.previous.name) == ("9.1.0", "9.1.0")
    assert dict(plan.release.packages) == {"alpha": "1.1.0", "beta": "2.3.0", "gamma": "0.1"}
    assert plan.release.flavors == {"slim": {"alpha": "1.1.0"}}  # a flavor follows its pins
    assert plan.requirement.level is Level.MINOR
    assert plan.ok
    assert [c.package for c in plan.diff.changes] == ["alpha", "gamma"]  # type: ignore[union-attr]


def test_a_plan_is_pure() -> None:
    before = small()
    plan_release(before, ReleaseRequest(Level.PATCH, DAY, unsets=("beta",)))
    assert before == small()


def test_a_patch_that_removes_a_package_is_not_ok() -> None:
    plan = plan_release(small(), ReleaseRequest(Level.PATCH, DAY, unsets=("beta",)))
    assert plan.release.name == "9.1.1"
    assert plan.requirement.level is Level.MAJOR
    assert not plan.ok
    assert "beta 2.3.0 removed: major" in [r.text for r in plan.requirement.reasons]


def test_an_unknown_package_suggests_the_closest() -> None:
    with pytest.raises(UnknownPackage) as caught:
        plan_release(small(), ReleaseRequest(Level.MINOR, DAY, sets=(("alpah", "1.1"),)))
    assert (caught.value.package, caught.value.suggestion) == ("alpah", "alpha")


def test_names_are_normalized() -> None:
    plan = plan_release(small(), ReleaseRequest(Level.MINOR, DAY, sets=(("Alpha", "1.1.0"),)))
    assert plan.release.packages["alpha"] == "1.1.0"


def test_end_of_maintenance() -> None:
    late = date(2031, 1, 1)
    with pytest.raises(EndOfMaintenance):
        plan_release(small(), ReleaseRequest(Level.PATCH, late))
    assert plan_release(small(), ReleaseRequest(Level.PATCH, late, allow_eol=True)).ok


def test_a_major_plan_derives_its_line(real: Matrix) -> None:
    plan = plan_release(
        real,
        ReleaseRequest(Level.MAJOR, DAY, airflow="2.10.1", channel=Channel.LTS),
    )
    assert plan.release.name == "12.0.0"
    assert plan.new_line is not None
    assert plan.new_line.channel is Channel.LTS
    assert plan.new_line.end_of_maintenance == date(2025, 8, 31)
    assert plan.new_line.python_versions == real.lines[11].python_versions
    assert plan.previous is None
    assert plan.requirement.level is Level.MAJOR


def test_a_bad_airflow_pin_cannot_sneak_past_the_parity_check(real: Matrix) -> None:
    with pytest.raises(InputError, match="needs a major release"):
        plan_release(real, ReleaseRequest(Level.MINOR, DAY, airflow="2.8.4"))


def test_versions_given_with_blanks_are_stored_bare() -> None:
    plan = plan_release(small(), ReleaseRequest(Level.MINOR, DAY, sets=((" alpha ", " 1.1.0 "),)))
    assert plan.release.packages["alpha"] == "1.1.0"


def test_promotion_keeps_the_content_and_folds_the_notes() -> None:
    m = small()
    first = plan_release(
        m,
        ReleaseRequest(
            Level.MINOR, DAY, pre="rc", notes=(ReleaseNote(NoteType.FEATURE, "A feature"),)
        ),
    )
    second = plan_release(
        first.matrix,
        ReleaseRequest(
            Level.MINOR,
            DAY,
            pre="rc",
            sets=(("beta", "2.3.1"),),
            notes=(ReleaseNote(NoteType.BUGFIX, "A fix"),),
        ),
    )
    assert second.release.name == "9.2.0-rc.2"
    assert second.release.packages["beta"] == "2.3.1"
    final = plan_promote(second.matrix, second.release, date(2024, 9, 1))
    assert final.release.name == "9.2.0"
    assert final.release.packages == second.release.packages
    assert [n.text for n in final.release.notes] == ["A feature", "A fix"]
    assert final.level is Level.MINOR and final.ok
    assert [c.name for c in final.promoted] == ["9.2.0-rc.1", "9.2.0-rc.2"]
    with pytest.raises(InputError, match=r"promote 9\.2\.0-rc\.2"):
        plan_promote(second.matrix, first.release, DAY)


# -- properties -------------------------------------------------------------------------------

pin_versions = st.sampled_from(["1.0.0", "1.0.1", "1.1.0", "2.0.0", "0.9.0"])
edits = st.lists(
    st.tuples(st.sampled_from(["alpha", "beta"]), pin_versions),
    max_size=2,
    unique_by=lambda e: e[0],
)
levels = st.sampled_from(list(Level))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(level=levels, sets=edits, pre=st.sampled_from([None, "rc"]))
def test_a_written_plan_loads_back_as_planned(
    level: Level, sets: list[tuple[str, str]], pre: str | None
) -> None:
    request = ReleaseRequest(
        level, DAY, sets=tuple(sets), pre=pre, airflow="2.10.0" if level is Level.MAJOR else None
    )
    plan = plan_release(small(), request)
    loaded = store.loads(store.dumps(plan.matrix), "written.toml")
    assert loaded == plan.matrix
    (entry,) = [r for r in loaded.releases if r.version == plan.release.version]
    assert entry == plan.release


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(count=st.integers(1, 12))
def test_candidates_order_before_their_final(count: int) -> None:
    m = small()
    names = []
    for _ in range(count):
        plan = plan_release(m, ReleaseRequest(Level.MINOR, DAY, pre="rc"))
        m = plan.matrix
        names.append(plan.release.name)
    assert names == [f"9.2.0-rc.{n}" for n in range(1, count + 1)]
    ordered = [r.name for r in m.releases]
    assert ordered[-count:] == names  # by version: rc.10 after rc.9
    final = plan_promote(m, m.releases[-1], DAY)
    assert [r.name for r in final.matrix.releases][-1] == "9.2.0"
