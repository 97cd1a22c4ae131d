"""Schema 1: the real matrix validates; every broken invariant is named by where and key."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

import pytest

from astroctl.errors import EXIT_USAGE, MatrixInvalid, Violation
from astroctl.matrix import store
from astroctl.matrix.model import DEFAULT_PACKAGE_POLICY, DEFAULT_POLICY, ChangeKind, Level, Matrix
from astroctl.matrix.schema import build_matrix, to_document
from tests.factories import Document, build, document, line, release

# --- the real file -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> Matrix:
    from tests.factories import REAL_MATRIX

    return store.load(REAL_MATRIX)


def test_real_counts(real: Matrix) -> None:
    assert len(real.releases) == 119
    assert sorted(real.lines) == [4, 5, 6, 7, 8, 9, 10, 11]
    assert real.releases[0].name == "4.0.0"
    assert real.releases[-1].name == "11.8.0"


def test_real_releases_sorted_by_version_not_date(real: Matrix) -> None:
    assert list(real.releases) == sorted(real.releases, key=lambda r: r.version)
    by_name = {r.name: r for r in real.releases}
    # 9.10.1 shipped after 9.11.0 but sorts before it
    assert by_name["9.10.1"].released and by_name["9.11.0"].released
    assert by_name["9.10.1"].released > by_name["9.11.0"].released
    names = [r.name for r in real.releases]
    assert names.index("9.10.1") < names.index("9.11.0")


@pytest.mark.parametrize("version", ["6.0.0", "6.0.1", "6.0.2", "6.0.3"])
def test_real_early_six_is_amd64_only(real: Matrix, version: str) -> None:
    (found,) = [r for r in real.releases if r.name == version]
    assert found.architectures == ("amd64",)
    assert found.line.architectures == ("amd64", "arm64")


def test_real_multi_arch_from_6_0_4(real: Matrix) -> None:
    by_name = {r.name: r for r in real.releases}
    assert by_name["6.0.4"].architectures == ("amd64", "arm64")
    assert by_name["5.0.13"].architectures == ("amd64",)


def test_real_line_defaults_applied(real: Matrix) -> None:
    by_name = {r.name: r for r in real.releases}
    r920 = by_name["9.2.0"]
    assert r920.airflow == "2.7.2"
    assert r920.released == date(2023, 10, 12)
    assert r920.python == "3.11"
    assert r920.python_versions == ("3.8", "3.9", "3.10", "3.11")
    assert r920.os == "Debian 11.7 (bullseye)"
    assert r920.channel == "lts"
    assert r920.end_of_maintenance == date(2025, 1, 31)
    assert r920.yanked == "serious scheduler performance problems"
    assert by_name["11.8.0"].python_versions[-1] == "3.12"
    assert by_name["11.8.0"].os == "Debian 11.8 (bullseye)"
    assert by_name["8.10.0"].python == "3.10"


def test_real_slim_flavor(real: Matrix) -> None:
    line11 = real.releases_of(11)
    assert line11
    assert all("slim" in r.flavors for r in line11)
    assert all(not r.flavors for r in real.releases if r.major != 11)
    slim = line11[-1].flavors["slim"]
    assert slim
    assert set(slim) < set(line11[-1].packages)


def test_real_local_package_version(real: Matrix) -> None:
    (r850,) = [r for r in real.releases if r.name == "8.5.0"]
    assert r850.packages["apache-airflow-providers-cncf-kubernetes"] == "7.0.0+astro.2"


def test_real_package_facts_and_env(real: Matrix) -> None:
    assert real.facts("astronomer-providers").maintained
    assert real.facts("astronomer-providers-logging").index == "https://pip.astronomer.io/v2/"
    assert real.facts("not-listed").maintained is False
    assert real.env["AIRFLOW__CORE__PARALLELISM"].formula == "workers * max_tasks_per_worker"
    assert real.env["AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL"].value == "30"
    assert real.header.startswith("# Astro Runtime compatibility matrix")


def test_real_document_round_trip(real: Matrix) -> None:
    assert build_matrix(to_document(real), "again", real.header) == real


# --- a valid hand-made document, then one thing broken at a time ----------------------------


def base() -> Document:
    return document(
        release("9.1.0", "2.7.1", released=date(2023, 9, 1)),
        release(
            "9.2.0",
            "2.7.2",
            released=date(2023, 10, 12),
            packages={"apache-airflow-providers-amazon": "8.7.1", "astronomer-providers": "1.18.0"},
            flavors={"slim": {"packages": {"astronomer-providers": "1.18.0"}}},
        ),
        release("10.0.0", "2.8.0", released=date(2023, 12, 18)),
        lines={9: line(channel="lts"), 10: line()},
        image={"repository": "example.com/runtime", "floating_tags": True},
        upstream={"index_url": "http://127.0.0.1:8080/simple"},
        packages={"astronomer-providers": {"maintained": True, "runtime_only": True}},
        env={
            "AIRFLOW__CORE__PARALLELISM": {"formula": "workers * max_tasks_per_worker"},
            "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": {"value": "30", "description": "scan"},
        },
        policy={
            "default": {"added": "patch"},
            "packages": {"astronomer-providers": {"major": "minor"}},
        },
    )


def test_base_is_valid() -> None:
    m = build(base())
    assert [r.name for r in m.releases] == ["9.1.0", "9.2.0", "10.0.0"]
    assert m.image.floating_tags is True
    assert m.upstream.index_url == "http://127.0.0.1:8080/simple"
    assert m.policy.level_for("anything", ChangeKind("added")) is Level.PATCH
    assert m.policy.level_for("astronomer-providers", ChangeKind("major")) is Level.MINOR
    assert m.policy.level_for("astronomer-providers", ChangeKind("removed")) is Level.MAJOR
    assert m.releases[1].flavors == {"slim": {"astronomer-providers": "1.18.0"}}


def test_minimal_document_gets_defaults() -> None:
    m = build(document(release("9.0.0")))
    assert m.image.repository == "quay.io/astronomer/astro-runtime"
    assert m.image.floating_tags is False
    assert "{airflow}" in m.upstream.constraints_url
    assert m.policy.default == DEFAULT_POLICY
    assert m.env == {} and m.packages == {}
    assert m.releases[0].released is None and m.releases[0].yanked is None


def test_line_python_versions_default_to_the_default_python() -> None:
    nine = line()
    del nine["python_versions"]
    m = build(document(release("9.0.0"), lines={9: nine}))
    assert m.lines[9].python_versions == ("3.11",)


def test_release_overrides() -> None:
    m = build(
        document(
            release(
                "9.0.0",
                python="3.10",
                python_versions=["3.11", "3.10"],
                os="Debian 13",
                architectures=["arm64", "amd64"],
            ),
            release("9.1.0", architectures=["amd64"]),
        )
    )
    first, second = m.releases
    assert first.python == "3.10"
    assert first.python_versions == ("3.10", "3.11")
    assert first.os == "Debian 13"
    assert first.architectures == ("amd64", "arm64")
    assert second.architectures == ("amd64",)
    assert second.python == "3.11"


def test_line_without_releases_is_fine() -> None:
    m = build(document(release("9.0.0"), lines={9: line(), 12: line()}))
    assert sorted(m.lines) == [9, 12]
    assert m.releases_of(12) == ()


def test_local_airflow_version_shares_the_minor() -> None:
    m = build(document(release("9.0.0", "2.7.2"), release("9.0.1", "2.7.2+astro.1")))
    assert m.releases[1].airflow == "2.7.2+astro.1"


def violations_of(doc: Document) -> tuple[Violation, ...]:
    with pytest.raises(MatrixInvalid) as caught:
        build(doc)
    assert caught.value.exit_code == EXIT_USAGE
    assert caught.value.path == "test.toml"
    return caught.value.violations


Mutation = Callable[[Document], object]


def rel(doc: Document, index: int) -> Document:
    entry: Document = doc["releases"][index]
    return entry


# (id, mutation, where, key, words the message must contain)
BAD: list[tuple[str, Mutation, str, str, str]] = [
    ("schema missing", lambda d: d.pop("schema"), "top level", "schema", "schema = 1"),
    ("schema 2", lambda d: d.update(schema=2), "top level", "schema", "2 is not supported"),
    ("schema true", lambda d: d.update(schema=True), "top level", "schema", "not supported"),
    ("schema 1.0", lambda d: d.update(schema=1.0), "top level", "schema", "not supported"),
    ("schema '1'", lambda d: d.update(schema="1"), "top level", "schema", "not supported"),
    ("unknown top key", lambda d: d.update(releses=[]), "top level", "releses", "'releases'"),
    (
        "unknown key far from any",
        lambda d: d.update(zzz=1),
        "top level",
        "zzz",
        "known: schema",
    ),
    (
        "airflw",
        lambda d: rel(d, 0).update(airflw="2.7.1"),
        "release 9.1.0",
        "airflw",
        "did you mean 'airflow'",
    ),
    (
        "line key typo",
        lambda d: d["lines"]["9"].update(chanel="lts"),
        "line 9",
        "chanel",
        "did you mean 'channel'",
    ),
    (
        "image key typo",
        lambda d: d["image"].update(repositry="x"),
        "image",
        "repositry",
        "did you mean 'repository'",
    ),
    (
        "image repository empty",
        lambda d: d["image"].update(repository="  "),
        "image",
        "repository",
        "must not be empty",
    ),
    (
        "floating_tags not bool",
        lambda d: d["image"].update(floating_tags="yes"),
        "image",
        "floating_tags",
        "true or false",
    ),
    (
        "index_url not a url",
        lambda d: d["upstream"].update(index_url="pypi.org"),
        "upstream",
        "index_url",
        "not an http(s) or file URL",
    ),
    (
        "constraints_url placeholder",
        lambda d: d["upstream"].update(constraints_url="https://x/{airflow}.txt"),
        "upstream",
        "constraints_url",
        "must contain {python}",
    ),
    (
        "duplicate version",
        lambda d: d["releases"].append(release("9.2.0", "2.7.2")),
        "release 9.2.0",
        "version",
        "duplicate: releases #2 and #4",
    ),
    (
        "semver two parts",
        lambda d: rel(d, 0).update(version="9.1"),
        "release 9.1",
        "version",
        "not a semantic version",
    ),
    (
        "semver build metadata",
        lambda d: rel(d, 0).update(version="9.1.0+b1"),
        "release 9.1.0+b1",
        "version",
        "build metadata",
    ),
    (
        "version not a string",
        lambda d: rel(d, 0).update(version=9),
        "releases[0]",
        "version",
        "expected a string",
    ),
    (
        "version missing",
        lambda d: rel(d, 0).pop("version"),
        "releases[0]",
        "version",
        "missing",
    ),
    (
        "airflow missing",
        lambda d: rel(d, 0).pop("airflow"),
        "release 9.1.0",
        "airflow",
        "missing",
    ),
    (
        "airflow not pep440",
        lambda d: rel(d, 0).update(airflow="2.7.x"),
        "release 9.1.0",
        "airflow",
        "'2.7.x' is not a PEP 440 version",
    ),
    (
        "airflow with spaces",
        lambda d: rel(d, 0).update(airflow=" 2.7.1"),
        "release 9.1.0",
        "airflow",
        "not a PEP 440 version",
    ),
    (
        "package version not pep440",
        lambda d: rel(d, 1)["packages"].update({"astronomer-providers": "1.18.x"}),
        "release 9.2.0",
        "packages.astronomer-providers",
        "'1.18.x' is not a PEP 440 version",
    ),
    (
        "package version not a string",
        lambda d: rel(d, 1)["packages"].update({"astronomer-providers": 1.18}),
        "release 9.2.0",
        "packages.astronomer-providers",
        "expected a version string",
    ),
    (
        "package name not normalized",
        lambda d: rel(d, 1)["packages"].update({"Astronomer_Providers": "1.0"}),
        "release 9.2.0",
        "packages.Astronomer_Providers",
        "write 'astronomer-providers'",
    ),
    (
        "package name invalid",
        lambda d: rel(d, 1)["packages"].update({"-bad-": "1.0"}),
        "release 9.2.0",
        "packages.-bad-",
        "not a valid distribution name",
    ),
    (
        "released as a string",
        lambda d: rel(d, 0).update(released="2023-09-01"),
        "release 9.1.0",
        "released",
        "got a string '2023-09-01'",
    ),
    (
        "released as a datetime",
        lambda d: rel(d, 0).update(released=datetime(2023, 9, 1, 12, 0)),
        "release 9.1.0",
        "released",
        "got a date-time",
    ),
    (
        "yanked empty",
        lambda d: rel(d, 0).update(yanked=""),
        "release 9.1.0",
        "yanked",
        "must not be empty",
    ),
    (
        "yanked not a string",
        lambda d: rel(d, 0).update(yanked=True),
        "release 9.1.0",
        "yanked",
        "expected a string",
    ),
    (
        "line missing",
        lambda d: d["releases"].append(release("12.0.0", "2.12.0")),
        "release 12.0.0",
        "version",
        "line 12 is missing; add a [lines.12] table",
    ),
    (
        "airflow minor shared by two majors",
        lambda d: rel(d, 2).update(airflow="2.7.3"),
        "line 10",
        "airflow",
        "Airflow 2.7 is already the Airflow of line 9",
    ),
    (
        "two airflow minors in one major",
        lambda d: rel(d, 1).update(airflow="2.8.1"),
        "release 9.2.0",
        "airflow",
        "is Airflow 2.8, but line 9 ships Airflow 2.7 (from 9.1.0)",
    ),
    (
        "line default python not in python_versions",
        lambda d: d["lines"]["9"].update(python="3.12"),
        "line 9",
        "python",
        "default Python 3.12 is not among python_versions (3.10, 3.11)",
    ),
    (
        "line python_versions without the default",
        lambda d: d["lines"]["9"].update(python_versions=["3.8", "3.9"]),
        "line 9",
        "python",
        "default Python 3.11 is not among",
    ),
    (
        "release python override not in line python_versions",
        lambda d: rel(d, 0).update(python="3.12"),
        "release 9.1.0",
        "python",
        "default Python 3.12 is not among python_versions (3.10, 3.11)",
    ),
    (
        "release python_versions override without the default",
        lambda d: rel(d, 0).update(python_versions=["3.10"]),
        "release 9.1.0",
        "python_versions",
        "default Python 3.11 is not among python_versions (3.10)",
    ),
    (
        "python not a version",
        lambda d: d["lines"]["9"].update(python="3"),
        "line 9",
        "python",
        "'3' is not a Python version",
    ),
    (
        "python_versions entry not a version",
        lambda d: d["lines"]["9"].update(python_versions=["3.11", "py3.10"]),
        "line 9",
        "python_versions",
        "'py3.10' is not a Python version",
    ),
    (
        "python_versions duplicated",
        lambda d: d["lines"]["9"].update(python_versions=["3.11", "3.11"]),
        "line 9",
        "python_versions",
        "lists '3.11' twice",
    ),
    (
        "unknown architecture on a line",
        lambda d: d["lines"]["9"].update(architectures=["amd64", "s390x"]),
        "line 9",
        "architectures",
        "unknown architecture 's390x' (supported: amd64, arm64)",
    ),
    (
        "unknown architecture on a release",
        lambda d: rel(d, 0).update(architectures=["x86_64"]),
        "release 9.1.0",
        "architectures",
        "unknown architecture 'x86_64'",
    ),
    (
        "empty architectures",
        lambda d: rel(d, 0).update(architectures=[]),
        "release 9.1.0",
        "architectures",
        "must not be empty",
    ),
    (
        "architectures not a list",
        lambda d: d["lines"]["10"].update(architectures="amd64"),
        "line 10",
        "architectures",
        "expected an array of strings",
    ),
    (
        "line architectures missing",
        lambda d: d["lines"]["10"].pop("architectures"),
        "line 10",
        "architectures",
        "missing",
    ),
    (
        "bad channel",
        lambda d: d["lines"]["9"].update(channel="beta"),
        "line 9",
        "channel",
        "expected 'stable' or 'lts', got a string 'beta'",
    ),
    (
        "line end_of_maintenance missing",
        lambda d: d["lines"]["10"].pop("end_of_maintenance"),
        "line 10",
        "end_of_maintenance",
        "missing",
    ),
    (
        "line end_of_maintenance string",
        lambda d: d["lines"]["10"].update(end_of_maintenance="2024-06"),
        "line 10",
        "end_of_maintenance",
        "a TOML date",
    ),
    (
        "line os missing",
        lambda d: d["lines"]["10"].pop("os"),
        "line 10",
        "os",
        "missing",
    ),
    (
        "line not named by a major",
        lambda d: d["lines"].update({"nine": line()}),
        "line nine",
        "",
        "named by its major version",
    ),
    (
        "line with a leading zero",
        lambda d: d["lines"].update({"09": line()}),
        "line 09",
        "",
        "named by its major version",
    ),
    (
        "line not a table",
        lambda d: d["lines"].update({"11": "stable"}),
        "line 11",
        "",
        "expected a table",
    ),
    (
        "releases not tables",
        lambda d: d.update(releases=["9.1.0"]),
        "top level",
        "releases",
        "an array of tables",
    ),
    (
        "package facts name not normalized",
        lambda d: d["packages"].update({"Foo_Bar": {}}),
        "packages.Foo_Bar",
        "",
        "write 'foo-bar'",
    ),
    (
        "package facts unknown key",
        lambda d: d["packages"]["astronomer-providers"].update(maintaned=True),
        "packages.astronomer-providers",
        "maintaned",
        "did you mean 'maintained'",
    ),
    (
        "package facts flag not bool",
        lambda d: d["packages"]["astronomer-providers"].update(runtime_only="yes"),
        "packages.astronomer-providers",
        "runtime_only",
        "true or false",
    ),
    (
        "package facts index not a url",
        lambda d: d["packages"]["astronomer-providers"].update(index="pip.astronomer.io"),
        "packages.astronomer-providers",
        "index",
        "not an http(s) or file URL",
    ),
    (
        "package facts not a table",
        lambda d: d["packages"].update({"foo": "1.0"}),
        "packages.foo",
        "",
        "expected a table",
    ),
    (
        "env with value and formula",
        lambda d: d["env"].update(BOTH={"value": "1", "formula": "workers"}),
        "env.BOTH",
        "",
        "has 'value' and 'formula'; keep one",
    ),
    (
        "env with neither",
        lambda d: d["env"].update(NEITHER={"description": "nothing"}),
        "env.NEITHER",
        "",
        "needs exactly one of 'value' (baked into the image), 'formula'",
    ),
    (
        "env with value and default",
        lambda d: d["env"].update(BOTH={"value": "1", "default": "*/5 * * * *"}),
        "env.BOTH",
        "",
        "has 'value' and 'default'; keep one",
    ),
    (
        "env formula unknown variable",
        lambda d: d["env"].update(BAD={"formula": "workers * schedulers"}),
        "env.BAD",
        "formula",
        "unknown variable 'schedulers'",
    ),
    (
        "env formula garbage",
        lambda d: d["env"].update(BAD={"formula": "workers **"}),
        "env.BAD",
        "formula",
        "'workers **'",
    ),
    (
        "env value not a string",
        lambda d: d["env"].update(NUM={"value": 30}),
        "env.NUM",
        "value",
        "expected a string, got an integer 30",
    ),
    (
        "env description not a string",
        lambda d: d["env"].update(DESC={"value": "1", "description": 3}),
        "env.DESC",
        "description",
        "expected a string",
    ),
    (
        "env unknown key",
        lambda d: d["env"].update(X={"value": "1", "descripton": ""}),
        "env.X",
        "descripton",
        "did you mean 'description'",
    ),
    (
        "env not a table",
        lambda d: d["env"].update(PLAIN="30"),
        "env.PLAIN",
        "",
        "expected a table, got a string",
    ),
    (
        "env non-ascii name",
        lambda d: d["env"].update({"ÉTAT": {"value": "1"}}),
        "env.ÉTAT",
        "",
        "not a valid environment variable name",
    ),
    (
        "env bad name",
        lambda d: d["env"].update({"1ABC": {"value": "1"}}),
        "env.1ABC",
        "",
        "not a valid environment variable name",
    ),
    (
        "env name with a dash",
        lambda d: d["env"].update({"MY-VAR": {"value": "1"}}),
        "env.MY-VAR",
        "",
        "not a valid environment variable name",
    ),
    (
        "policy bad level",
        lambda d: d["policy"]["default"].update(added="huge"),
        "policy.default",
        "added",
        "one of patch, minor, major",
    ),
    (
        "policy unknown change",
        lambda d: d["policy"]["default"].update(addded="minor"),
        "policy.default",
        "addded",
        "did you mean 'added'",
    ),
    (
        "policy unknown section",
        lambda d: d["policy"].update(defaults={}),
        "policy",
        "defaults",
        "did you mean 'default'",
    ),
    (
        "policy package not normalized",
        lambda d: d["policy"]["packages"].update({"Foo.Bar": {"added": "major"}}),
        "policy.packages.Foo.Bar",
        "",
        "write 'foo-bar'",
    ),
    (
        "policy package bad level",
        lambda d: d["policy"]["packages"]["astronomer-providers"].update(minor=3),
        "policy.packages.astronomer-providers",
        "minor",
        "one of patch, minor, major",
    ),
    (
        "policy package not a table",
        lambda d: d["policy"]["packages"].update({"foo": "major"}),
        "policy.packages.foo",
        "",
        "expected a table",
    ),
    (
        "flavor pin not pep440",
        lambda d: rel(d, 1)["flavors"]["slim"]["packages"].update({"astronomer-providers": "x"}),
        "release 9.2.0",
        "flavors.slim.packages.astronomer-providers",
        "'x' is not a PEP 440 version",
    ),
    (
        "flavor pin name not normalized",
        lambda d: rel(d, 1)["flavors"]["slim"]["packages"].update({"Foo_Bar": "1.0"}),
        "release 9.2.0",
        "flavors.slim.packages.Foo_Bar",
        "write 'foo-bar'",
    ),
    (
        "flavor unknown key",
        lambda d: rel(d, 1)["flavors"]["slim"].update(pakages={}),
        "release 9.2.0",
        "flavors.slim.pakages",
        "unknown key",
    ),
    (
        "flavor bad name",
        lambda d: rel(d, 1)["flavors"].update({"Slim": {"packages": {}}}),
        "release 9.2.0",
        "flavors.Slim",
        "lowercase",
    ),
    (
        "flavor not a table",
        lambda d: rel(d, 1)["flavors"].update(slim="yes"),
        "release 9.2.0",
        "flavors.slim",
        "expected a table",
    ),
    (
        "packages not a table",
        lambda d: rel(d, 0).update(packages=["foo==1.0"]),
        "release 9.1.0",
        "packages",
        "expected a table",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "where", "key", "words"),
    [pytest.param(m, w, k, t, id=i) for i, m, w, k, t in BAD],
)
def test_one_violation(mutate: Mutation, where: str, key: str, words: str) -> None:
    doc = base()
    mutate(doc)
    (violation,) = violations_of(doc)
    assert violation.where == where
    assert violation.key == key
    assert words in violation.message
    text = str(violation)
    assert text.startswith(f"{where}: {key}: " if key else f"{where}: ")


def test_base_is_not_mutated_between_cases() -> None:
    first, second = base(), base()
    rel(first, 0).update(version="x")
    assert rel(second, 0)["version"] == "9.1.0"


def test_all_violations_reported_at_once() -> None:
    doc = base()
    rel(doc, 0).update(airflw="2.7.1")
    d9 = doc["lines"]["9"]
    d9.update(architectures=["sparc"])
    rel(doc, 1)["packages"].update({"Foo_Bar": "1.0"})
    doc["env"].update(BAD={"formula": "nope"})
    with pytest.raises(MatrixInvalid) as caught:
        build(doc)
    error = caught.value
    located = {(v.where, v.key) for v in error.violations}
    assert located == {
        ("release 9.1.0", "airflw"),
        ("line 9", "architectures"),
        ("release 9.2.0", "packages.Foo_Bar"),
        ("env.BAD", "formula"),
    }
    assert error.exit_code == 2
    lines = error.message.splitlines()
    assert lines[0] == "test.toml: 4 problems"
    assert len(lines) == 5
    assert all(line.startswith("  ") for line in lines[1:])


def test_three_problems_three_violations() -> None:
    doc = base()
    doc.pop("schema")
    rel(doc, 0).update(version="9.1")
    doc["lines"]["10"].update(channel="edge")
    with pytest.raises(MatrixInvalid) as caught:
        build(doc)
    assert len(caught.value.violations) == 3
    assert caught.value.message.startswith("test.toml: 3 problems\n")


def test_single_problem_message() -> None:
    doc = base()
    doc["lines"]["10"].update(channel="edge")
    with pytest.raises(MatrixInvalid) as caught:
        build(doc)
    assert caught.value.message.splitlines() == [
        "test.toml: 1 problem",
        "  line 10: channel: expected 'stable' or 'lts', got a string 'edge'",
    ]


def test_every_bad_release_reported_not_just_the_first() -> None:
    doc = base()
    for entry in doc["releases"]:
        entry["airflow"] = "bad"
    wheres = [v.where for v in violations_of(doc)]
    assert wheres == ["release 9.1.0", "release 9.2.0", "release 10.0.0"]


def test_same_bad_pin_reported_in_every_release() -> None:
    doc = base()
    rel(doc, 0)["packages"] = {"Foo_Bar": "1.0"}
    rel(doc, 2)["packages"] = {"Foo_Bar": "1.0"}
    wheres = [(v.where, v.key) for v in violations_of(doc)]
    assert wheres == [
        ("release 9.1.0", "packages.Foo_Bar"),
        ("release 10.0.0", "packages.Foo_Bar"),
    ]


def test_release_of_an_invalid_line_is_not_blamed_for_the_line() -> None:
    doc = base()
    doc["lines"]["10"]["channel"] = "edge"
    # the release of line 10 is not reported as missing its line
    located = [(v.where, v.key) for v in violations_of(doc)]
    assert located == [("line 10", "channel")]


def test_malformed_toml_names_the_line() -> None:
    text = "schema = 1\n\n[image\nrepository = 'x'\n"
    with pytest.raises(MatrixInvalid) as caught:
        store.loads(text, "broken.toml")
    (violation,) = caught.value.violations
    assert violation.where == "TOML syntax"
    assert "line 3" in violation.message
    assert caught.value.message.startswith("broken.toml: 1 problem")
    assert caught.value.exit_code == 2


def test_duplicate_toml_key_is_a_syntax_error() -> None:
    with pytest.raises(MatrixInvalid, match="line 2"):
        store.loads("schema = 1\nschema = 1\n", "dup.toml")


SMALL_TOML = """\
schema = 1

