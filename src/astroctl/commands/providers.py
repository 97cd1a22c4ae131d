"""``astroctl providers``: list, compare, check and update the packages a release pins."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from astroctl.commands.context import (
    Command,
    Context,
    FlavorOption,
    FormatOption,
    announce,
    context,
    fresh_limit,
    output_format,
    selector_argument,
)
from astroctl.errors import InputError
from astroctl.matrix.model import Level
from astroctl.render import providers as views
from astroctl.render import streams

if TYPE_CHECKING:
    from astroctl.matrix.model import Matrix, Release
    from astroctl.providers.outdated import Outdated
    from astroctl.providers.update import UpdatePlan
    from astroctl.versions import RuntimeVersion

# Core modules are imported inside each command: start-up loads only what the command uses.

app = typer.Typer(
    help="List, compare, check and update the packages a release pins.",
    short_help="List, compare, check and update the packages a release pins.",
    no_args_is_help=True,
)


@app.command("list", cls=Command, short_help="List the packages of a release with their marks.")
def list_packages(
    ctx: typer.Context,
    selector: Annotated[str, selector_argument()],
    flavor: FlavorOption = None,
    fmt: FormatOption = "table",
) -> None:
    """List the packages a release pins, marking the maintained and the runtime-only ones."""
    from astroctl.matrix import selectors
    from astroctl.providers import listing

    style = output_format(fmt)
    matrix = context(ctx).matrix()
    selection = selectors.select(matrix, selector)
    announce(selection)
    views.listing(listing.list_packages(matrix, selection.release, flavor), style)


@app.command("diff", cls=Command, short_help="Compare the packages of two releases.")
def diff(
    ctx: typer.Context,
    old: Annotated[str, selector_argument("The release to compare from.")],
    new: Annotated[str, selector_argument("The release to compare to.")],
    all_packages: Annotated[
        bool, typer.Option("--all", help="Also list the packages that did not change.")
    ] = False,
    flavor: FlavorOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Compare the packages of two releases (Airflow included): added, removed, major, minor,
    patch, downgrade or other; suspected renames are named."""
    from astroctl.matrix import selectors
    from astroctl.providers import listing

    style = output_format(fmt)
    matrix = context(ctx).matrix()
    chosen = []
    for text in (old, new):
        selection = selectors.select(matrix, text)
        announce(selection)
        chosen.append(selection.release)
    result = listing.compare(*chosen, include_unchanged=all_packages, flavor=flavor)
    views.diff(result, listing.counts(result), style, flavor=flavor)


IndexUrlOption = Annotated[
    str | None,
    typer.Option(
        "--index-url",
        metavar="URL",
        help="The package index (default: $PIP_INDEX_URL, then the matrix's [upstream] "
        "index_url); $PIP_EXTRA_INDEX_URL adds extra indexes. Credentials come from netrc "
        "($NETRC or ~/.netrc), never from this URL.",
        show_default=False,
    ),
]
OfflineOption = Annotated[
    bool,
    typer.Option("--offline", help="Answer from the cache of earlier runs; fetch nothing."),
]
RefreshOption = Annotated[
    bool,
    typer.Option(
        "--refresh",
        help="Ask the index about every page, even one cached less than $ASTROCTL_CACHE_TTL "
        "seconds ago (default 600) and still within the lifetime the index gave it.",
    ),
]
PythonOption = Annotated[
    str | None,
    typer.Option(
        "--python",
        metavar="X.Y",
        help="Check against this Python distribution of the release (default: its default).",
        show_default=False,
    ),
]


def _level(text: str) -> Level:
    try:
        return Level(text.strip().lower())
    except ValueError:
        raise InputError(f"--level {text!r} is not a level; use patch, minor or major") from None


def _find_outdated(
    shared: Context,
    matrix: Matrix,
    release: Release,
    *,
    index_url: str | None,
    level: Level,
    python: str | None,
    offline: bool,
    refresh: bool,
) -> Outdated:
    """The outdated packages of a release, with a progress bar on a terminal."""
    from astroctl.providers import outdated
    from astroctl.providers.target import choose_index

    choice = choose_index(index_url, os.environ, matrix)
    fresh_for = fresh_limit(offline=offline, refresh=refresh)
    with views.progress_bar() as progress:
        return outdated.find_outdated(
            matrix,
            release,
            http=shared.client(),
            index=choice,
            level=level,
            python=python,
            offline=offline,
            fresh_for=fresh_for,
            progress=progress,
            notify=streams.warn,
        )


