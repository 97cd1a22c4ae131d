"""Views of the image capability: ``tags`` (the tag plan of a release) and ``build``.

``tags``: the table and markdown show one row per image (a variant for a Python) with every tag
it is pushed under; the JSON has one entry per tag (SPEC section 4), each naming its image.

``build``: the plan (``--dry-run``) as a table of the images with their platforms and tags,
then the exact argv of every docker command, one per line (shell-quoted for display only,
with the variables the command sets in front); its JSON is the plan's own (``to_json``) with
every command's argv list. Progress of a real build goes to stderr, one line per step.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from astroctl.render import streams
from astroctl.render.output import Format, emit
from astroctl.render.table import Grid

if TYPE_CHECKING:  # only annotations: the render layer loads no core module at start-up
    from astroctl.images.plan import BuildPlan, BuildReport, Step
    from astroctl.images.tags import Image, TagPlan


def tags(plan: TagPlan, fmt: Format) -> None:
    """``astroctl tags``: the images of a release and their tags, the platforms in the title;
    why floating names stay where they are goes to stderr."""
    floating = ("Floating tags",) if plan.floating_tags else ()
    grid = Grid(
        f"Image tags of Astro Runtime {plan.release.name} in {plan.repository} "
        f"({_platforms(plan.platforms)})",
        ("Variant", "Python", "Tags", *floating),
        tuple(_row(image, floating=plan.floating_tags) for image in plan.images),
        wrap=frozenset({"Tags", *floating}),
    )
    emit(fmt, [grid], tags_json(plan))
    note = floating_note(plan)
    if note:
        streams.note(note)


def _platforms(platforms: tuple[str, ...]) -> str:
    if len(platforms) > 1:
        return f"manifest lists for {', '.join(platforms)}"
    return f"{platforms[0]} only" if platforms else "no platform"


def _row(image: Image, *, floating: bool) -> tuple[str, ...]:
    row = (image.variant.value, image.python, " ".join(image.tags))
    return (*row, " ".join(image.floating) or "-") if floating else row


def tags_json(plan: TagPlan) -> dict[str, Any]:
    """The SPEC's ``{"release", "images": [{"tag", "variant", "python", "platforms"}]}``, one
    entry per tag, with each tag's reference, image and whether it floats."""
    release = plan.release
    return {
        "release": release.name,
        "repository": plan.repository,
        "prerelease": release.is_prerelease,
        "yanked": release.yanked,
        "floating_tags": plan.floating_tags,
        "platforms": list(plan.platforms),
        "images": [
            {
                "tag": entry.tag,
                "variant": entry.image.variant.value,
                "python": entry.image.python,
                "platforms": list(entry.image.platforms),
                "reference": entry.reference,
                "floating": entry.floating,
                "image": entry.image.name,
                "manifest_list": entry.image.manifest_list,
            }
            for entry in plan.entries
        ],
        "floating_targets": {
            scope.name: scope.target.name if scope.target is not None else None
            for scope in plan.scopes
        },
    }


def floating_note(plan: TagPlan) -> str | None:
    """Why the plan moves fewer floating names than the release has scopes (None: it moves
    them all, or floating tags are off)."""
    if not plan.floating_tags:
        return None
    release = plan.release
    if release.is_yanked or release.is_prerelease:
        kind = "yanked" if release.is_yanked else "a prerelease"
        return f"{release.name} is {kind}: it moves no floating tag"
    kept = [scope for scope in plan.scopes if not scope.moves_to(release)]
    if not kept:
        return None
    where = ", ".join(
        f"{scope.name} stays on {scope.target.name}" for scope in kept if scope.target
    )
    moved = plan.moved
    what = f"moves {', '.join(moved)} only" if moved else "moves no floating tag"
    return f"{release.name} {what}: {where} (floating tags never move to a lower version)"


# -- build ----------------------------------------------------------------------------------------