[lines.9]
channel = "lts"
end_of_maintenance = 2025-01-31
python = "3.11"
os = "Debian 11.3 (bullseye)"
architectures = ["amd64", "arm64"]

[[releases]]
version = "9.2.0"
airflow = "2.7.2"
released = {released}
"""


def test_small_toml_text_is_valid() -> None:
    m = store.loads(SMALL_TOML.format(released="2023-10-12"), "ok.toml")
    assert m.releases[0].released == date(2023, 10, 12)


@pytest.mark.parametrize(
    ("released", "words"),
    [
        ("2023-10-12T10:00:00", "got a date-time"),
        ("2023-10-12T10:00:00Z", "got a date-time"),
        ('"2023-10-12"', "(unquoted), got a string '2023-10-12'"),
        ("10:00:00", "got a time"),
        ("20231012", "got an integer"),
    ],
)
def test_released_must_be_a_toml_date(released: str, words: str) -> None:
    with pytest.raises(MatrixInvalid) as caught:
        store.loads(SMALL_TOML.format(released=released), "dates.toml")
    (violation,) = caught.value.violations
    assert (violation.where, violation.key) == ("release 9.2.0", "released")
    assert words in violation.message


def test_formula_dividing_by_an_expression_that_can_be_zero_is_valid() -> None:
    """Validation checks a formula's grammar; it must not evaluate it with made-up inputs."""
    doc = document(
        release("9.0.0"),
        env={"X": {"formula": "workers / (max_tasks_per_worker - 1)"}},
    )
    assert build(doc).env["X"].formula == "workers / (max_tasks_per_worker - 1)"


