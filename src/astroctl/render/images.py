"""Views of the image capability: ``tags`` (the tag plan of a release).

The table and markdown show one row per image (a variant for a Python) with every tag it is
pushed under; the JSON has one entry per tag (SPEC section 4), each naming its image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from astroctl.render import streams
from astroctl.render.output import Format, emit
from astroctl.render.table import Grid

if TYPE_CHECKING:  # only annotations: the render layer loads no core module at start-up
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
