"""The filesystem seam: whole-file writes that never leave a half-written file behind."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from astroctl.errors import InputError, OperationError

# fsync on a directory is not supported by this filesystem: nothing more can be done
_CANNOT_SYNC_DIRECTORIES = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP})


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename.

    Readers see the old content or the new, never a mix; on failure the old file is untouched and
    the temporary file is removed. The file is fsynced before the rename and its directory after
    it, so a crash leaves the old content or the new, never an empty file or a lost rename. An
    existing file keeps its permissions; a symlink keeps pointing where it did (its target is
    replaced).
    """
    path = path.resolve() if path.is_symlink() else path
    directory = path.parent
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = _new_file_mode()  # not mkstemp's 0600: what a plain open() would have made
    except OSError as exc:
        raise OperationError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OperationError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise OperationError(f"{path}: cannot write: {exc.strerror or exc}") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    sync_directory(directory)


def sync_directory(directory: Path) -> None:
    """fsync a directory, so that a rename into it survives a crash.

    The rename is only durable once the directory's entry is on disk. A directory we may write
    but not read, or a filesystem that cannot fsync a directory (EINVAL, ENOTSUP), is left as it
    is; a real I/O error is reported.
    """
    if not hasattr(os, "O_DIRECTORY"):  # Windows: a directory cannot be opened this way
        return
    try:
        handle = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except PermissionError:
        return
    except OSError as exc:
        raise OperationError(f"{directory}: cannot sync: {exc.strerror or exc}") from exc
    try:
        os.fsync(handle)
    except OSError as exc:
        if exc.errno not in _CANNOT_SYNC_DIRECTORIES:
            raise OperationError(f"{directory}: cannot sync: {exc.strerror or exc}") from exc
    finally:
        os.close(handle)


def _new_file_mode() -> int:
    """0666 less the process umask (read by setting it and putting it back, as pip does)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def read_text(path: Path, *, what: str, limit: int, hint: str = "") -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes, or an ``InputError`` that
    names the file and calls it ``what`` ("change fragment", "changelog").

    The file is opened without blocking and checked through its descriptor before a byte is
    read: a FIFO cannot hang the read, a device cannot feed it forever, and nothing can swap the
    file between the check and the read. ``FileNotFoundError`` is left to the caller (a missing
    changelog is an empty one). ``hint`` follows the size message ("a fragment is a few lines").
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what}: {_why(exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise InputError(f"{path}: {kind}; a {what} is a regular file")
        data = _read_bounded(fd, path, what=what, limit=limit, hint=hint)
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _read_bounded(fd: int, path: Path, *, what: str, limit: int, hint: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = os.read(fd, 1024 * 1024)
        except OSError as exc:
            raise InputError(f"{path}: cannot read the {what}: {_why(exc)}") from None
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            shown = (
                f"{limit // 1024 // 1024} MiB"
                if limit >= 1024 * 1024 * 2
                else f"{limit // 1024} KiB"
            )
            raise InputError(f"{path}: larger than {shown}{'; ' + hint if hint else ''}")
        chunks.append(chunk)


def _why(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return str(exc.strerror or exc)
