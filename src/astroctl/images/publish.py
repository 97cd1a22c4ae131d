"""Publishing a release's images (SPEC sections 4 and 6): push, manifest lists, floating tags,
then read every tag back from the registry.

``plan = plan_publish(matrix, release, docker=..., registry=...)`` only reads: the local images
``astroctl build`` made (their architecture and runtime version are checked, so a stale image
is never published), and the registry's current state of every tag. Nothing is pushed while
planning, and :func:`run_publish` is the only writer.

The images to push are the build's references: on a multi-arch release one per architecture
(``REPO:9.2.0-base-arm64``, pushed, then listed by ``docker manifest create``/``push`` under
each tag), on a single-architecture release the image itself, tagged and pushed under each
tag.

Immutable and floating tags. Exact tags (``9.2.0``, ``9.2.0-python-3.11-base``) never change
once published: a tag the registry already has is compared by digest first. The same content
(the registry's digest, or for a list the digest of each platform, equals the digest the local
image was pushed as, which the engine records in its ``RepoDigests``) is a no-op; other
content is a conflict, and every conflict is reported at once, before anything is pushed,
unless ``force``. An image never pushed from this engine has no digest to compare with: it
counts as other content. Floating tags (``9.2``, ``9``, ``latest``) are meant to move: they
are pushed whenever they do not already name the release's content.

Read back: after the pushes, every tag of the release is fetched from the registry (Registry
HTTP API v2) and checked: it exists; a multi-arch tag is a list of exactly the release's
platforms, each the digest its architecture reference was pushed as; a single-architecture tag
is that image's digest on its platform. Any difference is an :class:`OperationError` naming
every tag at fault.

``plan_retag`` is the image side of ``release promote``: the candidate's tags, read from the
registry and put under the final release's tags by digest (the same bytes, so the same
digest), without building or pulling anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from astroctl.errors import InputError, OperationError
from astroctl.images.plan import Phase, Step, loopback_repository, run_steps
from astroctl.images.tags import PLATFORM_OS, Image, TagPlan, plan_tags
from astroctl.matrix.model import Matrix, Release
from astroctl.seams.docker import Docker
from astroctl.seams.registry import Manifest, Reference

RUNTIME_LABEL = "io.astronomer.docker.runtime.version"
PYTHON_LABEL = "io.astronomer.docker.python.version"
VARIANT_LABEL = "io.astronomer.docker.variant"


class Registry(Protocol):
    """What publishing needs of the registry seam (:class:`astroctl.seams.registry.Registry`)."""

    def manifest(self, ref: Reference) -> Manifest | None: ...

    def put_manifest(self, ref: Reference, raw: bytes, media_type: str) -> str: ...


class TagState(StrEnum):
    """What publishing does to one tag."""

    NEW = "new"  # the registry does not have it: pushed
    SAME = "unchanged"  # the registry has this content under it already: nothing to do
    MOVED = "moved"  # a floating tag that names other content: moved here
    REPLACED = "replaced"  # an exact tag with other content, overwritten (--force)
    CONFLICT = "conflict"  # an exact tag with other content: refused
    VERIFIED = "verified"  # read back only (publish --verify)

    @property
    def writes(self) -> bool:
        return self in (TagState.NEW, TagState.MOVED, TagState.REPLACED)


@dataclass(frozen=True)
class Source:
    """One local image on one platform, as ``astroctl build`` left it."""

    image: Image
    architecture: str
    ref: str  # the local reference (the architecture reference, or the first tag)
    pushed: str | None  # the digest it was last pushed to the repository as, if ever

    @property
    def platform(self) -> str:
        return f"{PLATFORM_OS}/{self.architecture}"


@dataclass(frozen=True)
class TagCheck:
    """One tag of the release: where it stands in the registry and what publishing does."""

    tag: str
    reference: str
    image: Image
    floating: bool
    state: TagState
    current: str | None  # the digest the registry has under the tag now

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "reference": self.reference,
            "variant": self.image.variant.value,
            "python": self.image.python,
            "floating": self.floating,
            "state": self.state.value,
            "current": self.current,
        }


@dataclass(frozen=True)
class PublishPlan:
    """Everything ``astroctl publish`` will do, before it does any of it."""

    release: Release
    tags: TagPlan
    sources: tuple[Source, ...]
    checks: tuple[TagCheck, ...]
    steps: tuple[Step, ...]
    insecure: bool
    force: bool

    @property
    def repository(self) -> str:
        return self.tags.repository

    @property
    def multi_arch(self) -> bool:
        return len(self.tags.platforms) > 1

    @property
    def conflicts(self) -> tuple[TagCheck, ...]:
        return tuple(check for check in self.checks if check.state is TagState.CONFLICT)

    @property
    def up_to_date(self) -> bool:
        return not any(check.state.writes for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "release": self.release.name,
            "repository": self.repository,
            "platforms": list(self.tags.platforms),
            "force": self.force,
            "up_to_date": self.up_to_date,
            "sources": [
                {
                    "image": source.image.name,
                    "platform": source.platform,
                    "ref": source.ref,
                    "pushed": source.pushed,
                }
                for source in self.sources
            ],
            "tags": [check.to_json() for check in self.checks],
            "steps": [step.to_json() for step in self.steps],
        }


@dataclass(frozen=True)
class Verified:
    """One tag as read back from the registry after publishing."""

    check: TagCheck
    digest: str
    media_type: str
    platforms: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            **self.check.to_json(),
            "digest": self.digest,
            "media_type": self.media_type,
            "platforms": dict(self.platforms),
        }


@dataclass(frozen=True)
class PublishReport:
    plan: PublishPlan
    ran: tuple[Step, ...]
    verified: tuple[Verified, ...]


class PublishConflict(OperationError):
    """Exact tags the registry holds with other content (exit 1): nothing was pushed."""

    def __init__(self, release: str, conflicts: Sequence[tuple[str, str | None]]) -> None:
        self.conflicts = tuple(conflicts)
        shown = "\n".join(
            f"  {reference} is {current} in the registry" for reference, current in conflicts
        )
        super().__init__(
            f"release {release}: {len(conflicts)} published tag(s) hold other content, and "
            f"an exact tag is never overwritten; nothing was pushed "
            f"(--force overwrites them):\n{shown}"
        )


class VerifyFailed(OperationError):
    """Tags that do not read back as published (exit 1)."""

    def __init__(self, release: str, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            f"release {release}: {len(problems)} tag(s) did not read back as published:\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )


# -- planning ----------------------------------------------------------------------------------


def plan_publish(
    matrix: Matrix,
    release: Release,
    *,
    docker: Docker,
    registry: Registry,
    repository: str | None = None,
    floating: bool | None = None,
    force: bool = False,
    insecure: bool | None = None,
    pythons: Sequence[str] | None = None,
) -> PublishPlan:
    """The publish plan of ``release`` (see the module's documentation).

    Raises :class:`InputError` (exit 2) naming every local image that is missing or is not the
    release's build for its platform, and :class:`PublishConflict` (exit 1) for exact tags the
    registry holds with other content, unless ``force``.
    """
    tags = _tag_plan(matrix, release, repository, floating, pythons)
    sources = _sources(tags, release, docker)
    by_image: dict[Image, list[Source]] = {}
    for source in sources:
        by_image.setdefault(source.image, []).append(source)
    checks = tuple(
        _check(tags, image, tag, tag in image.floating, by_image[image], registry, force)
        for image in tags.images
        for tag in image.all_tags
    )
    conflicts = [
        (check.reference, check.current) for check in checks if check.state is TagState.CONFLICT
    ]
    if conflicts:
        raise PublishConflict(release.name, conflicts)
    secure = loopback_repository(tags.repository) if insecure is None else insecure
    plan = PublishPlan(
        release=release,
        tags=tags,
        sources=sources,
        checks=checks,
        steps=(),
        insecure=secure,
        force=force,
    )
    return replace(plan, steps=tuple(_steps(plan, docker)))


def _tag_plan(
    matrix: Matrix,
    release: Release,
    repository: str | None,
    floating: bool | None,
    pythons: Sequence[str] | None,
) -> TagPlan:
    """The release's tag plan, narrowed to ``pythons`` (an unknown one: :class:`InputError`)."""
    tags = plan_tags(matrix, release, floating=floating, repository=repository)
    if pythons is None:
        return tags
    unknown = sorted(set(pythons) - {image.python for image in tags.images})
    if unknown:
        raise InputError(
            f"release {release.name} has no Python {', '.join(unknown)} distribution; it has "
            f"{', '.join(sorted({image.python for image in tags.images}))}"
        )
    return replace(tags, images=tuple(i for i in tags.images if i.python in pythons))


def _sources(tags: TagPlan, release: Release, docker: Docker) -> tuple[Source, ...]:
    """The local images to publish, checked: each must exist, be built for its platform and
    carry the release's runtime version."""
    multi = len(tags.platforms) > 1
    sources: list[Source] = []
    problems: list[str] = []
    for image in tags.images:
        for architecture in release.architectures:
            name = f"{image.name}-{architecture}" if multi else image.name
            ref = tags.reference(name)
            record = docker.inspect(ref)
            if record is None:
                problems.append(f"{ref} is not in the local image store")
                continue
            problem = _source_problem(record, ref, architecture, release, image)
            if problem is not None:
                problems.append(problem)
                continue
            sources.append(Source(image, architecture, ref, _pushed(record, tags.repository)))
    if problems:
        raise InputError(
            f"release {release.name}: {len(problems)} image(s) cannot be published; build them "
            f"first with `astroctl build {release.name} --registry {tags.repository}`:\n"
            + "\n".join(f"  {problem}" for problem in problems)
        )
    return tuple(sources)


def _source_problem(
    record: Mapping[str, Any], ref: str, architecture: str, release: Release, image: Image
) -> str | None:
    built = record.get("Architecture")
    if built != architecture:
        return f"{ref} is built for {built or 'no architecture'}, not {architecture}"
    config = record.get("Config")
    found = config.get("Labels") if isinstance(config, Mapping) else None
    labels: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    version = labels.get(RUNTIME_LABEL)
    if version != release.name:
        shown = f"runtime {version}" if version else f"no {RUNTIME_LABEL} label"
        return f"{ref} has {shown}, not {release.name}"
    for label, value in ((PYTHON_LABEL, image.python), (VARIANT_LABEL, image.variant.value)):
        if labels.get(label) != value:
            return f"{ref} has {label}={labels.get(label) or '(none)'}, not {value}"
    return None


def _pushed(record: Mapping[str, Any], repository: str) -> str | None:
    """The digest the engine recorded when it last pushed the image to ``repository``."""
    digests = record.get("RepoDigests")
    if not isinstance(digests, list):
        return None
    for entry in digests:
        if isinstance(entry, str):
            name, at, digest = entry.rpartition("@")
            if at and name == repository:
                return digest
    return None


def _check(
    tags: TagPlan,
    image: Image,
    tag: str,
    floating: bool,
    sources: Sequence[Source],
    registry: Registry,
    force: bool,
) -> TagCheck:
    reference = tags.reference(tag)
    current = registry.manifest(Reference.parse(reference))
    if current is None:
        state = TagState.NEW
    elif _same(current, sources, multi=len(tags.platforms) > 1):
        state = TagState.SAME
    elif floating:
        state = TagState.MOVED
    else:
        state = TagState.REPLACED if force else TagState.CONFLICT
    return TagCheck(
        tag=tag,
        reference=reference,
        image=image,
        floating=floating,
        state=state,
        current=current.digest if current is not None else None,
    )


def platform_key(platform: str) -> str:
    """``os/architecture`` of a platform string (a variant such as ``/v8`` is ignored)."""
    return "/".join(platform.split("/")[:2])


def _same(current: Manifest, sources: Sequence[Source], *, multi: bool) -> bool:
    if any(source.pushed is None for source in sources):
        return False
    if not multi:
        return current.digest == sources[0].pushed
    if not current.is_list:
        return False
    have = {platform_key(platform): digest for platform, digest in current.platforms.items()}
    want = {source.platform: source.pushed for source in sources}
    return have == want


def _steps(plan: PublishPlan, docker: Docker) -> list[Step]:
    steps: list[Step] = []
    for image in plan.tags.images:
        writes = [check for check in plan.checks if check.image == image and check.state.writes]
        if not writes:
            continue
        sources = [source for source in plan.sources if source.image == image]
        if plan.multi_arch:
            steps += [
                Step(Phase.PUSH, docker.push_argv(source.ref), source.ref) for source in sources
            ]
            refs = [source.ref for source in sources]
            for check in writes:
                steps.append(
                    Step(
                        Phase.MANIFEST,
                        docker.manifest_create_argv(check.reference, refs, insecure=plan.insecure),
                    )
                )
                steps.append(
                    Step(
                        Phase.MANIFEST,
                        docker.manifest_push_argv(check.reference, insecure=plan.insecure),
                    )
                )
        else:
            source = sources[0]
            for check in writes:
                if check.reference != source.ref:
                    steps.append(
                        Step(Phase.TAG, docker.tag_argv(source.ref, check.reference), source.ref)
                    )
                steps.append(Step(Phase.PUSH, docker.push_argv(check.reference), source.ref))
    return steps


# -- running and reading back ------------------------------------------------------------------


def run_publish(
    plan: PublishPlan,
    docker: Docker,
    registry: Registry,
    *,
    progress: Callable[[Step], None] | None = None,
) -> PublishReport:
    """Run the plan's docker commands in order (the first failure stops it), then read every
    tag back (:class:`VerifyFailed` when one differs)."""
    ran = run_steps(plan.steps, docker, progress=progress)
    return PublishReport(plan, ran, verify(plan, registry))


def verify(plan: PublishPlan, registry: Registry) -> tuple[Verified, ...]:
    """Read every tag of the plan back from the registry and check it (module docs)."""
    expected: dict[Image, dict[str, str]] = {}
    problems: list[str] = []
    for source in plan.sources:
        ref = source.ref if plan.multi_arch else plan.tags.reference(source.image.name)
        pushed = registry.manifest(Reference.parse(ref))
        if pushed is None:
            problems.append(f"{ref} is not in the registry")
            continue
        if pushed.is_list:
            problems.append(f"{ref} is a manifest list, not the {source.platform} image")
            continue
        platforms = {platform_key(p) for p in pushed.platforms}
        if platforms != {source.platform}:
            problems.append(f"{ref} is for {', '.join(sorted(platforms))}, not {source.platform}")
            continue
        expected.setdefault(source.image, {})[source.platform] = pushed.digest
    verified: list[Verified] = []
    for check in plan.checks:
        want = expected.get(check.image)
        if want is None:
            continue
        manifest = registry.manifest(Reference.parse(check.reference))
        problem = _read_back_problem(check, manifest, want, multi=plan.multi_arch)
        if problem is not None:
            problems.append(problem)
        elif manifest is not None:
            verified.append(
                Verified(check, manifest.digest, manifest.media_type, manifest.platforms)
            )
    if problems:
        raise VerifyFailed(plan.release.name, problems)
    return tuple(verified)


def _read_back_problem(
    check: TagCheck, manifest: Manifest | None, want: Mapping[str, str], *, multi: bool
) -> str | None:
    if manifest is None:
        return f"{check.reference} is not in the registry"
    if multi:
        if not manifest.is_list:
            return f"{check.reference} is a single image, not a manifest list of {_shown(want)}"
        have = {platform_key(p): digest for p, digest in manifest.platforms.items()}
        if have != dict(want):
            return f"{check.reference} lists {_shown(have)}, not {_shown(want)}"
        return None
    (platform, digest), *_ = want.items()
    if manifest.digest != digest:
        return f"{check.reference} is {manifest.digest}, not {digest} ({platform})"
    return None


def _shown(platforms: Mapping[str, str]) -> str:
    return ", ".join(f"{p} {d[:19]}" for p, d in sorted(platforms.items())) or "nothing"


def verify_published(
    matrix: Matrix,
    release: Release,
    *,
    registry: Registry,
    repository: str | None = None,
    floating: bool | None = None,
    pythons: Sequence[str] | None = None,
) -> tuple[Verified, ...]:
    """Read every tag of the release back from the registry alone (no local image: for images
    ``build --push`` pushed through buildx, or another machine published) and check that each
    is there, a manifest list of exactly the release's platforms on a multi-arch release (one
    image of its platform otherwise), that every platform's image carries the release's
    runtime version, its Python and its variant in its labels, and that all the tags of one
    image name one digest. :class:`VerifyFailed` names every tag at fault."""
    tags = _tag_plan(matrix, release, repository, floating, pythons)
    multi = len(tags.platforms) > 1
    images: dict[str, Manifest | None] = {}
    problems: list[str] = []
    verified: list[Verified] = []
    for image in tags.images:
        first: tuple[str, str] | None = None
        for tag in image.all_tags:
            reference = tags.reference(tag)
            manifest = registry.manifest(Reference.parse(reference))
            found = _published_problems(
                reference, manifest, image, release, tags, registry, images, multi=multi
            )
            if found or manifest is None:
                problems += found
                continue
            if first is None:
                first = (reference, manifest.digest)
            elif manifest.digest != first[1]:
                problems.append(f"{reference} is {manifest.digest}, but {first[0]} is {first[1]}")
                continue
            check = TagCheck(
                tag, reference, image, tag in image.floating, TagState.VERIFIED, manifest.digest
            )
            verified.append(
                Verified(check, manifest.digest, manifest.media_type, manifest.platforms)
            )
    if problems:
        raise VerifyFailed(release.name, problems)
    return tuple(verified)


def _published_problems(
    reference: str,
    manifest: Manifest | None,
    image: Image,
    release: Release,
    tags: TagPlan,
    registry: Registry,
    images: dict[str, Manifest | None],
    *,
    multi: bool,
) -> list[str]:
    if manifest is None:
        return [f"{reference} is not in the registry"]
    want = set(tags.platforms)
    have = {platform_key(p) for p in manifest.platforms}
    if multi and not manifest.is_list:
        return [f"{reference} is a single image, not a manifest list of {', '.join(sorted(want))}"]
    if have != want:
        shown = ", ".join(sorted(have)) or "no platform"
        return [f"{reference} is for {shown}, not {', '.join(sorted(want))}"]
    problems = []
    for platform, digest in sorted(manifest.platforms.items()):
        if manifest.is_list:
            if digest not in images:
                ref = Reference.parse(reference).with_digest(digest)
                images[digest] = registry.manifest(ref)
            single = images[digest]
        else:
            single = manifest
        if single is None:
            problems.append(f"{reference}: its {platform} image {digest} is not in the registry")
            continue
        expected = {
            RUNTIME_LABEL: release.name,
            PYTHON_LABEL: image.python,
            VARIANT_LABEL: image.variant.value,
        }
        for label, value in expected.items():
            if single.labels.get(label) != value:
                got = single.labels.get(label)
                problems.append(
                    f"{reference}: its {platform} image has {label}={got or '(none)'}, not {value}"
                )
    return problems


# -- promote: retag by digest -------------------------------------------------------------------


@dataclass(frozen=True)
class Retag:
    """One tag of the final release, put from the candidate's tag by digest."""

    source: str
    target: str
    floating: bool
    state: TagState
    digest: str  # the candidate's digest, which the target gets
    current: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "floating": self.floating,
            "state": self.state.value,
            "digest": self.digest,
            "current": self.current,
        }


