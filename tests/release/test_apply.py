"""The release transaction, against a real git repository per test.

The promise under test: a release is written whole or not at all. A failure injected before
each step (and KeyboardInterrupt too), and real failures from git itself, leave every file
byte-for-byte as it was (bytes, mode, mtime), HEAD, the index, the tags and ``git status``.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from astroctl.errors import EXIT_FAILED, EXIT_USAGE, InputError, OperationError
from astroctl.release.apply import (
    LOCK_NAME,
    Applied,
    ReleaseWrite,
    RollbackFailed,
    apply,
    fault_points,
)
from astroctl.seams.git import Git
from astroctl.seams.process import ProcessFailed, Runner
from tests.helpers import git
from tests.helpers import init_repository as init

MATRIX, CHANGELOG, NOTES = Path("data/compatibility.toml"), Path("CHANGELOG.md"), Path("RELEASE.md")
FEATURE, FIX = Path("changes/1.feature.md"), Path("changes/2.fix.md")
TAG = "runtime-9.3.0"
HOLD = """
import sys, time
from pathlib import Path
from astroctl.seams.lock import lock
with lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def release(root: Path, *, commit: bool = True) -> ReleaseWrite:
    """Release 9.3.0: the matrix and changelog rewritten, a new notes file, both fragments gone."""
    return ReleaseWrite(
        root=root,
        files={
            MATRIX: '[[releases]]\nversion = "9.2.0"\n\n[[releases]]\nversion = "9.3.0"\n',
            CHANGELOG: "# Changelog\r\n\r\n## 9.3.0\r\n\r\n- A feature.\r\n- A fix.\r\n"
            "\r\n## 9.2.0\r\n",
            NOTES: "Runtime 9.3.0: a feature, a fix. Ünïcode.\n",
        },
        remove=(FEATURE, FIX),
        commit_message="Release runtime 9.3.0" if commit else None,
        tag=TAG if commit else None,
        tag_message="Runtime 9.3.0" if commit else None,
    )


STEPS = fault_points(release(Path("/repo")))
FILE_STEPS = fault_points(release(Path("/repo"), commit=False))


class Boom(Exception):
    """The injected failure."""


def populate(root: Path) -> Path:
    """The project before the release; awkward on purpose: CRLF, Latin-1 bytes, odd modes."""
    for directory in ("data", "changes"):
        (root / directory).mkdir(parents=True)
    (root / MATRIX).write_bytes(b'[[releases]]\nversion = "9.2.0"\n')
    (root / CHANGELOG).write_bytes(b"# Changelog\r\n\r\n## 9.2.0\r\n")
    (root / CHANGELOG).chmod(0o640)
    (root / FEATURE).write_bytes(b"A feature.\n")
    (root / FEATURE).chmod(0o600)
    (root / FIX).write_bytes(b"A fix, caf\xe9 (Latin-1, not UTF-8)\n")
    (root / FIX).chmod(0o755)
    (root / "README.md").write_bytes(b"The project.\n")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = populate(init(tmp_path / "repo"))
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "Runtime 9.2.0")
    return root


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    """The same project, not in a git repository."""
    return populate(tmp_path / "plain")


def seam(root: Path) -> Git:
    return Git(Runner(), root)


@dataclass(frozen=True)
class State:
    """Everything a release may touch: each file's bytes, mode and mtime; git's view."""

    files: dict[str, tuple[bytes, int, int]]
    directories: frozenset[str]
    head: str = ""
    refs: str = ""  # every branch and tag, and what it names
    index: str = ""  # the staged entries (mode, blob, path)
    status: str = ""


