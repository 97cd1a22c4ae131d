"""Formulas of computed environment variables: a tiny integer grammar, never ``eval``."""

from __future__ import annotations

import pytest

from astroctl.matrix.formulas import VARIABLES, Formula, FormulaError, parse_formula

VALUES = {"workers": 3, "max_tasks_per_worker": 16}


def test_the_real_formula() -> None:
    formula = parse_formula("workers * max_tasks_per_worker")
    assert formula == Formula(
        text="workers * max_tasks_per_worker",
        variables=frozenset({"workers", "max_tasks_per_worker"}),
    )
    assert formula.evaluate(VALUES) == 48


def test_variables_describe_what_they_count_and_name_no_cli_option() -> None:
    assert VARIABLES == {
        "workers": "running workers across all worker queues",
        "max_tasks_per_worker": "tasks each worker may run",
    }
    assert not any("--" in text for text in VARIABLES.values())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("  7 ", 7),
        ("1 + 2 * 3", 7),
        ("2 * 3 + 1", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("100 / 10 / 5", 2),
        ("7 / 2", 3),
        ("-7 / 2", -4),
        ("2 * (3 + (4 - 1)) * 2", 24),
        ("-3 + 5", 2),
        ("2 - -3", 5),
        ("--4", 4),
        ("1+2*3-4/2", 5),
        ("workers", 3),
        ("workers + max_tasks_per_worker", 19),
        ("workers * max_tasks_per_worker + 2", 50),
        ("(workers + 1) * max_tasks_per_worker", 64),
        ("max_tasks_per_worker / workers", 5),
        ("workers*max_tasks_per_worker", 48),
        ("workers - max_tasks_per_worker", -13),
    ],
)
def test_evaluate(text: str, expected: int) -> None:
    assert parse_formula(text).evaluate(VALUES) == expected


def test_variables_used() -> None:
    assert parse_formula("workers * 2").variables == frozenset({"workers"})
    assert parse_formula("4").variables == frozenset()


def test_unknown_variable() -> None:
    with pytest.raises(FormulaError, match="unknown variable 'schedulers'") as caught:
        parse_formula("workers * schedulers")
    assert "known: max_tasks_per_worker, workers" in str(caught.value)


def test_first_unknown_variable_is_named_alphabetically() -> None:
    with pytest.raises(FormulaError, match="unknown variable 'alpha'"):
        parse_formula("zeta + alpha")


def test_division_by_zero_when_evaluated() -> None:
    formula = parse_formula("workers / (max_tasks_per_worker - 16)")
    with pytest.raises(FormulaError, match="division by zero in 'workers / "):
        formula.evaluate(VALUES)
    assert formula.evaluate({"workers": 10, "max_tasks_per_worker": 21}) == 2


def test_constant_division_by_zero_when_evaluated() -> None:
    with pytest.raises(FormulaError, match="division by zero"):
        parse_formula("1 / 0").evaluate({})


def test_a_divisor_zero_only_for_placeholder_values_parses() -> None:
    formula = parse_formula("workers / (max_tasks_per_worker - 1)")
    assert formula.evaluate({"workers": 12, "max_tasks_per_worker": 5}) == 3


def test_missing_value_is_a_formula_error() -> None:
    formula = parse_formula("workers * max_tasks_per_worker")
    with pytest.raises(FormulaError, match="no value for 'max_tasks_per_worker'"):
        formula.evaluate({"workers": 3})


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty formula"),
        ("   ", "empty formula"),
        ("workers *", "ends too early"),
        ("(1 + 2", "ends too early"),
        ("1 + 2)", "unexpected ')'"),
        ("2 3", "unexpected '3'"),
        ("workers max_tasks_per_worker", "unexpected 'max_tasks_per_worker'"),
        ("* 2", "unexpected '*'"),
        ("()", "unexpected ')'"),
        ("2 ** 3", "unexpected '*'"),
        ("2 ^ 3", "unexpected '^'"),
        ("1.5 * 2", "unexpected '.'"),
        ("Workers * 2", "unexpected 'W'"),
        ("__import__('os')", "unexpected"),
        ("workers; rm", "unexpected ';'"),
        ("(1 + 2 3)", "missing ')'"),
    ],
)
def test_garbage(text: str, words: str) -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert words in str(caught.value)


def test_formula_error_is_a_value_error() -> None:
    assert issubclass(FormulaError, ValueError)


# --- hostile formulas: a FormulaError, never a RecursionError or int()'s ValueError --------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "(" * 10_000 + "1" + ")" * 10_000,
            "formula of 20001 characters; a formula has at most 500",
        ),
        ("- " * 10_000 + "1", "a formula has at most 500"),
        ("(" * 33 + "1" + ")" * 33, "nests deeper than 32 levels"),
        ("-" * 33 + "1", "nests deeper than 32 levels"),
        ("- (" * 17 + "1" + ")" * 17, "nests deeper than 32 levels"),
        ("9" * 5000, "a formula has at most 500"),
        ("9" * 19, "number of 19 digits in '9999999999999999999'; at most 18"),
        ("workers * 1" + "0" * 30, "at most 18"),
        ("\u0669", "unexpected '\u0669'"),
        ("workers * \u0663", "unexpected '\u0663'"),
        ("\u00b2", "unexpected '\u00b2'"),
        ("workers\u00a0* 2", "unexpected '\\xa0'"),
    ],
    ids=[
        "deep parentheses",
        "long minus chain",
        "33 parentheses",
        "33 minus signs",
        "mixed nesting",
        "5000 digits",
        "19 digits",
        "30 digits",
        "arabic nine",
        "arabic three",
        "superscript two",
        "no-break space",
    ],
)
def test_hostile_formulas_are_formula_errors(text: str, words: str) -> None:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    assert words in str(caught.value)
    assert len(str(caught.value)) < 200


def test_the_bounds_themselves_are_fine() -> None:
    assert parse_formula("(" * 32 + "1" + ")" * 32).evaluate({}) == 1
    assert parse_formula("-" * 32 + "7").evaluate({}) == 7
    assert parse_formula("9" * 18).evaluate({}) == 10**18 - 1
    assert parse_formula("1" + " " * 498 + "\n").evaluate({}) == 1


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("workers * workers * workers", {"workers": 10**7}),
        ("workers", {"workers": 2**63}),
        ("workers - 999999999999999999 * 10", {"workers": -(2**62)}),
    ],
)
def test_values_past_64_bits_are_formula_errors(text: str, values: dict[str, int]) -> None:
    with pytest.raises(FormulaError, match="overflows"):
        parse_formula(text).evaluate(values)


def test_validation_does_not_judge_overflow_of_placeholders() -> None:
    assert parse_formula("999999999999999999 * 999999999999999999").variables == frozenset()


def test_variables_cannot_be_changed() -> None:
    with pytest.raises(TypeError):
        VARIABLES["schedulers"] = "x"  # type: ignore[index]
