"""The filesystem seam: whole-file writes that never leave a half-written file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from astroctl.errors import OperationError


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename.

    Readers see the old content or the new, never a mix; on failure the old file is untouched and
    the temporary file is removed. An existing file keeps its permissions; a symlink keeps
    pointing where it did (its target is replaced).
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


def _new_file_mode() -> int:
    """0666 less the process umask (read by setting it and putting it back, as pip does)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
