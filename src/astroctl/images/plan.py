"""The build plan of a release: every docker command, in order, with its exact argv.

``plan = plan_build(matrix, release, options, docker=..., constraints=..., workdir=...)`` is
pure: it checks the request (an architecture or Python the release does not have is an
:class:`InputError`, exit 2, before anything runs), renders each image's build context and
builds each command's argv through the Docker seam; ``plan.to_json()`` is what ``--dry-run``
shows. :func:`write_plan` writes the contexts (and the bake file); :func:`run_plan` writes and
runs the steps in order, stopping at the first failure.

The images are the tag plan's (:mod:`astroctl.images.tags`): ``base`` and ``onbuild`` for each
Python distribution. Each image is built once per architecture (an :class:`Entry`, one of the
CI matrix): ``base`` FROM the Python image, then ``onbuild`` FROM the ``base`` image of the same
Python and architecture just built, never from scratch again. Asking for ``onbuild`` alone
still builds its ``base`` (a dependency: built, not pushed).

On the classic path (no buildx), an image of a multi-arch release is built per architecture
under an architecture reference (``REPO:9.2.0-base-arm64``); with ``--push`` every build runs
first, then every push, then, when every architecture of the release was built, one
``docker manifest create``/``push`` per tag makes the tag a manifest list of those references:
nothing is pushed unless every build succeeded. A single-architecture release (Runtime 4, 5,
6.0.0-6.0.3) is built under its tags directly and pushed as plain images.

With buildx the plan is a ``docker buildx bake`` of :func:`bake_file`: one run builds every
target (and ``--load``\\ s them when each has one platform), then, with ``--push``, a second run
pushes them (from BuildKit's cache), so a failed build again pushes nothing. The CI matrix
entries have their own one-platform ``docker buildx build --load`` argv.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from astroctl.errors import InputError
from astroctl.images.context import (
    ARCH_PLACEHOLDER,
    BASE_NAME_LABEL,
    DEFAULT_SOURCE,
    BuildContext,
    python_image,
    render_context,
    write_context,
)
from astroctl.images.tags import (
    PLATFORM_OS,
    VARIANTS,
    Image,
    TagPlan,
    Variant,
    plan_tags,
)
from astroctl.matrix.model import ARCHITECTURES, Matrix, Release
from astroctl.seams import fs
from astroctl.seams.docker import Docker, Invocation

BAKE_FILE = "docker-bake.json"
BASE_CONTEXT = "base"  # the named context an onbuild bake target reads its base from


class Builder(StrEnum):
    """How images are built: the classic ``docker build`` or ``docker buildx``."""

    CLASSIC = "classic"
    BUILDX = "buildx"


class Phase(StrEnum):
    BUILD = "build"
    PUSH = "push"
    MANIFEST = "manifest"
    TAG = "tag"


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how: the choices of ``astroctl build``."""

    architectures: tuple[str, ...] | None = None  # None: every architecture of the release
    pythons: tuple[str, ...] | None = None  # None: every Python distribution
    variants: tuple[Variant, ...] | None = None  # None: both
    repository: str | None = None  # None: the matrix's [image] repository
    base_image: str | None = None  # the Python image ({python}, {codename}, {arch} filled in)
    push: bool = False
    builder: Builder = Builder.CLASSIC
    buildkit: bool = False  # classic path: DOCKER_BUILDKIT=1 (the engine's BuildKit)
    floating: bool | None = False  # also the floating tags (None: [image] floating_tags)
    network: str | None = "host"  # docker build --network (None: docker's default)
    insecure: bool | None = None  # manifest --insecure (None: for a loopback registry)
    ca_bundle: Path | None = None
    index_url: str | None = None
    only: str | None = None  # build one entry of the CI matrix


@dataclass(frozen=True)
class Provenance:
    """Where the images come from, for their labels."""

    revision: str | None = None  # the commit the release was built from
    source: str | None = DEFAULT_SOURCE
    source_date_epoch: int | None = None  # None: the release date (now, for an unreleased one)