def test_policy_levels_are_overridable_per_change() -> None:
    doc = document(
        release("9.0.0"),
        policy={"default": dict.fromkeys(DEFAULT_PACKAGE_POLICY, "patch")},
    )
    policy = build(doc).policy
    assert all(policy.level_for("x", change) is Level.PATCH for change in DEFAULT_PACKAGE_POLICY)


def test_to_document_factors_out_line_defaults() -> None:
    doc = document(
        release("9.0.0", architectures=["amd64", "arm64"], python="3.11"),
        release("9.1.0", architectures=["amd64"], python="3.10"),
    )
    out = to_document(build(doc))
    first, second = out["releases"]
    assert "architectures" not in first and "python" not in first
    assert second["architectures"] == ["amd64"]
    assert second["python"] == "3.10"


def test_to_document_is_sorted_and_rebuilds_equal() -> None:
    doc = base()
    doc["releases"].reverse()
    rel(doc, 1)["packages"] = {"zeta": "1", "alpha": "2"}
    m = build(doc)
    out = to_document(m)
    assert [r["version"] for r in out["releases"]] == ["9.1.0", "9.2.0", "10.0.0"]
    assert list(out["releases"][1]["packages"]) == ["alpha", "zeta"]
    assert list(out["lines"]) == ["9", "10"]
    assert out["policy"] == {
        "default": {"added": "patch"},
        "packages": {"astronomer-providers": {"major": "minor"}},
    }
    assert build(copy.deepcopy(out)) == m


