"""The tag plan of a release (SPEC section 6): its images, their tags and platforms.

An image is one (variant, Python) pair of a release: ``onbuild`` (the default tag) and ``base``
(suffix ``-base``), for the default Python and, on a line with Python distributions, for each of
them. One image carries several tags: for release ``V`` with default Python ``P``, ``V`` and
``V-python-P`` name the same onbuild image, ``V-base`` and ``V-python-P-base`` the same base
image. A release has Python distributions when its ``python_versions`` holds more than its
default Python (Runtime 9 on); without them there are no ``-python-`` tags at all.

Floating tags (``--floating`` or ``[image] floating_tags = true``): ``M.m``, ``M`` and
``latest``, each in every form the exact tag has (``11.8``, ``11.8-base``,
``11.8-python-3.12``, ``11.8-python-3.12-base``, ...). Each floating name points at the highest
*stable* release of its scope (the ``M.m.x`` releases, the ``M.x`` releases, every release),
judged over the whole matrix:

- *stable* here means final (no prerelease part) and not yanked. It has nothing to do with a
  line's channel (``stable`` or ``lts`` is a support promise, not a release state): an LTS line
  moves its own ``M.m`` and ``M`` like any line, and ``latest`` is simply the highest version.
- Order is by version, never by date: 9.10.1 shipped after 9.11.0, so ``9.10`` moved to it but
  ``9`` stayed on 9.11.0; 9.17.0 shipped after 11.0.0, so it never takes ``latest``. A patch to
  an older line never moves a tag backwards.
- Judged over the whole matrix, a plan is what publishing the release *now* does: re-running it
  for 9.10.1 moves no tag, since ``9.10`` is 9.10.2 today. An entry without a release date
  counts like any other (its plan is what publishing it will do).
- A prerelease or a yanked release gets its exact tags only, and no floating name ever points
  at a yanked release: when every 9.2.x is yanked there is no ``9.2`` tag.

So each floating name belongs to exactly one release's plan, or to none.

Platforms: ``linux/amd64`` and ``linux/arm64`` as the release's architectures allow (6.0.0-6.0.3
are amd64 only); an image on more than one platform is pushed as a manifest list.

References are ``REPOSITORY:TAG``; the repository (``[image] repository``, or the one given) is
checked against Docker's reference grammar and every tag against the OCI tag grammar.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from astroctl.errors import InputError
from astroctl.matrix.model import ARCHITECTURES, Matrix, Release
from astroctl.versions import shown

LATEST = "latest"
PLATFORM_OS = "linux"

# The OCI distribution spec's tag grammar (Docker's too): at most 128 characters.
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")

# Docker's reference grammar (distribution/reference): a name is [host[:port]/]path, every path
# component lowercase alphanumerics joined by one separator ('.', '_', '__' or a run of '-').
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?"
)
_NAME_MAX = 255


class Variant(StrEnum):
    """An image variant: ``onbuild`` (the default tag) or ``base``."""

    ONBUILD = "onbuild"
    BASE = "base"

    @property
    def suffix(self) -> str:
        return "" if self is Variant.ONBUILD else f"-{self.value}"


VARIANTS = (Variant.ONBUILD, Variant.BASE)


class RepositoryError(InputError):
    """A repository that Docker's reference grammar refuses (exit 2)."""

    def __init__(self, text: str, reason: str, origin: str = "repository") -> None:
        self.text = text
        self.reason = reason
        self.origin = origin
        super().__init__(f"{origin} {shown(text)} is not an image repository: {reason}")


@dataclass(frozen=True)
class Image:
    """One image of a release: a variant for a Python, with every tag it is pushed under.

    ``tags`` are the exact tags (``V``, ``V-python-P``), ``floating`` the floating tags the
    release moves to this image (empty unless the plan moves any).
    """

    variant: Variant
    python: str
    tags: tuple[str, ...]
    platforms: tuple[str, ...]
    floating: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The image's first exact tag, which names it (``11.8.0``, ``11.8.0-python-3.8-base``)."""
        return self.tags[0]

    @property
    def all_tags(self) -> tuple[str, ...]:
        return (*self.tags, *self.floating)

    @property
    def manifest_list(self) -> bool:
        """Whether the tag is a manifest list (more than one platform)."""
        return len(self.platforms) > 1


