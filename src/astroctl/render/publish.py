"""Views of ``astroctl publish`` and of ``release promote --images``.

The plan (``--dry-run``) is a table of every tag with what publishing does to it (new,
unchanged, moved, replaced), then the docker commands in order; the result is a table of every
tag as read back from the registry, with its digest and platforms. JSON carries the plan's own
``to_json`` plus, after a run, the commands run and the tags verified. Progress goes to stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from astroctl.render import streams
from astroctl.render.images import shell_line
from astroctl.render.output import Format, emit
from astroctl.render.table import Grid

if TYPE_CHECKING:
    from astroctl.images.plan import Step
    from astroctl.images.publish import PublishPlan, PublishReport, Retag, RetagPlan, Verified
    from astroctl.matrix.model import Release


def _short(digest: str | None) -> str:
    return digest[:19] if digest else "-"


def publish_plan(plan: PublishPlan, fmt: Format) -> None:
    """``publish --dry-run``: each tag and what publishing will do to it, then the commands."""
    grid = Grid(
        f"Publish Astro Runtime {plan.release.name} to {plan.repository} "
        f"({', '.join(plan.tags.platforms)})"
        + (": already published, nothing to push" if plan.up_to_date else ""),
        ("Tag", "Variant", "Python", "Floating", "Registry now", "Action"),
        tuple(
            (
                check.tag,
                check.image.variant.value,
                check.image.python,
                "yes" if check.floating else "no",
                _short(check.current),
                check.state.value,
            )
            for check in plan.checks
        ),
    )
    lines = [shell_line(step.invocation.argv) for step in plan.steps]
    payload = {
        "dry_run": True,
        **plan.to_json(),
        "commands": [list(step.invocation.argv) for step in plan.steps],
    }
    emit(fmt, [grid], payload)
    if fmt is Format.table and lines:
        streams.out(f"\nDocker commands, in order ({len(lines)}):\n")
        streams.out("".join(f"{line}\n" for line in lines))


def publish_progress(plan: PublishPlan) -> Callable[[Step], None]:
    """``[2/9] push REF`` on stderr before each command."""
    total = len(plan.steps)
    done = [0]

    def progress(step: Step) -> None:
        done[0] += 1
        streams.note(
            f"[{done[0]}/{total}] {step.invocation.action.value} {step.invocation.subject}"
        )

    return progress


def publish_result(report: PublishReport, fmt: Format) -> None:
    """Every tag as the registry has it now, with what publishing did to it."""
    plan = report.plan
    what = (
        "already published, nothing pushed"
        if plan.up_to_date
        else f"{len(report.ran)} docker commands"
    )
    grid = Grid(
        f"Published Astro Runtime {plan.release.name} to {plan.repository}: {what}; "
        f"{len(report.verified)} tags read back and verified",
        ("Tag", "Action", "Digest", "Platforms"),
        tuple(
            (
                item.check.tag,
                item.check.state.value,
                _short(item.digest),
                ", ".join(sorted(item.platforms)),
            )
            for item in report.verified
        ),
    )
    payload = {
        "dry_run": False,
        **plan.to_json(),
        "ran": [list(step.invocation.argv) for step in report.ran],
        "verified": [item.to_json() for item in report.verified],
    }
    emit(fmt, [grid], payload)


def retag_plan(plan: RetagPlan, fmt: Format, *, done: bool) -> None:
    """``release promote --images``: each final tag, the candidate tag it takes its manifest
    from, and what happens to it (after a run: what happened, verified)."""
    verb = "Promoted" if done else "Promote"
    tail = ": already promoted, nothing to put" if plan.up_to_date else ""
    grid = Grid(
        f"{verb} the images of {plan.candidate.name} to {plan.release.name} in "
        f"{plan.repository} by digest{tail}",
        ("Tag", "From", "Digest", "Registry before", "Action"),
        tuple(
            (
                retag.target.rpartition(":")[2],
                retag.source.rpartition(":")[2],
                _short(retag.digest),
                _short(retag.current),
                retag.state.value,
            )
            for retag in plan.retags
        ),
    )
    emit(fmt, [grid], {"dry_run": not done, **plan.to_json()})


def retag_progress(plan: RetagPlan) -> Callable[[Retag], None]:
    total = sum(1 for retag in plan.retags if retag.state.writes)
    done = [0]

    def progress(retag: Retag) -> None:
        done[0] += 1
        streams.note(f"[{done[0]}/{total}] put {retag.target} = {retag.digest}")

    return progress


def retag_summary(plan: RetagPlan, *, done: bool) -> str:
    """One line for ``release promote --images`` (stderr: stdout carries the release plan)."""
    writes = [retag for retag in plan.retags if retag.state.writes]
    if plan.up_to_date:
        return (
            f"images: every tag of {plan.release.name} already holds {plan.candidate.name}'s images"
        )
    verb = "put" if done else "would put"
    tail = ", read back and verified" if done else ""
    return (
        f"images: {verb} {len(writes)} of {len(plan.retags)} tags of {plan.release.name} from "
        f"{plan.candidate.name} by digest in {plan.repository}{tail}"
    )


def verify_result(
    release: Release, repository: str, verified: Sequence[Verified], fmt: Format
) -> None:
    """``publish --verify``: every tag as read back, with its digest and platforms."""
    grid = Grid(
        f"Astro Runtime {release.name} in {repository}: {len(verified)} tags read back and "
        "verified (platforms, labels, one digest per image)",
        ("Tag", "Variant", "Python", "Digest", "Platforms"),
        tuple(
            (
                item.check.tag,
                item.check.image.variant.value,
                item.check.image.python,
                _short(item.digest),
                ", ".join(sorted(item.platforms)),
            )
            for item in verified
        ),
    )
    payload = {
        "release": release.name,
        "repository": repository,
        "verified": [item.to_json() for item in verified],
    }
    emit(fmt, [grid], payload)