def test_duplicate_reported_even_when_the_duplicate_has_other_problems() -> None:
    doc = base()
    doc["releases"].append(release("9.2.0", "not-a-version"))
    located = sorted((v.where, v.key) for v in violations_of(doc))
    assert located == [("release 9.2.0", "airflow"), ("release 9.2.0", "version")]


def test_levels_are_ordered() -> None:
    assert Level.PATCH.rank < Level.MINOR.rank < Level.MAJOR.rank


# --- every problem at once: parity judged on what can be read ------------------------------------


# Problems in a release that used to hide its parity violation: (id, mutation of release #1).
OTHER_PROBLEMS: list[tuple[str, Mutation, str]] = [
    ("released a string", lambda r: r.update(released="2023-10-12"), "released"),
    ("unknown key", lambda r: r.update(airflw="2.8.1"), "airflw"),
    ("bad pin", lambda r: r["packages"].update({"Foo_Bar": "1.0"}), "packages.Foo_Bar"),
    ("bad python", lambda r: r.update(python="3"), "python"),
    ("yanked empty", lambda r: r.update(yanked=""), "yanked"),
    ("bad architecture", lambda r: r.update(architectures=["sparc"]), "architectures"),
]


@pytest.mark.parametrize(
    ("mutate", "key"), [pytest.param(m, k, id=i) for i, m, k in OTHER_PROBLEMS]
)
def test_parity_is_judged_even_when_the_release_has_other_problems(
    mutate: Mutation, key: str
) -> None:
    doc = base()
    rel(doc, 1).update(airflow="2.8.1")  # line 9 ships 2.7 (from 9.1.0)
    mutate(rel(doc, 1))
    located = [(v.where, v.key) for v in violations_of(doc)]
    assert located == [("release 9.2.0", key), ("release 9.2.0", "airflow")]


