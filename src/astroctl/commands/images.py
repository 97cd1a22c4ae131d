"""``astroctl tags``, ``build`` and ``publish``: the images of a release, their tags, building
them with docker (the plan of :mod:`astroctl.images.plan`, its inputs read by
:mod:`astroctl.images.inputs`) and publishing them (:mod:`astroctl.images.publish`)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from astroctl.commands.context import (
    FormatOption,
    announce,
    context,
    output_format,
    selector_argument,
)
from astroctl.errors import InputError
from astroctl.render import streams

if TYPE_CHECKING:
    from astroctl.commands.context import Context
    from astroctl.images.plan import BuildOptions
    from astroctl.images.tags import Variant
    from astroctl.matrix.model import Matrix, Release
    from astroctl.seams.registry import Registry

TAGS_SUMMARY = "Show the image tags, variants and platforms of a release."
DOCKER_VARIABLE = "ASTROCTL_DOCKER"
RegistryOption = Annotated[
    str | None,
    typer.Option(
        "--registry",
        metavar="REPO",
        help="The repository, host[:port]/path (default: the matrix's [image] repository).",
    ),
]
DockerOption = Annotated[
    str,
    typer.Option(
        "--docker",
        metavar="PATH",
        envvar=DOCKER_VARIABLE,
        help=f"The docker program (${DOCKER_VARIABLE}).",
    ),
]


def tags(
    ctx: typer.Context,
    selector: Annotated[
        str,
        selector_argument(),
    ],
    floating: Annotated[
        bool | None,
        typer.Option(
            "--floating/--no-floating",
            help="Also plan the floating tags M.m, M and latest (default: the matrix's "
            "[image] floating_tags).",
            show_default=False,
        ),
    ] = None,
    registry: RegistryOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Show the tag plan of a release: each image (onbuild and base, for each Python), the
    tags it is pushed under and its platforms; with --floating, the floating tags it moves."""
    from astroctl.images import tags as core
    from astroctl.matrix import selectors
    from astroctl.render import images as views

    style = output_format(fmt)
    checked_repository(registry)
    matrix = context(ctx).matrix()
    selection = selectors.select(matrix, selector)
    announce(selection)
    plan = core.plan_tags(matrix, selection.release, floating=floating, repository=registry)
    views.tags(plan, style)


BUILD_SUMMARY = "Build the images of a release with docker."
ALL = "all"


