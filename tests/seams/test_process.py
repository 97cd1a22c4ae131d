"""The process seam, running real programs (this interpreter, with ``-c``)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from astroctl.errors import EXIT_FAILED, OperationError
from astroctl.render import streams
from astroctl.seams.process import (
    TAIL_LINES,
    ProcessFailed,
    ProcessResult,
    ProcessRunner,
    ProcessTimedOut,
    Runner,
    concurrently,
    redact,
)

PY = sys.executable


def python(code: str) -> list[str]:
    return [PY, "-c", code]


def gone(pid: int) -> bool:
    """The process is dead: no such process, or a zombie nobody has reaped yet."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def wait_gone(pid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.02)
    return gone(pid)


# --- capture --------------------------------------------------------------------------------


def test_captures_stdout_stderr_and_status() -> None:
    code = "import sys; print('out'); sys.stderr.write('err\\n'); sys.exit(0)"
    result = Runner().run(python(code))
    assert result == ProcessResult(tuple(python(code)), 0, "out\n", "err\n")
    assert result.ok


def test_result_is_frozen() -> None:
    result = Runner().run(python("pass"))
    with pytest.raises(AttributeError):
        result.returncode = 1  # type: ignore[misc]


def test_paths_in_argv_become_strings(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    target.write_text("hello", encoding="utf-8")
    result = Runner().run([PY, "-c", "import sys; print(open(sys.argv[1]).read())", target])
    assert result.argv[-1] == str(target)
    assert result.stdout == "hello\n"


def test_input_env_and_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASTROCTL_TEST_DROP", "present")
    code = (
        "import os, sys; print(sys.stdin.read().upper()); print(os.getcwd());"
        "print(os.environ['ASTROCTL_TEST_ADD']); print(os.environ.get('ASTROCTL_TEST_DROP'))"
    )
    result = Runner().run(
        python(code),
        input="piped",
        env={"ASTROCTL_TEST_ADD": "added", "ASTROCTL_TEST_DROP": None},
        cwd=tmp_path,
    )
    assert result.stdout.splitlines() == ["PIPED", str(tmp_path), "added", "None"]


def test_env_adds_to_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASTROCTL_TEST_KEPT", "kept")
    code = "import os; print(os.environ['ASTROCTL_TEST_KEPT'], os.environ['EXTRA'])"
    assert Runner().run(python(code), env={"EXTRA": "x"}).stdout == "kept x\n"


def test_stdin_is_closed_without_input() -> None:
    result = Runner().run(python("import sys; print(repr(sys.stdin.read()))"))
    assert result.stdout == "''\n"


def test_output_that_is_not_utf8_is_replaced_not_fatal() -> None:
    result = Runner().run(python("import sys; sys.stdout.buffer.write(b'caf\\xe9\\n')"))
    assert result.stdout == "caf\N{REPLACEMENT CHARACTER}\n"


# --- failure --------------------------------------------------------------------------------


def test_non_zero_exit_is_one_domain_error_with_the_stderr_tail() -> None:
    code = (
        "import sys\n"
        "for i in range(40): sys.stderr.write(f'line {i}\\n')\n"
        "print('stdout is not quoted')\n"
        "sys.exit(3)"
    )
    with pytest.raises(ProcessFailed) as caught:
        Runner().run(python(code))
    error = caught.value
    assert isinstance(error, OperationError)
    assert error.exit_code == EXIT_FAILED
    assert error.returncode == 3
    assert error.tail == tuple(f"line {i}" for i in range(40 - TAIL_LINES, 40))
    message = str(error)
    assert message.startswith(PY)  # the program, as it was run
    assert "failed with exit status 3; last lines of its output:\n" in message
    quoted = message.partition("last lines of its output:\n")[2]
    assert quoted.splitlines() == [f"  line {i}" for i in range(20, 40)]  # the last 20 lines
    assert "Traceback" not in message


def test_failure_without_stderr_quotes_stdout() -> None:
    with pytest.raises(ProcessFailed, match=r"exit status 1; last lines of its output:\n  oops"):
        Runner().run(python("print('oops'); raise SystemExit(1)"))


def test_failure_without_any_output_says_so() -> None:
    with pytest.raises(ProcessFailed, match=r"exit status 4 \(it wrote no error output\)$"):
        Runner().run(python("raise SystemExit(4)"))


def test_killed_by_a_signal_is_named() -> None:
    code = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    with pytest.raises(ProcessFailed, match="was killed by SIGKILL"):
        Runner().run(python(code))


def test_check_false_returns_the_failure() -> None:
    result = Runner().run(python("import sys; sys.stderr.write('no'); sys.exit(5)"), check=False)
    assert (result.returncode, result.stderr, result.ok) == (5, "no", False)


def test_a_long_command_is_shortened_in_the_message() -> None:
    argv = [*python("raise SystemExit(2)"), *(["argument"] * 100)]
    with pytest.raises(ProcessFailed) as caught:
        Runner().run(argv)
    first_line = str(caught.value).splitlines()[0]
    assert "…" in first_line
    assert len(first_line) < 260


def test_a_failure_never_shows_the_credentials_of_a_url() -> None:
    """Neither in the command line nor in the output it quotes (a token in an index URL)."""
    code = "import sys; print('GET https://ci:hunter2@pip.example/simple/ failed'); sys.exit(2)"
    argv = [*python(code), "--index-url", "https://robot:s3cret@pip.example/simple/"]
    with pytest.raises(ProcessFailed) as caught:
        Runner().run(argv)
    message = str(caught.value)
    assert "--index-url https://pip.example/simple/" in message
    assert "GET https://pip.example/simple/ failed" in message
    assert "s3cret" not in message and "hunter2" not in message and "robot" not in message
    assert caught.value.argv[-1] == "https://robot:s3cret@pip.example/simple/"  # kept, not shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://u:p@h/x and http://t@h2/", "https://h/x and http://h2/"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),  # not a URL
        ("https://h/simple/a@b/", "https://h/simple/a@b/"),  # an @ in the path
        ("mail me@example.com", "mail me@example.com"),
    ],
)
def test_redact_leaves_out_the_user_info_of_urls_only(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_missing_program() -> None:
    with pytest.raises(OperationError) as caught:
        Runner().run(["astroctl-no-such-program", "--version"])
    assert str(caught.value) == (
        "astroctl-no-such-program: command not found (is it installed and on PATH?)"
    )


def test_not_an_executable(tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o644)
    with pytest.raises(OperationError, match="permission denied"):
        Runner().run([str(script)])


def test_missing_working_directory_is_not_a_missing_program(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(OperationError, match=f"cannot run {PY}: {missing}: No such file"):
        Runner().run(python("pass"), cwd=missing)


# --- argv only ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["echo hello", b"echo hello"])
def test_a_command_string_is_refused(command: str) -> None:
    with pytest.raises(TypeError, match="not a command string"):
        Runner().run(command)


def test_shell_syntax_is_passed_literally() -> None:
    result = Runner().run([PY, "-c", "import sys; print(sys.argv[1:])", "$HOME", ";", "|", "*"])
    assert result.stdout == "['$HOME', ';', '|', '*']\n"


def test_empty_argv_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        Runner().run([])


def test_a_non_string_argument_is_refused() -> None:
    with pytest.raises(TypeError):
        Runner().run([PY, 3])  # type: ignore[list-item]


# --- timeout --------------------------------------------------------------------------------


def test_timeout_kills_the_program_and_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    code = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "sys.stderr.write('started\\n'); sys.stderr.flush()\n"
        "time.sleep(30)"
    )
    started = time.monotonic()
    with pytest.raises(ProcessTimedOut) as caught:
        Runner().run(python(code), timeout=0.5)
    elapsed = time.monotonic() - started
    assert elapsed < 3
    assert isinstance(caught.value, OperationError)
    assert str(caught.value).startswith(f"{PY} -c ")
    assert "timed out after 0.5 s and was killed" in str(caught.value)
    assert "  started" in str(caught.value)
    leader, grandchild = (int(pid) for pid in pids.read_text().split())
    assert wait_gone(leader)
    assert wait_gone(grandchild)


def test_runner_default_timeout_applies() -> None:
    with pytest.raises(ProcessTimedOut, match=r"after 0\.3 s"):
        Runner(timeout=0.3).run(python("import time; time.sleep(30)"))


def test_a_program_that_ignores_sigterm_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("astroctl.seams.process.KILL_GRACE", 0.2)
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)"
    )
    started = time.monotonic()
    with pytest.raises(ProcessTimedOut):
        Runner().run(python(code), timeout=0.5)
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        Runner(timeout=timeout)
    with pytest.raises(ValueError, match="positive"):
        Runner().run(python("pass"), timeout=timeout)