@dataclass(frozen=True)
class Entry:
    """One image on one platform: an entry of the CI matrix."""

    id: str  # "9.2.0-base-arm64"
    image: Image
    architecture: str
    ref: str  # the reference the build tags (an architecture reference on a multi-arch path)
    refs: tuple[str, ...]  # every reference the build tags
    context: str  # key of BuildPlan.contexts
    needs: tuple[str, ...]  # entries built before it (an onbuild entry's base)
    dependency: bool  # built only because another entry needs it: never pushed
    build: Invocation
    pushes: tuple[Invocation, ...]

    @property
    def variant(self) -> Variant:
        return self.image.variant

    @property
    def python(self) -> str:
        return self.image.python

    @property
    def platform(self) -> str:
        return f"{PLATFORM_OS}/{self.architecture}"

    def to_json(self, repository: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "variant": self.variant.value,
            "python": self.python,
            "platform": self.platform,
            "tags": [f"{repository}:{tag}" for tag in self.image.all_tags],
            "ref": self.ref,
            "needs": list(self.needs),
            "dependency": self.dependency,
            "argv": list(self.build.argv),
            "env": dict(self.build.env),
            "push": [list(push.argv) for push in self.pushes],
        }


@dataclass(frozen=True)
class Step:
    """One docker command of the plan, in its phase, for an entry when it builds one."""

    phase: Phase
    invocation: Invocation
    entry: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"phase": self.phase.value, "entry": self.entry, **self.invocation.to_json()}