def test_parity_between_lines_is_judged_when_the_release_has_other_problems() -> None:
    doc = base()
    rel(doc, 2).update(airflow="2.7.3", released="2023-12-18")
    located = [(v.where, v.key) for v in violations_of(doc)]
    assert located == [("release 10.0.0", "released"), ("line 10", "airflow")]


def test_a_release_with_an_unreadable_airflow_is_left_out_of_parity() -> None:
    doc = base()
    rel(doc, 0).update(airflow="2.7.x")
    (violation,) = violations_of(doc)
    assert (violation.where, violation.key) == ("release 9.1.0", "airflow")


# --- release, line and file line of each violation ---------------------------------------------


def test_violations_carry_their_release_and_line() -> None:
    doc = base()
    rel(doc, 1).update(yanked="")
    doc["lines"]["10"].update(channel="edge")
    doc["image"].update(repositry="x")
    rel(doc, 2).update(airflow="2.7.3")
    found = {(v.where, v.key): (v.release, v.line) for v in violations_of(doc)}
    assert found == {
        ("image", "repositry"): (None, None),
        ("line 10", "channel"): (None, 10),
        ("release 9.2.0", "yanked"): ("9.2.0", 9),
        ("line 10", "airflow"): (None, 10),
    }


def test_a_bad_version_names_its_release_but_no_line() -> None:
    doc = base()
    rel(doc, 0).update(version="9.1")
    (violation,) = violations_of(doc)
    assert (violation.release, violation.line) == ("9.1", None)