@app.command(
    "outdated",
    cls=Command,
    short_help="Show the newest compatible version of each package on the index.",
)
def outdated(
    ctx: typer.Context,
    selector: Annotated[str, selector_argument()],
    index_url: IndexUrlOption = None,
    level: Annotated[
        str,
        typer.Option(
            "--level",
            metavar="LEVEL",
            help="The largest change to propose: patch, minor or major.",
        ),
    ] = "major",
    python: PythonOption = None,
    offline: OfflineOption = False,
    refresh: RefreshOption = False,
    fmt: FormatOption = "table",
) -> None:
    """Show, for each package of a release, the newest version on the index that is compatible
    with the release's Python and Airflow (yanked and pre-releases skipped), and the change."""
    from astroctl.matrix import selectors

    style = output_format(fmt)
    chosen = _level(level)
    shared = context(ctx)
    matrix = shared.matrix()
    selection = selectors.select(matrix, selector)
    announce(selection)
    result = _find_outdated(
        shared,
        matrix,
        selection.release,
        index_url=index_url,
        level=chosen,
        python=python,
        offline=offline,
        refresh=refresh,
    )
    views.outdated(result, style)


@app.command(
    "update",
    cls=Command,
    short_help="Write the newest compatible versions into an unreleased entry.",
)
def update(
    ctx: typer.Context,
    selector: Annotated[str, selector_argument("The release whose packages are updated.")],
    level: Annotated[
        str,
        typer.Option(
            "--level",
            metavar="LEVEL",
            help="The largest change to take: patch, minor or major.",
            show_default=False,
        ),
    ],
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help="Create the next version of the line (patch; minor for --level minor or "
            "major) with the release's content and the updates.",
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be written; write nothing.")
    ] = False,
    index_url: IndexUrlOption = None,
    python: PythonOption = None,
    offline: OfflineOption = False,
    refresh: RefreshOption = False,
    fmt: FormatOption = "table",
) -> None:
    """Write the newest compatible versions (within --level) into an unreleased entry, or with
    --new into a new one; report what the versioning policy will require of it."""
    from astroctl.matrix import selectors
    from astroctl.providers import update as updates

    style = output_format(fmt)
    chosen = _level(level)
    shared = context(ctx)
    source, matrix = shared.load()
    if not dry_run:
        source.require_writable()
    selection = selectors.select(matrix, selector)
    announce(selection)
    release = selection.release
    version = _next_version(matrix, release, chosen) if new else None
    updates.require_unreleased(release, new=new)
    result = _find_outdated(
        shared,
        matrix,
        release,
        index_url=index_url,
        level=chosen,
        python=python,
        offline=offline,
        refresh=refresh,
    )
    plan = updates.plan_update(matrix, release, result.pins, version=version)
    written = not dry_run and not plan.empty
    if written:
        updates.apply_update(source, plan)
    views.update(plan, _policy(plan), style, written=written, path=str(source.path))


def _next_version(matrix: Matrix, release: Release, level: Level) -> RuntimeVersion:
    """The version of a new entry: the next patch of the release's minor line for --level
    patch, else the next minor of its major line (a new major line needs a new Airflow minor:
    that is 'astroctl release major')."""
    from astroctl.release import versioning

    patch = level is Level.PATCH
    scope = f"{release.major}.{release.version.minor}" if patch else str(release.major)
    base = versioning.base_of(versioning.line_releases(matrix, scope))
    step = Level.PATCH if patch else Level.MINOR
    target = versioning.next_core(base.version, step, max(matrix.lines))
    return versioning.next_version(matrix, target, None)


def _policy(plan: UpdatePlan) -> views.PolicyView:
    """What the versioning policy requires of the entry against its predecessor."""
    from astroctl.release import history, policy

    previous = history.predecessor(plan.matrix, plan.entry)
    requirement = policy.required(previous, plan.entry, plan.matrix.policy)
    step = policy.bump(previous.version, plan.entry.version) if previous is not None else None
    return views.PolicyView(
        previous.name if previous is not None else None,
        step.value if step is not None else None,
        requirement.level.value if requirement.level is not None else None,
        tuple((r.level.value, r.text) for r in requirement.reasons),
    )
