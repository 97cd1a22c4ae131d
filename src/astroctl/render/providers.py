"""Views of the provider capability: ``providers list``, ``diff``, ``outdated`` and ``update``.

Tables and markdown carry a summary under the table (counts per kind, suspected renames); JSON
carries the same facts as fields. The progress of an index lookup goes to stderr, drawn only
when stderr is a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from astroctl.render import streams, table
from astroctl.render.output import Format, emit
from astroctl.render.table import Grid

if TYPE_CHECKING:  # only annotations: the render layer loads no core module at start-up
    from astroctl.matrix.diff import PackageChange, ReleaseDiff, Rename
    from astroctl.matrix.model import ChangeKind, Release


# The shapes of the provider capability's results, as this layer reads them (render/ imports
# matrix types only; :mod:`astroctl.providers` returns frozen dataclasses of these shapes).


class PackageRow(Protocol):
    """A pinned package and its facts (``providers.listing.ListedPackage``)."""

    @property
    def package(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def maintained(self) -> bool: ...
    @property
    def runtime_only(self) -> bool: ...
    @property
    def index(self) -> str | None: ...


class PackageListing(Protocol):
    """The packages of an image of a release (``providers.listing.PackageListing``)."""

    @property
    def release(self) -> Release: ...
    @property
    def flavor(self) -> str | None: ...
    @property
    def packages(self) -> Sequence[PackageRow]: ...
    @property
    def maintained(self) -> int: ...
    @property
    def runtime_only(self) -> int: ...


def _emit(fmt: Format, grids: Sequence[Grid], payload: Any, notes: Sequence[str]) -> None:
    """``emit`` with lines of summary under the tables (table and markdown formats)."""
    if fmt is Format.json or not notes:
        emit(fmt, grids, payload)
        return
    if fmt is Format.markdown:
        tables = "\n\n".join(table.markdown(g) for g in grids)
        prose = "\n\n".join(_markdown_text(note) for note in notes)
        emit(fmt, grids, payload, f"{tables}\n\n{prose}" if tables else prose)
        return
    if grids:
        table.draw(grids)
        streams.out("\n")
    streams.out("".join(f"{streams.printable(note)}\n" for note in notes))


def _markdown_text(text: str) -> str:
    """A line of prose for markdown: controls escaped, markdown's active characters quoted."""
    safe = streams.printable(text)
    for char in ("\\", "*", "_", "`", "|", "<", "[", "]"):
        safe = safe.replace(char, f"\\{char}")
    return safe


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _mark(flag: bool) -> str:
    return "yes" if flag else ""


def _image(flavor: str | None) -> str:
    return "" if flavor is None else f", {flavor} image"


# -- providers list ---------------------------------------------------------------------------


def listing(result: PackageListing, fmt: Format) -> None:
    """``providers list``: the packages of a release with their marks."""
    release = result.release
    with_index = any(p.index for p in result.packages)
    columns = ("Package", "Version", "Maintained", "Runtime only")
    grid = Grid(
        f"Packages of Astro Runtime {release.name}{_image(result.flavor)} "
        f"(Airflow {release.airflow})",
        (*columns, "Index") if with_index else columns,
        tuple(
            (
                p.package,
                p.version,
                _mark(p.maintained),
                _mark(p.runtime_only),
                *((p.index or "",) if with_index else ()),
            )
            for p in result.packages
        ),
        wrap=frozenset(),
    )
    payload = {
        "release": release.name,
        "airflow": release.airflow,
        "flavor": result.flavor,
        "yanked": release.yanked,
        "packages": [
            {
                "package": p.package,
                "version": p.version,
                "maintained": p.maintained,
                "runtime_only": p.runtime_only,
                "index": p.index,
            }
            for p in result.packages
        ],
    }
    total = len(result.packages)
    summary = (
        f"{_plural(total, 'package')}: {result.maintained} maintained, "
        f"{result.runtime_only} runtime-only"
        if total
        else f"{release.name} pins no packages (its package table is unknown)"
    )
    _emit(fmt, [grid] if total else [], payload, [summary])


# -- providers diff ---------------------------------------------------------------------------


def changes_json(changes: Iterable[PackageChange]) -> list[dict[str, Any]]:
    """Package changes as SPEC section 4's ``providers diff`` gives them."""
    return [
        {"package": c.package, "from": c.old, "to": c.new, "change": str(c.kind)} for c in changes
    ]


def _rename_notes(renames: Sequence[Rename]) -> dict[str, str]:
    """The note of each package that is half of a suspected rename."""
    notes: dict[str, list[str]] = {}
    for rename in renames:
        notes.setdefault(rename.old_package, []).append(f"renamed to {rename.new_package}?")
        notes.setdefault(rename.new_package, []).append(f"renamed from {rename.old_package}?")
    return {package: "; ".join(texts) for package, texts in notes.items()}


def _table_order(diff: ReleaseDiff) -> list[PackageChange]:
    """Airflow first (the headline), then the changes grouped by kind, by name within a kind."""
    airflow = [c for c in diff.changes if c is diff.airflow]
    rest = [c for group in diff.by_kind.values() for c in group if c is not diff.airflow]
    return airflow + rest


def diff_summary(counts: Mapping[ChangeKind, int]) -> str:
    """``19 changes: 2 added, 2 major, 15 minor`` (and ``; 5 unchanged`` with ``--all``)."""
    changed = {kind: n for kind, n in counts.items() if kind.value != "unchanged"}
    unchanged = sum(n for kind, n in counts.items() if kind.value == "unchanged")
    total = sum(changed.values())
    text = "no changes"
    if total:
        parts = ", ".join(f"{n} {kind.value}" for kind, n in changed.items())
        text = f"{_plural(total, 'change')}: {parts}"
    return f"{text}; {unchanged} unchanged" if unchanged else text


def diff(
    result: ReleaseDiff, counts: Mapping[ChangeKind, int], fmt: Format, *, flavor: str | None = None
) -> None:
    """``providers diff``: the changes grouped by kind, a summary and suspected renames."""
    old, new = result.old.name, result.new.name
    notes = _rename_notes(result.renames)
    columns = ("Package", "From", "To", "Change")
    grid = Grid(
        f"Package changes from Astro Runtime {old} to {new}{_image(flavor)}",
        (*columns, "Note") if notes else columns,
        tuple(
            (
                c.package,
                c.old or "-",
                c.new or "-",
                str(c.kind),
                *((notes.get(c.package, ""),) if notes else ()),
            )
            for c in _table_order(result)
        ),
        wrap=frozenset({"Note"}) if notes else frozenset(),
    )
    payload = {
        "from": old,
        "to": new,
        "flavor": flavor,
        "changes": changes_json(result.changes),
        "renames": [{"from": r.old_package, "to": r.new_package} for r in result.renames],
        "summary": {kind.value: n for kind, n in counts.items()},
    }
    summary = [diff_summary(counts)]
    summary.extend(
        f"{r.old_package} -> {r.new_package} looks like a rename (listed as removed and added)"
        for r in result.renames
    )
    _emit(fmt, [grid] if result.changes else [], payload, summary)
