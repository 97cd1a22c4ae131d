"""The stderr policy for text from the matrix: shown, never obeyed by the terminal."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astroctl.render import streams

ESC = "\x1b"
BIDI = {
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}


def obeyed(char: str) -> bool:
    """A character a terminal acts on (or that reorders or breaks the line) instead of showing."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_printable_leaves_nothing_a_terminal_would_obey(text: str) -> None:
    shown = streams.printable(text)
    assert not any(obeyed(char) for char in shown)
    if text.isprintable():
        assert shown == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"{ESC}[31mred{ESC}[0m", "\\x1b[31mred\\x1b[0m"),
        ("a\tb\nc\rd", "a\\tb\\nc\\rd"),
        ("\x00\x07\x7f\x85\x9b", "\\x00\\x07\\x7f\\x85\\x9b"),
        ("left\u202eright\u2028", "left\\u202eright\\u2028"),
        ("C:\\path \u00e9 \u5bbd \u00a0", "C:\\path \u00e9 \u5bbd \u00a0"),
    ],
)
def test_printable_shows_each_control_as_its_escape(text: str, shown: str) -> None:
    assert streams.printable(text) == shown


def test_a_warning_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    streams.warn(f"9.0.0 is yanked: broke{ESC}]0;owned\x07\nastroctl: error: fake")
    err = capsys.readouterr().err
    assert err == (
        "astroctl: warning: 9.0.0 is yanked: broke\\x1b]0;owned\\x07\\nastroctl: error: fake\n"
    )


def test_an_error_keeps_its_lines_and_indents_them(capsys: pytest.CaptureFixture[str]) -> None:
    streams.error(f"m.toml: 2 problems\n  release 9.0.0: bad{ESC}[2J\nastroctl: error: forged\r")
    assert capsys.readouterr().err == (
        "astroctl: error: m.toml: 2 problems\n"
        "  release 9.0.0: bad\\x1b[2J\n"
        "  astroctl: error: forged\\r\n"
    )


def test_a_note_keeps_its_lines(capsys: pytest.CaptureFixture[str]) -> None:
    streams.note(f"Usage: astroctl\n\nOptions:{ESC}[1m")
    assert capsys.readouterr().err == "Usage: astroctl\n\nOptions:\\x1b[1m\n"


def test_a_traceback_shows_controls_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise ValueError(f"bad {ESC}[2J value")
    except ValueError as exc:
        streams.traceback(exc)
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "ValueError: bad \\x1b[2J value" in err
    assert ESC not in err