# --- streaming ------------------------------------------------------------------------------


def test_stream_forwards_stdout_and_stderr_to_our_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    """Wired as the context wires it: each line through the render layer's stderr writer."""
    code = (
        "import sys\n"
        "print('one', flush=True)\n"
        "sys.stderr.write('two\\n'); sys.stderr.flush()\n"
        "print('three', flush=True)"
    )
    result = Runner(echo=streams.note).run(python(code), stream=True)
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err == "one\ntwo\nthree\n"
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr == "one\ntwo\nthree"


def test_stream_shows_lines_as_they_come() -> None:
    seen: list[tuple[str, float]] = []
    code = "import time\nprint('first', flush=True)\ntime.sleep(0.4)\nprint('second', flush=True)"
    started = time.monotonic()
    Runner(echo=lambda line: seen.append((line, time.monotonic() - started))).run(
        python(code), stream=True
    )
    assert [line for line, _ in seen] == ["first", "second"]
    assert seen[0][1] < seen[1][1] - 0.2  # the first line arrived before the program ended


def test_stream_failure_quotes_the_tail(capfd: pytest.CaptureFixture[str]) -> None:
    code = "import sys\nfor i in range(30): print(f'step {i}')\nsys.exit(2)"
    with pytest.raises(ProcessFailed) as caught:
        Runner(echo=streams.note).run(python(code), stream=True)
    assert caught.value.tail == tuple(f"step {i}" for i in range(10, 30))
    assert "exit status 2" in str(caught.value)
    assert capfd.readouterr().err.count("step") == 30


