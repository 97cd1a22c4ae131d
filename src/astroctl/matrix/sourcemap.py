"""Where in the matrix file a table or key is written: document path -> 1-based file line.

Built only when a matrix has violations, so a valid matrix never pays for it. One pass over the
text finds the table headers (``[lines.9]``, ``[[releases]]``, ``[releases.packages]``) with a
regex, numbering each ``[[releases]]`` as the parser does; a key's line is then looked up only
in the section of the file its table spans. It reads TOML's surface, not its grammar: a header
look-alike inside a multi-line string can mislead it, and then a violation names a nearby line
(or none), which is all a file line is for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

DocPath = tuple[str | int, ...]  # ("releases", 3, "packages", "foo"), ("lines", "9", "os")

_HEADER = re.compile(r"^[ \t]*\[[^\n]*", re.MULTILINE)
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_BLANK_OR_COMMENT = re.compile(r"[ \t]*(?:#.*)?\r?")


@dataclass(frozen=True)
class _Section:
    line: int  # the header's line; 1 for the root (the keys before the first header)
    start: int  # offsets in the text of the section's body
    end: int


class SourceMap:
    """The file lines of a matrix text's tables and keys."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sections: dict[DocPath, _Section] = {}
        self._scan()

    def line_of(self, path: DocPath) -> int | None:
        """The line of ``path``, else of its nearest enclosing table or key found; else None."""
        for cut in range(len(path), -1, -1):
            section = self.sections.get(path[:cut])
            if section is None:
                continue
            if cut < len(path):
                key = path[cut]
                found = self._key_line(section, key) if isinstance(key, str) else None
                if found is not None:
                    return found
            return section.line if cut else None
        return None

    def _scan(self) -> None:
        text = self.text
        counters: dict[DocPath, int] = {}
        line, position = 1, 0
        current: DocPath = ()
        self.sections[()] = _Section(1, 0, len(text))
        for match in _HEADER.finditer(text):
            line += text.count("\n", position, match.start())
            position = match.start()
            path = _header_path(match.group(), counters)
            if path is None:
                continue
            previous = self.sections[current]
            self.sections[current] = _Section(previous.line, previous.start, match.start())
            current = path
            self.sections.setdefault(path, _Section(line, match.end(), len(text)))

    def _key_line(self, section: _Section, key: str) -> int | None:
        choices = [re.escape(f'"{key}"'), re.escape(f"'{key}'")]
        if _BARE.fullmatch(key):
            choices.append(re.escape(key))
        pattern = re.compile(rf"^[ \t]*(?:{'|'.join(choices)})[ \t]*[=.]", re.MULTILINE)
        found = pattern.search(self.text, section.start, section.end)
        if found is None:
            return None
        return section.line + self.text.count("\n", section.start, found.start())


def _header_path(header: str, counters: dict[DocPath, int]) -> DocPath | None:
    """The document path a ``[table]`` or ``[[array]]`` header opens (None: not a header)."""
    stripped = header.lstrip(" \t")
    array = stripped.startswith("[[")
    parsed = _keys(stripped[2:] if array else stripped[1:], "]]" if array else "]")
    if parsed is None:
        return None
    keys, rest = parsed
    if _BLANK_OR_COMMENT.fullmatch(rest) is None:
        return None  # e.g. a line of a nested array: [1, 2],
    if not array:
        return _resolve(keys, counters)
    table = (*_resolve(keys[:-1], counters), keys[-1])
    counters[table] = counters.get(table, 0) + 1
    return (*table, counters[table] - 1)


def _resolve(keys: Sequence[str], counters: dict[DocPath, int]) -> DocPath:
    """Keys to a path: an array of tables stands for its latest element, as in TOML."""
    path: DocPath = ()
    for key in keys:
        path = (*path, key)
        if path in counters:
            path = (*path, counters[path] - 1)
    return path


def _keys(text: str, end: str) -> tuple[list[str], str] | None:
    """A dotted key at the start of ``text`` ended by ``end``, and what follows it."""
    keys: list[str] = []
    position = 0
    while True:
        position = _skip_space(text, position)
        parsed = _one_key(text, position)
        if parsed is None:
            return None
        key, position = parsed
        keys.append(key)
        position = _skip_space(text, position)
        if text.startswith(end, position):
            return keys, text[position + len(end) :]
        if not text.startswith(".", position):
            return None
        position += 1


def _one_key(text: str, position: int) -> tuple[str, int] | None:
    if text.startswith('"', position):
        close = text.find('"', position + 1)
        if close < 0 or "\\" in text[position:close]:
            return None  # escapes are rare in keys: not worth decoding for a line number
        return text[position + 1 : close], close + 1
    if text.startswith("'", position):
        close = text.find("'", position + 1)
        return None if close < 0 else (text[position + 1 : close], close + 1)
    bare = _BARE.match(text, position)
    return None if bare is None else (bare.group(), bare.end())


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t":
        position += 1
    return position
