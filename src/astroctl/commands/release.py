"""``astroctl release``: cut major, minor and patch releases under the versioning policy,
promote a release candidate, check two releases, audit the history."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from astroctl.commands.context import (
    Command,
    FormatOption,
    announce,
    context,
    output_format,
    selector_argument,
)
from astroctl.render.output import Format

if TYPE_CHECKING:
    from astroctl.commands.context import Context
    from astroctl.commands.project import Project
    from astroctl.images.publish import RetagPlan
    from astroctl.matrix.model import ReleaseNote
    from astroctl.release.apply import Applied
    from astroctl.release.fragments import Fragment
    from astroctl.release.plan import ReleasePlan
    from astroctl.seams.registry import Registry

app = typer.Typer(
    help="Cut releases under the versioning policy, promote candidates, check and audit.",
    short_help="Cut, promote, check and audit releases.",
    no_args_is_help=True,
)

LineOption = Annotated[
    str | None,
    typer.Option(
        "--line",
        metavar="LINE",
        help="The line to release from: 9 or 9.10 (default: the highest line).",
    ),
]
AirflowOption = Annotated[
    str | None,
    typer.Option("--airflow", metavar="VERSION", help="The Airflow version of the release."),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="PKG==VER", help="Pin a package of the matrix (repeatable)."),
]
AddOption = Annotated[
    list[str] | None,
    typer.Option("--add", metavar="PKG==VER", help="Add a package new to the matrix (repeatable)."),
]
UnsetOption = Annotated[
    list[str] | None,
    typer.Option("--unset", metavar="PKG", help="Remove a package (repeatable)."),
]
PreOption = Annotated[
    str | None,
    typer.Option("--pre", metavar="LABEL", help="A release candidate: rc gives X.Y.Z-rc.N."),
]
DateOption = Annotated[
    str | None,
    typer.Option("--date", metavar="DATE", help="The release date, YYYY-MM-DD (default: today)."),
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show the plan and write nothing.")]
YesOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask for confirmation (needed without a terminal)."),
]
EolOption = Annotated[
    bool, typer.Option("--allow-eol", help="Release into a line past its end of maintenance.")
]
GitOption = Annotated[
    bool,
    typer.Option(
        "--git", help="Commit exactly the release's files and tag it runtime-X.Y.Z (annotated)."
    ),
]


def _day(option: str, text: str | None) -> date:
    from astroctl.errors import InputError

    if text is None:
        return date.today()
    value = text.strip()
    try:
        if len(value) != 10 or value[4] != "-" or value[7] != "-":
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {text!r} is not a date such as 2024-06-30") from None


def _pins(option: str, values: list[str] | None) -> tuple[tuple[str, str], ...]:
    from astroctl.errors import InputError

    pins = []
    for text in values or ():
        name, sep, version = text.partition("==")
        if not sep or not name.strip() or not version.strip() or "==" in version:
            raise InputError(f"{option} {text!r} is not PKG==VERSION, such as foo==1.2.3")
        pins.append((name.strip(), version.strip()))
    return tuple(pins)


def _cut(
    ctx: typer.Context,
    level: str,
    *,
    line: str | None,
    airflow: str | None,
    sets: list[str] | None,
    adds: list[str] | None,
    unsets: list[str] | None,
    pre: str | None,
    when: str | None,
    dry_run: bool,
    yes: bool,
    allow_eol: bool,
    git: bool,
    fmt: str,
    channel: str | None = None,
    end_of_maintenance: str | None = None,
) -> None:
    from astroctl.errors import InputError
    from astroctl.matrix.model import Channel, Level
    from astroctl.release import plan as planning

    style = output_format(fmt)
    shared = context(ctx)
    project = _project(shared)
    planned_from = _snapshot(project)  # before the matrix is read: a later change is caught
    matrix = shared.matrix()
    fragments = _fragments(project)
    if channel is not None and channel not in tuple(Channel):
        raise InputError(f"--channel {channel!r} is not a channel; use stable or lts")
    if level != "major" and (channel is not None or end_of_maintenance is not None):
        raise InputError(
            "--channel and --end-of-maintenance set a new line's; only a major release starts one"
        )
    request = planning.ReleaseRequest(
        level=Level(level),
        day=_day("--date", when),
        line=line,
        airflow=airflow,
        sets=_pins("--set", sets),
        adds=_pins("--add", adds),
        unsets=tuple(unsets or ()),
        pre=pre,
        allow_eol=allow_eol,
        channel=None if channel is None else Channel(channel),
        end_of_maintenance=None
        if end_of_maintenance is None
        else _day("--end-of-maintenance", end_of_maintenance),
        notes=_notes(fragments),
    )
    try:
        plan = planning.plan_release(matrix, request)
    except planning.AirflowIsNotAPin:
        raise InputError(
            "apache-airflow is the release's Airflow version, not a package pin: use --airflow"
        ) from None
    except planning.UnknownPackage as exc:
        if exc.release is not None:  # --unset of a package the base does not pin
            raise
        hint = f"did you mean {exc.suggestion!r}? " if exc.suggestion else ""
        raise InputError(
            f"{exc.package!r} is not a package of the matrix; {hint}"
            f"use --add {exc.package}==VERSION to add a new one"
        ) from None
    except planning.EndOfMaintenance as exc:
        raise InputError(f"{exc.message}; pass --allow-eol to release anyway") from None
    _finish(
        shared,
        project,
        plan,
        fragments,
        style,
        dry_run=dry_run,
        yes=yes,
        git=git,
        planned_from=planned_from,
    )


def _snapshot(project: Project) -> dict[Path, bytes | None]:
    """The bytes of the files a release rewrites, as the plan saw them."""
    found: dict[Path, bytes | None] = {}
    for path in (project.matrix, project.changelog):
        try:
            found[path] = path.read_bytes()
        except FileNotFoundError:
            found[path] = None
        except OSError:
            continue  # reading the matrix will say what is wrong with it
    return found


def _notes(fragments: tuple[Fragment, ...]) -> tuple[ReleaseNote, ...]:
    from astroctl.release.fragments import to_notes

    return to_notes(fragments)


def _project(shared: Context) -> Project:
    from astroctl.commands.project import project_of

    return project_of(shared.source())


def _fragments(project: Project) -> tuple[Fragment, ...]:
    from astroctl.release.fragments import read_fragments

    return read_fragments(project.fragments)


def _finish(
    shared: Context,
    project: Project,
    plan: ReleasePlan,
    fragments: tuple[Fragment, ...],
    style: Format,
    *,
    dry_run: bool,
    yes: bool,
    git: bool,
    planned_from: dict[Path, bytes | None],
) -> None:
    """Refuse, show, confirm, then write the release as one transaction."""
    from astroctl.errors import ChecksFailed
    from astroctl.render import release as views

    if not plan.ok:
        views.plan(plan, style, dry_run=True)
        raise ChecksFailed(_refusal(plan))
    log = _changelog(project, plan)  # a changelog that cannot take the section fails the plan
    if dry_run:
        views.plan(plan, style, dry_run=True)
        return
    shared.source().require_writable()
    _confirm(plan, style, yes=yes)
    applied = _apply(shared, project, plan, fragments, log, git=git, planned_from=planned_from)
    views.plan(
        plan,
        style,
        dry_run=False,
        written=[str(p) for p in applied.written],
        removed=[str(p) for p in applied.removed],
        commit=applied.commit,
        tag=applied.tag,
    )


def _refusal(plan: ReleasePlan) -> str:
    """Why a release is refused: every change that needs more than the level asked for."""
    needed = plan.requirement.level
    since = plan.previous.name if plan.previous is not None else "the line began"
    lines = [
        f"{plan.release.name}: a {plan.level.value} release is not enough; the changes since "
        f"{since} require {needed.value if needed else 'nothing'}:"
    ]
    lines.extend(
        f"  {reason.text}"
        for reason in plan.requirement.reasons
        if reason.level.rank > plan.level.rank
    )
    return "\n".join(lines)


def _confirm(plan: ReleasePlan, style: Format, *, yes: bool) -> None:
    from astroctl.errors import InputError
    from astroctl.render import release as views

    if yes:
        return
    from astroctl.render import streams

    if not streams.interactive():
        raise InputError(
            f"releasing {plan.release.name} writes files: confirm with --yes "
            "(there is no terminal to ask on), or look first with --dry-run"
        )
    views.plan(plan, Format.table if style is Format.json else style, dry_run=True)
    if not typer.confirm(f"Release {plan.release.name}?", default=False, err=True):
        raise typer.Exit(1)


def _changelog(project: Project, plan: ReleasePlan) -> str:
    """CHANGELOG.md with the release's section in it (candidates' sections folded in)."""
    from astroctl.release import changelog, notes

    section = notes.to_markdown(notes.release_notes(plan.matrix, plan.release, plan.previous))
    log = changelog.load(project.changelog)
    return changelog.render(changelog.upsert(log, plan.release.name, section))


def _apply(
    shared: Context,
    project: Project,
    plan: ReleasePlan,
    fragments: tuple[Fragment, ...],
    log: str,
    *,
    git: bool,
    planned_from: dict[Path, bytes | None],
) -> Applied:
    from astroctl.matrix import store
    from astroctl.release import apply as transaction

    tag = f"runtime-{plan.release.name}"
    write = transaction.ReleaseWrite(
        root=project.root,
        files={project.matrix: store.dumps(plan.matrix), project.changelog: log},
        remove=tuple(f.path for f in fragments),
        commit_message=f"Astro Runtime {plan.release.name}" if git else None,
        tag=tag if git else None,
        tag_message=f"Astro Runtime {plan.release.name}" if git else None,
        planned_from=planned_from,
    )
    repository = None
    if git:
        from astroctl.seams.git import Git

        repository = Git(shared.runner(), project.root)
    return transaction.apply(write, git=repository)


def _level_command(level: str, summary: str) -> None:
    def command(
        ctx: typer.Context,
        line: LineOption = None,
        airflow: AirflowOption = None,
        sets: SetOption = None,
        adds: AddOption = None,
        unsets: UnsetOption = None,
        pre: PreOption = None,
        when: DateOption = None,
        dry_run: DryRunOption = False,
        yes: YesOption = False,
        allow_eol: EolOption = False,
        git: GitOption = False,
        channel: Annotated[
            str | None,
            typer.Option(
                "--channel", metavar="CHANNEL", help="A new line's channel: stable or lts."
            ),
        ] = None,
        end_of_maintenance: Annotated[
            str | None,
            typer.Option(
                "--end-of-maintenance",
                metavar="DATE",
                help="A new line's end of maintenance (default: 12 months on).",
            ),
        ] = None,
        fmt: FormatOption = "table",
    ) -> None:
        _cut(
            ctx,
            level,
            line=line,
            airflow=airflow,
            sets=sets,
            adds=adds,
            unsets=unsets,
            pre=pre,
            when=when,
            dry_run=dry_run,
            yes=yes,
            allow_eol=allow_eol,
            git=git,
            fmt=fmt,
            channel=channel,
            end_of_maintenance=end_of_maintenance,
        )

    command.__doc__ = summary
    app.command(level, cls=Command, short_help=summary)(command)


_level_command(
    "major",
    "Cut a major release: a new line on a new Airflow minor (needs --airflow).",
)
_level_command("minor", "Cut a minor release of a line (default: the highest line).")
_level_command("patch", "Cut a patch release of a line (default: the highest line).")


@app.command("promote", cls=Command, short_help="Promote a release candidate to its final release.")
def promote(
    ctx: typer.Context,
    candidate: Annotated[
        str,
        selector_argument("The candidate, X.Y.Z-rc.N.", metavar="VERSION", show_default=True),
    ],
    when: DateOption = None,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    allow_eol: EolOption = False,
    git: GitOption = False,
    images: Annotated[
        bool,
        typer.Option(
            "--images",
            help="Also put the candidate's published images under X.Y.Z's tags by digest "
            "(no rebuild); checked before the matrix is written.",
        ),
    ] = False,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            metavar="REPO",
            help="With --images: the repository (default: the matrix's [image] repository).",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="With --images: overwrite X.Y.Z tags holding other content."),
    ] = False,
    fmt: FormatOption = "table",
) -> None:
    """Promote a release candidate X.Y.Z-rc.N to X.Y.Z: the same content, and the candidates'
    notes folded into the final release's section. With --images, the candidate's images
    (published with `astroctl publish`) become X.Y.Z's by digest, the tested bytes."""
    from astroctl.errors import InputError
    from astroctl.matrix import selectors
    from astroctl.release import plan as planning

    style = output_format(fmt)
    shared = context(ctx)
    project = _project(shared)
    planned_from = _snapshot(project)
    matrix = shared.matrix()
    selection = selectors.select(matrix, candidate)
    try:
        plan = planning.plan_promote(
            matrix, selection.release, _day("--date", when), allow_eol=allow_eol
        )
    except planning.EndOfMaintenance as exc:
        raise InputError(f"{exc.message}; pass --allow-eol to release anyway") from None
    if not images and (registry is not None or force):
        raise InputError("--registry and --force go with --images")
    retags = _image_retags(shared, plan, registry, force) if images and plan.ok else None
    _finish(
        shared,
        project,
        plan,
        (),
        style,
        dry_run=dry_run,
        yes=yes,
        git=git,
        planned_from=planned_from,
    )
    if retags is not None:
        _promote_images(shared, retags, dry_run=dry_run)


