"""Fuzzing the loader, the selectors and the formula parser with hostile input.

The property everywhere: a result, or an ``AstroctlError`` with exit code 2 or 3 (``FormulaError``
for the formula parser, which the schema turns into a violation); never another exception, never
a hang. Inputs start from small valid documents and the real snapshot's first releases and are
mutated byte by byte, line by line and value by value; random TOML documents shaped like the
schema come next. Each example must finish within ``deadline``; ``_time_limit`` turns a hang
into a failure rather than a stuck CI job.

Runtime: ~6 s for the whole module (max_examples below); 80,000 examples ran clean once.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta, timezone
from types import FrameType
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from astroctl.errors import EXIT_PROBLEMS, EXIT_USAGE, AstroctlError
from astroctl.matrix import store
from astroctl.matrix.formulas import FormulaError, parse_formula
from astroctl.matrix.model import Matrix
from astroctl.matrix.schema import build_matrix
from astroctl.matrix.selectors import select, select_all
from tests.factories import document, line, release, toml_text
from tests.helpers import SNAPSHOT

FUZZ = settings(
    max_examples=250,
    deadline=timedelta(seconds=1),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HANG_SECONDS = 10


class Hang(Exception):
    """An example ran past HANG_SECONDS."""


@contextmanager
def _time_limit(seconds: float = HANG_SECONDS) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer within {seconds} s")

    if not hasattr(signal, "setitimer"):  # no interval timers here: rely on the deadline
        yield
        return
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_or_clean_error(text: str) -> Matrix | None:
    """The property: a matrix, or an AstroctlError exiting 2 or 3."""
    with _time_limit():
        try:
            return store.loads(text, "fuzz.toml")
        except AstroctlError as exc:
            assert exc.exit_code in (EXIT_USAGE, EXIT_PROBLEMS), exc
            assert str(exc).startswith("fuzz.toml: ")
            return None


# --- seeds -------------------------------------------------------------------------------------


def _snapshot_head(releases: int) -> str:
    """The real snapshot cut after its first ``releases`` releases: a valid matrix."""
    text = SNAPSHOT.read_text(encoding="utf-8")
    cut = -1
    for _ in range(releases + 1):
        cut = text.index("\n[[releases]]\n", cut + 1)
    return text[: cut + 1]


SMALL = toml_text(
    document(
        release("9.0.0", released=date(2023, 8, 1)),
        release("9.1.0", packages={"apache-airflow-providers-http": "4.1.0"}),
        release(
            "10.0.0",
            packages={"astronomer-providers": "1.18.0"},
            flavors={"slim": {"packages": {"astronomer-providers": "1.18.0"}}},
        ),
        lines={9: line(channel="lts"), 10: line()},
        env={"PARALLELISM": {"formula": "workers * max_tasks_per_worker"}},
        packages={"astronomer-providers": {"maintained": True}},
    )
)
SEEDS = (SMALL, _snapshot_head(4))


def test_the_seeds_are_valid() -> None:
    for seed in SEEDS:
        assert store.loads(seed, "seed.toml").releases


# --- hostile pieces ----------------------------------------------------------------------------

LONG = "9" * 5000
HOSTILE_STRINGS = (
    LONG,
    f"{LONG}.0.0",
    f"9.2.0-{LONG}",
    f"2.{LONG}",
    f"3.{LONG}",
    "9" * 19,
    "9" * 18,
    "٩",
    "\u0669.\u0660.\u0660",
    "²",
    "①",
    "9.2.0",
    "9.2",
    "9",
    "3.11",
    "2.7.2+astro.1",
    "",
    " ",
    "\x00",
    "\x1b[31m",
    "a\u202eb",
    "\ud800",
    "nan",
    "-0",
    "latest",
)
# TOML right-hand sides: each one valid TOML but a bad value, or a syntax error.
HOSTILE_LITERALS = (
    LONG,
    "99999999999999999999999",
    "0x7fffffffffffffff",
    "-9223372036854775808",
    "nan",
    "-inf",
    "1e400",
    "1979-05-27T07:32:00-08:00",
    "1979-05-27T07:32:00Z",
    "1979-05-27 07:32:00",
    "07:32:00",
    "2024-02-30",
    "0000-01-01",
    "[" * 40 + "]" * 40,
    "[" * 200 + "]" * 200,
    "{ a = { b = { c = 1 } } }",
    '"\\u0001\\u001b"',
    '"\\ud800"',
    '"\\U0010FFFF"',
    f'"{LONG}"',
    f'"{LONG}.0.0"',
    '"٩"',
    '"²"',
    '["3.11", "3.11"]',
    '["amd64", 1]',
    "true",
    '""',
    "'''\nmulti\nline'''",
)
HOSTILE_KEYS = ('"٩"', '"²"', f'"{LONG}"', '"a\\u0001b"', '"\\u0000"', "09", "x.y.z", '""')

hostile_text = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=20),
    st.from_regex(r"[0-9]{1,25}(\.[0-9]{1,25}){0,3}(-[a-z0-9.]{0,8})?", fullmatch=True),
)
mutation_chars = st.sampled_from(list("0123456789.=[]{}\"'#\n -_,+٩²\x00\ud800é"))


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        text = draw(st.sampled_from(MUTATIONS))(draw, text)
    return text


def _position(draw: st.DrawFn, text: str) -> int:
    return draw(st.integers(min_value=0, max_value=len(text)))


def _insert(draw: st.DrawFn, text: str) -> str:
    at = _position(draw, text)
    piece = draw(st.one_of(mutation_chars, st.sampled_from(HOSTILE_STRINGS)))
    return text[:at] + piece + text[at:]


def _delete(draw: st.DrawFn, text: str) -> str:
    at = _position(draw, text)
    return text[:at] + text[at + draw(st.integers(min_value=1, max_value=8)) :]


def _replace_char(draw: st.DrawFn, text: str) -> str:
    at = _position(draw, text)
    return text[:at] + draw(mutation_chars) + text[at + 1 :]


def _lines_of(draw: st.DrawFn, text: str) -> tuple[list[str], int]:
    lines = text.split("\n")
    return lines, draw(st.integers(min_value=0, max_value=len(lines) - 1))


def _drop_line(draw: st.DrawFn, text: str) -> str:
    lines, at = _lines_of(draw, text)
    del lines[at]
    return "\n".join(lines)


def _duplicate_line(draw: st.DrawFn, text: str) -> str:
    lines, at = _lines_of(draw, text)
    lines.insert(at, lines[at])
    return "\n".join(lines)


def _swap_lines(draw: st.DrawFn, text: str) -> str:
    lines, at = _lines_of(draw, text)
    other = draw(st.integers(min_value=0, max_value=len(lines) - 1))
    lines[at], lines[other] = lines[other], lines[at]
    return "\n".join(lines)


def _replace_value(draw: st.DrawFn, text: str) -> str:
    lines = text.split("\n")
    assignments = [i for i, item in enumerate(lines) if " = " in item]
    index = draw(st.sampled_from(assignments))
    key = lines[index].split(" = ", 1)[0]
    value = draw(
        st.one_of(
            st.sampled_from(HOSTILE_LITERALS),
            hostile_text.map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'),
        )
    )
    lines[index] = f"{key} = {value}"
    return "\n".join(lines)


def _replace_key(draw: st.DrawFn, text: str) -> str:
    lines = text.split("\n")
    candidates = [i for i, item in enumerate(lines) if " = " in item or item.startswith("[")]
    index = draw(st.sampled_from(candidates))
    key = draw(st.sampled_from(HOSTILE_KEYS))
    if lines[index].startswith("[lines."):
        lines[index] = f"[lines.{key}]"
    elif lines[index].startswith("["):
        lines[index] = f"[{key}]"
    else:
        lines[index] = f"{key} = {lines[index].split(' = ', 1)[1]}"
    return "\n".join(lines)


MUTATIONS = (
    _insert,
    _delete,
    _replace_char,
    _drop_line,
    _duplicate_line,
    _swap_lines,
    _replace_value,
    _replace_value,
    _replace_key,
)


@settings(FUZZ, max_examples=600)
@given(mutated_texts())
def test_mutated_matrix_texts_load_or_fail_cleanly(text: str) -> None:
    load_or_clean_error(text)


# --- random documents shaped like the schema ---------------------------------------------------

offsets = st.integers(min_value=-23 * 60, max_value=23 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
scalars = st.one_of(
    hostile_text,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(timezones=st.one_of(st.none(), offsets)),
    st.times(),
)
toml_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
plausible_versions = st.from_regex(r"(9|10|11)\.[0-9]\.[0-9](-rc\.[0-9])?", fullmatch=True)
plausible_airflow = st.from_regex(r"2\.(7|8|9)\.[0-9](\+astro\.[0-9])?", fullmatch=True)
line_keys = st.one_of(st.sampled_from(["9", "10", "11", "٩", "²", "09", "9" * 19]), hostile_text)


def _either(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(plausible, plausible, plausible, toml_values)


lines_tables = st.fixed_dictionaries(
    {},
    optional={
        "channel": _either(st.sampled_from(["lts", "stable"])),
        "end_of_maintenance": _either(st.dates()),
        "python": _either(st.sampled_from(["3.10", "3.11", "3.12"])),
        "python_versions": _either(st.lists(st.sampled_from(["3.10", "3.11", "3.12"]))),
        "os": _either(st.just("Debian 12")),
        "architectures": _either(st.lists(st.sampled_from(["amd64", "arm64", "s390x"]))),
        "chanel": toml_values,
    },
)
package_names = st.one_of(
    st.sampled_from(["astronomer-providers", "apache-airflow-providers-http", "Foo_Bar"]),
    hostile_text,
)
pins = st.dictionaries(
    package_names, _either(st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True)), max_size=4
)
release_tables = st.fixed_dictionaries(
    {"version": _either(plausible_versions), "airflow": _either(plausible_airflow)},
    optional={
        "released": _either(st.dates()),
        "yanked": toml_values,
        "python": _either(st.sampled_from(["3.10", "3.11"])),
        "architectures": _either(st.just(["amd64"])),
        "packages": _either(pins),
        "flavors": _either(
            st.dictionaries(st.just("slim"), st.fixed_dictionaries({"packages": pins}))
        ),
        "airflw": toml_values,
    },
)
formulas = st.one_of(
    st.sampled_from(["workers * max_tasks_per_worker", "(" * 40 + "1" + ")" * 40, "٩", LONG]),
    st.text(alphabet="0123456789 ()+-*/workers_max", max_size=40),
)
env_tables = st.dictionaries(
    st.one_of(st.sampled_from(["PARALLELISM", "1BAD", "ÉTAT"]), hostile_text),
    st.one_of(st.fixed_dictionaries({"formula": _either(formulas)}), toml_values),
    max_size=2,
)
schema_documents = st.fixed_dictionaries(
    {
        "schema": _either(st.just(1)),
        "lines": _either(st.dictionaries(line_keys, _either(lines_tables), max_size=3)),
        "releases": _either(st.lists(_either(release_tables), max_size=5)),
    },
    optional={
        "env": _either(env_tables),
        "image": _either(st.fixed_dictionaries({}, optional={"repository": hostile_text})),
        "policy": toml_values,
        "packages": toml_values,
        "scheme": toml_values,
    },
)


@settings(FUZZ, max_examples=400)
@given(schema_documents)
def test_random_documents_build_or_fail_cleanly(doc: dict[str, Any]) -> None:
    with _time_limit():
        try:
            build_matrix(doc, "fuzz.toml")
        except AstroctlError as exc:
            assert exc.exit_code == EXIT_USAGE
    try:
        text = tomli_w.dumps(doc)
    except (TypeError, ValueError):
        return  # not expressible as TOML (a time with an offset): the document alone was fuzzed
    load_or_clean_error(text)


# --- selectors ---------------------------------------------------------------------------------

SMALL_MATRIX = store.loads(SMALL, "small.toml")
selector_texts = st.one_of(
    hostile_text,
    st.text(alphabet="0123456789.٩²①-+rc latest", max_size=12),
    st.text(max_size=12),
)


@FUZZ
@given(selector_texts)
def test_selectors_select_or_fail_cleanly(text: str) -> None:
    with _time_limit():
        for pick in (select, select_all):
            try:
                pick(SMALL_MATRIX, text)
            except AstroctlError as exc:
                assert exc.exit_code == EXIT_USAGE
                assert len(str(exc)) < 400


# --- formulas ----------------------------------------------------------------------------------

formula_texts = st.one_of(
    formulas,
    st.text(alphabet="0123456789 ()-+*/٩²", max_size=600),
    st.integers(min_value=1, max_value=300).map(lambda n: "(" * n + "1" + ")" * n),
    st.integers(min_value=1, max_value=300).map(lambda n: "- " * n + "1"),
    st.integers(min_value=1, max_value=40).map(lambda n: " * ".join(["workers"] * n)),
)
inputs = st.fixed_dictionaries(
    {
        "workers": st.integers(min_value=-(10**30), max_value=10**30),
        "max_tasks_per_worker": st.integers(min_value=0, max_value=10**6),
    }
)


@settings(FUZZ, max_examples=500)
@given(formula_texts, inputs)
def test_formulas_parse_and_evaluate_or_fail_cleanly(text: str, values: dict[str, int]) -> None:
    with _time_limit():
        try:
            formula = parse_formula(text)
        except FormulaError:
            return
        try:
            result = formula.evaluate(values)
        except FormulaError:
            return
        assert isinstance(result, int)
        assert len(str(result)) <= 20
