"""``astroctl notes`` and ``astroctl changes``: release notes, the changelog, change fragments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from astroctl.commands.context import (
    Command,
    FormatOption,
    announce,
    context,
    output_format,
    selector_argument,
)

NOTES_SUMMARY = "Show, write or check release notes."

changes_app = typer.Typer(
    help="Change fragments: the notes a release consumes (changes/<name>.<type>.md).",
    short_help="Add change fragments for the next release's notes.",
    no_args_is_help=True,
)


def notes(
    ctx: typer.Context,
    selector: Annotated[
        str | None,
        selector_argument("The release (default: latest)."),
    ] = None,
    write: Annotated[
        Path | None,
        typer.Option(
            "--write",
            metavar="PATH",
            help="Insert or replace the release's section in this changelog (newest first).",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Check that CHANGELOG.md is what the matrix produces (exit 3 when not).",
        ),
    ] = False,
    fmt: FormatOption = "markdown",
) -> None:
    """Show the release notes of a release (markdown or JSON); --write inserts or replaces its
    section in a changelog, idempotently; --check compares the project's CHANGELOG.md with the
    whole history the matrix produces."""
    from astroctl.errors import ChecksFailed, InputError
    from astroctl.matrix import selectors
    from astroctl.release import changelog
    from astroctl.release import notes as core
    from astroctl.release.history import predecessor
    from astroctl.render import release as views
    from astroctl.render import streams

    style = output_format(fmt)
    shared = context(ctx)
    matrix = shared.matrix()
    if check:
        from astroctl.commands.project import project_of

        path = write or project_of(shared.source()).changelog
        if not path.is_file():
            raise InputError(
                f"{path}: no changelog to check; write one with 'astroctl notes SELECTOR --write "
                f"{path}' for each release"
            )
        differing = changelog.check(path, matrix, lambda r: predecessor(matrix, r))
        if differing:
            raise ChecksFailed(
                f"{path}: {len(differing)} release sections differ from the matrix: "
                + ", ".join(differing[:20])
                + (" ..." if len(differing) > 20 else "")
                + "; rewrite them with 'astroctl notes SELECTOR --write'"
            )
        streams.note(f"{path}: every section matches the matrix ({len(matrix.releases)} releases)")
        return
    selection = selectors.select(matrix, selector or "latest")
    announce(selection)
    release = selection.release
    result = core.release_notes(matrix, release, predecessor(matrix, release))
    markdown = core.to_markdown(result)
    if write is not None:
        log = changelog.upsert(changelog.load(write), release.name, markdown)
        changelog.write(write, changelog.render(log))
        streams.note(f"{write}: wrote the section of Astro Runtime {release.name}")
        return
    if style.value == "table":
        raise InputError("notes are markdown or json: use --format markdown or --format json")
    views.notes(markdown, core.to_json(result), style)


@changes_app.command("add", cls=Command, short_help="Add a change fragment for the next release.")
def add(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Argument(
            metavar="TYPE",
            help="breaking, feature, improvement, bugfix, security or backport.",
        ),
    ],
    text: Annotated[str, typer.Argument(metavar="TEXT", help="What changed, for the notes.")],
    name: Annotated[
        str | None,
        typer.Option("--name", metavar="NAME", help="The fragment's name (default: from TEXT)."),
    ] = None,
) -> None:
    """Add a change fragment, changes/<name>.<type>.md: the next release consumes it into its
    notes, and its type counts in the versioning policy."""
    import difflib

    from astroctl.commands.project import project_of
    from astroctl.errors import InputError
    from astroctl.matrix.model import NoteType
    from astroctl.release import fragments
    from astroctl.render import streams

    types = tuple(t.value for t in NoteType)
    if kind not in types:
        close = difflib.get_close_matches(kind, types, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"{kind!r} is not a change type ({', '.join(types)}){hint}")
    source = context(ctx).source()
    source.require_writable()  # not into the installed package, beside its embedded matrix
    project = project_of(source)
    path = fragments.add_fragment(project.fragments, NoteType(kind), text, name)
    if kind == NoteType.SECURITY and not fragments.cve_ids(text):
        streams.warn(f"{path.name}: a security fix usually names its CVE (CVE-YYYY-NNNN)")
    streams.out(f"{path}\n")