def _image_retags(
    shared: Context, plan: ReleasePlan, registry: str | None, force: bool
) -> tuple[RetagPlan, Registry]:
    """The image side of a promotion, planned (read-only) before the matrix is written: a
    missing candidate image or a conflicting tag stops the promotion before anything."""
    from astroctl.commands.images import checked_repository, registry_client
    from astroctl.images import publish as images

    client = registry_client(shared)
    retags = images.plan_retag(
        plan.matrix,
        plan.base,
        plan.release,
        registry=client,
        repository=checked_repository(registry),
        force=force,
    )
    return retags, client


def _promote_images(shared: Context, retags: tuple[RetagPlan, Registry], *, dry_run: bool) -> None:
    from astroctl.errors import OperationError
    from astroctl.images import publish as images
    from astroctl.render import publish as views
    from astroctl.render import streams

    plan, client = retags
    if dry_run:
        streams.note(views.retag_summary(plan, done=False))
        return
    try:
        images.run_retag(plan, client, progress=views.retag_progress(plan))
    except OperationError as exc:
        raise OperationError(
            f"{exc.message}\nthe matrix is promoted; finish the images with `astroctl publish "
            f"{plan.release.name} --from {plan.candidate.name}`"
        ) from None
    streams.note(views.retag_summary(plan, done=True))


