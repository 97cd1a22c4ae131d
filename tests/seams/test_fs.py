"""The filesystem seam's durability: the file before the rename, its directory after it.

(The atomic-write behaviour itself is tested in tests/matrix/test_store.py.)
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from astroctl.errors import InputError, OperationError
from astroctl.seams import fs


@dataclass(frozen=True)
class Event:
    what: str  # "fsync file", "fsync directory", "replace", "close"
    inode: int = 0
    fd: int = -1


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """Record every fsync (of what inode, file or directory), rename and close, in order."""
    log: list[Event] = []
    real_fsync, real_replace, real_close = os.fsync, os.replace, os.close

    def fsync(fd: int) -> None:
        status = os.fstat(fd)
        kind = "directory" if stat.S_ISDIR(status.st_mode) else "file"
        log.append(Event(f"fsync {kind}", status.st_ino, fd))
        real_fsync(fd)

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        log.append(Event("replace", os.stat(source).st_ino))
        real_replace(source, target)

    def close(fd: int) -> None:
        log.append(Event("close", fd=fd))
        real_close(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "close", close)
    return log


def test_the_directory_is_fsynced_after_the_rename(tmp_path: Path, events: list[Event]) -> None:
    target = tmp_path / "compatibility.toml"
    target.write_text("old\n", encoding="utf-8")
    fs.write_text(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    kinds = [e.what for e in events if e.what != "close"]
    assert kinds == ["fsync file", "replace", "fsync directory"]
    file_sync, rename, directory_sync = (e for e in events if e.what != "close")
    assert file_sync.inode == rename.inode == target.stat().st_ino  # the new file, synced
    assert directory_sync.inode == tmp_path.stat().st_ino  # the directory holding it


def test_the_directory_descriptor_is_closed(tmp_path: Path, events: list[Event]) -> None:
    fs.write_text(tmp_path / "notes.md", "x")
    directory_sync = next(e for e in events if e.what == "fsync directory")
    assert events[-1] == Event("close", fd=directory_sync.fd)


def test_through_a_symlink_the_target_directory_is_synced(
    tmp_path: Path, events: list[Event]
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "file.txt").write_text("old", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(real / "file.txt")
    fs.write_text(link, "new")
    directory_sync = next(e for e in events if e.what == "fsync directory")
    assert directory_sync.inode == real.stat().st_ino


def test_nothing_is_synced_or_renamed_when_the_write_fails(
    tmp_path: Path, events: list[Event]
) -> None:
    with pytest.raises(OperationError):
        fs.write_text(tmp_path / "missing" / "file.txt", "x")
    assert [e.what for e in events if e.what != "close"] == []


@pytest.mark.parametrize("code", [errno.EINVAL, errno.ENOTSUP])
def test_a_filesystem_that_cannot_sync_directories_is_tolerated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(code, os.strerror(code))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    fs.write_text(tmp_path / "file.txt", "written")
    assert (tmp_path / "file.txt").read_text(encoding="utf-8") == "written"


def test_an_io_error_syncing_the_directory_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync
    closed: list[int] = []
    real_close = os.close

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    def close(fd: int) -> None:
        closed.append(fd)
        real_close(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "close", close)
    with pytest.raises(OperationError) as caught:
        fs.write_text(tmp_path / "file.txt", "written")
    assert str(caught.value) == f"{tmp_path}: cannot sync: Input/output error"
    assert closed  # the directory descriptor is closed on the way out
    assert (tmp_path / "file.txt").read_text(encoding="utf-8") == "written"


def test_a_directory_we_may_not_read_is_left_unsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def open_(path: str | os.PathLike[str], flags: int, *args: int, **kw: int) -> int:
        if flags & os.O_DIRECTORY:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", open_)
    fs.write_text(tmp_path / "file.txt", "written")
    assert (tmp_path / "file.txt").read_text(encoding="utf-8") == "written"


def test_sync_directory_on_a_real_directory(tmp_path: Path) -> None:
    fs.sync_directory(tmp_path)  # no error, no descriptor left open
    with pytest.raises(OperationError, match="cannot sync"):
        fs.sync_directory(tmp_path / "missing")


def test_read_text_refuses_what_is_not_a_small_utf8_regular_file(tmp_path: Path) -> None:
    good = tmp_path / "notes.md"
    good.write_text("caf\u00e9\n", encoding="utf-8")
    assert fs.read_text(good, what="note", limit=100) == "caf\u00e9\n"
    with pytest.raises(InputError, match="a directory; a note is a regular file"):
        fs.read_text(tmp_path, what="note", limit=100)
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        fs.read_text(fifo, what="note", limit=100)  # refused at once, never blocks
    big = tmp_path / "big.md"
    big.write_bytes(b"x" * 2049)
    with pytest.raises(InputError, match="larger than 2 KiB; keep it short"):
        fs.read_text(big, what="note", limit=2048, hint="keep it short")
    latin = tmp_path / "latin.md"
    latin.write_bytes(b"caf\xe9")
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 3\)"):
        fs.read_text(latin, what="note", limit=100)
    with pytest.raises(FileNotFoundError):
        fs.read_text(tmp_path / "missing.md", what="note", limit=100)
