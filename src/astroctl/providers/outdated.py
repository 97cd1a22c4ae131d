"""The newest compatible version of each package of a release on a package index (SPEC 4).

A version is a candidate for a package when it is newer than the pin and

1. is a final release (no pre-release or dev release) and not yanked (PEP 592: some file of the
   version is not yanked);
2. is within ``level`` of the pin: ``patch`` keeps major.minor, ``minor`` keeps the major,
   ``major`` (the default) takes anything;
3. has a file whose ``Requires-Python`` admits the release's Python (the page's
   ``requires-python``, then the metadata's ``Requires-Python``);
4. and its ``Requires-Dist`` on ``apache-airflow`` admits the release's Airflow, with each
   requirement's markers evaluated for that Python on Linux x86_64 with no extra.

The newest candidate is the package's ``latest``; when none is newer than the pin, ``latest`` is
the pin and the change ``unchanged``. ``held_back`` says why the newest final release on the index
is not the one proposed (the level, a Python or an Airflow requirement).

Pages are read for every package at once (concurrently, by the index seam); metadata only for the
candidates that may win: the newest first, then, in rounds of growing width, the next ones of the
packages whose newest turned out incompatible. A package whose matrix facts name an ``index`` is
looked up there alone. Nothing here prints: progress goes to a callback, warnings to ``notify``.

A package that cannot be looked up (its index does not have it, gives no answer, answers with an
error, or, offline, is not in the cache) does not stop the others: it is reported with its
``problem`` (``latest`` and ``change`` unknown) and ``notify`` names it with its index. Only when
no package at all could be looked up is that an error (exit 2 when no index had any of them,
exit 1 otherwise).

Credentials are never taken from an argument or the matrix: ``--index-url``, ``[upstream]
index_url`` and ``[packages.X] index`` with a user name or password are refused, pointing at
netrc (see :mod:`astroctl.seams.index`); ``$PIP_INDEX_URL`` may carry them, as pip allows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import zip_longest
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from astroctl.errors import AstroctlError, InputError, OperationError
from astroctl.matrix.diff import AIRFLOW_PACKAGE, classify
from astroctl.matrix.model import ChangeKind, Level, Matrix, Release
from astroctl.providers.target import IndexChoice, Target, private_index, target_of
from astroctl.seams.http import HttpClient, shown_url
from astroctl.seams.index import Metadata, PackageIndex, Project, ProjectNotFound
from astroctl.versions import normalize_name

if TYPE_CHECKING:
    from packaging.requirements import Requirement

# (stage, done, total, item): called from the calling thread as pages and metadata arrive.
Progress = Callable[[str, int, int, str], None]
Notify = Callable[[str], None]

PAGES_STAGE = "index pages"
METADATA_STAGE = "metadata"
_FIRST_ROUND = 1  # candidates per package whose metadata is read in the first round
_GROWTH = 4  # each later round reads this many times as many
_SHOWN_PROBLEMS = 20  # packages named in the error when none could be looked up


# -- compatibility --------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def python_admits(requires_python: str | None, python: str) -> bool:
    """Whether a ``Requires-Python`` admits ``python``; a broken one excludes nothing (pip).
    (Remembered: a search asks the same few questions of hundreds of files.)"""
    if not requires_python or not requires_python.strip():
        return True
    try:
        return SpecifierSet(requires_python).contains(python, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True


def airflow_conflict(requires_dist: Iterable[str], target: Target) -> str | None:
    """The first ``Requires-Dist`` on apache-airflow that applies to ``target`` and does not
    admit its Airflow (None when every one admits it). A requirement that cannot be parsed
    excludes nothing, as an unreadable marker does not."""
    from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName

    environment = dict(target.markers)
    for text in requires_dist:
        requirement = _requirement(text)
        if requirement is None:
            continue
        if normalize_name(requirement.name) != AIRFLOW_PACKAGE:
            continue
        try:
            applies = requirement.marker is None or requirement.marker.evaluate(environment)
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            continue
        if applies and not requirement.specifier.contains(target.airflow, prereleases=True):
            return text.strip()
    return None


@lru_cache(maxsize=4096)
def _requirement(text: str) -> Requirement | None:
    """A ``Requires-Dist`` parsed (None when it cannot be); remembered, as many versions of a
    provider repeat the same requirements. Never changed by its users. (packaging's requirement
    and marker parsers are imported on first use: ~11 ms that constraints resolve rarely needs.)"""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


@lru_cache(maxsize=8192)
def _version(text: str) -> Version:
    """A version parsed once per run (a search compares each candidate several times)."""
    return Version(text)


def within(level: Level, current: Version, candidate: Version) -> bool:
    """Whether going from ``current`` to ``candidate`` stays within ``level``."""
    if level is Level.MAJOR:
        return True
    if current.epoch != candidate.epoch:
        return False
    kept = 1 if level is Level.MINOR else 2  # the leading release components that must match
    pairs = list(zip_longest(current.release, candidate.release, fillvalue=0))[:kept]
    return all(a == b for a, b in pairs)


# -- the result -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageStatus:
    """One package: its pin, the newest compatible version within the level, and the change;
    or, when it could not be looked up, its ``problem`` (``latest`` and ``change`` None)."""

    package: str
    current: str
    latest: str | None  # the pin itself when nothing newer is compatible; None: unknown
    change: ChangeKind | None  # None: unknown (see ``problem``)
    newest: str | None = None  # the newest final, non-yanked release on the index, if any
    held_back: str | None = None  # why ``newest`` is not ``latest``, when it is newer
    index: str = ""  # where it was looked up, as output shows it (no credentials)
    problem: str | None = None  # why it could not be looked up

    @property
    def outdated(self) -> bool:
        return self.change is not None and self.change is not ChangeKind.UNCHANGED


@dataclass(frozen=True)
class Outdated:
    """The packages of a release against an index, sorted by name."""

    release: Release
    target: Target
    level: Level
    index: IndexChoice
    packages: tuple[PackageStatus, ...]

    @property
    def updates(self) -> tuple[PackageStatus, ...]:
        return tuple(p for p in self.packages if p.outdated)

    @property
    def problems(self) -> tuple[PackageStatus, ...]:
        """The packages that could not be looked up."""
        return tuple(p for p in self.packages if p.problem is not None)

    @property
    def pins(self) -> Mapping[str, str]:
        """The new pin of every package that has a newer compatible version."""
        return MappingProxyType({p.package: p.latest for p in self.updates if p.latest is not None})


# -- the search -----------------------------------------------------------------------------------


@dataclass
class _Search:
    """One package's search: the candidates left to check, newest first."""

    package: str
    current: Version
    client: PackageIndex
    project: Project
    newest: str | None
    pending: list[str] = field(default_factory=list)
    found: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)  # version -> why it was skipped
    problem: str | None = None  # why the search could not finish

    @property
    def done(self) -> bool:
        return self.found is not None or self.problem is not None or not self.pending