def build(
    ctx: typer.Context,
    selector: Annotated[
        str,
        selector_argument(show_default=True),
    ] = "latest",
    arch: Annotated[
        str,
        typer.Option("--arch", metavar="ARCH", help="amd64, arm64 or all (the release's)."),
    ] = ALL,
    python: Annotated[
        str,
        typer.Option("--python", metavar="X.Y", help="One Python distribution, or all."),
    ] = ALL,
    variant: Annotated[
        str,
        typer.Option(
            "--variant",
            metavar="VARIANT",
            help="onbuild, base or all (onbuild alone still builds its base, unpushed).",
        ),
    ] = ALL,
    registry: RegistryOption = None,
    base_image: Annotated[
        str | None,
        typer.Option(
            "--base-image",
            metavar="IMAGE",
            help="The Python image the base variant starts from (default: "
            "python:<py>-slim-<codename>; {python}, {codename} and {arch} are filled in: "
            "{arch} gives each architecture its own image).",
        ),
    ] = None,
    index_url: Annotated[
        str | None,
        typer.Option(
            "--index-url",
            metavar="URL",
            help="The package index pip installs Airflow and the pins from inside the build "
            "(default: pip's own); it reaches the discarded builder stage only.",
        ),
    ] = None,
    push: Annotated[
        bool,
        typer.Option("--push", help="Push the images and make the multi-arch manifest lists."),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show the plan and every docker command; run nothing."),
    ] = False,
    bake: Annotated[
        Path | None,
        typer.Option(
            "--bake",
            metavar="FILE",
            help="Write the build contexts and a docker buildx bake JSON file, then stop.",
            dir_okay=False,
        ),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option("--only", metavar="ENTRY", help="Build one entry of the CI matrix."),
    ] = None,
    context_dir: Annotated[
        Path | None,
        typer.Option(
            "--context",
            metavar="DIR",
            help="Where the build contexts go; given alone, write them there and stop "
            "(default: the build directory under astroctl's cache).",
            file_okay=False,
        ),
    ] = None,
    ca_bundle: Annotated[
        Path | None,
        typer.Option(
            "--ca-bundle",
            metavar="PATH",
            help="A CA bundle pip trusts inside the build (in no layer of the image).",
            dir_okay=False,
        ),
    ] = None,
    constraints: Annotated[
        Path | None,
        typer.Option(
            "--constraints",
            metavar="FILE",
            help="The constraint set (a file of 'constraints resolve', or a directory of "
            "constraints-<py>.txt files; default: the release's pins, unresolved).",
        ),
    ] = None,
    floating: Annotated[
        bool | None,
        typer.Option(
            "--floating/--no-floating",
            help="Also tag the floating tags M.m, M and latest (default: the matrix's "
            "[image] floating_tags).",
            show_default=False,
        ),
    ] = None,
    revision: Annotated[
        str | None,
        typer.Option(
            "--revision",
            metavar="COMMIT",
            help="The commit for the revision label (default: the release's runtime-V tag, "
            "else HEAD, in the git repository holding the matrix).",
        ),
    ] = None,
    docker_binary: DockerOption = "docker",
    fmt: FormatOption = "table",
) -> None:
    """Build the images of a release: base, then onbuild FROM it, for each Python and
    architecture; with --push, push them (after every build succeeded) and make the manifest
    lists. --dry-run shows the plan, the exact argv of every docker command and the CI matrix."""
    from astroctl.images import inputs
    from astroctl.images import plan as core
    from astroctl.matrix import selectors
    from astroctl.render import images as views
    from astroctl.seams.docker import Docker

    style = output_format(fmt)
    shared = context(ctx)
    matrix = shared.matrix()
    selection = selectors.select(matrix, selector)
    announce(selection)
    release = selection.release
    options = core.BuildOptions(
        architectures=_choice(arch),
        pythons=_choice(python),
        variants=_variants(variant),
        repository=checked_repository(registry),
        base_image=base_image,
        push=push,
        floating=floating,
        ca_bundle=ca_bundle,
        index_url=index_url,
        only=only,
    )
    _check_request(matrix, release, options)
    sets = _constraint_sets(release, options, constraints)
    docker = Docker(shared.runner(), docker_binary)
    writes = bake is not None or context_dir is not None
    if not writes:
        choice = inputs.choose_builder(docker, dry_run=dry_run)
        if choice.note is not None:
            streams.note(choice.note)
        options = replace(options, builder=choice.builder, buildkit=choice.buildkit)
    source = shared.source()
    found = inputs.release_revision(
        shared.runner(), source.path if source.writable else None, release
    )
    if found.note is not None:
        streams.note(f"note: {found.note}")
    plan = core.plan_build(
        matrix,
        release,
        options,
        docker=docker,
        constraints=sets,
        workdir=context_dir if context_dir is not None else _workdir(release.name),
        provenance=inputs.provenance(revision, found, os.environ),
    )
    if writes:
        command = inputs.write_contexts(plan, docker, bake)
        views.build_written(plan, bake, command)
    if dry_run:
        views.build_plan(plan, style)
    if writes or dry_run:
        return
    report = core.run_plan(plan, docker, progress=views.build_progress(plan))
    views.build_result(report, style)


def _choice(text: str) -> tuple[str, ...] | None:
    value = text.strip()
    return None if value.lower() == ALL else (value,)


def _variants(text: str) -> tuple[Variant, ...] | None:
    from astroctl.images.tags import Variant

    value = text.strip().lower()
    if value == ALL:
        return None
    try:
        return (Variant(value),)
    except ValueError:
        raise InputError(f"--variant {text!r} is not a variant; use onbuild, base or all") from None


def checked_repository(registry: str | None) -> str | None:
    from astroctl.images import tags as core

    if registry is not None:
        try:
            core.check_repository(registry)
        except core.RepositoryError as exc:
            raise InputError(
                f"--registry {exc.text!r} is not an image repository: {exc.reason}"
            ) from None
    return registry


def _check_request(matrix: Matrix, release: Release, options: BuildOptions) -> None:
    """Refuse an architecture, Python or entry the release does not have before anything else
    (the constraint sets and docker are not looked at): plan with placeholder sets."""
    from astroctl.images import plan as core
    from astroctl.seams.docker import Docker
    from astroctl.seams.process import Runner

    placeholder = {p: f"apache-airflow=={release.airflow}\n" for p in release.python_versions}
    core.plan_build(
        matrix,
        release,
        replace(options, base_image=None, ca_bundle=None),
        docker=Docker(Runner(dry_run=True), stream=False),
        constraints=placeholder,
        workdir=Path("/nonexistent"),
    )


