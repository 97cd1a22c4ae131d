"""Where the matrix lives, how it is read, and how it is written (atomically, byte-stable)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from astroctl.errors import EXIT_FAILED, EXIT_USAGE, InputError, MatrixInvalid, OperationError
from astroctl.matrix import store
from astroctl.matrix.store import MatrixSource, Origin
from astroctl.seams import fs as atomic
from tests.factories import REAL_MATRIX, build, document, release, toml_text

SMALL = toml_text(document(release("9.0.0"), release("9.1.0")))


def write(path: Path, text: str = SMALL) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- discovery ---------------------------------------------------------------------------------


def test_option_wins_over_everything(tmp_path: Path) -> None:
    project = write(tmp_path / "data" / "compatibility.toml")
    option = tmp_path / "mine.toml"
    source = store.locate(option, {"ASTROCTL_MATRIX": str(project)}, cwd=tmp_path)
    assert source == MatrixSource(option, Origin.OPTION)
    assert source.writable


def test_option_is_taken_as_given_even_if_missing(tmp_path: Path) -> None:
    option = tmp_path / "missing.toml"
    assert store.locate(option, {}, cwd=tmp_path).path == option


def test_environment_wins_over_project(tmp_path: Path) -> None:
    write(tmp_path / "data" / "compatibility.toml")
    env_file = tmp_path / "env.toml"
    source = store.locate(None, {"ASTROCTL_MATRIX": str(env_file)}, cwd=tmp_path)
    assert source == MatrixSource(env_file, Origin.ENVIRONMENT)
    assert source.origin.value == "$ASTROCTL_MATRIX"


def test_empty_environment_variable_is_ignored(tmp_path: Path) -> None:
    project = write(tmp_path / "data" / "compatibility.toml")
    source = store.locate(None, {"ASTROCTL_MATRIX": ""}, cwd=tmp_path)
    assert source == MatrixSource(project.resolve(), Origin.PROJECT)


def test_project_found_walking_up(tmp_path: Path) -> None:
    project = write(tmp_path / "proj" / "data" / "compatibility.toml")
    nested = tmp_path / "proj" / "src" / "deep" / "er"
    nested.mkdir(parents=True)
    source = store.locate(None, {}, cwd=nested)
    assert source == MatrixSource(project.resolve(), Origin.PROJECT)


def test_nearest_project_wins(tmp_path: Path) -> None:
    write(tmp_path / "data" / "compatibility.toml")
    inner = write(tmp_path / "a" / "data" / "compatibility.toml")
    nested = tmp_path / "a" / "b"
    nested.mkdir()
    assert store.locate(None, {}, cwd=nested).path == inner.resolve()


def test_project_directory_instead_of_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "a" / "data" / "compatibility.toml").mkdir(parents=True)
    outer = write(tmp_path / "data" / "compatibility.toml")
    assert store.locate(None, {}, cwd=tmp_path / "a").path == outer.resolve()


def test_project_default_cwd_and_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = write(tmp_path / "data" / "compatibility.toml")
    nested = tmp_path / "x" / "y"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert store.locate(None) == MatrixSource(project.resolve(), Origin.PROJECT)
    monkeypatch.setenv("ASTROCTL_MATRIX", "/somewhere/m.toml")
    assert store.locate(None) == MatrixSource(Path("/somewhere/m.toml"), Origin.ENVIRONMENT)


def test_embedded_default_last(tmp_path: Path) -> None:
    empty = tmp_path / "nothing" / "here"
    empty.mkdir(parents=True)
    source = store.locate(None, {}, cwd=empty)
    assert source.origin is Origin.EMBEDDED
    assert source.path == store.embedded_path()
    assert source.path.is_file()
    assert not source.writable


def test_embedded_default_prefers_the_packaged_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "site-packages" / "astroctl"
    packaged = write(package / "compatibility.toml")
    monkeypatch.setattr(store, "__file__", str(package / "matrix" / "store.py"))
    assert store.embedded_path() == packaged


def test_embedded_default_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "astroctl"
    package.mkdir(parents=True)
    monkeypatch.setattr(store, "__file__", str(package / "matrix" / "store.py"))
    with pytest.raises(OperationError, match="embedded matrix is missing") as caught:
        store.embedded_path()
    assert str(package / "compatibility.toml") in caught.value.message


def test_embedded_default_is_the_real_matrix() -> None:
    assert store.embedded_path().read_bytes() == REAL_MATRIX.read_bytes()


def test_require_writable_refuses_the_embedded_default(tmp_path: Path) -> None:
    source = store.locate(None, {}, cwd=tmp_path)
    with pytest.raises(InputError, match="refusing to write the embedded default") as caught:
        source.require_writable()
    assert caught.value.exit_code == EXIT_USAGE
    assert str(source.path) in caught.value.message
    assert "--matrix" in caught.value.message


@pytest.mark.parametrize("origin", [Origin.OPTION, Origin.ENVIRONMENT, Origin.PROJECT])
def test_require_writable_allows_the_others(origin: Origin, tmp_path: Path) -> None:
    MatrixSource(tmp_path / "m.toml", origin).require_writable()


# --- reading -----------------------------------------------------------------------------------


def test_load_small(tmp_path: Path) -> None:
    m = store.load(write(tmp_path / "m.toml"))
    assert [r.name for r in m.releases] == ["9.0.0", "9.1.0"]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(InputError, match="no such matrix file") as caught:
        store.load(path)
    assert str(path) in caught.value.message
    assert caught.value.exit_code == EXIT_USAGE


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory") as caught:
        store.load(tmp_path)
    assert str(tmp_path) in caught.value.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.toml")
    path.chmod(0)
    try:
        with pytest.raises(InputError, match="permission denied") as caught:
            store.load(path)
        assert str(path) in caught.value.message
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            PermissionError(13, "Permission denied"),
            "cannot read the matrix file (permission denied)",
        ),
        (OSError(5, "Input/output error"), "cannot read the matrix file: Input/output error"),
    ],
)
def test_read_errors_name_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, words: str
) -> None:
    path = write(tmp_path / "m.toml")

    def failing(*args: object, **kwargs: object) -> int:
        raise error

    monkeypatch.setattr(os, "open", failing)
    with pytest.raises(InputError) as caught:
        store.load(path)
    assert caught.value.message == f"{path}: {words}"


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"schema = 1\n# caf\xe9\n")
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 16\)") as caught:
        store.load(path)
    assert str(path) in caught.value.message


def test_invalid_matrix_names_the_path(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.toml", "schema = 2\n")
    with pytest.raises(MatrixInvalid) as caught:
        store.load(path)
    assert caught.value.path == str(path)
    assert caught.value.message.startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("text", "header"),
    [
        ("# one\n# two\nschema = 1\n", "# one\n# two"),
        ("\n\n# one\n\n# two  \n\nschema = 1\n", "# one\n\n# two"),
        ("schema = 1\n# not a header\n", ""),
        ("", ""),
        ("  # indented\nx = 1", "  # indented"),
    ],
)
def test_extract_header(text: str, header: str) -> None:
    assert store.extract_header(text) == header


# --- atomic writes -----------------------------------------------------------------------------


def test_atomic_write_creates_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    atomic.write_text(path, "one\n")
    assert path.read_text() == "one\n"
    atomic.write_text(path, "two ünïcode\n")
    assert path.read_text(encoding="utf-8") == "two ünïcode\n"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_atomic_write_keeps_newlines_as_given(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    atomic.write_text(path, "a\nb\n")
    assert path.read_bytes() == b"a\nb\n"


def test_atomic_write_keeps_the_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old")
    path.chmod(0o640)
    atomic.write_text(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_text() == "new"


def test_atomic_write_new_file_follows_the_umask(tmp_path: Path) -> None:
    """A new file gets the usual 0666 & ~umask, not the 0600 of a temporary file."""
    previous = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "new.txt", "x")
        os.umask(0o027)
        atomic.write_text(tmp_path / "other.txt", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "other.txt").stat().st_mode) == 0o640


def test_atomic_write_failure_keeps_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.toml"
    path.write_text("old content\n")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OperationError, match="No space left on device") as caught:
        atomic.write_text(path, "new content\n")
    assert caught.value.exit_code == EXIT_FAILED
    assert str(path) in caught.value.message
    assert path.read_text() == "old content\n"
    assert os.listdir(tmp_path) == ["m.toml"]


def test_atomic_write_interrupted_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.toml"
    path.write_text("old")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_text(path, "new")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["m.toml"]


def test_atomic_write_into_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir.txt"
    with pytest.raises(OperationError, match="cannot write") as caught:
        atomic.write_text(path, "x")
    assert str(path) in caught.value.message


def test_atomic_write_below_a_file(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("p")
    path = tmp_path / "plain" / "child.txt"
    with pytest.raises(OperationError, match="cannot write: Not a directory") as caught:
        atomic.write_text(path, "x")
    assert str(path) in caught.value.message


def test_atomic_write_onto_a_directory(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep").write_text("k")
    with pytest.raises(OperationError):
        atomic.write_text(target, "x")
    assert (target / "keep").read_text() == "k"
    assert sorted(os.listdir(tmp_path)) == ["taken"]


# --- the writer --------------------------------------------------------------------------------


def test_real_file_is_written_by_our_writer() -> None:
    text = REAL_MATRIX.read_text(encoding="utf-8")
    assert store.dumps(store.load(REAL_MATRIX)) == text


def test_real_round_trip_equal_and_stable() -> None:
    original = store.load(REAL_MATRIX)
    first = store.dumps(original)
    again = store.loads(first, "again")
    assert again == original
    assert store.dumps(again) == first


def test_real_header_survives() -> None:
    original = store.load(REAL_MATRIX)
    text = store.dumps(original)
    assert text.startswith("# Astro Runtime compatibility matrix, schema 1")
    assert original.header in text
    assert "# - Only 11.x documents the slim flavour's package set.\n\nschema = 1\n" in text


def test_dumps_without_header_starts_with_schema() -> None:
    text = store.dumps(build(document(release("9.0.0"))))
    assert text.startswith("schema = 1\n")


def test_save_writes_the_matrix(tmp_path: Path) -> None:
    path = write(tmp_path / "m.toml", "# mine\n\n" + SMALL)
    source = MatrixSource(path, Origin.OPTION)
    loaded = store.load(path)
    grown = build(document(release("9.0.0"), release("9.1.0"), release("9.2.0")), loaded.header)
    store.save(source, grown)
    reread = store.load(path)
    assert reread == grown
    assert path.read_text().startswith("# mine\n\nschema = 1\n")
    assert os.listdir(tmp_path) == ["m.toml"]


def test_save_refuses_the_embedded_default(tmp_path: Path) -> None:
    target = write(tmp_path / "embedded.toml")
    before = target.read_bytes()
    with pytest.raises(InputError):
        store.save(MatrixSource(target, Origin.EMBEDDED), build(document(release("9.5.0"))))
    assert target.read_bytes() == before


def test_write_document_validates_first(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    good = document(release("9.0.0"))
    store.write_document(path, good, "# head")
    assert store.load(path).header == "# head"
    bad = document(release("9.0.0", airflow="nope"))
    with pytest.raises(MatrixInvalid, match=r"release 9\.0\.0: airflow"):
        store.write_document(path, bad)
    assert store.load(path).header == "# head"
    assert os.listdir(tmp_path) == ["m.toml"]


def test_atomic_write_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.toml"
    target.write_text("old\n")
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    atomic.write_text(link, "new\n")
    assert link.is_symlink()
    assert target.read_text() == "new\n"


def test_every_release_is_written_as_its_own_table_however_short() -> None:
    m = build(
        document(
            release("9.0.0"),
            release("9.1.0", packages={"apache-airflow-providers-http": "4.1.0"}),
        )
    )
    text = store.dumps(m)
    assert "releases = [" not in text
    assert text.count("[[releases]]") == 2
    assert '[releases.packages]\napache-airflow-providers-http = "4.1.0"' in text
    assert store.loads(text, "x.toml") == m


# --- hostile files: refused before a byte is read ----------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "matrix.toml"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            store.load(fifo)
            outcome.append(None)
        except BaseException as exc:  # the outcome is judged below, in the test's thread
            outcome.append(exc)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # the old behaviour: blocked opening the FIFO; release it
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=10)
        pytest.fail("loading a FIFO hung")
    (error,) = outcome
    assert isinstance(error, InputError)
    assert (
        error.message
        == f"{fifo}: is a FIFO (named pipe), not a matrix file (a matrix is a regular file)"
    )
    assert error.exit_code == EXIT_USAGE


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_a_device_is_refused_before_reading(tmp_path: Path, device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    link = tmp_path / "matrix.toml"
    link.symlink_to(device)
    with pytest.raises(InputError) as caught:
        store.load(link)
    assert caught.value.message == (
        f"{link}: is a character device, not a matrix file (a matrix is a regular file)"
    )


def test_a_socket_is_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "m.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(InputError, match="is a socket, not a matrix file"):
            store.load(path)


def test_a_file_past_the_size_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "MAX_BYTES", 100)
    path = tmp_path / "big.toml"
    path.write_bytes(b"#" * 101)
    with pytest.raises(InputError) as caught:
        store.load(path)
    assert caught.value.message == (
        f"{path}: larger than 100 bytes, the most a matrix file may be; refusing to read it"
    )
    path.write_bytes(b"#" * 100)
    assert store.read_text(path) == "#" * 100


def test_the_size_limit_is_64_mib_and_named_so() -> None:
    assert store.MAX_BYTES == 64 * 1024 * 1024
    assert "larger than 64 MiB" in store._too_large(Path("m.toml"))


def test_a_file_larger_than_it_claims_is_still_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/proc files claim size 0: the bound holds on the bytes read, not on the size claimed."""
    monkeypatch.setattr(store, "MAX_BYTES", 100)
    real_fstat = os.fstat

    def claims_empty(fd: int) -> os.stat_result:
        status = list(real_fstat(fd))
        status[stat.ST_SIZE] = 0
        return os.stat_result(status)

    monkeypatch.setattr(os, "fstat", claims_empty)
    path = tmp_path / "liar.toml"
    path.write_bytes(b"#" * 500)
    with pytest.raises(InputError, match="larger than 100 bytes"):
        store.load(path)
    path.write_bytes(b"#" * 80)
    assert store.read_text(path) == "#" * 80


def test_a_read_error_after_opening_names_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "m.toml")

    def failing(fd: int, size: int) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "read", failing)
    with pytest.raises(InputError) as caught:
        store.load(path)
    assert caught.value.message == f"{path}: cannot read the matrix file: Input/output error"


def test_syntax_error_message_is_bounded_and_located() -> None:
    text = "schema = 1\n" + "x" * 10_000 + "\n"
    with pytest.raises(MatrixInvalid) as caught:
        store.loads(text, "long.toml")
    (violation,) = caught.value.violations
    assert len(violation.message) <= 303
    assert violation.file_line == 2
