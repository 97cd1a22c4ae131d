"""Release selectors (SPEC section 3, contract) on the real matrix and on hand-made ones."""

from __future__ import annotations

import pytest

from astroctl.errors import EXIT_USAGE, InputError, SelectorError
from astroctl.matrix import store
from astroctl.matrix.model import Matrix
from astroctl.matrix.selectors import select, select_all
from tests.factories import REAL_MATRIX, matrix


@pytest.fixture(scope="module")
def real() -> Matrix:
    return store.load(REAL_MATRIX)


# --- the real data -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "version", "warns"),
    [
        ("8.0", "8.0.0", True),
        ("9.0", "9.0.0", True),
        ("11.0", "11.0.0", True),
        ("9", "9.17.0", False),
        ("11", "11.8.0", False),
        ("latest", "11.8.0", False),
        ("8", "8.10.0", False),
        ("9.10", "9.10.2", False),
        ("9.2.0", "9.2.0", True),
        ("9.10.1", "9.10.1", False),
        ("4", "4.2.9", False),
        ("6.0", "6.0.4", False),
    ],
)
def test_real_matrix(real: Matrix, selector: str, version: str, warns: bool) -> None:
    selection = select(real, selector)
    assert selection.release.name == version
    assert selection.selector == selector
    assert (selection.warning is not None) is warns
    if warns:
        assert selection.warning is not None
        assert version in selection.warning
        assert "yanked" in selection.warning


def test_real_yanked_prefix_warning_names_reason(real: Matrix) -> None:
    warning = select(real, "8.0").warning
    assert warning == (
        "every release of 8.0.x is yanked; using 8.0.0 "
        "(yanked: cluster policies set via pluggy not applied)"
    )


def test_real_prefix_skips_yanked(real: Matrix) -> None:
    # 9.0.0-9.6.0 are yanked; 9.1 has only yanked matches, 9 has plenty of good ones.
    assert select(real, "9.1").release.name == "9.1.0"
    assert select(real, "9.1").warning is not None
    assert select(real, "11").release.is_yanked is False


def test_real_providers_diff_example(real: Matrix) -> None:
    """SPEC 3: `providers diff 8.0 9.0` compares 8.0.0 with 9.0.0, both yanked, and warns."""
    left, right = select(real, "8.0"), select(real, "9.0")
    assert (left.release.name, right.release.name) == ("8.0.0", "9.0.0")
    assert left.warning and right.warning


@pytest.mark.parametrize("selector", ["12", "12.0", "9.99", "9.2.7", "3.0.0"])
def test_real_unknown_selector(real: Matrix, selector: str) -> None:
    with pytest.raises(SelectorError) as caught:
        select(real, selector)
    assert caught.value.exit_code == EXIT_USAGE == 2
    assert repr(selector) in str(caught.value)


def test_real_unknown_selector_hints_the_line(real: Matrix) -> None:
    with pytest.raises(SelectorError, match=r"line 9 has 9\.0\.0 to 9\.17\.0"):
        select(real, "9.99")
    with pytest.raises(SelectorError, match="the matrix has lines 4 to 11"):
        select(real, "12")


@pytest.mark.parametrize(
    "selector", ["nine", "v9", "9.x", "9.2.0.1", "09", "9.2.0+build", "", "latest!", "LATEST"]
)
def test_garbage_selector(real: Matrix, selector: str) -> None:
    with pytest.raises(SelectorError, match="is not a release selector") as caught:
        select(real, selector)
    assert repr(selector) in str(caught.value)
    assert isinstance(caught.value, InputError)
    assert caught.value.exit_code == 2


def test_selector_surrounding_space_is_ignored(real: Matrix) -> None:
    assert select(real, " 9 ").release.name == "9.17.0"


def test_real_select_all(real: Matrix) -> None:
    line9 = select_all(real, "9")
    assert [r.name for r in line9][:3] == ["9.0.0", "9.1.0", "9.2.0"]
    assert len(line9) == 20
    assert all(r.major == 9 for r in line9)
    assert [r.name for r in select_all(real, "9.10")] == ["9.10.0", "9.10.1", "9.10.2"]
    # select_all keeps yanked releases
    assert [r.name for r in select_all(real, "8.0")] == ["8.0.0"]
    assert select_all(real, "latest") == real.releases
    assert [r.name for r in select_all(real, "9.2.0")] == ["9.2.0"]


@pytest.mark.parametrize("selector", ["12", "9.99", "nine"])
def test_real_select_all_unknown(real: Matrix, selector: str) -> None:
    with pytest.raises(SelectorError):
        select_all(real, selector)


# --- hand-made matrices ------------------------------------------------------------------------


def test_exact() -> None:
    m = matrix("9.1.0", "9.2.0", "9.2.1")
    selection = select(m, "9.2.0")
    assert selection.release.name == "9.2.0"
    assert selection.warning is None


def test_minor_prefix_is_highest_patch_by_version() -> None:
    m = matrix("9.2.0", "9.2.10", "9.2.9", "9.3.0")
    assert select(m, "9.2").release.name == "9.2.10"


def test_major_prefix_is_highest_minor_by_version() -> None:
    m = matrix("9.9.0", "9.10.0", "9.2.5", "10.0.0")
    assert select(m, "9").release.name == "9.10.0"
    assert select(m, "latest").release.name == "10.0.0"


def test_yanked_skipped_by_prefix() -> None:
    m = matrix("9.1.0", "9.2.0", "9.2.1", yanked=["9.2.1"])
    selection = select(m, "9.2")
    assert selection.release.name == "9.2.0"
    assert selection.warning is None
    assert select(m, "9").release.name == "9.2.0"
    assert select(m, "latest").release.name == "9.2.0"


