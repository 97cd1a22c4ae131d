"""Version grammars: semver runtime versions, PEP 440 Airflow/package versions, names, Pythons."""

from __future__ import annotations

import pytest

from astroctl.versions import (
    InvalidVersion,
    RuntimeVersionError,
    airflow_minor,
    is_normalized_name,
    is_pep440,
    is_python_version,
    normalize_name,
    parse_pep440,
    parse_runtime,
    pep440_problem,
    python_key,
    shown,
)


def test_parse_runtime_fields() -> None:
    version = parse_runtime("9.3.0-rc.1")
    assert (version.major, version.minor, version.patch) == (9, 3, 0)
    assert version.prerelease == "rc.1"


@pytest.mark.parametrize(
    "ordered",
    [
        ["9.3.0-rc.1", "9.3.0", "9.10.0"],
        ["9.2.0", "9.3.0-rc.1", "9.3.0-rc.2", "9.3.0-rc.10", "9.3.0"],
        ["9.9.0", "9.10.0", "9.10.1", "9.11.0", "10.0.0"],
        ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-rc.1", "1.0.0"],
    ],
)
def test_runtime_versions_order_by_semver_precedence(ordered: list[str]) -> None:
    parsed = [parse_runtime(text) for text in ordered]
    assert sorted(reversed(parsed)) == parsed
    assert [str(v) for v in sorted(parsed[::-1])] == ordered


def test_prerelease_sorts_before_its_final_not_lexically() -> None:
    assert parse_runtime("9.3.0-rc.1") < parse_runtime("9.3.0")
    assert parse_runtime("9.3.0") < parse_runtime("9.10.0")
    assert parse_runtime("9.3.0-rc.9") < parse_runtime("9.3.0-rc.10")


@pytest.mark.parametrize(
    "text",
    [
        "9.2",
        "9",
        "v9.2.0",
        "9.2.0.1",
        "09.2.0",
        "9.02.0",
        "9.2.0-rc.01",
        "nine",
        "",
        "9.2.x",
        "9.2.0\n",
    ],
)
def test_parse_runtime_refuses_non_semver(text: str) -> None:
    with pytest.raises(RuntimeVersionError, match="not a semantic version"):
        parse_runtime(text)


@pytest.mark.parametrize("text", ["9.2.0+build.1", "9.3.0-rc.1+sha.abc"])
def test_parse_runtime_refuses_build_metadata(text: str) -> None:
    with pytest.raises(RuntimeVersionError, match="build metadata") as caught:
        parse_runtime(text)
    assert text in str(caught.value)


def test_runtime_version_error_is_a_value_error() -> None:
    assert issubclass(RuntimeVersionError, ValueError)


@pytest.mark.parametrize(
    "text",
    ["2.7.2", "2.7.2+astro.1", "7.0.0+astro.2", "1.0rc1", "1.0.post1", "1.0.dev3", "1!2.0", "2.7"],
)
def test_pep440_valid(text: str) -> None:
    assert is_pep440(text)
    assert str(parse_pep440(text))


@pytest.mark.parametrize(
    "text", ["2.7.x", "latest", "", "2.7.2+", "2.7.2+astro..1", "==2.7.2", "2.7.2 2", "v"]
)
def test_pep440_invalid(text: str) -> None:
    assert not is_pep440(text)
    with pytest.raises(InvalidVersion):
        parse_pep440(text)


@pytest.mark.parametrize("text", [" 2.7.2", "2.7.2 ", "\t1.0", "1.0\n"])
def test_pep440_refuses_surrounding_whitespace(text: str) -> None:
    # packaging tolerates it when parsing, but a pin stored with spaces would end up in
    # constraint files and image labels as is.
    assert not is_pep440(text)


def test_pep440_ordering_is_numeric() -> None:
    assert parse_pep440("2.10.0") > parse_pep440("2.9.3")
    assert parse_pep440("2.7.2") < parse_pep440("2.7.2+astro.1")


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("2.7.2", "2.7"),
        ("2.7.2+astro.1", "2.7"),
        ("2.10.0", "2.10"),
        ("2.9.0rc1", "2.9"),
        ("2.7", "2.7"),
        ("3", "3.0"),
    ],
)
def test_airflow_minor(text: str, minor: str) -> None:
    assert airflow_minor(text) == minor


