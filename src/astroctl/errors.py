"""The one error hierarchy: each failure a user can cause carries its exit code (SPEC 8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PROBLEMS = 3


class AstroctlError(Exception):
    """A failure with a plain message for the user and an exit code."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class OperationError(AstroctlError):
    """An operation failed: filesystem, network, docker (exit 1)."""

    exit_code = EXIT_FAILED


class InputError(AstroctlError):
    """Bad usage or input: unknown selector, bad version, malformed file (exit 2)."""

    exit_code = EXIT_USAGE


class SelectorError(InputError):
    """A release selector matched nothing or could not be parsed."""


@dataclass(frozen=True)
class Violation:
    """One broken invariant of the matrix, located by file line, release, line and key."""

    where: str  # "release 9.2.0", "line 9", "packages.foo", "top level"
    key: str
    message: str
    release: str | None = None  # the release at fault, when one is
    line: int | None = None  # the major line at fault (a release's line included)
    file_line: int | None = None  # 1-based line in the matrix file, where known

    def __str__(self) -> str:
        location = f"{self.where}: {self.key}" if self.key else self.where
        where = f" (file line {self.file_line})" if self.file_line is not None else ""
        return f"{location}: {self.message}{where}"


class MatrixInvalid(InputError):
    """The matrix file is malformed or breaks invariants, every violation listed.

    Exit 2 (bad input) for a command that needed the matrix; ``matrix validate`` reports the
    same violations with exit 3 (a check ran and found problems).
    """

    def __init__(self, path: str, violations: Sequence[Violation]) -> None:
        self.path = path
        self.violations = tuple(violations)
        count = len(self.violations)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{path}: {count} {noun}"]
        lines.extend(f"  {v}" for v in self.violations)
        super().__init__("\n".join(lines))


class ChecksFailed(AstroctlError):
    """A check ran and found problems (exit 3)."""

    exit_code = EXIT_PROBLEMS
