"""The filesystem seam: whole-file writes that never leave a half-written file behind."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from astroctl.errors import OperationError

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