def test_airflow_minor_refuses_garbage() -> None:
    with pytest.raises(InvalidVersion):
        airflow_minor("two.seven")


@pytest.mark.parametrize(
    "name", ["apache-airflow-providers-amazon", "astronomer-providers", "a", "x2", "1password"]
)
def test_normalized_names(name: str) -> None:
    assert is_normalized_name(name)
    assert normalize_name(name) == name


@pytest.mark.parametrize(
    ("name", "normalized"),
    [
        ("Apache_Airflow_Providers_Amazon", "apache-airflow-providers-amazon"),
        ("astronomer.providers", "astronomer-providers"),
        ("foo__-.bar", "foo-bar"),
        ("Django", "django"),
    ],
)
def test_non_normalized_names(name: str, normalized: str) -> None:
    assert not is_normalized_name(name)
    assert normalize_name(name) == normalized
    assert is_normalized_name(normalized)


@pytest.mark.parametrize("name", ["-foo", "foo-", "foo--bar", "", "foo bar", "foo/bar", "foo\n"])
def test_invalid_names(name: str) -> None:
    assert not is_normalized_name(name)


@pytest.mark.parametrize("text", ["3.8", "3.11", "3.12", "3.0"])
def test_python_versions(text: str) -> None:
    assert is_python_version(text)


@pytest.mark.parametrize("text", ["3", "2.7", "3.11.4", "3.011", "python3.11", "3.x", "", "3.11\n"])
def test_not_python_versions(text: str) -> None:
    assert not is_python_version(text)


def test_python_key_sorts_numerically() -> None:
    assert sorted(["3.10", "3.9", "3.12", "3.8"], key=python_key) == ["3.8", "3.9", "3.10", "3.12"]


# --- numbers: ASCII digits only, at most 18 of them ----------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["9" * 5000 + ".0.0", "9." + "9" * 5000 + ".0", "9.0.0-rc." + "9" * 5000, "1" * 19 + ".0.0"],
    ids=["major", "minor", "prerelease", "19 digits"],
)
def test_runtime_numbers_past_18_digits_are_refused(text: str) -> None:
    with pytest.raises(RuntimeVersionError, match="a number in it has more than 18 digits") as e:
        parse_runtime(text)
    assert len(str(e.value)) < 200


def test_runtime_numbers_of_18_digits_parse() -> None:
    version = parse_runtime("9" * 18 + ".0.0-rc." + "1" * 18)
    assert version.major == 10**18 - 1


@pytest.mark.parametrize("text", ["\u0669.0.0", "9.\u0662.0", "9.0.0-rc.\u0661", "\u00b2.0.0"])
def test_runtime_digits_of_other_scripts_are_refused(text: str) -> None:
    with pytest.raises(RuntimeVersionError, match="not a semantic version"):
        parse_runtime(text)


def test_long_alphanumeric_prerelease_identifiers_are_fine() -> None:
    assert parse_runtime("9.0.0-build" + "1" * 30).prerelease == "build" + "1" * 30


@pytest.mark.parametrize("text", ["1." + "9" * 5000, "9" * 19, "1.0.post" + "9" * 30])
def test_pep440_numbers_past_18_digits_are_refused(text: str) -> None:
    assert not is_pep440(text)
    with pytest.raises(InvalidVersion, match="more than 18 digits"):
        parse_pep440(text)
    with pytest.raises(InvalidVersion):
        airflow_minor(text)


def test_pep440_problem_says_why() -> None:
    assert pep440_problem("2.7.x") == "'2.7.x' is not a PEP 440 version"
    assert pep440_problem("2." + "9" * 100).endswith("a number has more than 18 digits")


@pytest.mark.parametrize("text", ["3." + "9" * 19, "3." + "9" * 5000, "3.\u0661\u0661", "3.\u00b2"])
def test_not_python_versions_past_the_bounds(text: str) -> None:
    assert not is_python_version(text)
    with pytest.raises(ValueError, match="not a Python version"):
        python_key(text)


def test_shown_cuts_long_text() -> None:
    assert shown("9.2.0") == "'9.2.0'"
    assert shown("x" * 100) == repr("x" * 60) + "... (100 characters)"
