"""The next version of a line: bumps, release candidates and the base they start from."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from astroctl.errors import InputError
from astroctl.matrix import store
from astroctl.matrix.model import Level, Matrix
from astroctl.release import versioning
from astroctl.versions import parse_runtime
from tests.factories import matrix
from tests.helpers import SNAPSHOT


@pytest.fixture(scope="module")
def real() -> Matrix:
    return store.load(SNAPSHOT)


def test_the_default_line_is_the_highest(real: Matrix) -> None:
    base = versioning.base_of(versioning.line_releases(real, None))
    assert base.name == "11.8.0"


@pytest.mark.parametrize(
    ("line", "level", "expected"),
    [
        ("9.10", Level.PATCH, (9, 10, 3)),  # although 9.17.0 exists
        ("9", Level.MINOR, (9, 18, 0)),
        ("9", Level.PATCH, (9, 17, 1)),
        (None, Level.MINOR, (11, 9, 0)),
        (None, Level.MAJOR, (12, 0, 0)),
        ("9", Level.MAJOR, (12, 0, 0)),  # a major starts after the highest line
        ("4.2", Level.PATCH, (4, 2, 10)),
    ],
)
def test_next_core(real: Matrix, line: str | None, level: Level, expected: tuple[int, ...]) -> None:
    base = versioning.base_of(versioning.line_releases(real, line))
    assert versioning.next_core(base.version, level, max(real.lines)) == expected


@pytest.mark.parametrize("line", ["13", "9.99", "x", "9.1.0", "", "٩", "9" * 30])
def test_an_unknown_or_malformed_line_is_refused(real: Matrix, line: str) -> None:
    with pytest.raises(InputError, match="line"):
        versioning.line_releases(real, line)


def test_an_existing_version_is_refused() -> None:
    m = matrix("9.0.0", "9.1.0", "9.2.0")
    with pytest.raises(InputError, match=r"9\.1\.0 already exists"):
        versioning.next_version(m, (9, 1, 0), None)


def test_candidates_count_up_and_stop_at_the_final() -> None:
    m = matrix("9.0.0", "9.1.0-rc.1", "9.1.0-rc.2")
    assert str(versioning.next_version(m, (9, 1, 0), "rc")) == "9.1.0-rc.3"
    assert str(versioning.next_version(m, (9, 2, 0), "rc")) == "9.2.0-rc.1"
    assert [r.name for r in versioning.candidates_of(m, (9, 1, 0))] == ["9.1.0-rc.1", "9.1.0-rc.2"]
    with pytest.raises(InputError, match="already exists"):
        versioning.next_version(matrix("9.0.0", "9.1.0-rc.1", "9.1.0"), (9, 1, 0), "rc")
    with pytest.raises(InputError, match="not a prerelease label"):
        versioning.next_version(m, (9, 1, 0), "beta")


def test_candidate_ten_sorts_after_candidate_nine() -> None:
    m = matrix("9.0.0", *(f"9.1.0-rc.{n}" for n in range(1, 10)))
    following = versioning.next_version(m, (9, 1, 0), "rc")
    assert str(following) == "9.1.0-rc.10"
    assert following > parse_runtime("9.1.0-rc.9")
    assert following < parse_runtime("9.1.0")


def test_the_base_is_the_highest_final_yanked_or_not() -> None:
    m = matrix("9.0.0", "9.1.0", "9.2.0-rc.1", yanked=["9.1.0"])
    assert versioning.base_of(m.releases).name == "9.1.0"
    assert versioning.base_of(matrix("9.0.0-rc.1", "9.0.0-rc.2").releases).name == "9.0.0-rc.2"


@given(
    st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50)),
    st.sampled_from(list(Level)),
)
def test_bumps_are_strictly_increasing(core: tuple[int, int, int], level: Level) -> None:
    base = parse_runtime(".".join(map(str, core)))
    following = versioning.next_core(base, level, core[0])
    assert parse_runtime(".".join(map(str, following))) > base
    assert following[:1] == core[:1] or level is Level.MAJOR