def test_stream_with_input_and_timeout(capfd: pytest.CaptureFixture[str]) -> None:
    runner = Runner(echo=streams.note)
    result = runner.run(
        python("import sys; print(sys.stdin.read()[::-1])"), stream=True, input="abc"
    )
    assert result.stderr == "cba"
    with pytest.raises(ProcessTimedOut, match=r"after 0.3 s and was killed; .*\n  waiting"):
        runner.run(
            python("import time; print('waiting', flush=True); time.sleep(30)"),
            stream=True,
            timeout=0.3,
        )
    assert "waiting" in capfd.readouterr().err


def test_a_runner_without_echo_cannot_stream() -> None:
    runner = Runner()
    with pytest.raises(ValueError, match="echo="):
        runner.run(python("print('lost')"), stream=True)
    assert runner.recorded == []  # refused before anything ran


def test_stream_keeps_draining_when_our_stderr_fails() -> None:
    def broken(line: str) -> None:
        raise BrokenPipeError(line)

    code = "import sys\nfor i in range(20000): print('x' * 50)\nsys.exit(0)"
    result = Runner(echo=broken).run(python(code), stream=True, timeout=10)
    assert result.returncode == 0


# --- dry run and fakes ----------------------------------------------------------------------


def test_dry_run_records_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    runner = Runner(dry_run=True)
    argv = [PY, "-c", "import sys; open(sys.argv[1], 'w')", str(marker)]
    result = runner.run(argv)
    assert result == ProcessResult(tuple(argv), 0, "", "")
    assert not marker.exists()
    assert runner.recorded == [tuple(argv)]


def test_dry_run_still_runs_read_only_queries() -> None:
    runner = Runner(dry_run=True)
    result = runner.run(python("print('answer')"), read_only=True)
    assert result.stdout == "answer\n"
    assert runner.recorded == [tuple(python("print('answer')"))]


def test_dry_run_still_refuses_a_command_string() -> None:
    with pytest.raises(TypeError):
        Runner(dry_run=True).run("rm -rf /")


def test_runner_records_real_runs_too() -> None:
    runner = Runner()
    runner.run(python("pass"))
    runner.run(python("raise SystemExit(1)"), check=False)
    assert [argv[-1] for argv in runner.recorded] == ["pass", "raise SystemExit(1)"]


