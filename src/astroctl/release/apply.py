"""The one transaction that writes a release: all of it, or none of it.

The planning code decides what a release writes (the matrix, the changelog), which change
fragments it consumes, the commit message and the tag; :func:`apply` writes exactly that, under
the repository's lock, in these steps (the names the ``faults`` hook is called with)::

    lock            take <root>/.astroctl.lock (a second release waits, then fails)
    check           the paths; the files unchanged since planning (``planned_from``); with
                    git: a repository, a clean tree, a new tag
    write:<path>    each file, atomically (a temporary file renamed into place)
    remove:<path>   each consumed fragment
    commit          git commit of exactly the written and removed paths
    tag             the annotated tag on that commit
    done            the end, before the lock is let go

With git, the tree must be clean before anything is written: no tracked file anywhere may have
uncommitted changes (staged or not), and no path the release writes or removes may be untracked.
The release commit then holds the release and nothing else, and the state before it is exactly
the commit before it, which is what makes undoing it exact.

If any step fails, however it fails (an error, a failed git, a hook refusing the commit, a
Ctrl-C), everything done so far is undone before the error goes on: each file written or
removed gets back its bytes, mode and times (a file that did not exist is deleted again), the
tag made is deleted, HEAD's branch goes back to the commit it was on and the index entries of
the release's paths to theirs, so ``git status`` reads as before. The rollback ignores a second
Ctrl-C so it can finish. If part of the rollback fails too, :class:`RollbackFailed` names what
is left to repair by hand.

What it cannot undo: a crash, ``kill -9`` or power cut between two steps leaves the steps done
so far (each file is whole, old or new, never half-written; the lock is stale and the next
release takes it over). There is no on-disk journal to replay. With git, the tree was clean,
so the state before is the commit before: ``git status`` shows what was written (``git
checkout`` the release's paths and delete its new files), ``git log`` whether the commit was
made (``git reset --keep HEAD~1``) and ``git tag -l`` whether the tag was (``git tag -d``).
A hook or another git process changing the repository in the middle is not undone either: a
HEAD that moved to a commit that is not ours is left where it is, and said so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from astroctl.errors import AstroctlError, InputError, OperationError
from astroctl.seams.fs import sync_directory, write_text
from astroctl.seams.git import Git
from astroctl.seams.lock import DEFAULT_TIMEOUT, lock

LOCK_NAME = ".astroctl.lock"

Faults = Callable[[str], None]
"""Called with each step's name before the step runs; raising there fails that step (tests)."""


