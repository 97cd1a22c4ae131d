"""Formulas of computed environment variables: ``workers * max_tasks_per_worker``.

A tiny arithmetic grammar (integers, variables, + - * / and parentheses) evaluated without
``eval``: integers in, integers out, division rounds down.

Hostile text cannot hurt it: a formula is at most :data:`MAX_LENGTH` characters, nests at most
:data:`MAX_DEPTH` deep (parentheses and unary minus alike), each number is ASCII digits, at most
:data:`MAX_DIGITS` of them, and every value computed stays within :data:`MAX_VALUE`. Each limit
broken is a :class:`FormulaError`, never a ``RecursionError`` or a ``ValueError`` from ``int()``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from astroctl.versions import MAX_DIGITS, shown

# The variables a formula may use, each with what it counts. The core names no CLI option: the
# command layer maps a variable to the option that supplies it.
VARIABLES: Mapping[str, str] = MappingProxyType(
    {
        "workers": "running workers across all worker queues",
        "max_tasks_per_worker": "tasks each worker may run",
    }
)

MAX_LENGTH = 500  # characters
MAX_DEPTH = 32  # nested parentheses and unary minus signs
MAX_VALUE = 2**63 - 1  # every value a formula reads or computes stays within +-MAX_VALUE

# ASCII only: ``\d`` would take other scripts' digits (``int('٩') == 9``).
_TOKEN = re.compile(r"\s*(?:(?P<num>[0-9]+)|(?P<name>[a-z_][a-z0-9_]*)|(?P<op>[-+*/()]))", re.ASCII)
_SPACE = " \t\n\r\f\v"


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
        raise FormulaError(f"unknown variable {shown(unknown[0])} (known: {known})")
    # Grammar only: the values are placeholders, so a divisor that is zero for them (such as
    # ``max_tasks_per_worker - 1``) proves nothing about the formula.
    _Parser(text, dict.fromkeys(names, 1), grammar_only=True).parse()
    return Formula(text=text, variables=names)


def _tokenize(text: str) -> list[tuple[str, str]]:
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula of {len(text)} characters; a formula has at most {MAX_LENGTH}")
    tokens: list[tuple[str, str]] = []
    position = 0
    stripped = text.rstrip(_SPACE)
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            bad = stripped[position:].lstrip(_SPACE)[:1]
            raise FormulaError(f"unexpected {bad!r} in {shown(text)}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "num" and len(value) > MAX_DIGITS:
            raise FormulaError(
                f"number of {len(value)} digits in {shown(text)}; at most {MAX_DIGITS}"
            )
        tokens.append((kind, value))
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
        self.depth = 0

    def parse(self) -> int:
        result = self._expr()
        if self.index != len(self.tokens):
            raise FormulaError(f"unexpected {self.tokens[self.index][1]!r} in {shown(self.text)}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.index][1] if self.index < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            raise FormulaError(f"{shown(self.text)} ends too early")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _bounded(self, value: int) -> int:
        if not self.grammar_only and not -MAX_VALUE <= value <= MAX_VALUE:
            raise FormulaError(f"{shown(self.text)} overflows: a value beyond +-{MAX_VALUE}")
        return value

    def _expr(self) -> int:
        value = self._term()
        while self._peek() in ("+", "-"):
            op = self._take()[1]
            right = self._term()
            value = self._bounded(value + right if op == "+" else value - right)
        return value

    def _term(self) -> int:
        value = self._atom()
        while self._peek() in ("*", "/"):
            op = self._take()[1]
            right = self._atom()
            if op == "*":
                value = self._bounded(value * right)
            elif right == 0:
                if not self.grammar_only:
                    raise FormulaError(f"division by zero in {shown(self.text)}")
            else:
                value //= right
        return value

    def _atom(self) -> int:
        kind, value = self._take()
        if kind == "num":
            return self._bounded(int(value))
        if kind == "name":
            if value not in self.values:
                raise FormulaError(f"no value for {value!r} in {shown(self.text)}")
            return self._bounded(self.values[value])
        if value not in ("(", "-"):
            raise FormulaError(f"unexpected {value!r} in {shown(self.text)}")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(f"{shown(self.text)} nests deeper than {MAX_DEPTH} levels")
        if value == "(":
            inner = self._expr()
            if self._take()[1] != ")":
                raise FormulaError(f"missing ')' in {shown(self.text)}")
        else:
            inner = -self._atom()
        self.depth -= 1
        return inner