@app.command(
    "check", cls=Command, short_help="Check that a release bumped as much as its changes require."
)
def check(
    ctx: typer.Context,
    old: Annotated[
        str,
        selector_argument("The earlier release.", metavar="FROM", show_default=True),
    ],
    new: Annotated[
        str,
        selector_argument("The later release.", metavar="TO", show_default=True),
    ],
    fmt: FormatOption = "table",
) -> None:
    """The level the versioning policy requires between two releases; exit 3 when TO's version
    bump is lower than required."""
    from astroctl.errors import ChecksFailed
    from astroctl.matrix import selectors
    from astroctl.release import policy
    from astroctl.render import release as views

    style = output_format(fmt)
    matrix = context(ctx).matrix()
    before, after = selectors.select(matrix, old), selectors.select(matrix, new)
    announce(before)
    announce(after)
    result = policy.check(before.release, after.release, matrix.policy)
    views.check(result, style)
    if not result.ok:
        raise ChecksFailed(
            f"{after.release.name}: bumped {result.bump.value if result.bump else 'nothing'}, "
            f"but its changes since {before.release.name} require "
            f"{result.required.value if result.required else 'nothing'}"
        )


@app.command("audit", cls=Command, short_help="Check every release against its predecessor.")
def audit(
    ctx: typer.Context,
    selector: Annotated[
        list[str] | None,
        selector_argument("Releases to audit: 9, 9.10, 9.10.2 (default: every release)."),
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """Check every release of each line against its predecessor (the highest lower version of
    the line released on or before it) under the policy in force on its release date; exit 3
    when any release bumped less than its changes required."""
    from astroctl.errors import ChecksFailed
    from astroctl.matrix import selectors
    from astroctl.release import audit as auditing
    from astroctl.render import release as views

    style = output_format(fmt)
    matrix = context(ctx).matrix()
    chosen = None
    if selector:
        picked = {
            r.name: r
            for text in selector
            for r in (
                (selectors.select(matrix, text).release,)
                if text.strip() == "latest"
                else selectors.select_all(matrix, text)
            )
        }
        chosen = sorted(picked.values(), key=lambda r: r.version)
    result = auditing.audit(matrix, chosen)
    views.audit(result, style)
    if result.violations:
        raise ChecksFailed(
            f"{len(result.violations)} of {len(result.entries)} releases bumped less than "
            "their changes required"
        )
