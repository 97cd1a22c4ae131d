"""The lock seam: one astroctl release at a time on a repository.

:func:`lock` creates the lock file with ``O_CREAT | O_EXCL`` (creation is the test: only one
process can create it) and writes its holder in it as JSON: pid, host name and the time it was
taken. A second process waits, polling, for a bounded time, then fails with an
:class:`OperationError` naming the holder. The file is removed when the block ends, on an
exception too.

A stale lock, left by a process that died (a ``kill -9``, a crash), is taken over: its holder
is on this host and its pid is no longer alive. Taking over is race-free: the holder keeps an
``flock`` on the file while it holds it, and a waiter removes a stale file only while holding
that ``flock`` itself and only if the name still refers to the file it judged stale, so two
waiters can never both break one lock, nor break a lock taken in between. A lock held from
another host is never taken over (its pid means nothing here); nor is one whose pid was reused
by an unrelated process since (after a reboot): the message names the pid and the time, and the
file can be removed by hand.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from astroctl.errors import OperationError

DEFAULT_TIMEOUT = 10.0  # seconds a second release waits for the first
DEFAULT_POLL = 0.1  # seconds between two looks at the lock
_MAX_LOCK_BYTES = 4096  # a lock file is one short JSON line


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as its file says."""

    pid: int
    host: str
    since: str  # ISO 8601, local time with offset, to the second

    def describe(self) -> str:
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"pid {self.pid}{where} since {self.since}"


@contextlib.contextmanager
def lock(
    path: Path, timeout: float = DEFAULT_TIMEOUT, poll: float = DEFAULT_POLL
) -> Iterator[None]:
    """Hold the lock file ``path`` for the block; wait at most ``timeout`` seconds for it.

    Raise :class:`OperationError` if another holder keeps it longer, or if the file cannot be
    created (a missing or read-only directory). Not re-entrant: a second ``lock`` on the same
    path in the same process waits for the first, like any other holder.
    """
    if timeout < 0 or poll <= 0:
        raise ValueError(f"timeout must be >= 0 and poll > 0, not {timeout!r} and {poll!r}")
    handle = _acquire(path, timeout, poll)
    try:
        yield
    finally:
        _release(path, handle)


def read_holder(path: Path) -> Holder | None:
    """The holder the lock file names (None if there is no file or it cannot be read)."""
    try:
        with open(path, "rb") as stream:
            return _parse(stream.read(_MAX_LOCK_BYTES))
    except OSError:
        return None


def _acquire(path: Path, timeout: float, poll: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        handle = _create(path)
        if handle is not None:
            return handle
        holder = _break_if_stale(path)
        if holder is None:
            continue  # gone (released, or stale and removed): try again at once
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OperationError(
                f"{path}: another astroctl release holds the lock ({_who(holder)}); "
                f"waited {timeout:g} s"
            )
        time.sleep(min(poll, remaining))


def _create(path: Path) -> int | None:
    """Create the lock file and hold it; None if it exists."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        return None
    except OSError as exc:
        raise OperationError(f"{path}: cannot create the lock: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks only while a waiter inspects the new file
        since = dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": since}
        os.write(handle, (json.dumps(record) + "\n").encode("utf-8"))
        os.fsync(handle)
    except OSError as exc:
        _release(path, handle)
        raise OperationError(f"{path}: cannot write the lock: {exc.strerror or exc}") from exc
    except BaseException:
        _release(path, handle)
        raise
    return handle


def _break_if_stale(path: Path) -> Holder | str | None:
    """Remove the lock file if its holder is dead; return who holds it, or None if nobody does.

    The holder comes back as a :class:`Holder`, or as a string when the file does not say (it is
    being written, or it is not an astroctl lock).
    """
    try:
        handle = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OperationError(f"{path}: cannot read the lock: {exc.strerror or exc}") from exc
    try:
        holder = _parse(os.read(handle, _MAX_LOCK_BYTES))
        if holder is None:  # being written, or not an astroctl lock
            return "the file does not name its holder; remove it if no release is running"
        if not _stale(holder):
            return holder
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return holder  # its holder is alive after all, or another waiter is breaking it
        if _same_file(path, handle):
            os.unlink(path)
        return None
    except OSError as exc:
        raise OperationError(
            f"{path}: cannot read the lock or take it over: {exc.strerror or exc}"
        ) from exc
    finally:
        os.close(handle)


def _release(path: Path, handle: int) -> None:
    """Remove the lock file (if it is still ours) and let go of it."""
    try:
        if _same_file(path, handle):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    finally:
        os.close(handle)


def _same_file(path: Path, handle: int) -> bool:
    """``path`` still names the file open as ``handle``."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(handle)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _stale(holder: Holder) -> bool:
    """The holder ran on this host and its process is gone."""
    if holder.host != socket.gethostname():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


def _parse(data: bytes) -> Holder | None:
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    pid, host, since = record.get("pid"), record.get("host"), record.get("since")
    if isinstance(pid, bool) or not (isinstance(pid, int) and pid > 0):
        return None  # never signal pid 0 or -1 (a process group, everyone)
    if not (isinstance(host, str) and isinstance(since, str)):
        return None
    return Holder(pid, host, since)


def _who(holder: Holder | str) -> str:
    return holder.describe() if isinstance(holder, Holder) else holder
