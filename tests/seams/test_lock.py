"""The lock seam, contended by real second processes (this interpreter, with ``-c``)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from astroctl.errors import EXIT_FAILED, OperationError
from astroctl.seams import lock as lock_seam
from astroctl.seams.lock import Holder, lock, read_holder

HOLD = """
import sys, time
from pathlib import Path
from astroctl.seams.lock import lock
with lock(Path(sys.argv[1]), timeout=float(sys.argv[3])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""

COUNT = """
import sys, time
from pathlib import Path
from astroctl.seams.lock import lock
path, counter, rounds = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
for _ in range(rounds):
    with lock(path, timeout=30, poll=0.002):
        value = int(counter.read_text())
        time.sleep(0.001)  # a window for another holder, were there one
        counter.write_text(str(value + 1))
"""

Start = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def start() -> Iterator[Start]:
    """Start ``python -c HOLD path seconds``; wait until it holds the lock. Killed at the end."""
    started: list[subprocess.Popen[str]] = []

    def run(path: Path, seconds: float = 30.0, timeout: float = 10.0) -> subprocess.Popen[str]:
        argv = [sys.executable, "-c", HOLD, str(path), str(seconds), str(timeout)]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        started.append(process)
        assert process.stdout is not None
        assert process.stdout.readline() == "held\n"
        return process

    yield run
    for process in started:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def write_lock(path: Path, pid: int, host: str | None = None) -> None:
    record = {"pid": pid, "host": host or socket.gethostname(), "since": "2026-01-02T03:04:05"}
    path.write_text(json.dumps(record) + "\n")


def test_the_lock_file_names_its_holder_and_goes_away(tmp_path: Path) -> None:
    path = tmp_path / ".astroctl.lock"
    with lock(path):
        holder = read_holder(path)
        assert holder is not None
        assert (holder.pid, holder.host) == (os.getpid(), socket.gethostname())
        assert holder.since[:4].isdigit() and holder.since[10] == "T"
        assert holder.describe() == f"pid {os.getpid()} since {holder.since}"
    assert not path.exists()
    assert read_holder(path) is None


def test_the_lock_goes_away_on_an_exception(tmp_path: Path) -> None:
    path = tmp_path / ".astroctl.lock"
    with pytest.raises(KeyboardInterrupt), lock(path):
        raise KeyboardInterrupt
    assert not path.exists()
    with lock(path, timeout=0):  # and can be taken again at once
        pass


def test_a_second_process_waits_then_fails_clearly(tmp_path: Path, start: Start) -> None:
    path = tmp_path / ".astroctl.lock"
    holder = start(path)
    began = time.monotonic()
    with pytest.raises(OperationError) as caught, lock(path, timeout=0.3, poll=0.05):
        pytest.fail("the lock was taken twice")
    waited = time.monotonic() - began
    assert 0.3 <= waited < 2.0
    message = str(caught.value)
    assert message.startswith(f"{path}: another astroctl release holds the lock (pid {holder.pid} ")
    assert message.endswith("; waited 0.3 s")
    assert caught.value.exit_code == EXIT_FAILED
    assert read_holder(path) is not None  # the holder's lock is left alone
    assert read_holder(path) == Holder(holder.pid, socket.gethostname(), _since(path))


def _since(path: Path) -> str:
    holder = read_holder(path)
    assert holder is not None
    return holder.since


def test_a_second_process_gets_the_lock_once_it_is_let_go(tmp_path: Path, start: Start) -> None:
    path = tmp_path / ".astroctl.lock"
    holder = start(path, seconds=0.3)
    began = time.monotonic()
    with lock(path, timeout=10, poll=0.02):
        assert read_holder(path) == Holder(os.getpid(), socket.gethostname(), _since(path))
        assert time.monotonic() - began >= 0.1
    assert holder.wait(timeout=5) == 0


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path: Path, start: Start) -> None:
    path = tmp_path / ".astroctl.lock"
    holder = start(path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert read_holder(path) is not None  # left behind
    began = time.monotonic()
    with lock(path, timeout=5):
        holder_now = read_holder(path)
        assert holder_now is not None and holder_now.pid == os.getpid()
    assert time.monotonic() - began < 1.0
    assert not path.exists()


def test_a_lock_naming_a_dead_pid_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / ".astroctl.lock"
    write_lock(path, dead_pid())
    with lock(path, timeout=0):
        holder = read_holder(path)
        assert holder is not None and holder.pid == os.getpid()


def test_a_lock_from_another_host_is_never_taken_over(tmp_path: Path) -> None:
    path = tmp_path / ".astroctl.lock"
    write_lock(path, dead_pid(), host="elsewhere.example")
    with pytest.raises(OperationError, match=r"\(pid \d+ on elsewhere.example since 2026-01-02"):
        lock(path, timeout=0.05).__enter__()
    assert path.exists()


@pytest.mark.parametrize(
    "content", ["", "not json", "[1]", '{"pid": 0, "host": "h", "since": "t"}']
)
def test_a_lock_that_does_not_name_its_holder_is_left_alone(tmp_path: Path, content: str) -> None:
    path = tmp_path / ".astroctl.lock"
    path.write_text(content)
    with pytest.raises(OperationError, match="does not name its holder; remove it if no release"):
        lock(path, timeout=0.05).__enter__()
    assert path.read_text() == content


def test_the_lock_is_not_reentrant(tmp_path: Path) -> None:
    path = tmp_path / ".astroctl.lock"
    with lock(path), pytest.raises(OperationError, match=f"pid {os.getpid()} since"):
        lock(path, timeout=0).__enter__()
    assert not path.exists()


def test_a_lock_someone_replaced_is_not_removed(tmp_path: Path) -> None:
    path = tmp_path / ".astroctl.lock"
    with lock(path):
        path.unlink()
        path.write_text("someone else's\n")
    assert path.read_text() == "someone else's\n"


def test_a_lock_in_a_missing_directory_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "missing" / ".astroctl.lock"
    with pytest.raises(OperationError, match=r"missing/\.astroctl\.lock: cannot create the lock"):
        lock(path).__enter__()


@pytest.mark.parametrize(("timeout", "poll"), [(-1.0, 0.1), (1.0, 0.0)])
def test_bad_timings_are_mistakes(tmp_path: Path, timeout: float, poll: float) -> None:
    with pytest.raises(ValueError, match="timeout must be"):
        lock(tmp_path / "x.lock", timeout, poll).__enter__()


def test_a_live_holder_misjudged_dead_keeps_its_lock(
    tmp_path: Path, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its pid reused, say: the holder's flock still says it is alive."""
    path = tmp_path / ".astroctl.lock"
    holder = start(path)
    monkeypatch.setattr(lock_seam, "_stale", lambda holder: True)
    with pytest.raises(OperationError, match=f"pid {holder.pid} since"):
        lock(path, timeout=0.2, poll=0.02).__enter__()
    assert read_holder(path) == Holder(holder.pid, socket.gethostname(), _since(path))


def test_a_stale_lock_another_waiter_took_over_meanwhile_is_left_to_it(
    tmp_path: Path, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """We judged the file stale; before we remove it, another waiter broke it and took the lock."""
    path = tmp_path / ".astroctl.lock"
    write_lock(path, dead_pid())
    others: list[subprocess.Popen[str]] = []
    judge = lock_seam._stale

    def stale(holder: Holder) -> bool:
        if not others:
            others.append(start(path))  # breaks the stale lock and holds a new one
        return judge(holder)

    monkeypatch.setattr(lock_seam, "_stale", stale)
    with pytest.raises(OperationError) as caught:
        lock(path, timeout=0.2, poll=0.02).__enter__()
    (other,) = others
    assert f"(pid {other.pid} since" in str(caught.value)
    assert read_holder(path) == Holder(other.pid, socket.gethostname(), _since(path))


def test_holders_never_overlap_even_breaking_a_stale_lock(tmp_path: Path) -> None:
    """Four processes add to a counter under the lock, starting from a stale lock file."""
    path, counter = tmp_path / ".astroctl.lock", tmp_path / "counter"
    counter.write_text("0")
    write_lock(path, dead_pid())
    rounds, workers = 15, 4
    argv = [sys.executable, "-c", COUNT, str(path), str(counter), str(rounds)]
    processes = [subprocess.Popen(argv) for _ in range(workers)]
    assert [process.wait(timeout=60) for process in processes] == [0] * workers
    assert counter.read_text() == str(rounds * workers)
    assert not path.exists()


def test_a_lock_naming_a_live_pid_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / ".astroctl.lock"
    write_lock(path, 1)  # init: alive on every host
    with pytest.raises(OperationError, match=r"\(pid 1 since 2026-01-02T03:04:05\)"):
        lock(path, timeout=0).__enter__()


def test_a_lock_without_a_host_does_not_name_its_holder(tmp_path: Path) -> None:
    path = tmp_path / ".astroctl.lock"
    path.write_text('{"pid": 12, "since": "2026-01-02T03:04:05"}')
    assert read_holder(path) is None


def test_a_directory_in_the_way_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / ".astroctl.lock"
    path.mkdir()
    with pytest.raises(
        OperationError, match="cannot read the lock or take it over: Is a directory"
    ):
        lock(path, timeout=0).__enter__()
