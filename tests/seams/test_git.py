"""The git seam, against a real git repository per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from astroctl.errors import EXIT_FAILED, EXIT_USAGE, InputError
from astroctl.seams.git import Git
from astroctl.seams.process import ProcessFailed, Runner
from tests.helpers import RecordingRunner, git
from tests.helpers import init_repository as init


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with one commit: a.txt, b.txt, changes/1.md."""
    root = init(tmp_path / "repo")
    (root / "changes").mkdir()
    for name in ("a.txt", "b.txt", "changes/1.md"):
        (root / name).write_text(f"{name}\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    return root


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    return init(tmp_path / "empty")


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def status(root: Path) -> str:
    return git(root, "status", "--porcelain")


# --- queries --------------------------------------------------------------------------------


def test_a_repository_is_one(repo: Path) -> None:
    assert Git(Runner(), repo).is_repository()
    Git(Runner(), repo).require_repository()
    assert Git(Runner(), repo).toplevel() == repo.resolve()


def test_a_subdirectory_knows_its_toplevel(repo: Path) -> None:
    assert Git(Runner(), repo / "changes").toplevel() == repo.resolve()


@pytest.mark.parametrize("where", ["plain", "missing"])
def test_not_a_repository_is_said_plainly(tmp_path: Path, where: str) -> None:
    root = tmp_path / "plain"
    if where == "plain":
        root.mkdir()
    seam = Git(Runner(), root)
    assert not seam.is_repository()
    for query in (seam.require_repository, seam.toplevel, seam.head, seam.dirty):
        with pytest.raises(InputError, match="not a git repository") as caught:
            query()
        assert caught.value.exit_code == EXIT_USAGE
        assert str(root) in str(caught.value)


def test_head_is_none_before_the_first_commit(empty: Path) -> None:
    assert Git(Runner(), empty).head() is None


def test_head_and_parent(repo: Path) -> None:
    first = head(repo)
    (repo / "a.txt").write_text("changed\n")
    git(repo, "commit", "-q", "-am", "second")
    seam = Git(Runner(), repo)
    assert seam.head() == head(repo) != first
    assert seam.parent(head(repo)) == first
    assert seam.parent(first) is None


def test_a_clean_tree_is_not_dirty(repo: Path) -> None:
    assert Git(Runner(), repo).dirty() == ()
    Git(Runner(), repo).require_clean([repo / "a.txt"])


def test_dirty_sees_modified_staged_deleted_untracked_and_renamed(repo: Path) -> None:
    (repo / "a.txt").write_text("modified\n")
    (repo / "b.txt").write_text("staged\n")
    git(repo, "add", "b.txt")
    git(repo, "mv", "changes/1.md", "changes/renamed.md")
    (repo / "new dir").mkdir()
    (repo / "new dir" / "ünïcode [x].md").write_text("new\n")
    seam = Git(Runner(), repo)
    assert seam.dirty() == (
        "a.txt",
        "b.txt",
        "changes/1.md",
        "changes/renamed.md",
        "new dir/ünïcode [x].md",
    )
    assert seam.dirty(untracked=False) == ("a.txt", "b.txt", "changes/1.md", "changes/renamed.md")


def test_dirty_for_given_paths_takes_them_literally(repo: Path) -> None:
    (repo / "a.txt").write_text("modified\n")
    (repo / "[ab].txt").write_text("untracked, and a glob if taken as a pattern\n")
    seam = Git(Runner(), repo)
    assert seam.dirty([Path("[ab].txt")]) == ("[ab].txt",)
    assert seam.dirty([repo / "a.txt", Path("b.txt")]) == ("a.txt",)
    assert seam.dirty([Path("b.txt")]) == ()
    assert seam.dirty([]) == ()


def test_dirty_paths_are_relative_to_the_toplevel(repo: Path) -> None:
    (repo / "changes" / "1.md").write_text("modified\n")
    seam = Git(Runner(), repo / "changes")
    assert seam.dirty([Path("1.md")]) == ("changes/1.md",)


def test_require_clean_names_every_changed_file(repo: Path) -> None:
    (repo / "a.txt").write_text("modified\n")
    (repo / "b.txt").write_text("modified\n")
    (repo / "untracked.txt").write_text("elsewhere: allowed\n")
    (repo / "changes" / "2.md").write_text("untracked, among the paths: refused\n")
    seam = Git(Runner(), repo)
    with pytest.raises(InputError) as caught:
        seam.require_clean([Path("changes/2.md")])
    message = str(caught.value)
    assert message.startswith(
        f"{repo}: the tree has uncommitted changes: a.txt, b.txt, changes/2.md"
    )
    assert "untracked.txt" not in message


def test_require_clean_shortens_a_long_list(repo: Path) -> None:
    for number in range(12):
        (repo / f"new{number:02}.txt").write_text("x\n")
    git(repo, "add", ".")
    with pytest.raises(InputError, match=r"new09.txt and 2 more \(commit or stash"):
        Git(Runner(), repo).require_clean()


# --- tags -----------------------------------------------------------------------------------


def test_tag_is_annotated_on_the_ref(repo: Path) -> None:
    seam = Git(Runner(), repo)
    assert not seam.tag_exists("runtime-9.3.0")
    seam.tag("runtime-9.3.0", "Runtime 9.3.0\n\nThe notes.", "HEAD")
    assert git(repo, "cat-file", "-t", "runtime-9.3.0").strip() == "tag"
    assert git(repo, "tag", "-l", "--format=%(contents)", "runtime-9.3.0").startswith(
        "Runtime 9.3.0\n\nThe notes."
    )
    assert seam.tag_exists("runtime-9.3.0")
    assert seam.tag_target("runtime-9.3.0") == head(repo)


def test_an_existing_tag_is_refused(repo: Path) -> None:
    git(repo, "tag", "runtime-9.3.0")  # lightweight counts too
    seam = Git(Runner(), repo)
    assert seam.tag_exists("runtime-9.3.0")
    with pytest.raises(InputError, match=r"^tag runtime-9\.3\.0 already exists$"):
        seam.require_new_tag("runtime-9.3.0")
    with pytest.raises(InputError, match="already exists"):
        seam.tag("runtime-9.3.0", "again")


@pytest.mark.parametrize("name", ["-d", "a..b", "has space", "x.lock", "end/", ""])
def test_a_bad_tag_name_is_refused(repo: Path, name: str) -> None:
    with pytest.raises(InputError, match="not a valid git tag name"):
        Git(Runner(), repo).tag_exists(name)


def test_delete_tag_checks_what_it_deletes(repo: Path) -> None:
    seam = Git(Runner(), repo)
    seam.tag("v1", "one")
    with pytest.raises(ProcessFailed) as caught:
        seam.delete_tag("v1", expected=head(repo))  # a commit, not the tag object
    assert caught.value.exit_code == EXIT_FAILED
    assert seam.tag_exists("v1")
    seam.delete_tag("v1", expected=git(repo, "rev-parse", "refs/tags/v1").strip())
    assert not seam.tag_exists("v1")
    assert seam.tag_target("v1") is None


# --- changes --------------------------------------------------------------------------------


def test_commit_takes_exactly_the_paths(repo: Path) -> None:
    (repo / "a.txt").write_text("released\n")
    (repo / "new.txt").write_text("new\n")
    (repo / "changes" / "1.md").unlink()
    (repo / "b.txt").write_text("someone else's staged change\n")
    git(repo, "add", "b.txt")
    (repo / "untracked.txt").write_text("not part of it\n")
    before = head(repo)
    seam = Git(Runner(), repo)
    sha = seam.commit("Release 9.3.0", [Path("a.txt"), repo / "new.txt", Path("changes/1.md")])
    assert sha == head(repo)
    assert seam.parent(sha) == before
    shown = git(repo, "show", "--name-status", "--format=%B", sha)
    assert shown.split() == ["Release", "9.3.0", "M", "a.txt", "D", "changes/1.md", "A", "new.txt"]
    assert status(repo) == "M  b.txt\n?? untracked.txt\n"  # still staged, still untracked


def test_commit_of_no_paths_is_a_mistake(repo: Path) -> None:
    with pytest.raises(ValueError, match="no paths"):
        Git(Runner(), repo).commit("nothing", [])


def test_a_failing_hook_is_a_process_failure(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'the hook says no' >&2\nexit 1\n")
    hook.chmod(0o755)
    (repo / "a.txt").write_text("released\n")
    with pytest.raises(ProcessFailed) as caught:
        Git(Runner(), repo).commit("Release", [Path("a.txt")])
    assert caught.value.returncode == 1
    assert "the hook says no" in str(caught.value)
    assert caught.value.argv[:4] == ("git", "--no-pager", "-C", str(repo))


def test_add_and_remove(repo: Path) -> None:
    seam = Git(Runner(), repo)
    (repo / "new.txt").write_text("new\n")
    (repo / "a.txt").unlink()
    seam.add([Path("new.txt"), Path("a.txt")])
    seam.remove([Path("b.txt")])
    assert not (repo / "b.txt").exists()
    assert status(repo) == "D  a.txt\nD  b.txt\nA  new.txt\n"
    seam.add([])
    seam.remove([])


def test_move_head_undoes_a_commit_only_if_head_is_still_on_it(repo: Path) -> None:
    before = head(repo)
    (repo / "a.txt").write_text("released\n")
    seam = Git(Runner(), repo)
    made = seam.commit("Release", [Path("a.txt")])
    with pytest.raises(ProcessFailed):
        seam.move_head(before, expected=before)  # HEAD is not where the caller thinks
    assert head(repo) == made
    seam.move_head(before, expected=made)
    assert head(repo) == before
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"  # still on the branch
    assert status(repo) == "M  a.txt\n"  # index and file untouched, as with reset --soft
    seam.reset_index([Path("a.txt")], before)
    assert status(repo) == " M a.txt\n"


def test_move_head_back_to_no_commit(empty: Path) -> None:
    (empty / "first.txt").write_text("first\n")
    seam = Git(Runner(), empty)
    made = seam.commit("First", [Path("first.txt")])
    seam.move_head(None, expected=made)
    assert seam.head() is None
    assert status(empty) == "A  first.txt\n"
    seam.reset_index([Path("first.txt")])
    assert status(empty) == "?? first.txt\n"


def test_reset_soft(repo: Path) -> None:
    before = head(repo)
    (repo / "a.txt").write_text("released\n")
    seam = Git(Runner(), repo)
    seam.commit("Release", [Path("a.txt")])
    seam.reset_soft(before)
    assert head(repo) == before
    assert status(repo) == "M  a.txt\n"


# --- how git is run -------------------------------------------------------------------------


def test_argv_environment_and_read_only_marks(tmp_path: Path) -> None:
    recorder = RecordingRunner()
    seam = Git(recorder, tmp_path)
    seam.dirty([tmp_path / "sub" / "x.md"])
    seam.add([Path("x.md")])
    (argv, env, read_only), (add, _, add_read_only) = recorder.calls
    assert argv[:4] == ("git", "--no-pager", "-C", str(tmp_path))
    assert argv[4:] == ("status", "--porcelain=v1", "-z", "--untracked-files=all", "--", "sub/x.md")
    assert read_only and not add_read_only
    assert add[4:] == ("add", "-A", "--", "x.md")
    assert env is not None
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_LITERAL_PATHSPECS"] == "1"
    assert env["GIT_OPTIONAL_LOCKS"] == "0"
    assert env["GIT_DIR"] is None and env["GIT_INDEX_FILE"] is None


def test_a_hooks_git_dir_does_not_redirect_us(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = init(tmp_path / "other")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    (repo / "a.txt").write_text("modified\n")
    assert Git(Runner(), repo).dirty() == ("a.txt",)
    assert Git(Runner(), repo).toplevel() == repo.resolve()


def test_dry_run_asks_but_does_not_change(repo: Path) -> None:
    runner = Runner(dry_run=True)
    seam = Git(runner, repo)
    before = head(repo)
    assert seam.head() == before
    seam.tag("v1", "one")
    assert not Git(Runner(), repo).tag_exists("v1")
    assert ("git", "--no-pager", "-C", str(repo), "tag", "-a", "-m", "one", "v1", "HEAD") in (
        runner.recorded
    )
