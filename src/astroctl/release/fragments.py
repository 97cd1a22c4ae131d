"""Change fragments: one file per change, ``changes/<name>.<type>.md`` (SPEC section 7).

Like towncrier's and scriv's fragments: engineers add a small markdown file with each change, and
a release consumes them into its notes. The type is a :class:`NoteType` (``breaking``,
``feature``, ``improvement``, ``bugfix``, ``security``, ``backport``); the name is free, unique
in the directory.

Reading is strict, because a fragment that is silently skipped is a change that goes unannounced:
a ``.md`` file whose type is unknown, a file named ``<name>.<type>`` without ``.md``, an empty,
unreadable or non-UTF-8 file, and anything that is not a regular file (a directory, a FIFO) are
refused with the file named. Dotfiles and ``README.md`` are not fragments; other files are left
alone.

A security fragment should name its CVE ids (``CVE-2023-12345``); :func:`cve_ids` finds them so a
command can warn when a security fragment names none. It is not an error: some fixes have no id.
"""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from astroctl.errors import InputError, OperationError
from astroctl.matrix.model import NoteType, ReleaseNote
from astroctl.seams import fs

SUFFIX = ".md"
TYPES = tuple(t.value for t in NoteType)
# A fragment is a few lines of prose: anything larger is a mistake, refused before it is read.
MAX_BYTES = 1024 * 1024
# A name given by the user: a file name of its own, not a path, not a dotfile.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SLUG_WORDS = 6
_SLUG_CHARS = 40
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# A CVE id, not inside a longer word or number; ASCII digits only (``\d`` takes other scripts').
CVE_ID = re.compile(r"(?<![A-Za-z0-9-])CVE-[0-9]{4}-[0-9]{4,}(?![0-9])", re.IGNORECASE)
_IGNORED = frozenset({"readme.md"})
_TYPE_ORDER: Mapping[str, int] = MappingProxyType({t: i for i, t in enumerate(TYPES)})


@dataclass(frozen=True)
class Fragment:
    """One change fragment: its file, its name (the part before ``.<type>.md``), type and text."""

    path: Path
    name: str
    type: NoteType
    text: str  # stripped of surrounding blank space, never empty

    @property
    def note(self) -> ReleaseNote:
        return ReleaseNote(self.type, self.text)


def read_fragments(directory: Path) -> tuple[Fragment, ...]:
    """Every fragment in ``directory``, sorted by name (then type); none when it does not exist.

    Raises :class:`InputError` naming the file for an unknown type, a file that is not regular,
    unreadable, not UTF-8 or empty, and for a ``directory`` that is not a directory.
    """
    try:
        entries = sorted(os.listdir(directory))
    except FileNotFoundError:
        return ()
    except NotADirectoryError:
        raise InputError(f"{directory}: not a directory (change fragments live in one)") from None
    except OSError as exc:
        raise InputError(f"{directory}: cannot list change fragments: {_why(exc)}") from None
    found = [
        _read(directory / entry, *kind)
        for entry in entries
        if (kind := _kind(directory / entry)) is not None
    ]
    return tuple(sorted(found, key=lambda f: (f.name, _TYPE_ORDER[f.type.value])))


def add_fragment(directory: Path, type: NoteType, text: str, name: str | None = None) -> Path:
    """Write ``text`` as the fragment ``<directory>/<name>.<type>.md`` and return its path.

    Without ``name``, the name is a slug of the text's first words, with ``-2``, ``-3``... added
    when a fragment of that name exists. A ``name`` given must be a plain file name and free.
    The directory is created; the file is written atomically (never half-written; two processes
    picking the same free name at the same instant would both write it, the later one winning).
    Raises :class:`InputError` for an empty text or a bad or taken name, :class:`OperationError`
    when the directory cannot be made or written.
    """
    body = text.strip()
    if not body:
        raise InputError(f"a {type.value} change needs a text: it is empty")
    if name is not None:
        _check_name(directory, name)
        chosen = name
    else:
        chosen = _free_name(directory, slug(body) or type.value)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OperationError(f"{directory}: cannot create the directory: {_why(exc)}") from None
    path = directory / f"{chosen}.{type.value}{SUFFIX}"
    fs.write_text(path, body + "\n")
    return path