def state(root: Path) -> State:
    files, directories = {}, set()
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if name == ".git" or name.startswith(".git/"):
            continue
        info = path.lstat()
        if stat.S_ISDIR(info.st_mode):
            directories.add(name)
        else:
            files[name] = (path.read_bytes(), stat.S_IMODE(info.st_mode), info.st_mtime_ns)
    if not (root / ".git").exists():
        return State(files, frozenset(directories))
    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "-q", "--verify", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return State(
        files,
        frozenset(directories),
        head=head + git(root, "symbolic-ref", "HEAD"),
        refs=git(root, "for-each-ref"),
        index=git(root, "ls-files", "-s"),
        status=git(root, "status", "--porcelain", "--untracked-files=all"),
    )


def fail_at(
    step: str, error: BaseException, seen: list[str] | None = None
) -> Callable[[str], None]:
    def faults(name: str) -> None:
        if seen is not None:
            seen.append(name)
        if name == step:
            raise error

    return faults


# --- a release that succeeds ----------------------------------------------------------------


def test_a_release_commits_exactly_its_files_and_tags_them(repo: Path) -> None:
    (repo / "scratch.txt").write_text("untracked, elsewhere: allowed, and left out\n")
    before = git(repo, "rev-parse", "HEAD").strip()
    write = release(repo)
    seen: list[str] = []
    applied = apply(write, git=seam(repo), faults=seen.append)
    sha = git(repo, "rev-parse", "HEAD").strip()
    assert applied == Applied(
        written=(repo / MATRIX, repo / CHANGELOG, repo / NOTES),
        removed=(repo / FEATURE, repo / FIX),
        commit=sha,
        tag=TAG,
    )
    assert seen == list(STEPS)
    assert git(repo, "rev-parse", "HEAD^").strip() == before
    assert git(repo, "show", "--name-status", "--format=%s", "HEAD").splitlines() == [
        "Release runtime 9.3.0",
        "",
        "M\tCHANGELOG.md",
        "A\tRELEASE.md",
        "D\tchanges/1.feature.md",
        "D\tchanges/2.fix.md",
        "M\tdata/compatibility.toml",
    ]
    assert git(repo, "cat-file", "-t", TAG).strip() == "tag"  # annotated
    assert git(repo, "rev-parse", f"{TAG}^{{commit}}").strip() == sha
    assert git(repo, "tag", "-l", "--format=%(contents:subject)", TAG).strip() == "Runtime 9.3.0"
    assert git(repo, "status", "--porcelain").splitlines() == ["?? scratch.txt"]
    for path, text in write.files.items():
        assert (repo / path).read_bytes() == text.encode("utf-8")
    assert stat.S_IMODE((repo / CHANGELOG).stat().st_mode) == 0o640  # its mode kept
    assert not (repo / FEATURE).exists() and not (repo / FIX).exists()
    assert not (repo / LOCK_NAME).exists()


def test_the_steps_are_named_in_order() -> None:
    assert STEPS == (
        "lock",
        "check",
        "write:data/compatibility.toml",
        "write:CHANGELOG.md",
        "write:RELEASE.md",
        "remove:changes/1.feature.md",
        "remove:changes/2.fix.md",
        "commit",
        "tag",
        "done",
    )
    assert tuple(step for step in STEPS if step not in ("commit", "tag")) == FILE_STEPS


def test_a_release_in_a_repository_without_commits(tmp_path: Path) -> None:
    root = init(tmp_path / "empty")
    write = ReleaseWrite(root, {CHANGELOG: "# Changelog\n"}, commit_message="First", tag="v1")
    before = state(root)
    with pytest.raises(Boom):
        apply(write, git=seam(root), faults=fail_at("done", Boom()))
    assert state(root) == before  # the branch unborn again, nothing staged
    applied = apply(write, git=seam(root))
    assert applied.commit == git(root, "rev-parse", "HEAD").strip()
    assert git(root, "rev-list", "--count", "HEAD").strip() == "1"


# --- a fault at every step ------------------------------------------------------------------


