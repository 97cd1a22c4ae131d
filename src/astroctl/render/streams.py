"""The stdout/stderr policy: stdout carries only the payload; everything else goes to stderr.

Nothing outside :mod:`astroctl.render` writes to either stream. Text from the matrix never
reaches a terminal as a control sequence: warnings, errors and notes show every control
character as an escape (:func:`printable`), and the table engine does the same to every cell.
A warning is one line; an error or a note keeps its line breaks (a list of violations, help).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from types import MappingProxyType

# What a terminal would act on instead of showing: the C0 controls, DEL and the C1 controls,
# the line and paragraph separators, and the bidi controls that reorder what is shown.
_CONTROLS = (*range(0x20), *range(0x7F, 0xA0))
_FORMATS = (0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_ESCAPES: Mapping[int, str] = MappingProxyType(
    {code: f"\\x{code:02x}" for code in _CONTROLS}
    | {code: f"\\u{code:04x}" for code in _FORMATS}
    | {ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"}
)
_LINES_KEPT: Mapping[int, str] = MappingProxyType(
    {code: escape for code, escape in _ESCAPES.items() if code != ord("\n")}
)


def printable(text: str) -> str:
    r"""``text`` with every control character shown as its escape: ESC as the 4 characters ``\x1b``.

    Tab, line feed and carriage return read ``\t``, ``\n`` and ``\r``; other C0 and C1
    controls and DEL ``\xNN``; the line separators and bidi controls ``\uNNNN``. A backslash is
    left alone, so ordinary text (a path, a regular expression) reads as it is.
    """
    if text.isascii() and text.isprintable():
        return text
    return text.translate(_ESCAPES)


def _lines(text: str) -> str:
    """``text`` made :func:`printable`, but its line breaks kept (help, a list of violations)."""
    if text.isascii() and text.replace("\n", " ").isprintable():
        return text
    return text.translate(_LINES_KEPT)


def out(text: str) -> None:
    """Write payload text to stdout."""
    sys.stdout.write(text)


def warn(message: str) -> None:
    """One line on stderr: a line break in ``message`` shows as ``\\n``, like any control."""
    sys.stderr.write(f"astroctl: warning: {printable(message)}\n")


def error(message: str) -> None:
    """The error on stderr; it may have several lines (every violation of a matrix file).

    Each line after the first is indented, so text inside the message cannot pose as a
    message of its own (an ``astroctl: error:`` line).
    """
    first, *rest = _lines(message).split("\n")
    indented = (line if not line or line[0].isspace() else f"  {line}" for line in rest)
    sys.stderr.write("\n".join([f"astroctl: error: {first}", *indented]) + "\n")


def note(message: str) -> None:
    """Text on stderr (help, progress), its line breaks kept and other controls escaped."""
    sys.stderr.write(f"{_lines(message)}\n")


def flush() -> None:
    sys.stdout.flush()


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty() or os.environ.get("FORCE_COLOR") is not None


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file: nothing will flush it at exit
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


def traceback(exc: BaseException) -> None:
    """The traceback of ``exc`` on stderr (only under ``--debug``)."""
    import traceback as tb

    sys.stderr.write(_lines("".join(tb.format_exception(exc))))


def interactive() -> bool:
    """Whether a person is there to answer: stdin and stderr are both terminals."""
    return sys.stdin.isatty() and sys.stderr.isatty()