def test_without_the_text_no_file_line() -> None:
    doc = base()
    rel(doc, 0).update(yanked="")
    (violation,) = violations_of(doc)
    assert violation.file_line is None


LOCATED_TOML = """\
# header
schema = 1

[lines.9]
channel = "lts"
end_of_maintenance = 2025-01-31
python = "3.11"
os = "Debian"
architectures = ["amd64"]

[lines.10]
channel = "beta"
end_of_maintenance = 2026-01-31
python = "3.11"
os = "Debian"
architectures = ["amd64"]

[[releases]]
version = "9.1.0"
airflow = "2.7.1"

[[releases]]
version = "9.2.0"
airflow = "2.8.0"
released = "2023-10-12"

[releases.packages]
"apache-airflow-providers-http" = "4.1.0"
Foo_Bar = "1.0"

[[releases]]
version = "9.1.0"
airflow = "2.7.1"

[env.X]
formula = "workers **"
"""


def test_file_lines_of_releases_keys_lines_and_tables() -> None:
    with pytest.raises(MatrixInvalid) as caught:
        store.loads(LOCATED_TOML, "located.toml")
    found = {(v.where, v.key): v.file_line for v in caught.value.violations}
    assert found == {
        ("env.X", "formula"): 36,
        ("line 10", "channel"): 12,
        ("release 9.1.0", "version"): 32,  # the duplicate, at its own entry
        ("release 9.2.0", "released"): 25,
        ("release 9.2.0", "packages.Foo_Bar"): 29,
        ("release 9.2.0", "airflow"): 24,  # the parity of line 9
    }
    assert "(file line 25)" in caught.value.message