@pytest.mark.parametrize("error", [Boom("injected"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
@pytest.mark.parametrize("step", STEPS)
def test_a_fault_at_any_step_changes_nothing(repo: Path, step: str, error: BaseException) -> None:
    before = state(repo)
    seen: list[str] = []
    with pytest.raises(type(error)) as caught:
        apply(release(repo), git=seam(repo), faults=fail_at(step, error, seen))
    assert caught.value is error  # the original error, re-raised as it was
    assert seen == list(STEPS[: STEPS.index(step) + 1])
    assert state(repo) == before


@pytest.mark.parametrize("step", FILE_STEPS)
def test_without_git_a_fault_at_any_step_changes_nothing(plain: Path, step: str) -> None:
    before = state(plain)
    with pytest.raises(Boom):
        apply(release(plain, commit=False), faults=fail_at(step, Boom()))
    assert state(plain) == before


def test_a_release_after_a_rolled_back_one_succeeds(repo: Path) -> None:
    with pytest.raises(Boom):
        apply(release(repo), git=seam(repo), faults=fail_at("done", Boom()))
    applied = apply(release(repo), git=seam(repo))
    assert applied.tag == TAG
    assert git(repo, "status", "--porcelain") == ""


# --- real failures --------------------------------------------------------------------------


def hook(repo: Path, name: str, script: str) -> None:
    path = repo / ".git" / "hooks" / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def test_a_commit_refused_by_a_hook_is_rolled_back(repo: Path) -> None:
    hook(repo, "pre-commit", "echo 'pre-commit: the hook says no' >&2\nexit 1\n")
    before = state(repo)
    with pytest.raises(ProcessFailed) as caught:
        apply(release(repo), git=seam(repo))
    assert "pre-commit: the hook says no" in str(caught.value)
    assert caught.value.exit_code == EXIT_FAILED
    assert state(repo) == before


def test_a_tag_refused_by_git_is_rolled_back(repo: Path) -> None:
    hook(
        repo,
        "reference-transaction",
        """\
[ "$1" = prepared ] || exit 0
while read -r old new ref; do
    case "$ref" in refs/tags/*) echo "no tags today: $ref" >&2; exit 1;; esac
done
exit 0
""",
    )
    before = state(repo)
    with pytest.raises(ProcessFailed, match=r"no tags today: refs/tags/runtime-9\.3\.0"):
        apply(release(repo), git=seam(repo))
    assert state(repo) == before


class InterruptedGit(Git):
    """Git interrupted by Ctrl-C just after a command finished, before it returned."""

    def __init__(self, root: Path, after: str) -> None:
        super().__init__(Runner(), root)
        self.after = after

    def commit(self, message: str, paths: Sequence[Path]) -> str:
        sha = super().commit(message, paths)
        if self.after == "commit":
            raise KeyboardInterrupt
        return sha

    def tag(self, name: str, message: str, ref: str = "HEAD") -> None:
        super().tag(name, message, ref)
        if self.after == "tag":
            raise KeyboardInterrupt


@pytest.mark.parametrize("after", ["commit", "tag"])
def test_ctrl_c_inside_a_git_step_is_rolled_back(repo: Path, after: str) -> None:
    before = state(repo)
    with pytest.raises(KeyboardInterrupt):
        apply(release(repo), git=InterruptedGit(repo, after))
    assert state(repo) == before


def test_a_file_that_cannot_be_written_is_rolled_back(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        if Path(target).name == NOTES.name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    before = state(repo)
    with pytest.raises(OperationError, match=r"RELEASE\.md: cannot write: No space left on device"):
        apply(release(repo), git=seam(repo))
    assert state(repo) == before  # the two files written before it restored; no temporary left


def test_an_os_error_in_a_step_becomes_an_operation_error(repo: Path) -> None:
    error = PermissionError(errno.EACCES, "Permission denied", "changes/1.feature.md")
    before = state(repo)
    with pytest.raises(OperationError) as caught:
        apply(release(repo), git=seam(repo), faults=fail_at("remove:changes/1.feature.md", error))
    assert str(caught.value) == (
        "changes/1.feature.md: the release failed at remove:changes/1.feature.md: Permission denied"
    )
    assert caught.value.__cause__ is error
    assert state(repo) == before


class StuckGit(Git):
    """A git whose HEAD cannot be moved back."""

    def move_head(self, to: str | None, *, expected: str) -> None:
        raise OperationError("cannot lock ref 'HEAD'")


def test_a_rollback_that_fails_says_what_is_left(repo: Path) -> None:
    before = state(repo)
    with pytest.raises(RollbackFailed) as caught:
        apply(release(repo), git=StuckGit(Runner(), repo), faults=fail_at("done", Boom("late")))
    assert str(caught.value).splitlines() == [
        "the release failed (late) and could not be undone completely:",
        f"  git not rolled back to {before.head.splitlines()[0]}: cannot lock ref 'HEAD'",
    ]
    assert isinstance(caught.value.__cause__, Boom)
    assert caught.value.exit_code == EXIT_FAILED
    after = state(repo)
    assert {name: data for name, (data, _, _) in after.files.items()} == {
        name: data for name, (data, _, _) in before.files.items()
    }  # the files are restored all the same
    assert not git(repo, "tag", "-l")


# --- refused before anything is written -----------------------------------------------------


def dirty_readme(repo: Path) -> str:
    (repo / "README.md").write_text("An edit nobody committed.\n")
    return "README.md"


def staged_readme(repo: Path) -> str:
    (repo / "README.md").write_text("A staged edit.\n")
    git(repo, "add", "README.md")
    return "README.md"


def modified_fragment(repo: Path) -> str:
    (repo / FIX).write_text("An edited fragment.\n")
    return FIX.as_posix()


def new_changelog(repo: Path) -> str:
    git(repo, "rm", "-q", "--cached", CHANGELOG.as_posix())
    git(repo, "commit", "-q", "-m", "untrack the changelog")
    return CHANGELOG.as_posix()  # untracked, and the release writes it


@pytest.mark.parametrize(
    "make_dirty", [dirty_readme, staged_readme, modified_fragment, new_changelog]
)
def test_a_dirty_tree_is_refused_with_nothing_written(
    repo: Path, make_dirty: Callable[[Path], str]
) -> None:
    name = make_dirty(repo)
    before = state(repo)
    with pytest.raises(InputError) as caught:
        apply(release(repo), git=seam(repo))
    assert f"{repo}: the tree has uncommitted changes: {name} (commit or stash" in str(caught.value)
    assert caught.value.exit_code == EXIT_USAGE
    assert state(repo) == before


def test_an_existing_tag_is_refused_with_nothing_written(repo: Path) -> None:
    git(repo, "tag", "-a", "-m", "made earlier", TAG)
    before = state(repo)
    with pytest.raises(InputError, match=r"^tag runtime-9\.3\.0 already exists$"):
        apply(release(repo), git=seam(repo))
    assert state(repo) == before


def test_not_a_repository_is_refused_with_nothing_written(plain: Path) -> None:
    before = state(plain)
    with pytest.raises(InputError, match="not a git repository"):
        apply(release(plain), git=seam(plain))
    assert state(plain) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"files": {Path("../outside.md"): "x"}}, "not inside the release root"),
        ({"files": {Path("/etc/passwd"): "x"}}, "not inside the release root"),
        ({"files": {Path("."): "x"}}, "not inside the release root"),
        ({"files": {Path("missing/x.md"): "x"}}, "missing is not a directory"),
        ({"files": {Path("changes"): "x"}}, "not a regular file"),
        ({"files": {Path("a.md"): "x", Path("data/../a.md"): "y"}}, "names a path twice"),
        ({"remove": (FIX, Path("changes/../changes/2.fix.md"))}, "names a path twice"),
        ({"remove": (Path("changes/3.gone.md"),)}, "fragment to remove does not exist"),
        ({"remove": (Path("changes"),)}, "fragment to remove is not a regular file"),
        ({"remove": (MATRIX,)}, "both writes and removes"),
        ({"remove": (Path("link.md"),)}, "fragment to remove is not a regular file"),
        ({"files": {Path("link.md"): "x"}}, "not a regular file"),
    ],
)
def test_bad_paths_are_refused_with_nothing_written(
    repo: Path, change: dict[str, object], message: str
) -> None:
    (repo / "link.md").symlink_to("README.md")
    git(repo, "add", "link.md")
    git(repo, "commit", "-q", "-m", "a link")
    base = release(repo)
    write = ReleaseWrite(
        repo,
        change.get("files", base.files),  # type: ignore[arg-type]
        change.get("remove", base.remove),  # type: ignore[arg-type]
        base.commit_message,
        base.tag,
    )
    before = state(repo)
    with pytest.raises(InputError, match=message):
        apply(write, git=seam(repo))
    assert state(repo) == before


