"""Version grammars: runtime versions are semver, Airflow and package versions are PEP 440.

Order is always by version, never by date.
"""

from __future__ import annotations

import re
from functools import lru_cache

from packaging.version import VERSION_PATTERN, InvalidVersion, Version

# Matched with fullmatch: no surrounding whitespace (packaging tolerates it, but a stored pin must
# be the bare version) and no trailing newline (which '$' would let through).
_PEP440 = re.compile(VERSION_PATTERN, re.VERBOSE | re.IGNORECASE)
_NORMALIZED_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_NAME_SEPARATORS = re.compile(r"[-_.]+")

# Every number in a version is ASCII [0-9] (never ``\d``, never ``str.isdigit``: ``int('٩') == 9``
# and ``int('²')`` fails) and at most MAX_DIGITS long: past Python's integer-conversion limit
# ``int()`` raises, and no real version comes near 10^18.
MAX_DIGITS = 18
_NUMBER = rf"(?:0|[1-9][0-9]{{0,{MAX_DIGITS - 1}}})"
_LONG_NUMBER = re.compile(rf"[0-9]{{{MAX_DIGITS + 1},}}")
_DIGITS = re.compile(r"[0-9]+")
_PYTHON = re.compile(rf"3\.{_NUMBER}")

_IDENT = rf"(?:{_NUMBER}|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
_SEMVER = re.compile(
    rf"(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})\.(?P<patch>{_NUMBER})"
    rf"(?:-(?P<prerelease>{_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_SHOWN = 60  # characters of a bad version quoted in a message


class RuntimeVersionError(ValueError):
    """A runtime version that is not semver, with the reason."""


class RuntimeVersion:
    """A semantic version (semver.org 2.0.0) without build metadata, ordered by precedence.

    Hand-written rather than the ``semver`` package's: the whole grammar is one regex, the order
    is a plain tuple (sorting 2,000 releases is ~25x faster), and ``semver`` costs start-up time
    (its CLI module pulls in argparse). The property tests check this order against ``semver``'s.
    """

    __slots__ = ("_key", "_text", "major", "minor", "patch", "prerelease")

    major: int
    minor: int
    patch: int
    prerelease: str | None

    def __init__(self, text: str) -> None:
        match = _SEMVER.fullmatch(text)
        if match is None:
            if has_long_number(text):
                raise RuntimeVersionError(
                    f"{shown(text)} is not a semantic version: "
                    f"a number in it has more than {MAX_DIGITS} digits"
                )
            raise RuntimeVersionError(
                f"{shown(text)} is not a semantic version "
                "(MAJOR.MINOR.PATCH, prereleases as 9.3.0-rc.1)"
            )
        if match.group("build") is not None:
            raise RuntimeVersionError(
                f"{shown(text)} carries build metadata; runtime versions become Docker tags, "
                "which cannot hold '+'"
            )
        self.major = int(match.group("major"))
        self.minor = int(match.group("minor"))
        self.patch = int(match.group("patch"))
        self.prerelease = match.group("prerelease")
        self._text = text
        # Precedence: a prerelease sorts before its final release; prerelease identifiers compare
        # numerically when numeric, lexically otherwise, numeric before alphanumeric.
        pre: tuple[object, ...] = (1,)
        if self.prerelease is not None:
            pre = (
                0,
                *(
                    (0, int(part), "") if _DIGITS.fullmatch(part) else (1, 0, part)
                    for part in self.prerelease.split(".")
                ),
            )
        self._key = (self.major, self.minor, self.patch, pre)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"RuntimeVersion({self._text!r})"

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RuntimeVersion) and self._key == other._key

    def __lt__(self, other: RuntimeVersion) -> bool:
        return self._key < other._key

    def __le__(self, other: RuntimeVersion) -> bool:
        return self._key <= other._key

    def __gt__(self, other: RuntimeVersion) -> bool:
        return self._key > other._key

    def __ge__(self, other: RuntimeVersion) -> bool:
        return self._key >= other._key


@lru_cache(maxsize=8192)
def parse_runtime(text: str) -> RuntimeVersion:
    """Parse a runtime version: strict semver, prereleases allowed, build metadata refused.

    Build metadata is refused because a runtime version becomes a Docker tag, and Docker tags
    cannot carry '+'.
    """
    return RuntimeVersion(text)


def shown(text: str) -> str:
    """``text`` quoted for a message, cut short when it is long."""
    if len(text) <= _SHOWN:
        return repr(text)
    return f"{text[:_SHOWN]!r}... ({len(text)} characters)"


def has_long_number(text: str) -> bool:
    """Whether ``text`` holds a run of more than :data:`MAX_DIGITS` ASCII digits."""
    return _LONG_NUMBER.search(text) is not None


def is_pep440(text: str) -> bool:
    """Whether ``text`` is a valid PEP 440 version (fast: a regex, no object).

    A number longer than :data:`MAX_DIGITS` digits is refused: PEP 440 allows it, but
    ``packaging`` could not parse it (``int()`` refuses more than 4300 digits) and no real
    package version has one.
    """
    return _PEP440.fullmatch(text) is not None and _LONG_NUMBER.search(text) is None


def pep440_problem(text: str) -> str:
    """Why ``text`` is not a PEP 440 version, for a message (``text`` is known to be bad)."""
    if has_long_number(text):
        return f"{shown(text)} is not a PEP 440 version: a number has more than {MAX_DIGITS} digits"
    return f"{shown(text)} is not a PEP 440 version"


@lru_cache(maxsize=4096)
def parse_pep440(text: str) -> Version:
    """Parse a PEP 440 version, raising ``InvalidVersion`` with the text on failure."""
    if has_long_number(text):
        raise InvalidVersion(f"Invalid version: {pep440_problem(text)}")
    return Version(text)


def airflow_minor(text: str) -> str:
    """The ``X.Y`` minor series of an Airflow version (``2.7.2+astro.1`` -> ``2.7``)."""
    release = parse_pep440(text).release
    minor = release[1] if len(release) > 1 else 0
    return f"{release[0]}.{minor}"


def is_normalized_name(name: str) -> bool:
    """Whether ``name`` is a normalized distribution name (PEP 503: lowercase, '-' only)."""
    return _NORMALIZED_NAME.fullmatch(name) is not None


def normalize_name(name: str) -> str:
    """The PEP 503 normalized form of a distribution name."""
    return _NAME_SEPARATORS.sub("-", name).lower()


def is_python_version(text: str) -> bool:
    """Whether ``text`` names a CPython minor series such as ``3.11``."""
    return _PYTHON.fullmatch(text) is not None


def python_key(text: str) -> tuple[int, ...]:
    """A sort key for ``X.Y`` Python versions (3.9 < 3.10); ``ValueError`` for anything else."""
    if _PYTHON.fullmatch(text) is None:
        raise ValueError(f"{shown(text)} is not a Python version such as '3.11'")
    return tuple(int(part) for part in text.split("."))


__all__ = [
    "MAX_DIGITS",
    "InvalidVersion",
    "RuntimeVersionError",
    "airflow_minor",
    "has_long_number",
    "is_normalized_name",
    "is_pep440",
    "is_python_version",
    "normalize_name",
    "parse_pep440",
    "parse_runtime",
    "pep440_problem",
    "python_key",
    "shown",
]