@dataclass(frozen=True)
class BuildPlan:
    """Everything ``astroctl build`` will do for a release, before it does any of it."""

    release: Release
    tags: TagPlan
    options: BuildOptions
    workdir: Path
    architectures: tuple[str, ...]
    pythons: tuple[str, ...]
    variants: tuple[Variant, ...]
    contexts: Mapping[str, BuildContext]
    entries: tuple[Entry, ...]
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()
    bake: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def repository(self) -> str:
        return self.tags.repository

    @property
    def complete(self) -> bool:
        """Whether every architecture of the release is built (manifest lists need all)."""
        return set(self.architectures) == set(self.release.architectures)

    @property
    def multi_arch(self) -> bool:
        return len(self.release.architectures) > 1

    @property
    def group(self) -> str:
        return bake_name(f"runtime-{self.release.name}")

    @property
    def bake_path(self) -> Path:
        return self.workdir / BAKE_FILE

    def context_dir(self, key: str) -> Path:
        return self.workdir / key

    def entry(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise InputError(_unknown_entry(entry_id, self.entries))

    def ci_matrix(self) -> list[dict[str, Any]]:
        """One entry per image and platform, for a CI system to fan the builds out."""
        return [entry.to_json(self.repository) for entry in self.entries]

    @property
    def commands(self) -> tuple[tuple[str, ...], ...]:
        """The exact argv of every docker command, in order."""
        return tuple(step.invocation.argv for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        release = self.release
        return {
            "release": release.name,
            "airflow": release.airflow,
            "repository": self.repository,
            "builder": self.options.builder.value,
            "buildkit": self.options.buildkit,
            "push": self.options.push,
            "only": self.options.only,
            "architectures": list(self.architectures),
            "platforms": [f"{PLATFORM_OS}/{arch}" for arch in self.architectures],
            "pythons": list(self.pythons),
            "variants": [variant.value for variant in self.variants],
            "workdir": str(self.workdir),
            "contexts": {
                key: {
                    "path": str(self.context_dir(key)),
                    "variant": context.variant.value,
                    "python": context.python,
                    "digest": context.digest,
                    "files": sorted(context.files),
                    "build_args": dict(context.build_args),
                    "labels": dict(context.labels),
                }
                for key, context in self.contexts.items()
            },
            "images": [
                {
                    "variant": image.variant.value,
                    "python": image.python,
                    "tags": list(image.tags),
                    "floating": list(image.floating),
                    "platforms": list(image.platforms),
                }
                for image in self.tags.images
                if image.variant in self.variants and image.python in self.pythons
            ],
            "bake_file": str(self.bake_path) if self.bake is not None else None,
            "steps": [step.to_json() for step in self.steps],
            "matrix": self.ci_matrix(),
            "notes": list(self.notes),
        }


# -- planning -----------------------------------------------------------------------------------


def plan_build(
    matrix: Matrix,
    release: Release,
    options: BuildOptions,
    *,
    docker: Docker,
    constraints: Mapping[str, str],
    workdir: Path,
    provenance: Provenance | None = None,
    now: datetime | None = None,
) -> BuildPlan:
    """The build plan of ``release`` (see the module's documentation).

    ``constraints`` maps each Python to the text of its constraint set (what
    ``constraints resolve`` wrote); ``workdir`` is where the contexts will be written (one
    directory per variant and Python). Raises :class:`InputError` for an architecture, Python,
    variant or CI entry the release does not have, before anything is rendered.
    """
    architectures = _architectures(release, options.architectures)
    pythons = _pythons(release, options.pythons)
    asked = options.variants or VARIANTS
    variants = tuple(v for v in (Variant.BASE, Variant.ONBUILD) if v in asked)
    tags = plan_tags(matrix, release, floating=options.floating, repository=options.repository)
    wanted = {(variant, python) for python in pythons for variant in variants}
    needed = _with_bases(wanted)
    if options.only is not None:
        needed, architectures = _only(options.only, release, tags, needed, architectures)
        pythons = tuple(p for p in pythons if any(python == p for _, python in needed))
        variants = tuple(v for v in variants if any(variant is v for variant, _ in needed))
    order = [
        (variant, python)
        for python in pythons
        for variant in (Variant.BASE, Variant.ONBUILD)
        if (variant, python) in needed
    ]
    epoch = _epoch(release, provenance, now)
    contexts = {
        _context_key(variant, python): _render(
            matrix,
            release,
            options,
            tags,
            variant=variant,
            python=python,
            constraints=constraints,
            provenance=provenance or Provenance(),
            epoch=epoch,
            architecture=architectures[0],
        )
        for variant, python in order
    }
    plan = BuildPlan(
        release=release,
        tags=tags,
        options=options,
        workdir=workdir.absolute(),
        architectures=architectures,
        pythons=pythons,
        variants=variants,
        contexts=MappingProxyType(contexts),
        entries=(),
        steps=(),
    )
    entries = tuple(
        _entry(plan, docker, _image(tags, variant, python), arch, (variant, python) in wanted)
        for variant, python in order
        for arch in architectures
    )
    plan = replace(plan, entries=entries)
    if options.builder is Builder.BUILDX and options.only is None:
        plan = replace(plan, bake=MappingProxyType(bake_file(plan)))
    steps, notes = _steps(plan, docker)
    return replace(plan, steps=steps, notes=notes)


def _architectures(release: Release, requested: Sequence[str] | None) -> tuple[str, ...]:
    if requested is None:
        return tuple(arch for arch in ARCHITECTURES if arch in release.architectures)
    for arch in requested:
        if arch not in ARCHITECTURES:
            raise InputError(
                f"--arch {arch!r} is not an architecture astroctl builds "
                f"({', '.join(ARCHITECTURES)}, or all)"
            )
        if arch not in release.architectures:
            raise InputError(
                f"Astro Runtime {release.name} is built for {', '.join(release.architectures)} "
                f"only; --arch {arch} is not one of its architectures"
            )
    return tuple(arch for arch in ARCHITECTURES if arch in requested)


def _pythons(release: Release, requested: Sequence[str] | None) -> tuple[str, ...]:
    ordered = (release.python, *(p for p in release.python_versions if p != release.python))
    if requested is None:
        return ordered
    for python in requested:
        if python not in release.python_versions:
            raise InputError(
                f"Astro Runtime {release.name} has no Python {python} distribution "
                f"(it has {', '.join(release.python_versions)})"
            )
    return tuple(p for p in ordered if p in requested)


def _with_bases(wanted: set[tuple[Variant, str]]) -> set[tuple[Variant, str]]:
    """The images to build: those asked for, and the base of every onbuild image."""
    needed = set(wanted)
    needed.update(
        (Variant.BASE, python) for variant, python in wanted if variant is Variant.ONBUILD
    )
    return needed


def _only(
    entry_id: str,
    release: Release,
    tags: TagPlan,
    needed: set[tuple[Variant, str]],
    architectures: tuple[str, ...],
) -> tuple[set[tuple[Variant, str]], tuple[str, ...]]:
    """The one image and architecture ``--only ENTRY`` names (its base is not rebuilt: an
    onbuild entry's base comes from the engine or the registry, as the CI matrix's ``needs``
    say)."""
    for image in tags.images:
        for arch in architectures:
            if (image.variant, image.python) in needed and entry_id == _entry_id(image, arch):
                return {(image.variant, image.python)}, (arch,)
    known = [
        _entry_id(image, arch)
        for image in tags.images
        if (image.variant, image.python) in needed
        for arch in architectures
    ]
    raise InputError(
        f"--only {entry_id!r} is not an entry of the build of Astro Runtime {release.name}; "
        f"its entries: {', '.join(known)}"
    )


def _unknown_entry(entry_id: str, entries: Sequence[Entry]) -> str:
    return f"no entry {entry_id!r} in the plan; its entries: {', '.join(e.id for e in entries)}"


def _epoch(release: Release, provenance: Provenance | None, now: datetime | None) -> int:
    if provenance is not None and provenance.source_date_epoch is not None:
        return provenance.source_date_epoch
    if release.released is not None:
        return int(datetime.combine(release.released, time(0), UTC).timestamp())
    return int((now or datetime.now(UTC)).timestamp())


def _context_key(variant: Variant, python: str) -> str:
    return f"{variant.value}-python-{python}"


def _render(
    matrix: Matrix,
    release: Release,
    options: BuildOptions,
    tags: TagPlan,
    *,
    variant: Variant,
    python: str,
    constraints: Mapping[str, str],
    provenance: Provenance,
    epoch: int,
    architecture: str,
) -> BuildContext:
    """One image's context; a ``--base-image`` with ``{arch}`` is rendered for
    ``architecture`` (the first built), and each other architecture's build overrides it."""
    import hashlib

    text = constraints.get(python)
    if text is None:
        raise InputError(
            f"no constraint set for Python {python} of Astro Runtime {release.name}; run: "
            f"astroctl constraints resolve {release.name} --python {python}"
        )
    base = _image(tags, Variant.BASE, python)
    return render_context(
        release,
        variant=variant,
        python=python,
        base_image=(
            _for_arch(options.base_image, architecture)
            if variant is Variant.BASE
            else tags.reference(base.name)
        ),
        constraints_text=text,
        constraints_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        repository=tags.repository,
        revision=provenance.revision,
        source=provenance.source,
        source_date_epoch=epoch,
        ca_bundle=options.ca_bundle if variant is Variant.BASE else None,
        env=matrix.env,
        index_url=options.index_url,
        extra_index_urls=_private_indexes(matrix, release, options.index_url),
    )


def _private_indexes(matrix: Matrix, release: Release, index_url: str | None) -> tuple[str, ...]:
    """The indexes of the release's packages that are not on the public one."""
    found: list[str] = []
    for name in sorted(release.packages):
        index = matrix.facts(name).index
        if index and index not in found and index != index_url:
            found.append(index)
    return tuple(found)


def _for_arch(base_image: str | None, architecture: str) -> str | None:
    """``--base-image`` with ``{arch}`` filled in (an image per architecture, as a local engine
    without a registry holds them: one reference cannot name both)."""
    return None if base_image is None else base_image.replace(ARCH_PLACEHOLDER, architecture)


def _python_image_args(
    plan: BuildPlan, python: str, architecture: str
) -> tuple[dict[str, str], dict[str, str]]:
    """The build argument and label a base build of ``architecture`` sets when its Python image
    is not the one its context was rendered with (a ``--base-image`` with ``{arch}``)."""
    given = plan.options.base_image
    if given is None or ARCH_PLACEHOLDER not in given:
        return {}, {}
    image = python_image(plan.release, python, _for_arch(given, architecture))
    return {"PYTHON_IMAGE": image}, {BASE_NAME_LABEL: image}


def _image(tags: TagPlan, variant: Variant, python: str) -> Image:
    for image in tags.images:
        if image.variant is variant and image.python == python:
            return image
    raise InputError(f"release {tags.release.name} has no {variant.value} image for {python}")


def _entry_id(image: Image, architecture: str) -> str:
    return f"{image.name}-{architecture}"


def _refs(plan: BuildPlan, image: Image, architecture: str) -> tuple[str, ...]:
    """The references a build of ``image`` tags: its architecture reference on a multi-arch
    release, its tags (exact, then floating) on a single-architecture one."""
    if plan.multi_arch:
        return (plan.tags.reference(_entry_id(image, architecture)),)
    return tuple(plan.tags.reference(tag) for tag in image.all_tags)


def _entry(plan: BuildPlan, docker: Docker, image: Image, architecture: str, asked: bool) -> Entry:
    refs = _refs(plan, image, architecture)
    key = _context_key(image.variant, image.python)
    context = plan.contexts[key]
    build_args = dict(context.build_args)
    labels: dict[str, str] = {}
    needs: tuple[str, ...] = ()
    if image.variant is Variant.BASE:
        args, labels = _python_image_args(plan, image.python, architecture)
        build_args.update(args)
        if labels == {BASE_NAME_LABEL: context.labels.get(BASE_NAME_LABEL)}:
            labels = {}  # the context's own
    else:
        base = _image(plan.tags, Variant.BASE, image.python)
        build_args["BASE_IMAGE"] = _refs(plan, base, architecture)[0]
        needs = (_entry_id(base, architecture),)
    platform = f"{PLATFORM_OS}/{architecture}"
    options = plan.options
    if options.builder is Builder.BUILDX:
        build = docker.buildx_build_argv(
            plan.context_dir(key),
            tags=refs,
            platforms=[platform],
            build_args=build_args,
            labels=labels,
            network=options.network,
        )
    else:
        build = docker.build_argv(
            plan.context_dir(key),
            tags=refs,
            platform=platform,
            build_args=build_args,
            labels=labels,
            network=options.network,
            buildkit=options.buildkit,
        )
    return Entry(
        id=_entry_id(image, architecture),
        image=image,
        architecture=architecture,
        ref=refs[0],
        refs=refs,
        context=key,
        needs=needs,
        dependency=not asked,
        build=build,
        pushes=() if not asked else tuple(docker.push_argv(ref) for ref in refs),
    )


def _steps(plan: BuildPlan, docker: Docker) -> tuple[tuple[Step, ...], tuple[str, ...]]:
    options = plan.options
    notes: list[str] = []
    if options.builder is Builder.BUILDX and options.only is None:
        steps = _bake_steps(plan, docker, notes)
        return tuple(steps), tuple(notes)
    steps = [Step(Phase.BUILD, entry.build, entry.id) for entry in plan.entries]
    if not options.push:
        return tuple(steps), tuple(notes)
    steps += [
        Step(Phase.PUSH, push, entry.id)
        for entry in plan.entries
        if not entry.dependency
        for push in entry.pushes
    ]
    if not plan.multi_arch:
        return tuple(steps), tuple(notes)
    if options.only is not None or not plan.complete:
        notes.append(
            "manifest lists are not made: they need every architecture of the release "
            f"({', '.join(plan.release.architectures)}); `astroctl publish` makes them from "
            "the architecture references pushed"
        )
        return tuple(steps), tuple(notes)
    steps += _manifest_steps(plan, docker)
    return tuple(steps), tuple(notes)


def _manifest_steps(plan: BuildPlan, docker: Docker) -> list[Step]:
    insecure = _insecure(plan)
    steps: list[Step] = []
    for image in _pushed_images(plan):
        refs = [plan.tags.reference(_entry_id(image, arch)) for arch in plan.architectures]
        for tag in image.all_tags:
            target = plan.tags.reference(tag)
            steps.append(
                Step(Phase.MANIFEST, docker.manifest_create_argv(target, refs, insecure=insecure))
            )
            steps.append(Step(Phase.MANIFEST, docker.manifest_push_argv(target, insecure=insecure)))
    return steps


def _pushed_images(plan: BuildPlan) -> list[Image]:
    seen: list[Image] = []
    for entry in plan.entries:
        if not entry.dependency and entry.image not in seen:
            seen.append(entry.image)
    return seen


def _insecure(plan: BuildPlan) -> bool:
    """``--insecure`` for ``docker manifest``: asked for, or a loopback registry (plain HTTP,
    which the engine trusts for pushes but the manifest commands do not)."""
    if plan.options.insecure is not None:
        return plan.options.insecure
    return loopback_repository(plan.repository)


def loopback_repository(repository: str) -> bool:
    """Whether ``repository`` lives on a loopback registry (``localhost``, 127.0.0.0/8, ::1)."""
    first, slash, _ = repository.partition("/")
    if not slash:
        return False
    host = first[1 : first.find("]")] if first.startswith("[") else first.split(":")[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bake_steps(plan: BuildPlan, docker: Docker, notes: list[str]) -> list[Step]:
    options = plan.options
    # buildx 0.20 on refuses a bake file reading outside the working directory unless allowed
    allow = [f"fs.read={plan.workdir}"]
    if options.network == "host":
        allow.append("network.host")
    targets = [plan.group]
    single = len(plan.architectures) == 1 or not _bake_complete(plan)
    steps = [
        Step(
            Phase.BUILD,
            docker.bake_argv(
                plan.bake_path, targets, load=single and not options.push, allow=allow
            ),
        )
    ]
    if options.push:
        steps.append(
            Step(Phase.PUSH, docker.bake_argv(plan.bake_path, targets, push=True, allow=allow))
        )
    elif not single:
        notes.append(
            "multi-platform images stay in BuildKit's cache (the docker image store holds no "
            "manifest list): pass --push to publish them, or --arch to load one platform"
        )
    return steps


# -- the bake file ------------------------------------------------------------------------------


def bake_name(text: str) -> str:
    """A bake group or target name (``[A-Za-z0-9_-]``) for ``text``: other characters as ``-``."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "-" for c in text)


def _bake_complete(plan: BuildPlan) -> bool:
    """Whether bake targets carry every platform under the final tags (all architectures of
    the release are built, from one Python image), rather than one platform under its
    architecture reference (a ``--base-image`` with ``{arch}`` has an image per platform)."""
    base_image = plan.options.base_image
    if base_image is not None and ARCH_PLACEHOLDER in base_image and len(plan.architectures) > 1:
        return False
    return plan.complete or not plan.multi_arch


def bake_file(plan: BuildPlan) -> dict[str, Any]:
    """The plan as a ``docker buildx bake`` JSON file.

    A group named after the release (and ``default``, pointing at it) lists a target per
    image: every platform of the release under the image's tags when the plan builds them all,
    else a target per platform under its architecture reference (a manifest list needs them
    all). An onbuild target reads its base through ``contexts`` (``"base": "target:..."``)
    with ``BASE_IMAGE=base``, so bake builds it from the base target, never from a registry.
    A base built only for an onbuild image is a target outside the group.
    """
    complete = _bake_complete(plan)
    targets: dict[str, dict[str, Any]] = {}
    group: list[str] = []
    for entry in plan.entries:
        name = _target_name(plan, entry, complete)
        if name in targets:
            continue
        targets[name] = _target(plan, entry, complete)
        if not entry.dependency:
            group.append(name)
    return {
        "group": {"default": {"targets": [plan.group]}, plan.group: {"targets": group}},
        "target": targets,
    }


def _target_name(plan: BuildPlan, entry: Entry, complete: bool) -> str:
    stem = f"{plan.group}-{entry.variant.value}-python-{entry.python}"
    return bake_name(stem if complete else f"{stem}-{entry.architecture}")


def _target(plan: BuildPlan, entry: Entry, complete: bool) -> dict[str, Any]:
    context = plan.contexts[entry.context]
    args = dict(context.build_args)
    labels = dict(context.labels)
    if entry.variant is Variant.BASE:
        arch_args, arch_labels = _python_image_args(plan, entry.python, entry.architecture)
        args.update(arch_args)
        labels.update(arch_labels)
    if complete:
        tags = [plan.tags.reference(tag) for tag in entry.image.all_tags]
        platforms = [f"{PLATFORM_OS}/{arch}" for arch in plan.architectures]
    else:
        tags = list(entry.refs)
        platforms = [entry.platform]
    target: dict[str, Any] = {
        "context": str(plan.context_dir(entry.context)),
        "dockerfile": "Dockerfile",
        "args": args,
        "labels": labels,
        "tags": tags,
        "platforms": platforms,
    }
    if entry.variant is Variant.ONBUILD:
        base = next(
            e
            for e in plan.entries
            if e.variant is Variant.BASE
            and e.python == entry.python
            and e.architecture == entry.architecture
        )
        args["BASE_IMAGE"] = BASE_CONTEXT
        target["contexts"] = {BASE_CONTEXT: f"target:{_target_name(plan, base, complete)}"}
    if plan.options.network:
        target["network"] = plan.options.network
    return target


# -- writing and running ------------------------------------------------------------------------


def write_plan(plan: BuildPlan) -> None:
    """Write every context of the plan under its workdir (and the bake file, with buildx)."""
    for key, context in plan.contexts.items():
        write_context(context, plan.context_dir(key))
    if plan.bake is not None:
        write_bake_file(plan.bake, plan.bake_path)


def write_bake_file(bake: Mapping[str, Any], path: Path) -> Path:
    """Write a bake file (``--bake FILE``) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fs.write_text(path, json.dumps(bake, indent=2, default=dict) + "\n")
    return path


@dataclass(frozen=True)
class BuildReport:
    """What :func:`run_plan` ran, in order."""

    plan: BuildPlan
    ran: tuple[Step, ...]


def run_plan(
    plan: BuildPlan, docker: Docker, *, progress: Callable[[Step], None] | None = None
) -> BuildReport:
    """Write the plan's files, then run its steps in order; the first failure (a
    :class:`~astroctl.seams.docker.DockerFailed` naming the image, step and output) stops it,
    and as every build comes before every push, a failed build pushes nothing.
    ``progress(step)`` is called before each step."""
    write_plan(plan)
    return BuildReport(plan, run_steps(plan.steps, docker, progress=progress))


def run_steps(
    steps: Sequence[Step], docker: Docker, *, progress: Callable[[Step], None] | None = None
) -> tuple[Step, ...]:
    """Run docker steps in order, ``progress(step)`` before each; the first failure stops."""
    ran: list[Step] = []
    for step in steps:
        if progress is not None:
            progress(step)
        docker.run(step.invocation)
        ran.append(step)
    return tuple(ran)