def test_a_fake_satisfies_the_protocol() -> None:
    class Fake:
        def run(self, argv: object, **options: object) -> ProcessResult:
            return ProcessResult(("fake",), 0, "ok", "")

    def status(runner: ProcessRunner) -> str:
        return runner.run(["git", "status"]).stdout

    assert status(Fake()) == "ok"
    assert status(Runner(dry_run=True)) == ""


def test_streamed_lines_and_the_failure_tail_lose_their_colour_sequences() -> None:
    code = (
        "import sys\n"
        "print('\\x1b[91mERROR: Could not build wheels for psutil\\x1b[0m')\n"
        "print('\\x1b]0;title\\x07done \\x1b[1;32mok\\x1b[m bell\\x07 kept')\n"
        "sys.exit(1)\n"
    )
    shown: list[str] = []
    result = Runner(echo=shown.append).run(python(code), stream=True, check=False)
    assert shown == ["ERROR: Could not build wheels for psutil", "done ok bell\x07 kept"]
    assert result.stderr.splitlines() == shown
    with pytest.raises(ProcessFailed) as caught:
        Runner().run(python(code))
    assert "\x1b" not in caught.value.message
    assert "ERROR: Could not build wheels for psutil" in caught.value.message


# --- concurrently ---------------------------------------------------------------------------


def sleeper(pids: Path) -> str:
    """A program that starts a grandchild, writes both pids to ``pids`` and sleeps."""
    return (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        f"open({str(pids)!r} + '.tmp', 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        f"os.rename({str(pids)!r} + '.tmp', {str(pids)!r})\n"
        "time.sleep(30)"
    )


def started(*paths: Path, within: float = 10.0) -> list[int]:
    deadline = time.monotonic() + within
    while not all(path.exists() for path in paths):
        assert time.monotonic() < deadline, "the programs did not start"
        time.sleep(0.02)
    return [int(pid) for path in paths for pid in path.read_text().split()]


def test_concurrently_returns_the_results_in_the_tasks_order() -> None:
    runner = Runner()
    tasks = [
        lambda: runner.run(python("import time; time.sleep(0.3); print('slow')")).stdout,
        lambda: runner.run(python("print('fast')")).stdout,
    ]
    assert concurrently(runner, tasks) == ["slow\n", "fast\n"]
    assert concurrently(runner, []) == []


def test_an_interrupt_of_the_waiting_thread_stops_the_workers_programs(tmp_path: Path) -> None:
    """Ctrl-C reaches the main thread only: the programs worker threads wait on must die too."""
    runner = Runner()
    files = [tmp_path / "a", tmp_path / "b"]
    tasks = [lambda path=path: runner.run(python(sleeper(path))) for path in files]
    main = threading.main_thread().ident
    assert main == threading.get_ident()
    pids: list[int] = []

    def interrupt() -> None:
        pids.extend(started(*files))
        signal.pthread_kill(main, signal.SIGINT)

    helper = threading.Thread(target=interrupt)
    helper.start()
    begun = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        concurrently(runner, tasks)
    helper.join()
    assert time.monotonic() - begun < 10
    assert len(pids) == 4  # two programs and a grandchild each
    assert all(wait_gone(pid) for pid in pids)
    assert runner.run(python("print('again')")).stdout == "again\n"  # the runner still works


def test_a_failing_task_stops_the_other_tasks_programs(tmp_path: Path) -> None:
    runner = Runner()
    path = tmp_path / "pids"

    def failing() -> ProcessResult:
        started(path)
        return runner.run(python("import sys; sys.exit(3)"))

    begun = time.monotonic()
    with pytest.raises(ProcessFailed, match="exit status 3"):
        concurrently(runner, [failing, lambda: runner.run(python(sleeper(path)))])
    assert time.monotonic() - begun < 10
    assert all(wait_gone(pid) for pid in started(path))


def test_a_runner_that_is_not_stoppable_runs_the_tasks_one_by_one() -> None:
    order: list[int] = []

    class Fake:
        def run(self, argv: object, **options: object) -> ProcessResult:
            raise AssertionError("not run")

    def task(number: int) -> int:
        order.append(number)
        assert threading.current_thread() is threading.main_thread()
        return number

    fake: ProcessRunner = Fake()
    assert concurrently(fake, [lambda: task(1), lambda: task(2)]) == [1, 2]
    assert order == [1, 2]
