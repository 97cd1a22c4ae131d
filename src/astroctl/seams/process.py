"""The process seam: the one place astroctl runs another program.

Every program runs from an argv list (never through a shell), under a timeout, in its own
process group (a timeout or an interrupt kills the program and everything it started), with
stdin closed unless ``input`` is given, so a program that would prompt fails instead of hanging.

Output is either captured (returned in a :class:`ProcessResult`) or streamed: the child's
stdout and stderr, merged in the order it wrote them, are handed line by line, as it runs, to
the runner's ``echo`` (the render layer's stderr writer: a seam never prints), and the last
lines are kept for the error message. A non-zero exit becomes one :class:`ProcessFailed`
naming the command, its exit status and the tail of its output.

``git``, ``docker`` and ``uv`` wrappers stand on :class:`Runner`; a context object carries one
and tests hand it a fake that satisfies :class:`ProcessRunner`.

:func:`concurrently` runs a few tasks (each running programs through one :class:`Runner`) in
worker threads while the calling thread waits. Python delivers Ctrl-C (``KeyboardInterrupt``)
to the main thread only, so a program a worker thread waits on would outlive an interrupt; the
runner therefore keeps every program it has running, and when the waiting thread is
interrupted (or one task fails) it stops them all, refuses to start more, waits for the
workers, and re-raises.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Protocol, TypeVar

from astroctl.errors import OperationError

DEFAULT_TIMEOUT = 600.0  # seconds; long jobs (image builds) pass their own
TAIL_LINES = 20  # lines of a failed program's output quoted in the error
KILL_GRACE = 3.0  # seconds between SIGTERM and SIGKILL when a program is stopped
_COMMAND_WIDTH = 200  # characters of the command line shown in an error
# the user name and password of a URL (``https://user:token@host/``): never in a message
_USERINFO = re.compile(r"(?<=[A-Za-z0-9+.-]://)[^/@\s]+@")
_SEQUENCES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")

Echo = Callable[[str], None]
Environment = Mapping[str, str | None]
T = TypeVar("T")


@dataclass(frozen=True)
class ProcessResult:
    """What a program did. In stream mode ``stdout`` is empty and ``stderr`` holds the tail."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class ProcessFailed(OperationError):
    """A program exited with a non-zero status (exit 1)."""

    def __init__(self, argv: Sequence[str], returncode: int, tail: Sequence[str]) -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.tail = tuple(tail)
        super().__init__(_failure_message(self.argv, returncode, self.tail))


class ProcessTimedOut(OperationError):
    """A program ran past its timeout and was killed (exit 1)."""

    def __init__(self, argv: Sequence[str], timeout: float, tail: Sequence[str]) -> None:
        self.argv = tuple(argv)
        self.timeout = timeout
        self.tail = tuple(tail)
        message = f"{_command(self.argv)} timed out after {timeout:g} s and was killed"
        super().__init__(message + _quoted(self.tail))


class ProcessRunner(Protocol):
    """What a git, docker or uv wrapper needs from a runner (a test hands a fake)."""

    def run(
        self,
        argv: Sequence[str | os.PathLike[str]],
        *,
        stream: bool = False,
        check: bool = True,
        timeout: float | None = None,
        env: Environment | None = None,
        cwd: str | os.PathLike[str] | None = None,
        input: str | None = None,
        read_only: bool = False,
        observe: Echo | None = None,
    ) -> ProcessResult: ...


