"""Views of the provider capability: ``providers list``, ``diff``, ``outdated`` and ``update``.

Tables and markdown carry a summary under the table (counts per kind, suspected renames); JSON
carries the same facts as fields. The progress of an index lookup goes to stderr, drawn only
when stderr is a terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from astroctl.render import streams, table
from astroctl.render.output import Format, emit
from astroctl.render.table import Grid

if TYPE_CHECKING:  # only annotations: the render layer loads no core module at start-up
    from astroctl.matrix.diff import PackageChange, ReleaseDiff, Rename
    from astroctl.matrix.model import ChangeKind, Level, Release


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


# -- providers outdated -----------------------------------------------------------------------


class PackageStatus(Protocol):
    """A package against the index (``providers.outdated.PackageStatus``)."""

    @property
    def package(self) -> str: ...
    @property
    def current(self) -> str: ...
    @property
    def latest(self) -> str | None: ...
    @property
    def change(self) -> ChangeKind | None: ...
    @property
    def newest(self) -> str | None: ...
    @property
    def held_back(self) -> str | None: ...
    @property
    def index(self) -> str: ...
    @property
    def problem(self) -> str | None: ...


class IndexChoice(Protocol):
    @property
    def shown_url(self) -> str: ...  # without credentials
    @property
    def origin(self) -> str: ...
    @property
    def shown_extra_urls(self) -> Sequence[str]: ...


class Target(Protocol):
    @property
    def python(self) -> str: ...
    @property
    def airflow(self) -> str: ...


class Outdated(Protocol):
    """A release's packages against an index (``providers.outdated.Outdated``)."""

    @property
    def release(self) -> Release: ...
    @property
    def target(self) -> Target: ...
    @property
    def level(self) -> Level: ...
    @property
    def index(self) -> IndexChoice: ...
    @property
    def packages(self) -> Sequence[PackageStatus]: ...


UNKNOWN = "unknown"  # the change of a package that could not be looked up


def _change(status: PackageStatus) -> str:
    return status.change.value if status.change is not None else UNKNOWN


def _status_order(status: PackageStatus) -> tuple[int, int, str]:
    """The packages with a newer version first, by kind (as a diff lists them), then those that
    could not be looked up, then the unchanged ones; by name within each."""
    change = status.change
    if change is None:
        return (1, 0, status.package)
    kinds = [kind.value for kind in type(change)]
    return (2 if change.value == "unchanged" else 0, kinds.index(change.value), status.package)


def outdated_summary(statuses: Sequence[PackageStatus]) -> str:
    newer = [s for s in statuses if s.change is not None and s.change.value != "unchanged"]
    failed = sum(1 for s in statuses if s.change is None)
    tail = f"; {failed} could not be looked up" if failed else ""
    if not statuses:
        return "the release pins no packages"
    if not newer:
        if failed:
            answered = len(statuses) - failed
            return f"{answered} of {_plural(len(statuses), 'package')} are up to date{tail}"
        return f"all {_plural(len(statuses), 'package')} are up to date"
    kinds: dict[str, int] = {}
    for status in sorted(newer, key=_status_order):
        kinds[_change(status)] = kinds.get(_change(status), 0) + 1
    parts = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
    return f"{len(newer)} of {_plural(len(statuses), 'package')} can be updated: {parts}{tail}"


def outdated(result: Outdated, fmt: Format) -> None:
    """``providers outdated``: each package's pin and the newest compatible version."""
    release, target = result.release, result.target
    statuses = sorted(result.packages, key=_status_order)
    held = any(s.held_back for s in statuses)
    failed = any(s.problem for s in statuses)
    columns = (
        "Package",
        "Current",
        "Latest",
        "Change",
        *(("Held back",) if held else ()),
        *(("Problem",) if failed else ()),
    )
    level = "" if result.level.value == "major" else f", up to {result.level.value}"
    grid = Grid(
        f"Packages of Astro Runtime {release.name} on {result.index.shown_url} "
        f"(Python {target.python}, Airflow {target.airflow}{level})",
        columns,
        tuple(
            (
                s.package,
                s.current,
                s.latest or "-",
                _change(s),
                *((s.held_back or "",) if held else ()),
                *((s.problem or "",) if failed else ()),
            )
            for s in statuses
        ),
        wrap=frozenset({"Held back", "Problem"} & set(columns)),
    )
    payload = {
        "release": release.name,
        "python": target.python,
        "airflow": target.airflow,
        "level": result.level.value,
        "index": result.index.shown_url,
        "index_origin": result.index.origin,
        "extra_index_urls": list(result.index.shown_extra_urls),
        "packages": [
            {
                "package": s.package,
                "current": s.current,
                "latest": s.latest,
                "change": _change(s),
                "newest": s.newest,
                "held_back": s.held_back,
                "index": s.index,
                "problem": s.problem,
            }
            for s in result.packages
        ],
    }
    _emit(fmt, [grid] if statuses else [], payload, [outdated_summary(statuses)])


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int, str], None] | None]:
    """A progress callback drawing bars on stderr while the block runs, when stderr is a
    terminal; None (no callback, nothing drawn) otherwise. The bars vanish when it ends."""
    if not stderr_is_terminal():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(file=sys.stderr, highlight=False, emoji=False)
    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[item]}", markup=False),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int, item: str) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(streams.printable(stage), total=total, item="")
            bar.update(tasks[stage], completed=done, total=total, item=streams.printable(item))

        yield update


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


