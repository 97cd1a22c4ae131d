"""Formulas of computed environment variables: ``workers * max_tasks_per_worker``.

A tiny arithmetic grammar (integers, variables, + - * / and parentheses) evaluated without
``eval``: integers in, integers out, division rounds down.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# The variables a formula may use, with the option that supplies each one.
VARIABLES: Mapping[str, str] = {
    "workers": "--workers",
    "max_tasks_per_worker": "--max-tasks-per-worker",
}

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+)|(?P<name>[a-z_][a-z0-9_]*)|(?P<op>[-+*/()]))")


class FormulaError(ValueError):
    """A formula that does not parse, names an unknown variable, or cannot be computed."""


@dataclass(frozen=True)
class Formula:
    text: str
    variables: frozenset[str]

    def evaluate(self, values: Mapping[str, int]) -> int:
        return _Parser(self.text, values).parse()


def parse_formula(text: str) -> Formula:
    """Check a formula's syntax and variables; return it with the variables it uses."""
    tokens = _tokenize(text)
    names = frozenset(value for kind, value in tokens if kind == "name")
    unknown = sorted(names - VARIABLES.keys())
    if unknown:
        known = ", ".join(sorted(VARIABLES))
        raise FormulaError(f"unknown variable {unknown[0]!r} (known: {known})")
    # Grammar only: the values are placeholders, so a divisor that is zero for them (such as
    # ``max_tasks_per_worker - 1``) proves nothing about the formula.
    _Parser(text, dict.fromkeys(names, 1), grammar_only=True).parse()
    return Formula(text=text, variables=names)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            raise FormulaError(f"unexpected {stripped[position:].strip()[:1]!r} in {text!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    if not tokens:
        raise FormulaError("empty formula")
    return tokens


class _Parser:
    """Recursive descent: expr := term (('+'|'-') term)*; term := atom (('*'|'/') atom)*."""

    def __init__(self, text: str, values: Mapping[str, int], *, grammar_only: bool = False) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.values = values
        self.grammar_only = grammar_only
        self.index = 0

    def parse(self) -> int:
        result = self._expr()
        if self.index != len(self.tokens):
            raise FormulaError(f"unexpected {self.tokens[self.index][1]!r} in {self.text!r}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            raise FormulaError(f"{self.text!r} ends too early")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _expr(self) -> int:
        value = self._term()
        while self._peek() in ("+", "-"):
            op = self._take()[1]
            right = self._term()
            value = value + right if op == "+" else value - right
        return value

    def _term(self) -> int:
        value = self._atom()
        while self._peek() in ("*", "/"):
            op = self._take()[1]
            right = self._atom()
            if op == "*":
                value *= right
            elif right == 0:
                if not self.grammar_only:
                    raise FormulaError(f"division by zero in {self.text!r}")
            else:
                value //= right
        return value

    def _atom(self) -> int:
        kind, value = self._take()
        if kind == "num":
            return int(value)
        if kind == "name":
            if value not in self.values:
                raise FormulaError(f"no value for {value!r} in {self.text!r}")
            return self.values[value]
        if value == "(":
            inner = self._expr()
            if self._take()[1] != ")":
                raise FormulaError(f"missing ')' in {self.text!r}")
            return inner
        if value == "-":
            return -self._atom()
        raise FormulaError(f"unexpected {value!r} in {self.text!r}")
