"""The stdout/stderr policy: stdout carries only the payload; everything else goes to stderr.

Nothing outside :mod:`astroctl.render` writes to either stream.
"""

from __future__ import annotations

import os
import sys


def out(text: str) -> None:
    """Write payload text to stdout."""
    sys.stdout.write(text)


def warn(message: str) -> None:
    sys.stderr.write(f"astroctl: warning: {message}\n")


def error(message: str) -> None:
    sys.stderr.write(f"astroctl: error: {message}\n")


def note(message: str) -> None:
    sys.stderr.write(f"{message}\n")


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

    tb.print_exception(exc)