class Runner:
    """Runs programs; in dry-run mode records what it would run and runs only read-only ones.

    ``echo`` receives each line of a streamed program's output: the context object passes the
    render layer's stderr writer (``Runner(echo=streams.note)``), a test passes a list's
    ``append``. A runner without one cannot stream.

    ``recorded`` lists every argv the runner was asked to run, in order, whether it ran or not
    (a ``--dry-run`` renders it as "the exact argv of every command").
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        dry_run: bool = False,
        echo: Echo | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        self.timeout = timeout
        self.dry_run = dry_run
        self.echo = echo
        self.recorded: list[tuple[str, ...]] = []
        self.live = _Live()

    def run(
        self,
        argv: Sequence[str | os.PathLike[str]],
        *,
        stream: bool = False,
        check: bool = True,
        timeout: float | None = None,
        env: Environment | None = None,
        cwd: str | os.PathLike[str] | None = None,
        input: str | None = None,
        read_only: bool = False,
        observe: Echo | None = None,
    ) -> ProcessResult:
        """Run ``argv`` and return what it did; a non-zero exit raises unless ``check=False``.

        ``stream`` hands the output to ``echo`` as it comes instead of capturing it, and to
        ``observe`` too when given (a caller reading every line: only the tail is kept). ``env``
        adds variables to ours (a ``None`` value removes one). ``read_only`` marks a command
        that changes nothing: it runs even in dry-run mode (a query such as ``git rev-parse``).
        """
        command = normalize_argv(argv)
        limit = self.timeout if timeout is None else timeout
        if limit <= 0:
            raise ValueError(f"timeout must be positive, not {limit!r}")
        echo = self.echo if stream else None
        if stream and echo is None:
            raise ValueError("stream=True needs a Runner made with echo= (where lines go)")
        self.recorded.append(command)
        if self.dry_run and not read_only:
            return ProcessResult(command, 0, "", "")
        job = _Job(command, limit, _environment(env), cwd, input, self.live)
        result = job.capture() if echo is None else job.stream(echo, observe)
        if check and result.returncode != 0:
            tail = tail_lines(result.stderr) or tail_lines(result.stdout)
            raise ProcessFailed(command, result.returncode, tail)
        return result


def normalize_argv(argv: Sequence[str | os.PathLike[str]]) -> tuple[str, ...]:
    """An argv list as a tuple of strings; a string (a shell command line) is refused."""
    if isinstance(argv, str | bytes):
        raise TypeError(f"argv must be a list of arguments, not a command string: {argv!r}")
    command = tuple(os.fspath(arg) for arg in argv)
    if not command:
        raise ValueError("argv is empty: there is no program to run")
    if not all(isinstance(arg, str) for arg in command):
        raise TypeError(f"every argument must be a str or a path: {command!r}")
    return command


class _Job:
    """One run of one program: start it, feed it, read it, stop it when time is up."""

    def __init__(
        self,
        argv: tuple[str, ...],
        timeout: float,
        env: dict[str, str] | None,
        cwd: str | os.PathLike[str] | None,
        input: str | None,
        live: _Live | None = None,
    ) -> None:
        self.argv = argv
        self.timeout = timeout
        self.env = env
        self.cwd = cwd
        self.input = input
        self.live = live if live is not None else _Live()

    def _start(self, *, merge: bool) -> subprocess.Popen[str]:
        with self.live.starting(self.argv) as add:
            process = self._popen(merge=merge)
            add(process)
        return process

    def _popen(self, *, merge: bool) -> subprocess.Popen[str]:
        try:
            return subprocess.Popen(  # noqa: S603 - an argv list, never a shell
                self.argv,
                stdin=subprocess.DEVNULL if self.input is None else subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if merge else subprocess.PIPE,
                env=self.env,
                cwd=self.cwd,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,  # its own process group, killed as one
            )
        except OSError as exc:
            raise _start_error(self.argv, self.cwd, exc) from exc

    def capture(self) -> ProcessResult:
        process = self._start(merge=False)
        with self.live.held(process), process:
            try:
                stdout, stderr = process.communicate(self.input, timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _stop(process)
                stdout, stderr = _drain(process)
                raise ProcessTimedOut(
                    self.argv, self.timeout, tail_lines(stderr) or tail_lines(stdout)
                ) from None
            except BaseException:  # an interrupt: the program must not outlive us
                _stop(process)
                raise
        return ProcessResult(self.argv, process.returncode, stdout, stderr)

    def stream(self, echo: Echo, observe: Echo | None = None) -> ProcessResult:
        process = self._start(merge=True)
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        threads = [_thread(_forward, process.stdout, echo, tail, observe)]
        if self.input is not None:
            threads.append(_thread(_feed, process.stdin, self.input))
        with self.live.held(process), process:
            try:
                process.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _stop(process)
                _join(threads)
                raise ProcessTimedOut(self.argv, self.timeout, list(tail)) from None
            except BaseException:
                _stop(process)
                raise
            _join(threads)
        return ProcessResult(self.argv, process.returncode, "", "\n".join(tail))


class Interrupted(OperationError):
    """A program was not started: the runner is stopping its programs (an interrupt, or
    another task of :func:`concurrently` failed)."""


class _Live:
    """The programs one runner has running, so that another thread can stop them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: set[subprocess.Popen[str]] = set()
        self._stopping = 0  # > 0: no program may start

    @contextlib.contextmanager
    def starting(self, argv: Sequence[str]) -> Iterator[Callable[[subprocess.Popen[str]], None]]:
        """Start a program under the lock (so :meth:`stop_all` cannot miss it) and keep it."""
        with self._lock:
            if self._stopping:
                raise Interrupted(f"{_command(argv)}: not started, the run is being stopped")
            yield self._processes.add

    @contextlib.contextmanager
    def held(self, process: subprocess.Popen[str]) -> Iterator[None]:
        """Forget the program once its run is over."""
        try:
            yield
        finally:
            with self._lock:
                self._processes.discard(process)

    @contextlib.contextmanager
    def stopping(self) -> Iterator[None]:
        """Stop every program running now and refuse to start more, until the block ends."""
        with self._lock:
            self._stopping += 1
            running = list(self._processes)
        try:
            stoppers = [_thread(_stop, process) for process in running]
            _join(stoppers, KILL_GRACE * 2 + 1)
            yield
        finally:
            with self._lock:
                self._stopping -= 1