def _search(
    package: str, current: str, client: PackageIndex, project: Project, target: Target, level: Level
) -> _Search:
    """The candidates of one package from its page alone (steps 1 to 3 of the module doc)."""
    pin = _version(current)
    released = project.versions(yanked=False, prereleases=False)
    finals = [v for v in reversed(released) if _version(v) > pin]
    search = _Search(package, pin, client, project, released[-1] if released else None)
    for version in finals:
        reason = _page_reason(project, version, pin, target, level)
        if reason is None:
            search.pending.append(version)
        else:
            search.reasons[version] = reason
    return search


def _page_reason(
    project: Project, version: str, pin: Version, target: Target, level: Level
) -> str | None:
    if not within(level, pin, _version(version)):
        return f"{version} is a {classify(pin, version).value} upgrade, above --level {level.value}"
    live = [f for f in project.files_of(version) if f.yanked is None and f.kind != "other"]
    if not any(python_admits(f.requires_python, target.python) for f in live):
        needs = next((f.requires_python for f in live if f.requires_python), None)
        if needs is None:
            return f"{version} has no wheel or sdist"
        return f"{version} requires Python {needs}"
    return None


def _metadata_reason(metadata: Metadata | None, version: str, target: Target) -> str | None:
    if metadata is None:
        return f"{version} has no readable metadata"
    if not python_admits(metadata.requires_python, target.python):
        return f"{version} requires Python {metadata.requires_python}"
    conflict = airflow_conflict(metadata.requires_dist, target)
    if conflict is not None:
        return f"{version} requires {conflict}"
    return None