def test_inconsistent_writes_are_mistakes(repo: Path) -> None:
    base = release(repo)
    with pytest.raises(ValueError, match="needs git="):
        apply(base)
    with pytest.raises(ValueError, match="a tag needs a commit_message"):
        apply(ReleaseWrite(repo, base.files, tag=TAG), git=seam(repo))
    with pytest.raises(ValueError, match="writes nothing"):
        apply(ReleaseWrite(repo, {}))


# --- without git ----------------------------------------------------------------------------


def test_without_git_only_the_files_change(plain: Path) -> None:
    write = release(plain, commit=False)
    applied = apply(write)
    assert applied == Applied(
        written=(plain / MATRIX, plain / CHANGELOG, plain / NOTES),
        removed=(plain / FEATURE, plain / FIX),
    )
    assert sorted(state(plain).files) == [
        "CHANGELOG.md",
        "README.md",
        "RELEASE.md",
        "data/compatibility.toml",
    ]
    assert (plain / CHANGELOG).read_bytes() == write.files[CHANGELOG].encode()


def test_with_git_but_no_commit_only_the_files_change(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    apply(release(repo, commit=False), git=seam(repo))
    assert git(repo, "rev-parse", "HEAD") == head
    assert "?? RELEASE.md" in git(repo, "status", "--porcelain")


# --- two releases at once -------------------------------------------------------------------


@pytest.fixture
def holder(repo: Path) -> Iterator[Callable[[float], subprocess.Popen[str]]]:
    """Another process holding the repository's release lock for some seconds."""
    started: list[subprocess.Popen[str]] = []

    def hold(seconds: float) -> subprocess.Popen[str]:
        argv = [sys.executable, "-c", HOLD, str(repo / LOCK_NAME), str(seconds)]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        started.append(process)
        assert process.stdout is not None
        assert process.stdout.readline() == "held\n"
        return process

    yield hold
    for process in started:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_a_concurrent_release_waits_then_fails_clearly(
    repo: Path, holder: Callable[[float], subprocess.Popen[str]]
) -> None:
    other = holder(30.0)
    before = state(repo)
    began = time.monotonic()
    with pytest.raises(OperationError) as caught:
        apply(release(repo), git=seam(repo), lock_timeout=0.2)
    assert 0.2 <= time.monotonic() - began < 2.0
    message = str(caught.value)
    assert message.startswith(
        f"{repo / LOCK_NAME}: another astroctl release holds the lock (pid {other.pid} since "
    )
    assert message.endswith("; waited 0.2 s")
    assert state(repo) == before


def test_a_release_waits_for_the_one_before_it(
    repo: Path, holder: Callable[[float], subprocess.Popen[str]]
) -> None:
    holder(0.3)
    applied = apply(release(repo), git=seam(repo), lock_timeout=10)
    assert applied.tag == TAG


class InterruptedRollback(Git):
    """A second Ctrl-C arrives while the rollback moves HEAD back."""

    def move_head(self, to: str | None, *, expected: str) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        super().move_head(to, expected=expected)


def test_a_second_ctrl_c_does_not_stop_the_rollback(repo: Path) -> None:
    before = state(repo)
    with pytest.raises(KeyboardInterrupt):
        apply(
            release(repo),
            git=InterruptedRollback(Runner(), repo),
            faults=fail_at("done", KeyboardInterrupt()),
        )
    assert state(repo) == before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_a_head_moved_by_someone_else_is_left_there_and_said(repo: Path) -> None:
    before = state(repo)

    def faults(step: str) -> None:
        if step == "done":  # another git commits on top of the release, then we fail
            git(repo, "commit", "-q", "--allow-empty", "-m", "someone else's")
            raise Boom("late")

    with pytest.raises(RollbackFailed) as caught:
        apply(release(repo), git=seam(repo), faults=faults)
    current = git(repo, "rev-parse", "HEAD").strip()
    assert f"HEAD moved to {current}, not a commit of this release: left there" in str(caught.value)
    assert not git(repo, "tag", "-l")  # the tag named the release's own commit: deleted
    assert {name: data for name, (data, _, _) in state(repo).files.items()} == {
        name: data for name, (data, _, _) in before.files.items()
    }


def test_a_file_that_cannot_be_restored_is_named(repo: Path) -> None:
    def faults(step: str) -> None:
        if step == "done":  # the new file became a directory: it cannot simply be deleted
            (repo / NOTES).unlink()
            (repo / NOTES).mkdir()
            raise Boom("late")

    with pytest.raises(RollbackFailed) as caught:
        apply(release(repo), git=seam(repo), faults=faults)
    assert str(caught.value).splitlines()[1:] == [f"  {repo / NOTES}: not restored: Is a directory"]
    assert (repo / FIX).read_bytes() == b"A fix, caf\xe9 (Latin-1, not UTF-8)\n"  # the rest was


def test_a_fragment_that_cannot_be_removed_is_rolled_back(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_unlink = os.unlink

    def unlink(path: str | os.PathLike[str], *, dir_fd: int | None = None) -> None:
        if Path(path).name == FIX.name:
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        real_unlink(path, dir_fd=dir_fd)

    monkeypatch.setattr(os, "unlink", unlink)
    before = state(repo)
    with pytest.raises(OperationError, match=r"2\.fix\.md: cannot remove: Device or resource busy"):
        apply(release(repo), git=seam(repo))
    assert state(repo) == before


def test_paths_through_a_link_to_the_root_are_inside_it(repo: Path, tmp_path: Path) -> None:
    link = tmp_path / "link-to-repo"
    link.symlink_to(repo)
    write = release(link)
    write = ReleaseWrite(
        link,
        {repo / path: text for path, text in write.files.items()},  # spelled through the target
        tuple(repo / path for path in write.remove),
        write.commit_message,
        write.tag,
    )
    applied = apply(write, git=seam(link))
    assert applied.written == (link / MATRIX, link / CHANGELOG, link / NOTES)
    assert git(repo, "status", "--porcelain") == ""


def test_a_file_changed_since_planning_is_refused_with_nothing_written(repo: Path) -> None:
    base = release(repo)
    planned_from = {MATRIX: (repo / MATRIX).read_bytes(), NOTES: None, Path("README.md"): None}
    write = ReleaseWrite(repo, base.files, base.remove, planned_from=planned_from)
    before = state(repo)
    with pytest.raises(InputError, match=r"README\.md: changed since the release was planned"):
        apply(write)
    assert state(repo) == before
    planned_from[Path("README.md")] = b"The project.\n"
    apply(ReleaseWrite(repo, base.files, base.remove, planned_from=planned_from))
    assert not (repo / FIX).exists()