@dataclass(frozen=True)
class RetagPlan:
    candidate: Release
    release: Release
    repository: str
    retags: tuple[Retag, ...]
    manifests: Mapping[str, Manifest]  # the candidate's manifests, by source reference

    @property
    def up_to_date(self) -> bool:
        return not any(retag.state.writes for retag in self.retags)

    def to_json(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate.name,
            "release": self.release.name,
            "repository": self.repository,
            "up_to_date": self.up_to_date,
            "tags": [retag.to_json() for retag in self.retags],
        }


def plan_retag(
    matrix: Matrix,
    candidate: Release,
    release: Release,
    *,
    registry: Registry,
    repository: str | None = None,
    floating: bool | None = None,
    force: bool = False,
) -> RetagPlan:
    """Put the candidate's published images under ``release``'s tags, by digest.

    Each image of the candidate (a variant for a Python) maps to the same image of the final
    release; every tag of the final image (exact and, as the tag plan of ``matrix`` says,
    floating) gets the candidate's first exact tag's manifest, byte for byte. A candidate tag
    missing from the registry is an :class:`InputError` (publish the candidate first); an exact
    final tag holding other content is a :class:`PublishConflict` unless ``force``.
    """
    source_plan = plan_tags(matrix, candidate, floating=False, repository=repository)
    target_plan = plan_tags(matrix, release, floating=floating, repository=repository)
    manifests: dict[str, Manifest] = {}
    missing: list[str] = []
    retags: list[Retag] = []
    for target in target_plan.images:
        source = next(
            (
                image
                for image in source_plan.images
                if image.variant is target.variant and image.python == target.python
            ),
            None,
        )
        if source is None:
            missing.append(
                f"{candidate.name} has no {target.variant.value} image for Python {target.python}"
            )
            continue
        source_ref = source_plan.reference(source.name)
        manifest = registry.manifest(Reference.parse(source_ref))
        if manifest is None:
            missing.append(f"{source_ref} is not in the registry")
            continue
        manifests[source_ref] = manifest
        for tag in target.all_tags:
            reference = target_plan.reference(tag)
            current = registry.manifest(Reference.parse(reference))
            is_floating = tag in target.floating
            if current is None:
                state = TagState.NEW
            elif current.digest == manifest.digest:
                state = TagState.SAME
            elif is_floating:
                state = TagState.MOVED
            else:
                state = TagState.REPLACED if force else TagState.CONFLICT
            retags.append(
                Retag(
                    source=source_ref,
                    target=reference,
                    floating=is_floating,
                    state=state,
                    digest=manifest.digest,
                    current=current.digest if current is not None else None,
                )
            )
    if missing:
        raise InputError(
            f"cannot promote the images of {candidate.name} to {release.name}: "
            + "; ".join(missing)
        )
    conflicts = [
        (retag.target, retag.current) for retag in retags if retag.state is TagState.CONFLICT
    ]
    if conflicts:
        raise PublishConflict(release.name, conflicts)
    return RetagPlan(candidate, release, target_plan.repository, tuple(retags), manifests)


def run_retag(
    plan: RetagPlan, registry: Registry, *, progress: Callable[[Retag], None] | None = None
) -> tuple[Retag, ...]:
    """Put each retag that writes, then read every target back: it must be the candidate's
    digest (:class:`VerifyFailed` naming every tag that is not)."""
    done: list[Retag] = []
    for retag in plan.retags:
        if not retag.state.writes:
            continue
        if progress is not None:
            progress(retag)
        manifest = plan.manifests[retag.source]
        registry.put_manifest(Reference.parse(retag.target), manifest.raw, manifest.media_type)
        done.append(retag)
    problems = []
    for retag in plan.retags:
        now = registry.manifest(Reference.parse(retag.target))
        if now is None or now.digest != retag.digest:
            problems.append(
                f"{retag.target} is {now.digest if now else 'missing'}, not {retag.digest}"
            )
    if problems:
        raise VerifyFailed(plan.release.name, problems)
    return tuple(done)
