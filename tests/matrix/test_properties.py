"""Property tests: version order, release order, selectors and the matrix round trip."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from astroctl.errors import MatrixInvalid, SelectorError
from astroctl.matrix import store
from astroctl.matrix.model import ARCHITECTURES, CHANNELS, DEFAULT_PACKAGE_POLICY, Level
from astroctl.matrix.schema import to_document
from astroctl.matrix.selectors import select
from astroctl.versions import parse_runtime
from tests.factories import Document, build, document, line, release

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- semver precedence, from the spec (semver.org, item 11), not from the library ----------------

numeric_id = st.integers(min_value=0, max_value=200).map(str)
alnum_id = st.from_regex(r"[0-9A-Za-z-]{0,3}[A-Za-z-][0-9A-Za-z-]{0,3}", fullmatch=True)
prerelease = st.lists(st.one_of(numeric_id, alnum_id), min_size=1, max_size=3).map(".".join)
small = st.integers(min_value=0, max_value=12)


@st.composite
def runtime_versions(draw: st.DrawFn, *, allow_prerelease: bool = True) -> str:
    core = f"{draw(small)}.{draw(small)}.{draw(small)}"
    if allow_prerelease and draw(st.booleans()):
        return f"{core}-{draw(prerelease)}"
    return core


def precedence(text: str) -> tuple[Any, ...]:
    """A sort key that implements semver precedence literally."""
    core, _, pre = text.partition("-")
    major, minor, patch = (int(part) for part in core.split("."))
    if not pre:
        return (major, minor, patch, (1,))
    identifiers = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split(".")
    )
    return (major, minor, patch, (0, identifiers))


@PROPERTY
@given(runtime_versions(), runtime_versions())
def test_runtime_order_is_semver_precedence(a: str, b: str) -> None:
    va, vb = parse_runtime(a), parse_runtime(b)
    assert (va < vb) == (precedence(a) < precedence(b))
    assert (va == vb) == (precedence(a) == precedence(b))
    assert (va > vb) == (precedence(a) > precedence(b))


@PROPERTY
@given(runtime_versions(allow_prerelease=False), prerelease)
def test_prerelease_sorts_before_its_final(final: str, pre: str) -> None:
    assert parse_runtime(f"{final}-{pre}") < parse_runtime(final)


@PROPERTY
@given(st.lists(runtime_versions(), min_size=1, max_size=12, unique=True))
def test_sorting_versions_matches_precedence(texts: list[str]) -> None:
    by_library = [str(v) for v in sorted(parse_runtime(t) for t in texts)]
    assert by_library == sorted(texts, key=precedence)


# --- release order: by version, never by date ---------------------------------------------------

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


@PROPERTY
@given(
    st.lists(
        st.tuples(runtime_versions(), st.one_of(st.none(), days)),
        min_size=1,
        max_size=12,
        unique_by=lambda pair: pair[0],
    )
)
def test_releases_sorted_by_version_not_date(entries: list[tuple[str, date | None]]) -> None:
    releases = [release(v) if day is None else release(v, released=day) for v, day in entries]
    m = build(document(*releases))
    assert [r.name for r in m.releases] == sorted((v for v, _ in entries), key=precedence)
    assert {r.name: r.released for r in m.releases} == dict(entries)


# --- selectors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    version: str
    yanked: bool


@st.composite
def selector_matrices(draw: st.DrawFn) -> list[Entry]:
    digit = st.integers(min_value=0, max_value=3)
    versions = draw(
        st.lists(
            st.builds(
                lambda a, b, c, rc: f"{a}.{b}.{c}" + (f"-rc.{rc}" if rc else ""),
                st.integers(min_value=1, max_value=3),
                digit,
                digit,
                st.sampled_from([0, 0, 1, 2]),
            ),
            min_size=1,
            max_size=15,
            unique=True,
        )
    )
    return [Entry(v, draw(st.booleans())) for v in versions]


def expected(entries: list[Entry], scope: list[int]) -> tuple[str, bool] | None:
    """The version a prefix should pick and whether it warns; None when nothing may match."""
    finals = [
        e
        for e in entries
        if "-" not in e.version and [int(p) for p in e.version.split(".")][: len(scope)] == scope
    ]
    good = [e for e in finals if not e.yanked]
    pool = good or finals
    if not pool:
        return None
    best = max(pool, key=lambda e: precedence(e.version))
    return best.version, not good


def matrix_of(entries: list[Entry]) -> Any:
    return build(
        document(*(release(e.version, **({"yanked": "bad"} if e.yanked else {})) for e in entries))
    )


@PROPERTY
@given(
    selector_matrices(),
    st.integers(min_value=1, max_value=4),
    st.one_of(st.none(), st.integers(min_value=0, max_value=4)),
)
def test_prefix_selects_highest_good_final(
    entries: list[Entry], major: int, minor: int | None
) -> None:
    m = matrix_of(entries)
    scope = [major] if minor is None else [major, minor]
    selector = ".".join(map(str, scope))
    want = expected(entries, scope)
    if want is None:
        with pytest.raises(SelectorError):
            select(m, selector)
        return
    selection = select(m, selector)
    assert selection.release.name == want[0]
    assert not selection.release.is_prerelease
    assert (selection.warning is not None) == want[1]


@PROPERTY
@given(selector_matrices())
def test_latest_selects_highest_good_final(entries: list[Entry]) -> None:
    m = matrix_of(entries)
    finals = [e for e in entries if "-" not in e.version]
    if not finals:
        with pytest.raises(SelectorError):
            select(m, "latest")
        return
    good = [e for e in finals if not e.yanked]
    best = max(good or finals, key=lambda e: precedence(e.version))
    selection = select(m, "latest")
    assert selection.release.name == best.version
    assert (selection.warning is not None) == (not good)


@PROPERTY
@given(selector_matrices(), st.data())
def test_exact_selects_exactly(entries: list[Entry], data: st.DataObject) -> None:
    m = matrix_of(entries)
    chosen = data.draw(st.sampled_from(entries))
    selection = select(m, chosen.version)
    assert selection.release.name == chosen.version
    assert (selection.warning is not None) == chosen.yanked


# --- the matrix round trip -------------------------------------------------------------------

PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12")
text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20).filter(
    lambda s: bool(s.strip())
)
# What a TOML comment may hold (no control characters): the header is a block of comments.
comment = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=20)
# Cheap builders rather than from_regex: generation dominates these tests' run time.
names = st.lists(st.text("abz019", min_size=1, max_size=4), min_size=1, max_size=3).map("-".join)
env_names = st.builds(
    lambda head, tail: head + tail,
    st.sampled_from("AZaz_"),
    st.text("AZaz09_", max_size=8),
)
pep440 = st.builds(
    lambda a, b, c, suffix: f"{a}.{b}.{c}{suffix}",
    small,
    small,
    small,
    st.sampled_from(["", "rc1", ".post1", ".dev2", "+astro.1", "a1", "-1", "RC2"]),
)
pins = st.dictionaries(names, pep440, max_size=3)
urls = st.builds(lambda scheme, rest: scheme + rest, st.sampled_from(["https://", "http://"]), text)
levels = st.sampled_from([level.value for level in Level])
level_tables = st.dictionaries(st.sampled_from(list(DEFAULT_PACKAGE_POLICY)), levels, max_size=3)


@st.composite
def platforms(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    pythons = draw(st.lists(st.sampled_from(PYTHONS), min_size=1, max_size=5, unique=True))
    default = draw(st.sampled_from(pythons))
    archs = draw(st.lists(st.sampled_from(ARCHITECTURES), min_size=1, max_size=2, unique=True))
    return default, pythons, archs


@st.composite
def lines_strategy(draw: st.DrawFn, majors: list[int]) -> dict[int, Document]:
    out: dict[int, Document] = {}
    for major in majors:
        python, pythons, archs = draw(platforms())
        out[major] = line(
            channel=draw(st.sampled_from(CHANNELS)),
            end_of_maintenance=draw(days),
            python=python,
            python_versions=pythons,
            os=draw(text),
            architectures=archs,
        )
    return out


@st.composite
def release_strategy(draw: st.DrawFn, major: int, minor: int, patch: int) -> Document:
    version = f"{major}.{minor}.{patch}" + draw(st.sampled_from(["", "", "-rc.1", "-beta.2"]))
    airflow = f"2.{major}.{draw(small)}" + draw(st.sampled_from(["", "", "+astro.1", "rc1"]))
    fields: Document = {}
    if draw(st.booleans()):
        fields["released"] = draw(days)
    if draw(st.booleans()):
        fields["yanked"] = draw(text)
    if draw(st.booleans()):
        python, pythons, archs = draw(platforms())
        fields.update(python=python, python_versions=pythons, architectures=archs)
    if draw(st.booleans()):
        fields["os"] = draw(text)
    packages = draw(pins)
    if packages:
        fields["packages"] = packages
    flavors = draw(st.dictionaries(names, pins, max_size=1))
    if flavors:
        fields["flavors"] = {name: {"packages": p} for name, p in flavors.items()}
    return release(version, airflow, **fields)


@st.composite
def documents(draw: st.DrawFn) -> tuple[Document, str]:
    majors = draw(
        st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=2, unique=True)
    )
    lines = draw(lines_strategy(majors))
    cores = draw(
        st.lists(
            st.tuples(st.sampled_from(majors), small, small), min_size=0, max_size=4, unique=True
        )
    )
    releases = [draw(release_strategy(*core)) for core in cores]
    top: Document = {}
    if draw(st.booleans()):
        top["image"] = {"repository": draw(text), "floating_tags": draw(st.booleans())}
    if draw(st.booleans()):
        top["upstream"] = {
            "constraints_url": "https://example.com/{airflow}/{python}/" + draw(text),
            "index_url": draw(urls),
        }
    facts = draw(
        st.dictionaries(
            names,
            st.fixed_dictionaries(
                {},
                optional={
                    "maintained": st.booleans(),
                    "runtime_only": st.booleans(),
                    "index": urls,
                    "changelog": urls,
                },
            ),
            max_size=2,
        )
    )
    if facts:
        top["packages"] = facts
    env = draw(
        st.dictionaries(
            env_names,
            st.one_of(
                st.fixed_dictionaries({"value": text}, optional={"description": st.text()}),
                st.fixed_dictionaries(
                    {
                        "formula": st.sampled_from(
                            ["workers * max_tasks_per_worker", "workers + 1", "(workers - 2) / 3"]
                        )
                    },
                    optional={"description": st.text()},
                ),
            ),
            max_size=2,
        )
    )
    if env:
        top["env"] = env
    policy = draw(
        st.fixed_dictionaries(
            {},
            optional={"default": level_tables, "packages": st.dictionaries(names, level_tables)},
        )
    )
    if policy:
        top["policy"] = policy
    header_lines = draw(
        st.lists(
            st.one_of(st.just(""), comment.map(lambda s: ("# " + s.strip()).rstrip())), max_size=4
        )
    )
    header = "\n".join(header_lines).strip("\n")
    doc = document(*releases, lines=lines, **top)
    return doc, header


@settings(PROPERTY, max_examples=100)
@given(documents())
def test_matrix_round_trip(generated: tuple[Document, str]) -> None:
    doc, header = generated
    original = build(copy.deepcopy(doc), header)
    assert build(to_document(original), header) == original
    written = store.dumps(original)
    again = store.loads(written, "again.toml")
    assert again == original
    assert again.header == header
    assert store.dumps(again) == written


# --- cross-check against the semver package, the reference implementation -----------------------


@PROPERTY
@given(runtime_versions(), runtime_versions())
def test_runtime_order_agrees_with_the_semver_package(a: str, b: str) -> None:
    import semver

    expected = semver.Version.parse(a).compare(b)
    ours = parse_runtime(a), parse_runtime(b)
    assert (ours[0] > ours[1]) - (ours[0] < ours[1]) == expected


@PROPERTY
@given(st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(-[0-9A-Za-z.-]{0,6})?", fullmatch=True))
def test_runtime_grammar_agrees_with_the_semver_package(text: str) -> None:
    import semver

    from astroctl.versions import RuntimeVersionError

    try:
        semver.Version.parse(text)
        valid = True
    except ValueError:
        valid = False
    try:
        parse_runtime(text)
        ours = True
    except RuntimeVersionError:
        ours = False
    assert ours == valid, text


# --- a broken release: named, located, and still judged for parity ------------------------------


@settings(PROPERTY, max_examples=60)
@given(documents(), st.data())
def test_a_broken_release_is_named_located_and_still_judged_for_parity(
    generated: tuple[Document, str], data: st.DataObject
) -> None:
    doc, header = generated
    original = build(copy.deepcopy(doc), header)
    assume(original.releases)
    lines = store.dumps(original).split("\n")
    headers = [i for i, text in enumerate(lines) if text == "[[releases]]"]
    index = data.draw(st.integers(min_value=0, max_value=len(headers) - 1))
    target, at = original.releases[index], headers[index]
    lines.insert(at + 1, "airflw = 1")  # an unknown key: the release is not valid any more
    airflow = next(i for i in range(at, len(lines)) if lines[i].startswith("airflow = "))
    lines[airflow] = 'airflow = "3.99.0"'  # and its Airflow minor is not its line's
    with pytest.raises(MatrixInvalid) as caught:
        store.loads("\n".join(lines), "broken.toml")
    found = caught.value.violations
    unknown = [(v.where, v.release, v.line, v.file_line) for v in found if v.key == "airflw"]
    assert unknown == [(f"release {target.name}", target.name, target.major, at + 2)]
    parity = [v for v in found if v.key == "airflow"]
    assert bool(parity) == (len(original.releases_of(target.major)) > 1)
    assert all(v.line == target.major and v.file_line is not None for v in parity)