def test_all_yanked_uses_highest_yanked_with_warning() -> None:
    m = matrix("9.1.0", "9.2.0", "9.2.1", yanked=["9.2.0", "9.2.1"])
    selection = select(m, "9.2")
    assert selection.release.name == "9.2.1"
    assert selection.warning is not None
    assert "9.2.1" in selection.warning
    assert "9.2.1 broke things" in selection.warning


def test_latest_all_yanked() -> None:
    m = matrix("9.1.0", "10.0.0", yanked=["9.1.0", "10.0.0"])
    selection = select(m, "latest")
    assert selection.release.name == "10.0.0"
    assert selection.warning is not None


def test_latest_skips_yanked_across_lines() -> None:
    m = matrix("9.1.0", "10.0.0", yanked=["10.0.0"])
    assert select(m, "latest").release.name == "9.1.0"


def test_exact_yanked_selects_it_and_warns() -> None:
    m = matrix("9.1.0", "9.2.0", yanked=["9.1.0"])
    selection = select(m, "9.1.0")
    assert selection.release.name == "9.1.0"
    assert selection.warning == "9.1.0 is yanked: 9.1.0 broke things"


def test_prerelease_alone_is_not_selected_by_prefix() -> None:
    m = matrix("9.2.0", "9.3.0-rc.1")
    with pytest.raises(SelectorError, match=r"'9\.3'"):
        select(m, "9.3")
    assert select(m, "9.3.0-rc.1").release.name == "9.3.0-rc.1"
    assert select(m, "9").release.name == "9.2.0"
    assert select(m, "latest").release.name == "9.2.0"


def test_prerelease_is_not_preferred_over_yanked_final() -> None:
    m = matrix("9.2.0", "9.3.0-rc.1", yanked=["9.2.0"])
    selection = select(m, "9")
    assert selection.release.name == "9.2.0"
    assert selection.warning is not None


def test_only_prereleases_is_an_error() -> None:
    m = matrix("9.3.0-rc.1", "9.3.0-rc.2")
    with pytest.raises(SelectorError):
        select(m, "9")
    with pytest.raises(SelectorError, match="prereleases only when spelled exactly"):
        select(m, "latest")
    assert select(m, "9.3.0-rc.2").release.name == "9.3.0-rc.2"


def test_final_beats_its_prerelease() -> None:
    m = matrix("9.3.0-rc.1", "9.3.0", "9.3.1-rc.1")
    assert select(m, "9.3").release.name == "9.3.0"


def test_exact_needs_the_exact_prerelease() -> None:
    m = matrix("9.3.0-rc.1")
    with pytest.raises(SelectorError, match=r"'9\.3\.0-rc\.2'"):
        select(m, "9.3.0-rc.2")
    with pytest.raises(SelectorError):
        select(m, "9.3.0")


def test_prefix_does_not_match_other_minors_or_majors() -> None:
    m = matrix("9.20.0", "90.0.0", "9.2.1")
    assert select(m, "9.2").release.name == "9.2.1"
    assert select(m, "9").release.name == "9.20.0"


def test_empty_matrix() -> None:
    empty = matrix()
    with pytest.raises(SelectorError, match="no releases"):
        select(empty, "9")
    with pytest.raises(SelectorError):
        select(empty, "latest")


def test_select_all_includes_prereleases_and_yanked_in_order() -> None:
    m = matrix("9.3.0", "9.3.0-rc.1", "9.2.0", "10.0.0", yanked=["9.2.0"])
    assert [r.name for r in select_all(m, "9")] == ["9.2.0", "9.3.0-rc.1", "9.3.0"]
    assert [r.name for r in select_all(m, "9.3")] == ["9.3.0-rc.1", "9.3.0"]
    assert [r.name for r in select_all(m, "latest")] == [
        "9.2.0",
        "9.3.0-rc.1",
        "9.3.0",
        "10.0.0",
    ]
    assert [r.name for r in select_all(m, "9.3.0-rc.1")] == ["9.3.0-rc.1"]


def test_prefix_with_only_prereleases_says_prereleases_need_spelling() -> None:
    m = matrix("9.2.0", "9.3.0-rc.1")
    with pytest.raises(SelectorError, match="prereleases only when spelled exactly"):
        select(m, "9.3")


# --- hostile selectors: a SelectorError (exit 2), never a crash, never a misreading ---------------


@pytest.mark.parametrize(
    "selector",
    ["9" * 5000, "9." + "9" * 5000, "9.2." + "9" * 5000, "9" * 19, "9.2.0-rc." + "1" * 19],
    ids=["major", "minor", "patch", "19 digits", "prerelease"],
)
def test_numbers_past_18_digits_are_refused(real: Matrix, selector: str) -> None:
    for pick in (select, select_all):
        with pytest.raises(SelectorError) as caught:
            pick(real, selector)
        assert "a number in it has more than 18 digits" in caught.value.message
        assert caught.value.exit_code == EXIT_USAGE
        assert len(caught.value.message) < 200


def test_18_digits_are_a_number_that_matches_nothing(real: Matrix) -> None:
    with pytest.raises(SelectorError, match="no release matches '999999999999999999'"):
        select(real, "9" * 18)


@pytest.mark.parametrize(
    "selector", ["\u0669", "9.\u0662", "\u00b2", "\u2460.0.0", "\uff19", "\u0669.\u0662.\u0660"]
)
def test_digits_of_other_scripts_are_not_digits(real: Matrix, selector: str) -> None:
    """int('٩') == 9, but '٩' is not the selector 9."""
    with pytest.raises(SelectorError, match="is not a release selector"):
        select(real, selector)


def test_a_trailing_newline_inside_is_not_a_prefix(real: Matrix) -> None:
    with pytest.raises(SelectorError, match="is not a release selector"):
        select(real, "9\n.2")