@dataclass(frozen=True)
class ImageTag:
    """One tag of the plan: the tag, the image it names, and whether it floats."""

    tag: str
    image: Image
    floating: bool
    reference: str


@dataclass(frozen=True)
class Scope:
    """A floating name of the release's scopes (``9.10``, ``9``, ``latest``) and the release
    it points at over the whole matrix (None: no release qualifies, e.g. all yanked)."""

    name: str
    target: Release | None

    def moves_to(self, release: Release) -> bool:
        return self.target is not None and self.target.version == release.version


@dataclass(frozen=True)
class TagPlan:
    """Every image of a release, its tags and platforms, under one repository."""

    release: Release
    repository: str
    images: tuple[Image, ...]
    floating_tags: bool = False  # whether floating tags were asked for
    scopes: tuple[Scope, ...] = ()

    def reference(self, tag: str) -> str:
        return f"{self.repository}:{tag}"

    @property
    def entries(self) -> tuple[ImageTag, ...]:
        """One entry per tag: the exact tags of every image, then its floating tags."""
        return tuple(
            ImageTag(tag, image, floating, self.reference(tag))
            for image in self.images
            for tags, floating in ((image.tags, False), (image.floating, True))
            for tag in tags
        )

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(entry.tag for entry in self.entries)

    @property
    def moved(self) -> tuple[str, ...]:
        """The floating names this plan moves to the release (``11.8``, ``11``, ``latest``)."""
        if not self.floating_tags:
            return ()
        return tuple(scope.name for scope in self.scopes if scope.moves_to(self.release))

    @property
    def platforms(self) -> tuple[str, ...]:
        return self.images[0].platforms if self.images else ()


def is_stable(release: Release) -> bool:
    """Final (no prerelease part) and not yanked: a release a floating tag may point at."""
    return not release.is_prerelease and not release.is_yanked


def scope_names(release: Release) -> tuple[str, str, str]:
    """The floating names of a release's scopes: its minor line, its major line, everything."""
    version = release.version
    return (f"{version.major}.{version.minor}", str(version.major), LATEST)


def floating_targets(matrix: Matrix) -> Mapping[str, Release]:
    """Which release each floating name points at, judged over the whole matrix.

    ``{"9.10": 9.10.2, "9": 9.17.0, "latest": 11.8.0, ...}``: the highest stable release of
    each scope. A scope without a stable release (every 9.2.x yanked) has no name here.
    """
    return _targets(matrix.releases)


def _targets(releases: Iterable[Release]) -> Mapping[str, Release]:
    targets: dict[str, Release] = {}
    for release in releases:
        if not is_stable(release):
            continue
        for name in scope_names(release):
            held = targets.get(name)
            if held is None or held.version < release.version:
                targets[name] = release
    return MappingProxyType(targets)


def platforms(release: Release) -> tuple[str, ...]:
    """``linux/amd64``, ``linux/arm64`` as the release's architectures allow, in that order."""
    return tuple(f"{PLATFORM_OS}/{arch}" for arch in ARCHITECTURES if arch in release.architectures)


def pythons(release: Release) -> tuple[str, ...]:
    """The release's Pythons, its default first, then its other distributions in order."""
    return (release.python, *(p for p in release.python_versions if p != release.python))


def has_distributions(release: Release) -> bool:
    """Whether the release ships Python distributions beyond its default (Runtime 9 on)."""
    return any(p != release.python for p in release.python_versions)