class _Stages:
    """Progress over several calls of the index: each stage's counts add up across calls."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.offsets: dict[str, tuple[int, int]] = {}  # stage -> (done, total) of past calls

    def callback(self, stage: str) -> Callable[[int, int, str], None] | None:
        if self.progress is None:
            return None
        report = self.progress
        done_before, total_before = self.offsets.get(stage, (0, 0))

        def step(done: int, total: int, item: str) -> None:
            self.offsets[stage] = (done_before + done, total_before + total)
            report(stage, done_before + done, total_before + total, item)

        return step


def find_outdated(
    matrix: Matrix,
    release: Release,
    *,
    http: HttpClient,
    index: IndexChoice,
    level: Level = Level.MAJOR,
    python: str | None = None,
    offline: bool = False,
    cache_dir: Path | None = None,
    fresh_for: float = 0.0,
    progress: Progress | None = None,
    notify: Notify | None = None,
) -> Outdated:
    """The newest compatible version of each package ``release`` pins (rules: the module doc).

    A cached project page younger than ``fresh_for`` seconds (and than the lifetime the index
    gave it) is used without asking the index; 0 revalidates every page.

    A package that cannot be looked up is reported with its ``problem`` and named to ``notify``;
    when none can be, that is an :class:`InputError` (no index had any of them) or an
    :class:`OperationError`, naming each package and its problem.
    """
    target = target_of(release, python)
    stages = _Stages(progress)
    pins = {name: pin for name, pin in sorted(release.packages.items()) if name != AIRFLOW_PACKAGE}
    groups = _groups(matrix, pins, index)
    searches: list[_Search] = []
    failed: dict[str, tuple[str, AstroctlError, str]] = {}  # name -> (problem, error, index)
    for url, names in groups.items():
        extras = index.extra_urls if url == index.url else ()
        client = PackageIndex(
            url,
            http=http,
            extra_urls=extras,
            cache_dir=cache_dir,
            offline=offline,
            notify=notify,
            fresh_for=fresh_for,
        )
        for name, found in _projects(client, names, stages).items():
            if isinstance(found, Project):
                searches.append(_search(name, pins[name], client, found, target, level))
            else:
                failed[name] = (_problem(found, url == index.url), found, shown_url(client.url))
    _check_metadata(searches, target, stages)
    statuses = [_status(s, pins[s.package]) for s in searches]
    statuses += [
        PackageStatus(name, pins[name], None, None, index=where, problem=problem)
        for name, (problem, _, where) in failed.items()
    ]
    statuses.sort(key=lambda s: s.package)
    result = Outdated(release, target, level, index, tuple(statuses))
    _report_problems(result, [error for _, error, _ in failed.values()], notify)
    return result


def _groups(matrix: Matrix, pins: Mapping[str, str], index: IndexChoice) -> dict[str, list[str]]:
    """The packages to look up on each index: a private one where the facts name it."""
    groups: dict[str, list[str]] = {index.url: []}
    for name in pins:
        private = private_index(matrix, name)
        groups.setdefault(private or index.url, []).append(name)
    return {url: names for url, names in groups.items() if names}


def _projects(
    client: PackageIndex, names: Sequence[str], stages: _Stages
) -> dict[str, Project | AstroctlError]:
    """Each package's project, or why it could not be read."""
    # One page first, alone: the shared HTTP client is built by its first request, and first
    # requests racing from the index's threads could each build one (and leak all but one).
    # It also finds an index that gives no answer, which the others then skip at once. The
    # page is remembered, so the concurrent call does not fetch it again.
    client.lookup(names[:1])
    return client.lookup(names, stages.callback(PAGES_STAGE))