def to_notes(fragments: Iterable[Fragment]) -> tuple[ReleaseNote, ...]:
    """The release notes the fragments make, in their order."""
    return tuple(fragment.note for fragment in fragments)


def cve_ids(text: str) -> tuple[str, ...]:
    """The CVE ids ``text`` mentions (``CVE-YYYY-NNNN...``), upper-cased, each once, in order."""
    seen: dict[str, None] = {}
    for match in CVE_ID.finditer(text):
        seen.setdefault(match.group(0).upper(), None)
    return tuple(seen)


def slug(text: str) -> str:
    """A file-name slug of the first words of ``text``: ``Fix the DAG`` -> ``fix-the-dag``.

    Accents are dropped (``é`` -> ``e``); what is not an ASCII letter or digit separates words.
    Empty when the text has no such letter or digit.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = [w for w in _NOT_SLUG.split(ascii_text.lower()) if w][:_SLUG_WORDS]
    parts: list[str] = []
    for word in words:
        if len("-".join([*parts, word])) > _SLUG_CHARS:
            if not parts:
                parts.append(word[:_SLUG_CHARS])
            break
        parts.append(word)
    return "-".join(parts)


# -- reading ----------------------------------------------------------------------------------


def _kind(path: Path) -> tuple[str, NoteType] | None:
    """``(name, type)`` of a fragment file name; None for what is not a fragment.

    Raises :class:`InputError` for a ``.md`` file of an unknown type and for a file named like a
    fragment that lacks the ``.md`` suffix.
    """
    entry = path.name
    if entry.startswith(".") or entry.lower() in _IGNORED:
        return None
    if not entry.endswith(SUFFIX):
        name, _, last = entry.rpartition(".")
        if name and last in TYPES:
            raise InputError(
                f"{path}: a change fragment needs the {SUFFIX} suffix: "
                f"did you mean {entry}{SUFFIX}?"
            )
        return None
    name, dot, kind = entry.removesuffix(SUFFIX).rpartition(".")
    if not dot or not name:
        raise InputError(
            f"{path}: not named <name>.<type>{SUFFIX}; the types are {', '.join(TYPES)}"
        )
    if kind not in TYPES:
        close = difflib.get_close_matches(kind.lower(), TYPES, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"{path}: unknown change type {kind!r}{hint} (known: {', '.join(TYPES)})")
    return name, NoteType(kind)


def _read(path: Path, name: str, kind: NoteType) -> Fragment:
    text = _read_text(path).removeprefix("\ufeff").strip()
    if not text:
        raise InputError(f"{path}: the change fragment is empty")
    return Fragment(path, name, kind, text)


def _read_text(path: Path) -> str:
    """The file's text, checked through its descriptor: a FIFO cannot hang the read."""
    return fs.read_text(
        path, what="change fragment", limit=MAX_BYTES, hint="a change fragment is a few lines"
    )


def _why(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return str(exc.strerror or exc)


# -- naming -----------------------------------------------------------------------------------


def _taken(directory: Path, name: str) -> bool:
    """Whether a fragment of that name exists, of any type."""
    return any((directory / f"{name}.{kind}{SUFFIX}").exists() for kind in TYPES)


def _free_name(directory: Path, base: str) -> str:
    name, number = base, 1
    while _taken(directory, name):
        number += 1
        name = f"{base}-{number}"
    return name


def _check_name(directory: Path, name: str) -> None:
    if _NAME.fullmatch(name) is None or name.endswith("."):
        raise InputError(
            f"{name!r} is not a fragment name: letters, digits, '.', '_' and '-', "
            "starting with a letter or digit, at most 100 characters"
        )
    if _taken(directory, name):
        raise InputError(f"{directory}: a change fragment named {name!r} exists already")


__all__ = [
    "CVE_ID",
    "MAX_BYTES",
    "SUFFIX",
    "TYPES",
    "Fragment",
    "add_fragment",
    "cve_ids",
    "read_fragments",
    "slug",
    "to_notes",
]
