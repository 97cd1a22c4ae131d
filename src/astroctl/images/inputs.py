"""What a build starts from, read from the world: the constraint sets on disk, the builder docker
offers, the commit the release was cut in, ``SOURCE_DATE_EPOCH``; and writing the contexts
(``build --context`` / ``--bake``) without running anything.

``astroctl build`` calls these before :func:`astroctl.images.plan.plan_build`, which is pure.
Each returns values (and, where the user should hear of a fallback, a note for the command to
show) and raises :class:`~astroctl.errors.InputError` for bad input, naming the option.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from astroctl.errors import InputError, OperationError
from astroctl.images.context import write_context
from astroctl.images.plan import Builder, BuildPlan, Provenance, bake_file, write_bake_file
from astroctl.matrix.model import Release
from astroctl.seams.docker import BUILDKIT_WITHOUT_BUILDX_BEFORE, Docker
from astroctl.seams.git import Git
from astroctl.seams.process import ProcessRunner

CONSTRAINTS_FILE = re.compile(r"constraints-(\d+\.\d+)\.txt")
CONSTRAINTS_HEADER = re.compile(r"^# Constraints of Astro Runtime \S+: .*, Python (\d+\.\d+)\s*$")
REVISION = re.compile(r"[0-9a-f]{4,64}")


# -- constraint sets -----------------------------------------------------------------------------


def read_constraint_sets(
    release: Release, given: Path, *, pythons: Sequence[str] | None, only: str | None
) -> dict[str, str]:
    """The constraint set of each Python from ``--constraints``: a file (its Python from its
    header, else its name ``constraints-X.Y.txt``, else the release's default) or a directory
    of ``constraints-<py>.txt``. Every Python the build needs must have one (unless it builds one
    CI entry, which names its Python)."""
    sets = _read_sets(release, given)
    if only is None:
        wanted = pythons or release.python_versions
        missing = [python for python in wanted if python not in sets]
        if missing:
            have = ", ".join(sorted(sets)) or "none"
            raise InputError(
                f"--constraints {given}: no constraint set for Python {', '.join(missing)} "
                f"of {release.name} (it has Python {have}); pass --python, or a directory "
                "holding constraints-<py>.txt for each"
            )
    return sets


def _read_sets(release: Release, given: Path) -> dict[str, str]:
    if given.is_dir():
        sets = {}
        for python in release.python_versions:
            path = given / f"constraints-{python}.txt"
            if path.is_file():
                sets[python] = _read(path)
        return sets
    text = _read(given)
    return {python_of(release, given, text): text}


def python_of(release: Release, path: Path, text: str) -> str:
    """The Python a constraints file is for: its header's, its name's, else the default."""
    first = text.split("\n", 1)[0]
    for match in (CONSTRAINTS_HEADER.match(first), CONSTRAINTS_FILE.fullmatch(path.name)):
        if match is not None and match[1] in release.python_versions:
            return match[1]
    return release.python


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"--constraints {path}: cannot read it: {reason}") from None


# -- the builder ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuilderChoice:
    builder: Builder
    buildkit: bool  # classic path: DOCKER_BUILDKIT=1 (a client older than 23 drives it)
    note: str | None = None  # why it was assumed rather than asked


def choose_builder(docker: Docker, *, dry_run: bool) -> BuilderChoice:
    """buildx when docker has it, else the classic builder (with the engine's BuildKit for a
    client older than 23). A dry run without docker assumes the classic builder."""
    try:
        if docker.has_buildx():
            return BuilderChoice(Builder.BUILDX, False)
        major = docker.version().client_major
    except OperationError as exc:
        if not dry_run:
            raise
        return BuilderChoice(
            Builder.CLASSIC,
            False,
            f"docker did not answer ({exc.message}); assuming the classic builder",
        )
    buildkit = major is not None and major < BUILDKIT_WITHOUT_BUILDX_BEFORE
    return BuilderChoice(Builder.CLASSIC, buildkit)


# -- provenance ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A value looked up, and a note when the lookup failed (the label is then left out)."""

    value: str | None
    note: str | None = None


def release_revision(runner: ProcessRunner, matrix: Path | None, release: Release) -> Found:
    """The commit the release was cut in: its ``runtime-V`` tag in the git repository holding
    the matrix file, else that repository's HEAD; None for the embedded matrix (``matrix``
    None) or outside git."""
    if matrix is None:
        return Found(None)
    git = Git(runner, matrix.parent)
    try:
        if not git.is_repository():
            return Found(None)
        return Found(git.tag_target(f"runtime-{release.name}") or git.head())
    except OperationError as exc:
        return Found(None, f"no revision label: {exc.message}")


def provenance(revision: str | None, found: Found, environ: Mapping[str, str]) -> Provenance:
    """The labels' provenance: ``--revision`` (checked) or the revision found, and
    ``SOURCE_DATE_EPOCH`` for ``created``."""
    commit = found.value
    if revision is not None:
        commit = revision.strip()
        if not REVISION.fullmatch(commit):
            raise InputError(f"--revision {revision!r} is not a commit id (hexadecimal, 4 to 64)")
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return Provenance(revision=commit)
    if not epoch.isdigit():
        raise InputError(f"SOURCE_DATE_EPOCH {epoch!r} is not a whole number of seconds")
    return Provenance(revision=commit, source_date_epoch=int(epoch))


# -- writing without running ---------------------------------------------------------------------


def write_contexts(plan: BuildPlan, docker: Docker, bake: Path | None) -> tuple[str, ...] | None:
    """``--context DIR`` / ``--bake FILE``: write the contexts (and the bake file); with a bake
    file, the ``docker buildx bake`` argv that builds it."""
    for key, built in plan.contexts.items():
        write_context(built, plan.context_dir(key))
    if bake is None:
        return None
    write_bake_file(bake_file(plan), bake)
    allow = [f"fs.read={plan.workdir}"]
    if plan.options.network == "host":
        allow.append("network.host")
    return docker.bake_argv(bake.absolute(), [plan.group], allow=allow).argv
