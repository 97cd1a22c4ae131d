"""Views of the release capability: a release plan, a policy check, an audit, release notes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from astroctl.render import streams
from astroctl.render.output import Format, emit
from astroctl.render.table import Grid

if TYPE_CHECKING:
    from astroctl.matrix.diff import PackageChange
    from astroctl.release.audit import Audit
    from astroctl.release.plan import ReleasePlan
    from astroctl.release.policy import Check, Reason


def changes_json(changes: Sequence[PackageChange]) -> list[dict[str, Any]]:
    """Package changes as SPEC section 4's ``providers diff`` prints them."""
    return [
        {"package": c.package, "from": c.old, "to": c.new, "change": str(c.kind)} for c in changes
    ]


def _changes_grid(title: str, changes: Sequence[PackageChange]) -> Grid:
    return Grid(
        title,
        ("Package", "From", "To", "Change"),
        tuple((c.package, c.old or "-", c.new or "-", str(c.kind)) for c in changes),
        wrap=frozenset(),
    )


def _reasons_grid(title: str, reasons: Sequence[Reason]) -> Grid:
    return Grid(
        title,
        ("Requires", "Change"),
        tuple((r.level.value, r.text) for r in reasons),
        wrap=frozenset({"Change"}),
    )


def _level(level: object) -> str | None:
    value = getattr(level, "value", None)
    return None if value is None else str(value)


def plan(
    result: ReleasePlan,
    fmt: Format,
    *,
    dry_run: bool,
    written: Sequence[str] = (),
    removed: Sequence[str] = (),
    commit: str | None = None,
    tag: str | None = None,
) -> None:
    """A release plan (``--dry-run``), or the release just written."""
    changes = result.diff.changes if result.diff is not None else ()
    reasons = result.requirement.reasons
    payload = {
        "version": result.release.name,
        "previous": result.previous.name if result.previous is not None else None,
        "base": result.base.name,
        "level": result.level.value,
        "required": _level(result.requirement.level),
        "ok": result.ok,
        "reasons": [r.text for r in reasons],
        "changes": changes_json(changes),
        "airflow": result.release.airflow,
        "released": result.release.released.isoformat() if result.release.released else None,
        "new_line": result.new_line.major if result.new_line is not None else None,
        "notes": [{"type": str(n.type), "text": n.text} for n in result.release.notes],
        "dry_run": dry_run,
        "written": list(written),
        "removed": list(removed),
        "commit": commit,
        "tag": tag,
    }
    previous = result.previous.name if result.previous is not None else "nothing"
    required = _level(result.requirement.level) or "nothing"
    verdict = "ok" if result.ok else "REFUSED"
    summary = Grid(
        f"Astro Runtime {result.release.name}{_state(result, dry_run=dry_run)}",
        ("Field", "Value"),
        (
            ("Previous", previous),
            ("Requested", result.level.value),
            ("Required", f"{required} ({verdict})"),
            ("Airflow", result.release.airflow),
            ("Released", _day(result)),
            *(("Written", path) for path in written),
            *(("Removed", path) for path in removed),
            *((("Commit", commit),) if commit else ()),
            *((("Tag", tag),) if tag else ()),
        ),
        wrap=frozenset(),
    )
    grids = [summary]
    if reasons:
        grids.append(_reasons_grid("What the versioning policy requires", reasons))
    if changes:
        grids.append(_changes_grid(f"Package changes since {previous}", changes))
    emit(fmt, grids, payload)


def _state(result: ReleasePlan, *, dry_run: bool) -> str:
    if not result.ok:
        return " (refused: nothing written)"
    return " (dry run: nothing written)" if dry_run else " (released)"


def _day(result: ReleasePlan) -> str:
    released = result.release.released
    return released.isoformat() if released is not None else "-"


def check(result: Check, fmt: Format) -> None:
    """``release check FROM TO``."""
    payload = {
        "from": result.old.name,
        "to": result.new.name,
        "bump": _level(result.bump),
        "required": _level(result.required),
        "ok": result.ok,
        "reasons": [r.text for r in result.reasons],
    }
    bump = _level(result.bump) or "none (not higher)"
    required = _level(result.required) or "nothing"
    grids = [
        Grid(
            f"{result.old.name} -> {result.new.name}: {'ok' if result.ok else 'NOT OK'}",
            ("Bump", "Required"),
            ((bump, required),),
            wrap=frozenset(),
        )
    ]
    if result.reasons:
        grids.append(_reasons_grid("What the versioning policy requires", result.reasons))
    emit(fmt, grids, payload)


def audit(result: Audit, fmt: Format) -> None:
    """``release audit``: every release against its predecessor, under the policy of its day."""
    violations = result.violations
    payload = {
        "checked": len(result.entries),
        "violations": [
            {
                "release": entry.new.name,
                "previous": entry.old.name,
                "released": entry.new.released.isoformat() if entry.new.released else None,
                "bump": _level(entry.bump),
                "required": _level(entry.required),
                "reasons": [r.text for r in entry.reasons if _short(r, entry)],
            }
            for entry in violations
        ],
    }
    grid = Grid(
        f"Release audit: {len(violations)} of {len(result.entries)} releases bumped less than "
        "their changes required",
        ("Release", "Previous", "Bump", "Required", "Because"),
        tuple(
            (
                entry.new.name,
                entry.old.name,
                _level(entry.bump) or "none",
                _level(entry.required) or "-",
                "; ".join(r.text for r in entry.reasons if _short(r, entry)),
            )
            for entry in violations
        ),
        wrap=frozenset({"Because"}),
    )
    emit(fmt, [grid], payload)


def _short(reason: Reason, entry: Check) -> bool:
    """A reason that needs more than the release's bump gave."""
    if entry.bump is None:
        return True
    return reason.level.rank > entry.bump.rank


def notes(markdown: str, payload: dict[str, Any], fmt: Format) -> None:
    """Release notes: markdown by default (a table is no way to read notes), or JSON."""
    if fmt is Format.json:
        emit(fmt, [], payload)
    else:
        streams.out(markdown.rstrip("\n") + "\n")
