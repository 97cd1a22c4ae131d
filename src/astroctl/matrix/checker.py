"""Reading a parsed TOML document into typed values while collecting every violation.

The parsed document is ``Mapping[str, object]``: nothing in it is trusted. Each reader of
:class:`Checker` returns the typed value when the document holds a good one and ``None`` (or an
empty table) otherwise, having recorded why. A violation is located by a :class:`Place` (the
text naming it, its release and major line, its path in the document); file lines are worked
out only at the end, and only when there are violations (see :mod:`~astroctl.matrix.sourcemap`).
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import TypeGuard

from astroctl import versions
from astroctl.errors import Violation
from astroctl.matrix.sourcemap import DocPath, SourceMap

Table = Mapping[str, object]

_SHOWN_KEY = 60  # characters of a key quoted in a message
_SUGGEST_UP_TO = 100  # keys longer than this get no did-you-mean (difflib is quadratic)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a value sits: the text a violation names, its release and line, its path."""

    where: str  # "release 9.2.0", "line 9", "packages.foo", "top level"
    path: DocPath = ()
    release: str | None = None
    line: int | None = None


TOP = Place("top level")


def printable(key: str) -> str:
    """A key as a message shows it: control characters escaped, a long key cut short."""
    if len(key) <= _SHOWN_KEY and key.isprintable():
        return key
    escaped = repr(key[:_SHOWN_KEY])[1:-1]
    return escaped + (f"... ({len(key)} characters)" if len(key) > _SHOWN_KEY else "")


class _ValueRepr(reprlib.Repr):
    """``repr`` bounded in depth and length, and safe for integers of any size."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = _SHOWN_KEY
        self.maxother = _SHOWN_KEY
        self.maxlist = self.maxdict = self.maxtuple = 6

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 64:
            return f"<an integer of {x.bit_length()} bits>"
        return repr(x)


_REPR = _ValueRepr()


def show(value: object) -> str:
    """A value quoted for a message, whatever its size or depth; dates and times as in TOML."""
    if isinstance(value, date | time):
        return value.isoformat()
    return _REPR.repr(value)


def toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, datetime):
        return "a date-time"
    for kind, name in (
        (str, "a string"),
        (int, "an integer"),
        (float, "a float"),
        (dict, "a table"),
        (list, "an array"),
        (date, "a date"),
        (time, "a time"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def is_table(value: object) -> TypeGuard[Table]:
    """A TOML table: a dict, whose keys TOML makes strings."""
    return isinstance(value, dict)


def is_table_list(value: object) -> TypeGuard[list[Table]]:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _is_str_list(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_day(value: object) -> TypeGuard[date]:
    return isinstance(value, date) and not isinstance(value, datetime)


class Checker:
    """Collects violations while reading a document; never stops at the first one."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self._paths: list[DocPath] = []

    def add(self, place: Place, key: str, message: str, *, at: DocPath | None = None) -> None:
        """Record a violation of ``key`` (a dotted key under ``place``; ``at`` its path)."""
        self.violations.append(Violation(place.where, key, message, place.release, place.line))
        below = at if at is not None else tuple(key.split(".")) if key else ()
        self._paths.append((*place.path, *below))

    def located(self, text: str | None) -> list[Violation]:
        """The violations, each with the file line of what it names when ``text`` is given."""
        if text is None:
            return list(self.violations)
        source = SourceMap(text)
        return [
            replace(violation, file_line=source.line_of(path))
            for violation, path in zip(self.violations, self._paths, strict=True)
        ]

    def keys(self, table: Table, allowed: Sequence[str], place: Place) -> None:
        for key in table:
            if key in allowed:
                continue
            close = []
            if len(key) <= _SUGGEST_UP_TO:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(allowed)})"
            self.add(place, printable(key), f"unknown key{hint}", at=(key,))

    def wrong(self, place: Place, key: str, expected: str, value: object) -> None:
        self.add(place, key, f"expected {expected}, got {toml_type(value)} {show(value)}")

    def _missing(self, place: Place, key: str, expected: str, required: bool) -> None:
        if required:
            self.add(place, key, f"missing; expected {expected}")

    def table(self, parent: Table, key: str, place: Place) -> Table:
        """A sub-table; empty when missing or not a table (reported)."""
        if key not in parent:
            return {}
        value = parent[key]
        if is_table(value):
            return value
        self.wrong(place, key, "a table", value)
        return {}

    def table_list(self, parent: Table, key: str, place: Place, expected: str) -> list[Table]:
        """An array of tables; empty when missing or not one (reported)."""
        if key not in parent:
            return []
        value = parent[key]
        if is_table_list(value):
            return value
        self.wrong(place, key, expected, value)
        return []

    def string(self, table: Table, key: str, place: Place, *, required: bool = False) -> str | None:
        """A non-blank string."""
        if key not in table:
            self._missing(place, key, "a string", required)
            return None
        value = table[key]
        if not isinstance(value, str):
            self.wrong(place, key, "a string", value)
            return None
        if not value.strip():
            self.add(place, key, "must not be empty")
            return None
        return value

    def text(self, table: Table, key: str, place: Place) -> str | None:
        """Any string, blank included (a description)."""
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, str):
            return value
        self.wrong(place, key, "a string", value)
        return None

    def choice(
        self,
        table: Table,
        key: str,
        place: Place,
        choices: Iterable[str],
        *,
        required: bool = False,
    ) -> str | None:
        """One of ``choices``."""
        choices = tuple(choices)
        expected = " or ".join(map(repr, choices))
        if key not in table:
            self._missing(place, key, expected, required)
            return None
        value = table[key]
        if isinstance(value, str) and value in choices:
            return value
        self.wrong(place, key, expected, value)
        return None

    def boolean(self, table: Table, key: str, place: Place) -> bool | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool):
            return value
        self.wrong(place, key, "true or false", value)
        return None

    def day(self, table: Table, key: str, place: Place, *, required: bool = False) -> date | None:
        expected = "a TOML date such as 2024-01-31 (unquoted)"
        if key not in table:
            self._missing(place, key, expected, required)
            return None
        value = table[key]
        if _is_day(value):
            return value
        self.wrong(place, key, expected, value)
        return None

    def strings(self, table: Table, key: str, place: Place) -> tuple[str, ...] | None:
        """An array of strings, none twice."""
        if key not in table:
            return None
        value = table[key]
        if not _is_str_list(value):
            self.wrong(place, key, "an array of strings", value)
            return None
        listed = tuple(value)
        seen: set[str] = set()
        for item in listed:
            if item in seen:
                self.add(place, key, f"lists {versions.shown(item)} twice")
                return None
            seen.add(item)
        return listed


def name_problem(name: str) -> str:
    """Why ``name`` is not a normalized distribution name (it is known not to be one)."""
    normalized = versions.normalize_name(name)
    if normalized != name and versions.is_normalized_name(normalized):
        return f"not a normalized distribution name; write {normalized!r}"
    return "not a valid distribution name"