def _constraint_sets(release: Release, options: BuildOptions, given: Path | None) -> dict[str, str]:
    """The text of the constraint set of each Python: ``--constraints``, else the release's pins
    (with a warning that the set was not resolved)."""
    from astroctl.images import inputs

    if given is None:
        streams.warn(
            f"the constraint set was not resolved: the images get the pins of {release.name} "
            f"and apache-airflow=={release.airflow} only (run 'astroctl constraints resolve "
            f"{release.name}' for the real set, then pass it with --constraints)"
        )
        return {python: _unresolved(release, python) for python in release.python_versions}
    return inputs.read_constraint_sets(release, given, pythons=options.pythons, only=options.only)


def _unresolved(release: Release, python: str) -> str:
    from astroctl.providers.constraints import release_pins
    from astroctl.providers.upstream import Pin

    lines = [
        f"# Astro Runtime {release.name}, Python {python}: the release's pins only, NOT resolved",
        f"# (run: astroctl constraints resolve {release.name} --python {python})",
        *(Pin(name, version).requirement for name, version in release_pins(release).items()),
    ]
    return "\n".join(lines) + "\n"


def _workdir(release: str) -> Path:
    from astroctl.seams.cache import default_cache_dir

    return default_cache_dir() / "build" / release


PUBLISH_SUMMARY = "Push a release's images and verify them in the registry."


def publish(
    ctx: typer.Context,
    selector: Annotated[
        str,
        selector_argument(show_default=True),
    ] = "latest",
    registry: RegistryOption = None,
    python: Annotated[
        str,
        typer.Option("--python", metavar="X.Y", help="One Python distribution's images, or all."),
    ] = ALL,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite exact tags the registry holds with other content.",
        ),
    ] = False,
    floating: Annotated[
        bool | None,
        typer.Option(
            "--floating/--no-floating",
            help="Also move the floating tags M.m, M and latest (default: the matrix's "
            "[image] floating_tags).",
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="VERSION",
            help="Publish by retagging this published candidate's images by digest "
            "(release promote's image side): nothing is built or pushed.",
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Only read every tag back from the registry and verify it (images pushed by "
            "build --push or from another machine); push nothing.",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Show what each tag would get and every command; run nothing."
        ),
    ] = False,
    docker_binary: DockerOption = "docker",
    fmt: FormatOption = "table",
) -> None:
    """Publish the images `astroctl build` made for a release: push them, make the multi-arch
    manifest lists, move the floating tags, then read every tag back from the registry and
    verify its digest and platforms. An exact tag the registry already has is compared by
    digest: the same content is left alone, other content is refused unless --force."""
    from astroctl.images import publish as core
    from astroctl.matrix import selectors
    from astroctl.render import publish as views
    from astroctl.seams.docker import Docker

    style = output_format(fmt)
    repository = checked_repository(registry)
    shared = context(ctx)
    matrix = shared.matrix()
    selection = selectors.select(matrix, selector)
    announce(selection)
    release = selection.release
    client = registry_client(shared)
    if verify:
        if source is not None or force or dry_run:
            raise InputError(
                "--verify reads the registry only: it takes no --from, --force or --dry-run"
            )
        verified = core.verify_published(
            matrix,
            release,
            registry=client,
            repository=repository,
            floating=floating,
            pythons=_choice(python),
        )
        views.verify_result(release, repository or matrix.image.repository, verified, style)
        return
    if source is not None:
        candidate = selectors.select(matrix, source).release
        retags = core.plan_retag(
            matrix,
            candidate,
            release,
            registry=client,
            repository=repository,
            floating=floating,
            force=force,
        )
        if not dry_run:
            core.run_retag(retags, client, progress=views.retag_progress(retags))
        views.retag_plan(retags, style, done=not dry_run)
        return
    docker = Docker(shared.runner(), docker_binary)
    plan = core.plan_publish(
        matrix,
        release,
        docker=docker,
        registry=client,
        repository=repository,
        floating=floating,
        force=force,
        pythons=_choice(python),
    )
    if dry_run:
        views.publish_plan(plan, style)
        return
    report = core.run_publish(plan, docker, client, progress=views.publish_progress(plan))
    views.publish_result(report, style)


def registry_client(shared: Context) -> Registry:
    """The registry client on the run's HTTP client, with credentials from the environment or
    the Docker credential store (never from arguments)."""
    from astroctl.seams.credentials import Credentials
    from astroctl.seams.http import Http
    from astroctl.seams.registry import Registry

    client = shared.client()
    if not isinstance(client, Http):  # pragma: no cover - the context always builds an Http
        raise TypeError(f"the registry needs the HTTP seam, not {type(client).__name__}")
    return Registry(client, Credentials(shared.runner()))
