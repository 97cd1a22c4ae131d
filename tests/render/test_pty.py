"""The real console script on a pseudo-terminal of a given size, COLUMNS unset.

What a user sees in a terminal window: the width comes from the window (TIOCSWINSZ), not from
the environment. Each view, drawn at 60, 80, 120 and 200 columns, is the piped output at that
width (tests/render/test_fit.py checks that one cell by cell), styles aside; and text from the
matrix reaches the terminal without a control character of its own.
"""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.factories import document, release, toml_text
from tests.helpers import SNAPSHOT, Invoke

SCRIPT = Path(sys.executable).parent / "astroctl"
SGR = re.compile(r"\x1b\[[0-9;]*m")  # the styles rich draws with (bold headers, italic titles)
WIDTHS = (60, 80, 120, 200)
VIEWS = {
    "matrix show": ("matrix", "show"),
    "matrix show --all": ("matrix", "show", "--all"),
    "matrix show 9 11": ("matrix", "show", "9", "11"),
    "matrix lookup --airflow 2.7": ("matrix", "lookup", "--airflow", "2.7"),
    "matrix env": ("matrix", "env", "9.17.0"),
    "lifecycle": ("lifecycle", "--on", "2024-06-15"),
}

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no pseudo-terminals")


def on_a_terminal(*args: str, columns: int, matrix: Path = SNAPSHOT) -> tuple[str, str]:
    """Run ``astroctl --matrix M ARGS`` with stdout on a pty ``columns`` wide: (stdout, stderr)."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR")}
    environ.update(TERM="xterm-256color", NO_COLOR="1")
    with subprocess.Popen(
        [str(SCRIPT), "--matrix", str(matrix), *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
        env=environ,
    ) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the program ended and closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.stderr is not None
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=60) == 0, stderr
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n"), stderr


def unstyled(text: str) -> str:
    return "".join(f"{line.rstrip()}\n" for line in SGR.sub("", text).splitlines()).lstrip("\n")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("view", list(VIEWS))
def test_a_terminal_shows_what_a_pipe_of_its_width_gets(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, view: str, width: int
) -> None:
    shown, stderr = on_a_terminal(*VIEWS[view], columns=width)
    assert stderr == ""
    for line in SGR.sub("", shown).splitlines():
        assert len(line) <= width or len(line.split()) == 1, (width, line)
    monkeypatch.setenv("COLUMNS", str(width))
    piped = invoke(*VIEWS[view], matrix=SNAPSHOT)
    assert piped.exit_code == 0, piped.stderr
    assert unstyled(shown) == piped.stdout


def test_the_window_size_is_what_counts(invoke: Invoke) -> None:
    narrow, _ = on_a_terminal("matrix", "show", "9", "11", columns=80)
    wide, _ = on_a_terminal("matrix", "show", "9", "11", columns=200)
    assert "Version:" in narrow  # records
    assert "Version:" not in wide  # a table
    assert "9.17.0" in SGR.sub("", narrow).split()
    assert "9.17.0" in SGR.sub("", wide).split()


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    reason = "bad \x1b]0;owned\x07title\x1b[2J\x9b1m and\rover\nnext | line"
    path = tmp_path / "hostile.toml"
    path.write_text(toml_text(document(release("9.0.0", yanked=reason))), encoding="utf-8")
    for width in (40, 200):
        shown, warned = on_a_terminal("matrix", "show", "9", columns=width, matrix=path)
        for text in (SGR.sub("", shown), warned):
            controls = {char for char in text if ord(char) < 32 or 0x7F <= ord(char) < 0xA0}
            assert controls <= {"\n"}, (width, text)
        assert "\\x1b]0;owned\\x07title" in "".join(shown.split())
        assert warned.startswith("astroctl: warning: ")
        assert "\\x1b]0;owned\\x07title\\x1b[2J\\x9b1m and\\rover\\nnext | line" in warned
        assert warned.count("\n") == 1