def _problem(error: AstroctlError, public: bool) -> str:
    """Why a package could not be looked up, in one line (with the fix a missing package on
    the main index most likely needs)."""
    if isinstance(error, ProjectNotFound) and public:
        return (
            f"{error.message}; if it is served from another index, set "
            f'[packages."{error.name}"] index in the matrix'
        )
    return error.message


def _report_problems(
    result: Outdated, errors: Sequence[AstroctlError], notify: Notify | None
) -> None:
    """Warn about the packages not looked up, grouped by problem; raise when none was."""
    problems = result.problems
    if not problems:
        return
    if len(problems) == len(result.packages):
        named = [f"  {p.package}: {p.problem}" for p in problems[:_SHOWN_PROBLEMS]]
        more = len(problems) - len(named)
        lines = [
            f"no package of {result.release.name} could be looked up:",
            *named,
            *([f"  ... and {more} more"] if more else []),
        ]
        not_found = len(errors) == len(problems)  # none failed later, reading metadata
        if not_found and all(isinstance(error, ProjectNotFound) for error in errors):
            raise InputError("\n".join(lines))
        raise OperationError("\n".join(lines))
    if notify is None:
        return
    grouped: dict[str, list[str]] = {}
    for status in problems:
        grouped.setdefault(status.problem or "", []).append(status.package)
    for problem, names in grouped.items():
        notify(f"{', '.join(names)}: not looked up: {problem}")
    total, count = len(result.packages), len(problems)
    shown = "shown with its problem" if count == 1 else "shown with their problems"
    answered = (
        "the other was answered"
        if total - count == 1
        else f"the other {total - count} were answered"
    )
    notify(f"{count} of {total} packages could not be looked up ({shown}); {answered}")


def _check_metadata(searches: Sequence[_Search], target: Target, stages: _Stages) -> None:
    """Read the metadata of the newest candidates, in rounds, until each search is done."""
    width = _FIRST_ROUND
    while True:
        batch = [(s, s.pending[:width]) for s in searches if not s.done]
        if not batch:
            return
        by_client: dict[int, list[tuple[Project, str]]] = {}
        clients: dict[int, PackageIndex] = {}
        for search, versions in batch:
            clients[id(search.client)] = search.client
            by_client.setdefault(id(search.client), []).extend(
                (search.project, v) for v in versions
            )
        found: dict[tuple[str, str], Metadata] = {}
        failed: dict[tuple[str, str], AstroctlError] = {}
        for key, wanted in by_client.items():
            answered, errors = clients[key].lookup_metadata(wanted, stages.callback(METADATA_STAGE))
            found.update(answered)
            failed.update(errors)
        for search, versions in batch:
            del search.pending[: len(versions)]
            for version in versions:
                error = failed.get((search.project.name, version))
                if error is not None:  # unknown whether it is compatible: the search stops
                    search.problem = error.message
                    break
                reason = _metadata_reason(
                    found.get((search.project.name, version)), version, target
                )
                if reason is None:
                    search.found = version
                    break
                search.reasons[version] = reason
        width *= _GROWTH


def _status(search: _Search, current: str) -> PackageStatus:
    if search.problem is not None:
        return PackageStatus(
            search.package,
            current,
            None,
            None,
            newest=search.newest,
            index=shown_url(search.client.url),
            problem=search.problem,
        )
    latest = search.found or current
    change = classify(current, latest) if search.found else ChangeKind.UNCHANGED
    held_back = None
    if search.newest is not None and Version(search.newest) > Version(latest):
        held_back = search.reasons.get(search.newest)
    return PackageStatus(
        search.package,
        current,
        latest,
        change,
        newest=search.newest,
        held_back=held_back,
        index=shown_url(search.client.url),
    )


__all__ = [
    "Outdated",
    "PackageStatus",
    "airflow_conflict",
    "find_outdated",
    "python_admits",
    "within",
]