def shell_line(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """A command as one shell line, for display only (astroctl never runs a shell)."""
    assignments = [f"{name}={shlex.quote(value)}" for name, value in sorted((env or {}).items())]
    return " ".join([*assignments, shlex.join(argv)])


def build_plan(plan: BuildPlan, fmt: Format) -> None:
    """``astroctl build --dry-run``: the images, their platforms and tags, then every docker
    command; the plan's notes go to stderr."""
    grid = _images_grid(plan)
    lines = [shell_line(step.invocation.argv, step.invocation.env) for step in plan.steps]
    payload = {
        "dry_run": True,
        **plan.to_json(),
        "commands": [list(step.invocation.argv) for step in plan.steps],
    }
    if fmt is Format.table:
        emit(fmt, [grid], payload)
        streams.out(f"\nDocker commands, in order ({len(lines)}):\n")
        streams.out("".join(f"{line}\n" for line in lines))
    else:
        from astroctl.render import table

        fence = "```"
        commands = "\n".join(lines)
        markdown = f"{table.markdown(grid)}\n\n{fence}sh\n{commands}\n{fence}\n"
        emit(fmt, [grid], payload, markdown=markdown)
    for note in plan.notes:
        streams.note(f"note: {note}")


def _images_grid(plan: BuildPlan) -> Grid:
    release = plan.release
    platforms = ", ".join(f"linux/{arch}" for arch in plan.architectures)
    rows = []
    seen: list[str] = []
    for entry in plan.entries:
        if entry.image.name in seen:
            continue
        seen.append(entry.image.name)
        pushed = "no (the base of onbuild)" if entry.dependency else _pushed(plan)
        rows.append(
            (
                entry.variant.value,
                entry.python,
                ", ".join(e.platform for e in plan.entries if e.image == entry.image),
                " ".join(entry.image.all_tags),
                pushed,
            )
        )
    return Grid(
        f"Build of Astro Runtime {release.name} (Apache Airflow {release.airflow}) in "
        f"{plan.repository}: {plan.options.builder.value} builder, {platforms}",
        ("Variant", "Python", "Platforms", "Tags", "Pushed"),
        tuple(rows),
        wrap=frozenset({"Tags"}),
    )


def _pushed(plan: BuildPlan) -> str:
    return "yes" if plan.options.push else "no (--push)"


def build_progress(plan: BuildPlan) -> Callable[[Step], None]:
    """A progress callback for a run: ``[3/8] build quay.io/...:9.2.0-base-arm64`` on stderr."""
    total = len(plan.steps)
    done = [0]

    def progress(step: Step) -> None:
        done[0] += 1
        what = step.entry or step.invocation.subject
        streams.note(f"[{done[0]}/{total}] {step.invocation.action.value} {what}")

    return progress


def build_result(report: BuildReport, fmt: Format) -> None:
    """What a run did: one row per command it ran (JSON: the plan and the commands run)."""
    plan = report.plan
    rows = tuple(
        (step.phase.value, step.invocation.action.value, step.invocation.subject)
        for step in report.ran
    )
    pushed = ", pushed" if plan.options.push else ""
    grid = Grid(
        f"Built Astro Runtime {plan.release.name}{pushed}: {len(report.ran)} docker commands",
        ("Phase", "Command", "Image"),
        rows,
    )
    payload = {
        "dry_run": False,
        **plan.to_json(),
        "ran": [list(step.invocation.argv) for step in report.ran],
    }
    emit(fmt, [grid], payload)
    for note in plan.notes:
        streams.note(f"note: {note}")


def build_written(plan: BuildPlan, bake: Path | None, command: Sequence[str] | None) -> None:
    """``--context DIR`` / ``--bake FILE``: what was written, on stderr."""
    for key in plan.contexts:
        streams.note(f"wrote the build context {plan.context_dir(key)}")
    if bake is not None:
        streams.note(f"wrote the bake file {bake}")
    if command is not None:
        streams.note(f"build it with: {shell_line(command)}")