def test_file_line_of_a_key_without_a_line_of_its_own_is_its_table() -> None:
    text = LOCATED_TOML.replace('airflow = "2.8.0"', 'airflow = "2.7.2"').replace(
        "Foo_Bar", "[releases.flavors.slim]\nzzz"
    )
    with pytest.raises(MatrixInvalid) as caught:
        store.loads(text, "t.toml")
    found = {(v.where, v.key): v.file_line for v in caught.value.violations}
    assert found == {
        ("release 9.2.0", "released"): 25,
        ("release 9.2.0", "flavors.slim.zzz"): 30,
        ("line 10", "channel"): 12,
        ("release 9.1.0", "version"): 33,
        ("env.X", "formula"): 37,
    }
    bad_name = text.replace("flavors.slim", "flavors.Slim")
    with pytest.raises(MatrixInvalid) as caught:
        store.loads(bad_name, "t.toml")
    found = {(v.where, v.key): v.file_line for v in caught.value.violations}
    assert found[("release 9.2.0", "flavors.Slim")] == 29  # no line of its own: its header


def test_file_line_of_a_missing_key_is_its_table_header() -> None:
    text = LOCATED_TOML.replace(
        'os = "Debian"\narchitectures = ["amd64"]\n\n[lines.10]', "[lines.10]"
    )
    with pytest.raises(MatrixInvalid) as caught:
        store.loads(text, "t.toml")
    found = {(v.where, v.key): v.file_line for v in caught.value.violations}
    assert found[("line 9", "os")] == 4
    assert found[("line 9", "architectures")] == 4


def test_file_lines_are_worked_out_only_when_there_are_violations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from astroctl.matrix import checker

    def refuse(text: str) -> None:
        raise AssertionError("a valid matrix must not pay for file lines")

    monkeypatch.setattr(checker, "SourceMap", refuse)
    assert store.loads(SMALL_TOML.format(released="2023-10-12"), "ok.toml").releases


def test_syntax_error_has_its_file_line() -> None:
    with pytest.raises(MatrixInvalid) as caught:
        store.loads("schema = 1\n\n[image\nrepository = 'x'\n", "broken.toml")
    (violation,) = caught.value.violations
    assert violation.file_line == 3


# --- hostile values: a violation, never a crash, never a silent reading --------------------------


def test_a_line_named_with_other_digits_is_not_that_line() -> None:
    """int('٩') == 9: the look-alike must not silently define or override line 9."""
    doc = document(release("9.0.0"), lines={9: line()})
    doc["lines"]["\u0669"] = line(channel="lts")
    located = [(v.where, v.message) for v in violations_of(doc)]
    assert located == [
        ("line \u0669", "a line is named by its major version in ASCII digits, e.g. [lines.9]")
    ]


def test_a_line_named_with_other_digits_does_not_stand_in_for_a_missing_line() -> None:
    doc = document(release("9.0.0"), lines={})
    doc["lines"]["\u0669"] = line()
    located = [(v.where, v.key) for v in violations_of(doc)]
    assert located == [("line \u0669", ""), ("release 9.0.0", "version")]


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("\u00b2", "named by its major version"),
        ("\u2460", "named by its major version"),
        ("\uff19", "named by its major version"),
        ("9" * 5000, "at most 18 digits"),
        ("9" * 19, "at most 18 digits"),
    ],
)
def test_line_keys_that_int_would_refuse_or_misread(key: str, words: str) -> None:
    doc = document(release("9.0.0"))
    doc["lines"][key] = line()
    (violation,) = violations_of(doc)
    assert words in violation.message
    assert len(str(violation)) < 300


@pytest.mark.parametrize(
    ("mutate", "key", "words"),
    [
        (lambda d: rel(d, 0).update(version="9" * 5000 + ".0.0"), "version", "18 digits"),
        (lambda d: rel(d, 0).update(version="9.1.0-" + "9" * 5000), "version", "18 digits"),
        (lambda d: rel(d, 0).update(airflow="2." + "9" * 5000), "airflow", "18 digits"),
        (lambda d: rel(d, 2).update(airflow="9" * 5000 + ".1"), "airflow", "18 digits"),
        (
            lambda d: rel(d, 1)["packages"].update({"astronomer-providers": "1." + "9" * 30}),
            "packages.astronomer-providers",
            "18 digits",
        ),
        (lambda d: d["lines"]["9"].update(python="3." + "9" * 5000), "python", "Python version"),
        (
            lambda d: d["lines"]["9"].update(python_versions=["3.11", "3." + "9" * 5000]),
            "python_versions",
            "Python version",
        ),
        (lambda d: d["env"].update(X={"formula": "9" * 5000}), "formula", "at most 500"),
        (lambda d: d["env"].update(X={"formula": "9" * 40}), "formula", "at most 18"),
        (lambda d: d["env"].update(X={"formula": "(" * 5000 + ")" * 5000}), "formula", "500"),
        (lambda d: d["env"].update(X={"formula": "(" * 40 + "1" + ")" * 40}), "formula", "nests"),
        (lambda d: d["env"].update(X={"formula": "- " * 40 + "1"}), "formula", "nests"),
        (lambda d: d["env"].update(X={"formula": "workers * \u0663"}), "formula", "unexpected"),
    ],
    ids=[
        "version major",
        "version prerelease",
        "airflow minor",
        "airflow major",
        "package pin",
        "python",
        "python_versions",
        "formula number",
        "formula 40 digits",
        "formula length",
        "formula nesting",
        "formula minus chain",
        "formula arabic digit",
    ],
)
def test_numbers_past_the_digit_bound_are_violations(
    mutate: Mutation, key: str, words: str
) -> None:
    doc = base()
    mutate(doc)
    (violation,) = violations_of(doc)
    assert violation.key == key
    assert words in violation.message
    assert len(str(violation)) < 400