def forms(stem: str, release: Release, variant: Variant, python: str) -> tuple[str, ...]:
    """Every tag of one image under ``stem`` (a version or a floating name).

    ``stem``/``stem-base`` for the default Python, plus ``stem-python-P``/``stem-python-P-base``
    when the line has distributions; ``stem-python-p``/``stem-python-p-base`` for the others.
    """
    named = f"{stem}-python-{python}{variant.suffix}"
    if python != release.python:
        return (named,)
    bare = f"{stem}{variant.suffix}"
    return (bare, named) if has_distributions(release) else (bare,)


def check_repository(text: str, origin: str = "repository") -> str:
    """``text`` when it is a repository Docker accepts (``host[:port]/path``), else raise
    :class:`RepositoryError` naming ``origin`` (``--registry``, ``[image] repository``)."""
    problem = _repository_problem(text)
    if problem is not None:
        raise RepositoryError(text, problem, origin)
    return text


def _repository_problem(text: str) -> str | None:
    if not text:
        return "it is empty"
    if len(text) > _NAME_MAX:
        return f"it is {len(text)} characters long, more than {_NAME_MAX}"
    if "@" in text:
        return "it carries a digest ('@...'); give the repository alone"
    first, slash, rest = text.partition("/")
    path = text
    # Docker's rule: the first component is a registry when it has a '.' or a ':', is
    # 'localhost' or has an uppercase letter (and something follows it); else it is a path.
    if slash and (any(c in first for c in ".:") or first == "localhost" or first != first.lower()):
        if not _HOST.fullmatch(first):
            return f"{shown(first)} is not a registry host[:port]"
        path = rest
    return next(filter(None, map(_component_problem, path.split("/"))), None)


def _component_problem(component: str) -> str | None:
    if ":" in component:
        return "it carries a tag (':...'); the tags come from the release"
    if not component:
        return "it has an empty path component ('//' or a '/' at an end)"
    if not _PATH_COMPONENT.fullmatch(component):
        return (
            f"path component {shown(component)} must be lowercase letters and digits "
            "joined by '.', '_', '__' or '-'"
        )
    return None


def check_tag(tag: str, release: Release) -> str:
    """``tag`` when the OCI tag grammar accepts it; otherwise an :class:`InputError`."""
    if _TAG.fullmatch(tag) is None:
        raise InputError(
            f"release {release.name}: tag {shown(tag)} is not a valid image tag "
            "(letters, digits, '_', '.' and '-', at most 128 characters, not starting "
            "with '.' or '-')"
        )
    return tag


def plan_tags(
    matrix: Matrix,
    release: Release,
    *,
    floating: bool | None = None,
    repository: str | None = None,
) -> TagPlan:
    """The tag plan of ``release``: every image, its exact tags, platforms and, with floating
    tags on (``floating``, default ``[image] floating_tags``), the floating tags it moves.

    ``repository`` overrides ``[image] repository``; either is checked (:class:`RepositoryError`,
    exit 2). A release missing from the matrix is judged as if it were in it.
    """
    if repository is None:
        target = check_repository(matrix.image.repository, "the matrix's [image] repository")
    else:
        target = check_repository(repository)
    enabled = matrix.image.floating_tags if floating is None else floating
    releases = matrix.releases
    if all(r.version != release.version for r in releases):
        releases = (*releases, release)
    targets = _targets(releases)
    scopes = tuple(Scope(name, targets.get(name)) for name in scope_names(release))
    moved = tuple(scope.name for scope in scopes if enabled and scope.moves_to(release))
    images = tuple(
        _image(release, variant, python, moved)
        for python in pythons(release)
        for variant in VARIANTS
    )
    return TagPlan(release, target, images, enabled, scopes)


def _image(release: Release, variant: Variant, python: str, moved: tuple[str, ...]) -> Image:
    exact = forms(release.name, release, variant, python)
    return Image(
        variant=variant,
        python=python,
        tags=tuple(check_tag(tag, release) for tag in exact),
        platforms=platforms(release),
        floating=tuple(tag for name in moved for tag in forms(name, release, variant, python)),
    )