@dataclass(frozen=True)
class ReleaseWrite:
    """What a release writes; paths are relative to ``root`` (or absolute, inside it)."""

    root: Path  # the repository / project root
    files: Mapping[Path, str]  # path -> new full text (data/compatibility.toml, CHANGELOG.md)
    remove: tuple[Path, ...] = ()  # consumed change fragments
    commit_message: str | None = None  # with git: commit exactly files + remove
    tag: str | None = None  # e.g. runtime-9.3.0 (annotated); needs a commit
    tag_message: str | None = None  # the tag's message (the commit message if None)
    # the bytes files had when the release was planned (None: absent); changed since: refused
    planned_from: Mapping[Path, bytes | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Applied:
    """What :func:`apply` did: absolute paths, in the order they were written or removed."""

    written: tuple[Path, ...]
    removed: tuple[Path, ...]
    commit: str | None = None  # the release commit's full sha
    tag: str | None = None  # the tag's name


class RollbackFailed(OperationError):
    """A release failed, and undoing it failed too: the message says what is left (exit 1)."""

    def __init__(self, failure: BaseException, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        cause = str(failure) or type(failure).__name__
        lines = [f"the release failed ({cause}) and could not be undone completely:"]
        lines.extend(f"  {problem}" for problem in self.problems)
        super().__init__("\n".join(lines))


def fault_points(write: ReleaseWrite) -> tuple[str, ...]:
    """The step names :func:`apply` calls ``faults`` with for ``write``, in order."""
    plan = _Plan.of(write)
    names = ["lock", "check"]
    names += [f"write:{plan.name(path)}" for path in plan.files]
    names += [f"remove:{plan.name(path)}" for path in plan.remove]
    names += ["commit"] if write.commit_message is not None else []
    names += ["tag"] if write.tag is not None else []
    return (*names, "done")


def apply(
    write: ReleaseWrite,
    *,
    git: Git | None = None,
    lock_timeout: float = DEFAULT_TIMEOUT,
    faults: Faults | None = None,
) -> Applied:
    """Write the release, commit and tag it; on any failure undo it all and re-raise.

    ``git`` is needed for ``commit_message`` and ``tag``; without it only files change.
    Raises :class:`InputError` (a dirty tree, an existing tag, a path outside the root or
    missing) before anything is written, :class:`OperationError` for a failed step (a file
    that cannot be written, a failed git), the original exception otherwise (``faults``,
    KeyboardInterrupt), and :class:`RollbackFailed` if the rollback left something behind.
    """
    if git is None and (write.commit_message is not None or write.tag is not None):
        raise ValueError("a commit or a tag needs git=")
    if write.tag is not None and write.commit_message is None:
        raise ValueError("a tag needs a commit_message: the release tags its own commit")
    plan = _Plan.of(write)
    fault = faults or _no_fault
    fault("lock")
    with lock(plan.root / LOCK_NAME, timeout=lock_timeout):
        fault("check")
        plan.check()
        head = _preflight(write, plan, git)
        saved = plan.backup()
        plan.require_unchanged(write.planned_from, saved)
        return _Transaction(write, plan, git, fault, head, saved).run()


def _no_fault(step: str) -> None:
    del step


def _preflight(write: ReleaseWrite, plan: _Plan, git: Git | None) -> str | None:
    """With a commit to make: a repository, a clean tree and a new tag; HEAD before it."""
    if git is None or write.commit_message is None:
        return None
    git.require_repository()
    git.require_clean(plan.paths)
    if write.tag is not None:
        git.require_new_tag(write.tag)
    return git.head()


# -- the paths ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Saved:
    """A file as it was: its bytes, permission bits and times."""

    data: bytes
    mode: int
    times: tuple[int, int]  # (atime_ns, mtime_ns)


@dataclass(frozen=True)
class _Plan:
    """The release's paths, absolute and checked to be under the root."""

    root: Path
    files: dict[Path, str]
    remove: tuple[Path, ...]

    @classmethod
    def of(cls, write: ReleaseWrite) -> _Plan:
        root = write.root.absolute()
        files = {_inside(root, path): text for path, text in write.files.items()}
        remove = tuple(_inside(root, path) for path in write.remove)
        if len(files) != len(write.files) or len(set(remove)) != len(remove):
            raise InputError(f"{root}: the release names a path twice")
        if not files and not remove:
            raise ValueError("the release writes nothing: no files, nothing to remove")
        both = sorted(os.fspath(path) for path in files.keys() & set(remove))
        if both:
            raise InputError(f"the release both writes and removes {', '.join(both)}")
        return cls(root, files, remove)

    @property
    def paths(self) -> tuple[Path, ...]:
        return (*self.files, *self.remove)

    def name(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def check(self) -> None:
        """Each file goes into an existing directory; each fragment is a regular file."""
        for path in self.files:
            if path.is_symlink() or (path.exists() and not path.is_file()):
                raise InputError(f"{path}: not a regular file: the release will not replace it")
            if not path.parent.is_dir():
                raise InputError(f"{path}: cannot write: {path.parent} is not a directory")
        for path in self.remove:
            if path.is_symlink() or not path.is_file():
                what = "does not exist" if not os.path.lexists(path) else "is not a regular file"
                raise InputError(f"{path}: the change fragment to remove {what}")

    def require_unchanged(
        self, planned_from: Mapping[Path, bytes | None], saved: Mapping[Path, _Saved | None]
    ) -> None:
        """Each file still has the bytes the release was planned from (another release may
        have been written while this one waited for the lock)."""
        for path, before in planned_from.items():
            full = _inside(self.root, path)
            now = saved[full] if full in saved else _save(full)
            if (now.data if now is not None else None) != before:
                raise InputError(
                    f"{full}: changed since the release was planned (by another release?): "
                    "plan it again"
                )

    def backup(self) -> dict[Path, _Saved | None]:
        """Every path as it is now (None for a file that does not exist yet)."""
        return {path: _save(path) for path in self.paths}


def _inside(root: Path, path: Path) -> Path:
    """``path`` made absolute against ``root``, which it must be strictly inside.

    An absolute path that reaches the root through a symbolic link (``/tmp`` for
    ``/private/tmp``) counts as inside: it is spelled from the root as given.
    """
    full = Path(os.path.normpath(root / path))
    if full != root and full.is_relative_to(root):
        return full
    real_root, real = root.resolve(), full.parent.resolve() / full.name
    if real != real_root and real.is_relative_to(real_root):
        return root / real.relative_to(real_root)
    raise InputError(f"{path}: not inside the release root {root}")


def _save(path: Path) -> _Saved | None:
    try:
        with open(path, "rb") as stream:
            info = os.fstat(stream.fileno())
            data = stream.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OperationError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return _Saved(data, stat.S_IMODE(info.st_mode), (info.st_atime_ns, info.st_mtime_ns))


# -- the transaction ---------------------------------------------------------------------------


@dataclass
class _Transaction:
    write: ReleaseWrite
    plan: _Plan
    git: Git | None
    fault: Faults
    head: str | None  # HEAD before the release (with a commit to make)
    saved: dict[Path, _Saved | None]
    step: str = "check"
    touched: list[Path] = field(default_factory=list)  # paths whose write or removal began
    staged: bool = False  # git has been asked to stage or commit
    tagging: bool = False  # git has been asked to tag
    commit: str | None = None

    def run(self) -> Applied:
        try:
            self._steps()
        except BaseException as failure:
            with _interrupts_held():
                problems = self._rollback()
            error = _as_error(failure, self.plan.root, self.step)
            if problems:
                raise RollbackFailed(failure, problems) from failure
            if error is not failure:
                raise error from failure
            raise
        return Applied(
            tuple(self.plan.files),
            self.plan.remove,
            self.commit,
            self.write.tag if self.tagging else None,
        )

    def _begin(self, step: str) -> None:
        self.step = step
        self.fault(step)

    def _steps(self) -> None:
        for path, text in self.plan.files.items():
            self._begin(f"write:{self.plan.name(path)}")
            self.touched.append(path)
            write_text(path, text)
        for path in self.plan.remove:
            self._begin(f"remove:{self.plan.name(path)}")
            self.touched.append(path)
            _unlink(path)
        for directory in sorted({path.parent for path in self.plan.remove}):
            sync_directory(directory)
        if self.git is not None and self.write.commit_message is not None:
            self._begin("commit")
            self.staged = True
            self.commit = self.git.commit(self.write.commit_message, self.plan.paths)
        if self.git is not None and self.write.tag is not None:
            self._begin("tag")
            self.tagging = True
            message = self.write.tag_message or self.write.commit_message or self.write.tag
            self.git.tag(self.write.tag, message, self.commit or "HEAD")
        self._begin("done")

    # -- undoing -------------------------------------------------------------------------------

    def _rollback(self) -> list[str]:
        """Undo what was done, in reverse; what could not be undone, as sentences."""
        problems: list[str] = []
        if self.git is not None and self.staged:
            problems += self._undo_git(self.git)
        for path in reversed(self.touched):
            try:
                _restore(path, self.saved[path])
            except (OSError, AstroctlError) as exc:
                problems.append(f"{path}: not restored: {_reason(exc)}")
        return problems

    def _undo_git(self, git: Git) -> list[str]:
        try:
            ours = self._our_commit(git)
            made = self.commit or ours
            tag = self.write.tag
            if self.tagging and tag and made and git.tag_target(tag) == made:
                git.delete_tag(tag)  # it names the commit this release made: ours
            if ours is not None:
                git.move_head(self.head, expected=ours)
            elif (current := git.head()) != self.head:
                return [f"HEAD moved to {current}, not a commit of this release: left there"]
            git.reset_index(self.plan.paths, self.head)
        except AstroctlError as exc:
            return [f"git not rolled back to {self.head or 'no commit'}: {_reason(exc)}"]
        return []

    def _our_commit(self, git: Git) -> str | None:
        """The commit this release made, if HEAD is on it (its parent is the HEAD before)."""
        if self.commit is not None:
            return self.commit if git.head() == self.commit else None
        current = git.head()  # interrupted in the middle of git commit: did it finish?
        if current is not None and current != self.head and git.parent(current) == self.head:
            return current
        return None


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError as exc:
        raise OperationError(f"{path}: cannot remove: {exc.strerror or exc}") from exc


def _restore(path: Path, saved: _Saved | None) -> None:
    """Put ``path`` back as it was: delete it if it did not exist, else its bytes and mode."""
    if saved is None:
        if os.path.lexists(path):
            os.unlink(path)
            sync_directory(path.parent)
        return
    current = _save(path)
    if current is None or (current.data, current.mode) != (saved.data, saved.mode):
        _write_bytes(path, saved.data, saved.mode)
    if current != saved:
        os.utime(path, ns=saved.times)


def _write_bytes(path: Path, data: bytes, mode: int) -> None:
    """``data`` into ``path`` with ``mode``, through a temporary file and a rename."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    sync_directory(path.parent)


def _as_error(failure: BaseException, root: Path, step: str) -> BaseException:
    """An OSError that escaped a step becomes an OperationError naming it; the rest stay."""
    if isinstance(failure, OSError) and not isinstance(failure, AstroctlError):
        where = failure.filename or root
        return OperationError(f"{where}: the release failed at {step}: {_reason(failure)}")
    return failure


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ignore Ctrl-C for the block (a rollback half done is worse than a slow one)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
