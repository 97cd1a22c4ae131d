"""The tag plan (SPEC section 6): images, exact and floating tags, platforms, the repository.

Hand-made matrices pin each rule; the frozen snapshot of the real matrix pins the facts the
rules meet there (patches landing on older lines after newer ones, yanked minors, amd64-only
releases, single-Python lines); a property checks the floating rule over any matrix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from astroctl.errors import EXIT_USAGE, InputError
from astroctl.images.tags import (
    Image,
    RepositoryError,
    TagPlan,
    Variant,
    check_repository,
    floating_targets,
    plan_tags,
)
from astroctl.matrix import store
from astroctl.matrix.model import Matrix, Release
from tests.factories import build, document, line, release
from tests.helpers import SNAPSHOT

QUAY = "quay.io/astronomer/astro-runtime"


def made(
    *entries: dict[str, Any], lines: Mapping[int, dict[str, Any]] | None = None, **top: Any
) -> Matrix:
    return build(document(*entries, lines=lines, **top))


def bare(*versions: str, yanked: Iterable[str] = (), **top: Any) -> Matrix:
    gone = set(yanked)
    return made(
        *(release(v, **({"yanked": "broken"} if v in gone else {})) for v in versions), **top
    )


def find(matrix: Matrix, version: str) -> Release:
    (found,) = [r for r in matrix.releases if r.name == version]
    return found


def plan(
    matrix: Matrix, version: str, *, floating: bool | None = None, repository: str | None = None
) -> TagPlan:
    return plan_tags(matrix, find(matrix, version), floating=floating, repository=repository)


def floating_of(result: TagPlan) -> set[str]:
    return {tag for image in result.images for tag in image.floating}


def image(result: TagPlan, variant: str, python: str) -> Image:
    (found,) = [i for i in result.images if i.variant == variant and i.python == python]
    return found


# -- images and exact tags ----------------------------------------------------------------------


def test_a_single_python_line_has_one_onbuild_and_one_base_image() -> None:
    m = made(release("4.0.0"), lines={4: line(python="3.9", python_versions=["3.9"])})
    result = plan(m, "4.0.0")
    assert [(i.variant, i.python, i.tags) for i in result.images] == [
        (Variant.ONBUILD, "3.9", ("4.0.0",)),
        (Variant.BASE, "3.9", ("4.0.0-base",)),
    ]
    assert result.tags == ("4.0.0", "4.0.0-base")


def test_python_distributions_get_their_own_images_and_the_default_two_names() -> None:
    lines = {9: line(python="3.11", python_versions=["3.8", "3.9", "3.10", "3.11"])}
    result = plan(made(release("9.1.0"), lines=lines), "9.1.0")
    assert [(i.variant.value, i.python) for i in result.images] == [
        ("onbuild", "3.11"),
        ("base", "3.11"),
        ("onbuild", "3.8"),
        ("base", "3.8"),
        ("onbuild", "3.9"),
        ("base", "3.9"),
        ("onbuild", "3.10"),
        ("base", "3.10"),
    ]
    # V and V-python-P are two tags of ONE image, the same for -base.
    assert image(result, "onbuild", "3.11").tags == ("9.1.0", "9.1.0-python-3.11")
    assert image(result, "base", "3.11").tags == ("9.1.0-base", "9.1.0-python-3.11-base")
    assert image(result, "onbuild", "3.8").tags == ("9.1.0-python-3.8",)
    assert image(result, "base", "3.10").tags == ("9.1.0-python-3.10-base",)
    assert image(result, "base", "3.10").name == "9.1.0-python-3.10-base"
    assert len(result.tags) == len(set(result.tags)) == 10


def test_one_entry_per_tag_each_naming_its_image_and_reference() -> None:
    result = plan(bare("2.0.0"), "2.0.0", repository="ghcr.io/acme/runtime")
    entries = {entry.tag: entry for entry in result.entries}
    assert set(entries) == set(result.tags)
    assert entries["2.0.0"].image is entries["2.0.0-python-3.11"].image
    assert entries["2.0.0"].reference == "ghcr.io/acme/runtime:2.0.0"
    assert not any(entry.floating for entry in result.entries)


@pytest.mark.parametrize(
    ("architectures", "platforms"),
    [
        (["amd64"], ("linux/amd64",)),
        (["arm64"], ("linux/arm64",)),
        (["arm64", "amd64"], ("linux/amd64", "linux/arm64")),
    ],
)
def test_platforms_follow_the_architectures(
    architectures: list[str], platforms: tuple[str, ...]
) -> None:
    m = made(release("6.0.0", architectures=architectures), release("6.0.4"))
    result = plan(m, "6.0.0")
    assert result.platforms == platforms
    assert all(i.platforms == platforms for i in result.images)
    assert all(i.manifest_list is (len(platforms) > 1) for i in result.images)
    assert plan(m, "6.0.4").platforms == ("linux/amd64", "linux/arm64")


def test_a_prerelease_gets_its_exact_tags() -> None:
    result = plan(bare("1.0.0", "1.1.0-rc.1"), "1.1.0-rc.1", floating=True)
    assert image(result, "onbuild", "3.11").tags == ("1.1.0-rc.1", "1.1.0-rc.1-python-3.11")
    assert image(result, "base", "3.10").tags == ("1.1.0-rc.1-python-3.10-base",)
    assert floating_of(result) == set()
    assert result.moved == ()


def test_a_tag_past_the_oci_grammar_is_refused() -> None:
    long = "1.0.0-" + "a" * 130
    with pytest.raises(InputError, match=r"release 1\.0\.0-a+: tag .* is not a valid image tag"):
        plan(bare(long), long)


# -- floating tags ---------------------------------------------------------------------------------


def test_floating_tags_are_off_unless_asked_for() -> None:
    m = bare("1.0.0")
    assert floating_of(plan(m, "1.0.0")) == set()
    assert plan(m, "1.0.0").floating_tags is False
    assert floating_of(plan(m, "1.0.0", floating=True)) != set()


def test_the_matrix_setting_turns_them_on_and_the_option_wins() -> None:
    m = bare("1.0.0", image={"floating_tags": True})
    assert plan(m, "1.0.0").floating_tags is True
    assert "latest" in floating_of(plan(m, "1.0.0"))
    assert floating_of(plan(m, "1.0.0", floating=False)) == set()


def test_every_form_of_every_name_moves_to_the_matching_image() -> None:
    result = plan(bare("2.3.1"), "2.3.1", floating=True)
    assert result.moved == ("2.3", "2", "latest")
    assert image(result, "onbuild", "3.11").floating == (
        "2.3",
        "2.3-python-3.11",
        "2",
        "2-python-3.11",
        "latest",
        "latest-python-3.11",
    )
    assert image(result, "base", "3.11").floating == (
        "2.3-base",
        "2.3-python-3.11-base",
        "2-base",
        "2-python-3.11-base",
        "latest-base",
        "latest-python-3.11-base",
    )
    assert image(result, "base", "3.10").floating == (
        "2.3-python-3.10-base",
        "2-python-3.10-base",
        "latest-python-3.10-base",
    )
    floating = [entry for entry in result.entries if entry.floating]
    assert len(floating) == 18
    assert {entry.tag for entry in floating} == floating_of(result)


def test_a_single_python_line_floats_without_python_forms() -> None:
    m = made(release("4.2.9"), lines={4: line(python="3.9", python_versions=["3.9"])})
    result = plan(m, "4.2.9", floating=True)
    assert floating_of(result) == {"4.2", "4", "latest", "4.2-base", "4-base", "latest-base"}


def test_a_patch_to_an_older_line_moves_its_minor_only() -> None:
    # Built in date order, judged in version order: 1.0.1 ships after 1.1.0 and 2.0.0.
    m = bare("1.0.0", "1.1.0", "2.0.0", "1.0.1")
    assert plan(m, "1.0.1", floating=True).moved == ("1.0",)
    assert plan(m, "1.0.0", floating=True).moved == ()
    assert plan(m, "1.1.0", floating=True).moved == ("1.1", "1")
    assert plan(m, "2.0.0", floating=True).moved == ("2.0", "2", "latest")
    assert {name: r.name for name, r in floating_targets(m).items()} == {
        "1.0": "1.0.1",
        "1.1": "1.1.0",
        "1": "1.1.0",
        "2.0": "2.0.0",
        "2": "2.0.0",
        "latest": "2.0.0",
    }


def test_a_prerelease_never_floats_and_holds_nothing_back() -> None:
    m = bare("1.0.0", "1.1.0-rc.1", "2.0.0-rc.1")
    assert plan(m, "1.0.0", floating=True).moved == ("1.0", "1", "latest")
    for version in ("1.1.0-rc.1", "2.0.0-rc.1"):
        assert floating_of(plan(m, version, floating=True)) == set()
    assert {r.name for r in floating_targets(m).values()} == {"1.0.0"}


def test_an_all_yanked_minor_has_no_floating_name() -> None:
    m = bare("1.1.0", "1.2.0", "1.2.1", yanked=("1.2.0", "1.2.1"))
    targets = floating_targets(m)
    assert "1.2" not in targets
    assert targets["1"].name == targets["latest"].name == "1.1.0"
    for version in ("1.2.0", "1.2.1"):
        result = plan(m, version, floating=True)
        assert floating_of(result) == set()
        assert result.tags == tuple(t for i in result.images for t in i.tags)  # exact only
        assert [(s.name, s.target.name if s.target else None) for s in result.scopes] == [
            ("1.2", None),
            ("1", "1.1.0"),
            ("latest", "1.1.0"),
        ]
    assert plan(m, "1.1.0", floating=True).moved == ("1.1", "1", "latest")


def test_a_yanked_highest_release_leaves_latest_below_it() -> None:
    m = bare("1.0.0", "2.0.0", "2.0.1", yanked=("2.0.1",))
    assert plan(m, "2.0.1", floating=True).moved == ()
    assert plan(m, "2.0.0", floating=True).moved == ("2.0", "2", "latest")


def test_the_channel_does_not_matter() -> None:
    """An LTS line floats like a stable one; latest is simply the highest version."""
    lines = {1: line(channel="lts"), 2: line(channel="stable"), 3: line(channel="lts")}
    m = made(release("1.0.0"), release("2.0.0"), release("3.0.0"), lines=lines)
    assert floating_targets(m)["latest"].name == "3.0.0"
    assert plan(m, "1.0.0", floating=True).moved == ("1.0", "1")


def test_a_release_outside_the_matrix_is_judged_as_if_in_it() -> None:
    m = bare("1.0.0")
    planned = find(bare("1.0.0", "1.1.0"), "1.1.0")
    assert plan_tags(m, planned, floating=True).moved == ("1.1", "1", "latest")


# -- the repository -------------------------------------------------------------------------------


def test_the_matrix_repository_is_the_default_and_an_override_wins() -> None:
    m = bare("1.0.0", image={"repository": "registry.example.com:5000/team/runtime"})
    assert plan(m, "1.0.0").repository == "registry.example.com:5000/team/runtime"
    assert plan(bare("1.0.0"), "1.0.0").repository == QUAY
    assert plan(m, "1.0.0", repository="acme/runtime").reference("x") == "acme/runtime:x"


@pytest.mark.parametrize(
    "repository",
    [
        QUAY,
        "astro-runtime",
        "acme/astro-runtime",
        "localhost/runtime",
        "localhost:5000/a/b/c",
        "127.0.0.1:5000/runtime",
        "[::1]:5000/runtime",
        "Registry.Example.com/runtime",
        "ghcr.io/acme/astro_runtime__x.y--z",
    ],
)
def test_good_repositories(repository: str) -> None:
    assert check_repository(repository) == repository


@pytest.mark.parametrize(
    ("repository", "reason"),
    [
        ("", "it is empty"),
        ("quay.io/Astronomer/runtime", "'Astronomer' must be lowercase"),
        ("quay.io/astronomer/runtime:11.8.0", "carries a tag"),
        ("quay.io/runtime@sha256:" + "0" * 64, "carries a digest"),
        ("quay.io//runtime", "empty path component"),
        ("quay.io/runtime/", "empty path component"),
        ("-bad.io/runtime", "'-bad.io' is not a registry host"),
        ("quay.io:port/runtime", "'quay.io:port' is not a registry host"),
        ("quay.io/run time", "'run time' must be lowercase"),
        ("quay.io/a..b", "'a..b' must be lowercase"),
        ("quay.io/-runtime", "'-runtime' must be lowercase"),
        ("q/" + "a" * 300, "more than 255"),
    ],
)
def test_bad_repositories_are_input_errors(repository: str, reason: str) -> None:
    with pytest.raises(RepositoryError) as caught:
        check_repository(repository, "--registry")
    assert caught.value.exit_code == EXIT_USAGE
    assert caught.value.text == repository
    assert reason in caught.value.reason
    assert str(caught.value).startswith("--registry ")


def test_a_bad_matrix_repository_is_named_as_the_matrix_s() -> None:
    m = bare("1.0.0", image={"repository": "Not A Repo"})
    with pytest.raises(RepositoryError, match=r"the matrix's \[image\] repository 'Not A Repo'"):
        plan(m, "1.0.0")
    assert plan(m, "1.0.0", repository="acme/runtime").repository == "acme/runtime"


# -- the real data (the frozen snapshot) ------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> Matrix:
    return store.load(SNAPSHOT)


def as_of(matrix: Matrix, day: date) -> Matrix:
    """The matrix as it stood on ``day``: the releases shipped on or before it."""
    shipped = tuple(r for r in matrix.releases if r.released is not None and r.released <= day)
    return dataclasses.replace(matrix, releases=shipped)


def test_real_floating_targets(real: Matrix) -> None:
    targets = {name: r.name for name, r in floating_targets(real).items()}
    assert targets["latest"] == "11.8.0"
    assert targets["11"] == "11.8.0"
    assert targets["10"] == "10.9.0"
    assert targets["9"] == "9.17.0"
    assert targets["9.10"] == "9.10.2"
    assert targets["8"] == "8.10.0"
    assert targets["6.0"] == "6.0.4"
    assert targets["4"] == "4.2.9"
    for yanked_minor in ("8.0", "9.0", "9.1", "9.2", "9.3", "9.4", "9.5", "9.6", "11.0", "11.1"):
        assert yanked_minor not in targets
    assert not any(r.is_yanked or r.is_prerelease for r in floating_targets(real).values())


def test_real_9_10_1_shipped_after_9_11_0_moves_9_10_but_not_9(real: Matrix) -> None:
    then = as_of(real, date(2024, 4, 16))  # the day 9.10.1 shipped; 9.11.0 shipped 2024-02-26
    assert find(then, "9.11.0").released == date(2024, 2, 26)
    result = plan(then, "9.10.1", floating=True)
    assert result.moved == ("9.10",)
    assert "9" not in floating_of(result)
    assert [(s.name, s.target.name if s.target else None) for s in result.scopes] == [
        ("9.10", "9.10.1"),
        ("9", "9.12.0"),
        ("latest", "10.7.0"),  # 11.0.0 (2024-04-08) is yanked
    ]
    # Today 9.10.2 holds 9.10: publishing 9.10.1 again moves nothing backwards.
    assert plan(real, "9.10.1", floating=True).moved == ()
    assert plan(real, "9.10.2", floating=True).moved == ("9.10",)


def test_real_9_17_0_shipped_after_11_0_0_never_takes_latest(real: Matrix) -> None:
    assert find(real, "11.0.0").released == date(2024, 4, 8)
    assert find(real, "9.17.0").released == date(2024, 7, 18)
    for matrix in (real, as_of(real, date(2024, 7, 18))):
        result = plan(matrix, "9.17.0", floating=True)
        assert result.moved == ("9.17", "9")
        assert "latest" not in floating_of(result)
        assert "9-python-3.8-base" in floating_of(result)


def test_real_11_8_0_moves_everything_for_five_pythons(real: Matrix) -> None:
    result = plan(real, "11.8.0", floating=True)
    assert result.repository == QUAY
    assert [i.python for i in result.images][::2] == ["3.11", "3.8", "3.9", "3.10", "3.12"]
    assert result.moved == ("11.8", "11", "latest")
    assert len(result.tags) == 10 + 2 + 3 * 12  # exact, V-python-P twice, 3 names x 12 forms
    assert "latest-python-3.12-base" in floating_of(result)
    assert all(i.platforms == ("linux/amd64", "linux/arm64") for i in result.images)


def test_real_6_0_3_is_amd64_only_and_6_0_4_multi_arch(real: Matrix) -> None:
    for version in ("6.0.0", "6.0.3"):
        assert plan(real, version).platforms == ("linux/amd64",), version
    assert plan(real, "6.0.4").platforms == ("linux/amd64", "linux/arm64")
    assert all(not i.manifest_list for i in plan(real, "6.0.3").images)


@pytest.mark.parametrize("version", ["4.0.0", "4.2.9", "5.5.0", "8.10.0"])
def test_real_single_python_lines_have_no_python_tags(real: Matrix, version: str) -> None:
    result = plan(real, version, floating=True)
    assert [i.tags for i in result.images] == [(version,), (f"{version}-base",)]
    assert not any("-python-" in tag for tag in result.tags)
    assert len(result.images) == 2


def test_real_yanked_9_2_0_gets_exact_tags_only(real: Matrix) -> None:
    result = plan(real, "9.2.0", floating=True)
    assert floating_of(result) == set()
    assert len(result.tags) == 10
    assert result.scopes[0].target is None  # every 9.2.x is yanked


# -- the property ---------------------------------------------------------------------------------

versions = st.tuples(
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(0, 2),
    st.sampled_from([None, "rc.1", "rc.2"]),
).map(lambda v: f"{v[0]}.{v[1]}.{v[2]}" + (f"-{v[3]}" if v[3] else ""))


def scope_of(tag: str) -> str:
    """The floating name of a floating tag: ``1.2-python-3.10-base`` -> ``1.2``."""
    return tag.split("-", 1)[0]


def in_scope(name: str, r: Release) -> bool:
    if name == "latest":
        return True
    return name in (str(r.version.major), f"{r.version.major}.{r.version.minor}")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(
        st.tuples(versions, st.booleans()), min_size=1, max_size=12, unique_by=lambda e: e[0]
    ),
)
def test_each_floating_tag_belongs_to_the_highest_stable_release_of_its_scope(
    entries: list[tuple[str, bool]],
) -> None:
    m = bare(*(v for v, _ in entries), yanked=(v for v, gone in entries if gone))
    owners: dict[str, list[Release]] = {}
    for r in m.releases:
        for tag in floating_of(plan_tags(m, r, floating=True)):
            owners.setdefault(tag, []).append(r)
    stable = [r for r in m.releases if not r.is_yanked and not r.is_prerelease]
    targets = floating_targets(m)
    for tag, holders in owners.items():
        assert len(holders) == 1, (tag, [h.name for h in holders])
        name = scope_of(tag)
        highest = max((r for r in stable if in_scope(name, r)), key=lambda r: r.version)
        assert holders[0] is highest, (tag, holders[0].name, highest.name)
        assert targets[name] is highest
    # Every scope with a stable release has its name, in every form, owned by that release.
    for r in stable:
        for name in (f"{r.version.major}.{r.version.minor}", str(r.version.major), "latest"):
            assert name in owners and f"{name}-python-3.10-base" in owners
    assert {scope_of(tag) for tag in owners} == set(targets)
