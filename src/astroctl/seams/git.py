"""The git seam: a small typed wrapper over the process runner.

Every command is ``git --no-pager -C <root> ...`` from an argv list, with prompts off
(``GIT_TERMINAL_PROMPT=0``), pathspecs taken literally (a fragment named ``[x].md`` is a file,
not a pattern) and the variables a git hook exports (``GIT_DIR``, ``GIT_WORK_TREE``,
``GIT_INDEX_FILE``) removed, so that ``-C <root>`` alone decides which repository is meant.

Paths handed in are relative to ``root`` (or absolute, inside it). Paths handed back by
:meth:`Git.dirty` are as git reports them: relative to the top level of the work tree.

A failed git becomes the runner's :class:`~astroctl.seams.process.ProcessFailed` (the command,
its status and the tail of its output), except where a plainer message exists: a directory that
is not in a git repository, an existing tag, a tag name git refuses (:class:`InputError`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType

from astroctl.errors import InputError
from astroctl.seams.process import Environment, ProcessFailed, ProcessResult, ProcessRunner

GIT = "git"
# prompts off; pathspecs literal; a hook's repository variables never leak into ours
GIT_ENVIRONMENT: Environment = MappingProxyType(
    {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_LITERAL_PATHSPECS": "1",
        "GIT_DIR": None,
        "GIT_WORK_TREE": None,
        "GIT_INDEX_FILE": None,
        "GIT_OBJECT_DIRECTORY": None,
        "GIT_COMMON_DIR": None,
        "GIT_PREFIX": None,
    }
)
_SHOWN_PATHS = 10  # paths named in a "the tree has uncommitted changes" message


class Git:
    """The git commands astroctl runs, in the work tree at ``root``."""

    def __init__(self, runner: ProcessRunner, root: Path) -> None:
        self.runner = runner
        self.root = root

    # -- queries (read-only: they run in dry-run mode too) -------------------------------------

    def is_repository(self) -> bool:
        """``root`` is inside a git work tree."""
        result = self._ask("rev-parse", "--is-inside-work-tree")
        return result.ok and result.stdout.strip() == "true"

    def require_repository(self) -> None:
        """Raise :class:`InputError` unless ``root`` is inside a git work tree."""
        if not self.is_repository():
            raise InputError(f"{self.root}: not a git repository")

    def toplevel(self) -> Path:
        """The top directory of the work tree ``root`` is in."""
        return Path(self._query("rev-parse", "--show-toplevel").strip())

    def head(self) -> str | None:
        """The commit HEAD names, or None in a repository without commits yet."""
        result = self._ask("rev-parse", "-q", "--verify", "HEAD^{commit}")
        if result.ok:
            return result.stdout.strip()
        self.require_repository()
        if result.returncode == 1:  # --verify -q: the name does not resolve (an unborn branch)
            return None
        raise ProcessFailed(result.argv, result.returncode, result.stderr.splitlines())

    def parent(self, commit: str) -> str | None:
        """The first parent of ``commit`` (None for a root commit)."""
        result = self._ask("rev-parse", "-q", "--verify", f"{commit}^1")
        return result.stdout.strip() if result.ok else None

    def dirty(
        self, paths: Sequence[Path] | None = None, *, untracked: bool = True
    ) -> tuple[str, ...]:
        """The files with uncommitted changes: modified or staged, and untracked unless told not.

        For the whole tree, or only under ``paths`` (``paths=()`` asks about nothing). Paths
        are relative to the top level of the work tree, sorted.
        """
        if paths is not None and not paths:
            return ()
        argv = ["status", "--porcelain=v1", "-z"]
        argv.append("--untracked-files=all" if untracked else "--untracked-files=no")
        if paths is not None:
            argv += ["--", *(self._spec(path) for path in paths)]
        # a query must not take the index lock to refresh it (a concurrent git would fail)
        output = self._query(*argv, env={"GIT_OPTIONAL_LOCKS": "0"})
        return tuple(sorted(set(_porcelain_paths(output))))

    def require_clean(self, paths: Sequence[Path] = ()) -> None:
        """Raise :class:`InputError` if a tracked file anywhere, or any file under ``paths``
        (untracked ones too), has uncommitted changes; the message names them all.
        """
        changed = sorted({*self.dirty(untracked=False), *self.dirty(paths)})
        if changed:
            raise InputError(
                f"{self.root}: the tree has uncommitted changes: {_names(changed)} "
                "(commit or stash them first: the release commit holds the release alone)"
            )

    def tag_exists(self, name: str) -> bool:
        """A tag called ``name`` exists (lightweight or annotated)."""
        self.check_tag_name(name)
        result = self._ask("rev-parse", "-q", "--verify", f"refs/tags/{name}")
        if result.ok:
            return True
        self.require_repository()
        return False

    def require_new_tag(self, name: str) -> None:
        """Raise :class:`InputError` if the tag ``name`` exists already."""
        if self.tag_exists(name):
            raise InputError(f"tag {name} already exists")

    def tag_target(self, name: str) -> str | None:
        """The commit the tag ``name`` points to, or None if there is no such tag."""
        target = f"refs/tags/{name}^{{commit}}"
        result = self._ask("rev-parse", "-q", "--verify", target)
        return result.stdout.strip() if result.ok else None

    def check_tag_name(self, name: str) -> None:
        """Raise :class:`InputError` unless git accepts ``name`` as a tag name."""
        result = self._ask("check-ref-format", f"refs/tags/{name}")
        if not result.ok or name.startswith("-"):
            raise InputError(f"{name!r} is not a valid git tag name")

    # -- changes -------------------------------------------------------------------------------

    def add(self, paths: Sequence[Path]) -> None:
        """Stage the paths as they are on disk: new, modified and deleted files alike."""
        if paths:
            self._run("add", "-A", "--", *(self._spec(path) for path in paths))

    def remove(self, paths: Sequence[Path]) -> None:
        """Delete tracked files from the work tree and stage their deletion (``git rm``)."""
        if paths:
            self._run("rm", "-q", "--", *(self._spec(path) for path in paths))

    def commit(self, message: str, paths: Sequence[Path]) -> str:
        """Commit exactly ``paths`` as they are on disk and return the new commit.

        Anything else that happens to be staged stays staged and out of the commit
        (``git commit --only``). Hooks run as they would for ``git commit``.
        """
        if not paths:
            raise ValueError("a commit of no paths: name the files to commit")
        specs = [self._spec(path) for path in paths]
        self._run("add", "-A", "--", *specs)  # --only needs new files known to git
        self._run("commit", "-q", "--only", "-m", message, "--", *specs)
        return self._query("rev-parse", "--verify", "HEAD^{commit}").strip()

    def tag(self, name: str, message: str, ref: str = "HEAD") -> None:
        """Create the annotated tag ``name`` on ``ref``."""
        self.require_new_tag(name)
        self._run("tag", "-a", "-m", message, name, ref)

    def delete_tag(self, name: str, expected: str | None = None) -> None:
        """Delete the tag ``name``; with ``expected``, only if it still names that object."""
        argv = ["update-ref", "-d", f"refs/tags/{name}"]
        self._run(*argv, *([expected] if expected else []))

    def move_head(self, to: str | None, *, expected: str) -> None:
        """Point HEAD's branch at ``to`` if it is still at ``expected`` (index and files stay).

        ``to=None`` makes the branch unborn again (the commit undone was the first). This is
        ``git reset --soft`` made safe against a commit someone else made in between.
        """
        message = "astroctl: roll back a failed release"
        if to is None:
            self._run("update-ref", "-m", message, "-d", "HEAD", expected)
        else:
            self._run("update-ref", "-m", message, "HEAD", to, expected)

    def reset_soft(self, ref: str) -> None:
        """``git reset --soft ref``: move HEAD, keep the index and the files."""
        self._run("reset", "-q", "--soft", ref)

    def reset_index(self, paths: Sequence[Path], ref: str | None = None) -> None:
        """Make the index entries of ``paths`` those of ``ref`` (HEAD by default); files stay.

        A path ``ref`` does not hold leaves the index; on an unborn branch every path does.
        """
        if paths:
            refs = [] if ref is None else [ref]
            self._run("reset", "-q", *refs, "--", *(self._spec(path) for path in paths))

    # -- the runner ----------------------------------------------------------------------------

    def _spec(self, path: Path) -> str:
        """A pathspec for ``path``, relative to ``root`` (git resolves it against ``-C``)."""
        if path.is_absolute():
            return os.path.relpath(path, self.root)
        return os.fspath(path)

    def _ask(self, *args: str) -> ProcessResult:
        """Run a read-only git whose failure is an answer (a name that does not resolve)."""
        return self._run(*args, check=False, read_only=True)

    def _query(self, *args: str, env: Environment | None = None) -> str:
        return self._run(*args, env=env, read_only=True).stdout

    def _run(
        self,
        *args: str,
        check: bool = True,
        read_only: bool = False,
        env: Environment | None = None,
    ) -> ProcessResult:
        argv = [GIT, "--no-pager", "-C", os.fspath(self.root), *args]
        environment = dict(GIT_ENVIRONMENT) if env is None else {**GIT_ENVIRONMENT, **env}
        try:
            return self.runner.run(argv, check=check, env=environment, read_only=read_only)
        except ProcessFailed:
            self.require_repository()  # "not a git repository" says it better
            raise


def _porcelain_paths(output: str) -> list[str]:
    """The paths of ``git status --porcelain=v1 -z``: ``XY path``, a rename adding its origin."""
    paths = []
    entries = iter(output.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        status, path = entry[:2], entry[3:]
        paths.append(path)
        if "R" in status or "C" in status:
            origin = next(entries, "")  # the renamed or copied file's old path
            if origin:
                paths.append(origin)
    return paths


def _names(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:_SHOWN_PATHS])
    more = len(paths) - _SHOWN_PATHS
    return f"{shown} and {more} more" if more > 0 else shown