def test_18_digit_numbers_are_still_numbers() -> None:
    big = "9" * 18
    doc = document(release(f"{big}.0.0", "2.7.2"), lines={int(big): line(python="3.11")})
    assert build(doc).releases[0].major == int(big)


@pytest.mark.parametrize(
    "value",
    [
        10**5000,
        -(10**400),
        float("nan"),
        float("-inf"),
        [[[[[[[[[[["deep"]]]]]]]]]]],
        {"a": {"b": {"c": {"d": {"e": 1}}}}},
        datetime(2023, 10, 12, 10, 0, tzinfo=timezone(timedelta(hours=2))),
    ],
    ids=["huge int", "huge negative", "nan", "-inf", "deep array", "deep table", "offset"],
)
def test_any_value_where_a_string_belongs_is_a_short_violation(value: object) -> None:
    doc = base()
    rel(doc, 0).update(yanked=value)
    doc["image"].update(repository=value)
    doc.update(schema=value)
    violations = violations_of(doc)
    assert [(v.where, v.key) for v in violations] == [
        ("top level", "schema"),
        ("image", "repository"),
        ("release 9.1.0", "yanked"),
    ]
    assert all(len(str(v)) < 250 for v in violations)


def test_a_very_deep_value_is_shown_without_recursing() -> None:
    deep: list[object] = []
    for _ in range(10_000):
        deep = [deep]
    doc = base()
    rel(doc, 0).update(yanked=deep)
    (violation,) = violations_of(doc)
    assert "expected a string, got an array" in violation.message


def test_offset_date_time_is_shown_as_in_toml() -> None:
    doc = base()
    rel(doc, 0).update(released=datetime(2023, 10, 12, 10, 0, tzinfo=timezone(timedelta(hours=2))))
    (violation,) = violations_of(doc)
    assert violation.message.endswith("got a date-time 2023-10-12T10:00:00+02:00")


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("a\x1b[31mb", "a\\x1b[31mb"),
        ("\x00", "\\x00"),
        ("line\nbreak", "line\\nbreak"),
        ("\u202eevil", "\\u202eevil"),
    ],
)
def test_keys_with_control_characters_are_escaped(key: str, shown: str) -> None:
    doc = base()
    rel(doc, 0)[key] = 1
    doc["env"][key] = {"value": "1"}
    rel(doc, 1)["packages"][key] = "1.0"
    found = [(v.where, v.key) for v in violations_of(doc)]
    assert found == [
        (f"env.{shown}", ""),
        ("release 9.1.0", shown),
        ("release 9.2.0", f"packages.{shown}"),
    ]


def test_a_long_unknown_key_is_cut_short() -> None:
    doc = base()
    rel(doc, 0)["k" * 100_000] = 1
    (violation,) = violations_of(doc)
    assert violation.key == "k" * 60 + "... (100000 characters)"
    assert len(str(violation)) < 300


@pytest.mark.parametrize(
    ("literal", "words"),
    [
        ("nan", "got a float nan"),
        ("-inf", "got a float -inf"),
        ("1979-05-27T07:32:00-08:00", "got a date-time 1979-05-27T07:32:00-08:00"),
        ("9223372036854775807", "got an integer 9223372036854775807"),
        ("[[[[[[[[[[1]]]]]]]]]]", "got an array [[[[...]]]]"),
        ("{ a = { b = 1 } }", "got a table {'a': {'b': 1}}"),
    ],
)
def test_odd_toml_values_are_violations(literal: str, words: str) -> None:
    with pytest.raises(MatrixInvalid) as caught:
        store.loads(SMALL_TOML.format(released="2023-10-12") + f"yanked = {literal}\n", "odd.toml")
    (violation,) = caught.value.violations
    assert (violation.where, violation.key) == ("release 9.2.0", "yanked")
    assert words in violation.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("schema = " + "9" * 50 + "\n", 1),
        ("schema = 1\nx = [" + "[" * 300 + "]" * 301 + "\n", 2),
        ('schema = 1\n"\\ud800" = 1\n', 2),
        ("schema = 1\n\nreleased = 2024-02-30\n", 3),
    ],
    ids=["int overflow", "deep nesting", "escaped surrogate", "bad date"],
)
def test_toml_the_parser_refuses_is_a_syntax_violation_with_its_line(text: str, line: int) -> None:
    with pytest.raises(MatrixInvalid) as caught:
        store.loads(text, "odd.toml")
    (violation,) = caught.value.violations
    assert violation.where == "TOML syntax"
    assert violation.file_line == line


def test_a_lone_surrogate_in_the_text_is_a_violation() -> None:
    with pytest.raises(MatrixInvalid) as caught:
        store.loads('schema = 1\nyanked = "\ud800"\n', "odd.toml")
    (violation,) = caught.value.violations
    assert violation.message == "not Unicode text: a lone surrogate at line 2"
    assert violation.file_line == 2