# -- providers update -------------------------------------------------------------------------


class UpdatePlan(Protocol):
    """What ``providers update`` writes (``providers.update.UpdatePlan``)."""

    @property
    def base(self) -> Release: ...
    @property
    def entry(self) -> Release: ...
    @property
    def created(self) -> bool: ...
    @property
    def changes(self) -> Sequence[PackageChange]: ...
    @property
    def empty(self) -> bool: ...


@dataclass(frozen=True)
class PolicyView:
    """What the versioning policy says of an entry against its predecessor."""

    previous: str | None
    bump: str | None  # the entry's version step: patch, minor, major
    required: str | None  # the level its changes need (None: nothing changed)
    reasons: tuple[tuple[str, str], ...] = ()  # (level, text)

    @property
    def ok(self) -> bool:
        order = ("patch", "minor", "major")
        if self.required is None:
            return True
        return self.bump is not None and order.index(self.bump) >= order.index(self.required)


def update(plan: UpdatePlan, policy: PolicyView, fmt: Format, *, written: bool, path: str) -> None:
    """``providers update``: the pins written (or, in a dry run, to be written) and what the
    versioning policy will require of the entry."""
    entry, base = plan.entry, plan.base
    what = "new entry" if plan.created else "unreleased entry"
    done = "written to" if written else "for"
    origin = f" (a {what} from {base.name})" if plan.created else f" (an {what})"
    dry = "" if written or plan.empty else "; dry run: nothing written"
    grids = [
        Grid(
            f"Package updates {done} Astro Runtime {entry.name}{origin}{dry}",
            ("Package", "From", "To", "Change"),
            tuple((c.package, c.old or "-", c.new or "-", str(c.kind)) for c in plan.changes),
            wrap=frozenset(),
        )
    ]
    if policy.reasons:
        grids.append(
            Grid(
                f"The versioning policy against {policy.previous or 'nothing'}",
                ("Requires", "Change"),
                policy.reasons,
                wrap=frozenset({"Change"}),
            )
        )
    payload = {
        "release": entry.name,
        "from": base.name,
        "created": plan.created,
        "written": written,
        "file": path,
        "changes": changes_json(plan.changes),
        "previous": policy.previous,
        "bump": policy.bump,
        "required": policy.required,
        "ok": policy.ok,
        "reasons": [text for _, text in policy.reasons],
    }
    if plan.empty:
        notes = [f"nothing to update: every package of {entry.name} is up to date"]
    else:
        notes = [_update_summary(plan, policy, written=written)]
    if not policy.ok:
        streams.warn(
            f"the versioning policy requires a {policy.required} release for {entry.name} "
            f"against {policy.previous} (it is a {policy.bump or 'no'} version step); "
            "'astroctl release check' will flag it"
        )
    _emit(fmt, grids if plan.changes else [], payload, notes)


def _update_summary(plan: UpdatePlan, policy: PolicyView, *, written: bool) -> str:
    count = _plural(len(plan.changes), "package")
    verb = "updated in" if written else "would be updated in"
    text = f"{count} {verb} {plan.entry.name}"
    if policy.required is None:
        return f"{text}; the policy requires nothing against {policy.previous}"
    return (
        f"{text}; the policy requires a {policy.required} release against {policy.previous}, "
        f"and {plan.entry.name} is a {policy.bump or 'no'} version step"
    )