def concurrently(runner: ProcessRunner, tasks: Sequence[Callable[[], T]]) -> list[T]:
    """The results of ``tasks``, run at once in worker threads (in their order), each running
    its programs through ``runner``. If the calling thread is interrupted while it waits, or a
    task raises, every program the runner has running is stopped (SIGTERM, then SIGKILL, to
    its process group) and no new one starts until the workers are done; then the interrupt,
    or the first task's error in the tasks' order, is raised. A runner that is not a
    :class:`Runner` (a test's fake) cannot be stopped from here: its tasks run one by one."""
    if len(tasks) < 2 or not isinstance(runner, Runner):
        return [task() for task in tasks]
    from concurrent.futures import Future, ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=len(tasks), thread_name_prefix="astroctl-run")
    futures: list[Future[T]] = []
    try:
        futures.extend(pool.submit(task) for task in tasks)
        return [future.result() for future in futures]
    except BaseException:  # an interrupt while submitting or waiting, or a task's error
        with runner.live.stopping():
            for future in futures:
                future.cancel()
            pool.shutdown(wait=True)
        raise
    finally:
        pool.shutdown(wait=True)


def _thread(target: Callable[..., None], *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def _forward(source: IO[str], echo: Echo, tail: deque[str], observe: Echo | None = None) -> None:
    """Read the child's output to its end, showing each line (and handing it to ``observe``)
    and keeping the last ones."""
    show = echo
    with contextlib.suppress(OSError, ValueError):  # the pipe was closed under us
        for raw in source:
            line = plain(raw.rstrip("\n"))
            tail.append(line)
            if observe is not None:
                observe(line)
            try:
                show(line)
            except OSError:  # our stderr is gone: keep draining so the child never blocks
                show = _discard


def _discard(line: str) -> None:
    del line


def _feed(sink: IO[str], text: str) -> None:
    with contextlib.suppress(BrokenPipeError, ValueError), sink:
        sink.write(text)


def _join(threads: Iterable[threading.Thread], timeout: float | None = None) -> None:
    for thread in threads:
        thread.join(timeout=KILL_GRACE if timeout is None else timeout)


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop the program and its process group: SIGTERM, then SIGKILL after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=KILL_GRACE)
            if sig == signal.SIGTERM:  # the leader is gone; make sure the group is too
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
            return


def _drain(process: subprocess.Popen[str]) -> tuple[str, str]:
    """What a stopped program had written (nothing, if something else holds its pipes)."""
    try:
        stdout, stderr = process.communicate(timeout=KILL_GRACE)
    except subprocess.TimeoutExpired:
        return "", ""
    return stdout or "", stderr or ""


def _environment(env: Environment | None) -> dict[str, str] | None:
    if env is None:
        return None
    merged = dict(os.environ)
    for name, value in env.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def _start_error(
    argv: tuple[str, ...], cwd: str | os.PathLike[str] | None, exc: OSError
) -> OperationError:
    program = argv[0]
    if cwd is not None and exc.filename is not None and os.fspath(cwd) == os.fspath(exc.filename):
        return OperationError(f"cannot run {program}: {exc.filename}: {exc.strerror or exc}")
    if isinstance(exc, FileNotFoundError):
        return OperationError(f"{program}: command not found (is it installed and on PATH?)")
    if isinstance(exc, PermissionError):
        return OperationError(f"{program}: permission denied (is it an executable program?)")
    return OperationError(f"cannot run {program}: {exc.strerror or exc}")


def plain(line: str) -> str:
    """``line`` without the ANSI/ECMA-48 sequences (CSI ``ESC [ ... m``, OSC ``ESC ] ... BEL``)
    programs such as pip and docker colour their output with: shown and kept as text, they
    would read ``\\x1b[91m``. Other control characters stay (the render layer escapes them)."""
    return _SEQUENCES.sub("", line) if "\x1b" in line else line


def tail_lines(text: str) -> list[str]:
    """The last non-blank lines of a program's output, as an error quotes them (plain)."""
    lines = [plain(line) for line in text.splitlines() if line.strip()]
    return lines[-TAIL_LINES:]


def redact(text: str) -> str:
    """``text`` with the user name and password of every URL in it left out, as an error
    shows a command line or a program's output (``https://user:token@host/`` reads
    ``https://host/``)."""
    return _USERINFO.sub("", text) if "@" in text else text


def _command(argv: Sequence[str]) -> str:
    import shlex

    shown = redact(shlex.join(argv))
    if len(shown) > _COMMAND_WIDTH:
        shown = shown[: _COMMAND_WIDTH - 1] + "…"
    return shown


def _quoted(tail: Sequence[str]) -> str:
    if not tail:
        return ""
    return "; last lines of its output:\n" + "\n".join(f"  {redact(line)}" for line in tail)


def _failure_message(argv: Sequence[str], returncode: int, tail: Sequence[str]) -> str:
    if returncode < 0:
        try:
            how = f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"was killed by signal {-returncode}"
    else:
        how = f"failed with exit status {returncode}"
    quoted = _quoted(tail) or " (it wrote no error output)"
    return f"{_command(argv)} {how}{quoted}"
