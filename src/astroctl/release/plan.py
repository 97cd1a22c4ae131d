"""Planning a release: pure, no I/O. ``plan_release`` (and ``plan_promote``) work out the next
entry of the matrix, what changed against its predecessor and what the policy requires;
``release/apply.py`` is the only writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from packaging.version import Version

from astroctl import versions
from astroctl.errors import InputError
from astroctl.matrix.diff import ReleaseDiff, diff_releases
from astroctl.matrix.model import Channel, Level, Line, Matrix, Release, ReleaseNote
from astroctl.matrix.schema import build_matrix, to_document
from astroctl.release import versioning
from astroctl.release.history import predecessor
from astroctl.release.policy import Requirement, required

NEW_LINE_MAINTENANCE_MONTHS = 12


class UnknownPackage(InputError):
    """A package the matrix has never pinned, or (``release`` named) the base does not pin;
    ``suggestion``: the closest name there is."""

    def __init__(self, package: str, suggestion: str | None, release: str | None = None) -> None:
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        where = f"pinned in {release}" if release else "a package of the matrix"
        super().__init__(f"{package!r} is not {where}{hint}")
        self.package = package
        self.suggestion = suggestion
        self.release = release


AIRFLOW = "apache-airflow"


class AirflowIsNotAPin(InputError):
    """apache-airflow is the release's Airflow version, never one of its package pins."""

    def __init__(self) -> None:
        super().__init__("apache-airflow is the release's Airflow version, not a package pin")


class EndOfMaintenance(InputError):
    """The line is past its end of maintenance (a release needs an explicit override)."""

    def __init__(self, line: Line, day: date) -> None:
        super().__init__(
            f"line {line.major} reached its end of maintenance on "
            f"{line.end_of_maintenance.isoformat()}; a release on {day.isoformat()} is refused"
        )
        self.line = line
        self.day = day


@dataclass(frozen=True)
class ReleaseRequest:
    """What the release engineer asked for."""

    level: Level
    day: date  # the release date
    line: str | None = None  # a line selector: 9 or 9.10 (default: the highest line)
    airflow: str | None = None
    sets: tuple[tuple[str, str], ...] = ()  # packages the matrix knows, to a version
    adds: tuple[tuple[str, str], ...] = ()  # packages new to the matrix
    unsets: tuple[str, ...] = ()
    pre: str | None = None  # "rc"
    allow_eol: bool = False
    channel: Channel | None = None  # a new line's (major)
    end_of_maintenance: date | None = None  # a new line's (major)
    notes: tuple[ReleaseNote, ...] = ()  # from change fragments


@dataclass(frozen=True)
class ReleasePlan:
    """The release to be written, and why the policy rates it as it does."""

    level: Level  # asked for (for a promotion: the bump from the predecessor)
    base: Release  # the release its content starts from
    previous: Release | None  # its predecessor, against which the policy judges it
    release: Release
    matrix: Matrix  # the matrix with the release in it
    requirement: Requirement
    diff: ReleaseDiff | None
    new_line: Line | None = None
    promoted: tuple[Release, ...] = field(default=())  # the candidates a promotion folds in

    @property
    def ok(self) -> bool:
        needed = self.requirement.level
        return needed is None or self.level.rank >= needed.rank


def plan_release(matrix: Matrix, request: ReleaseRequest) -> ReleasePlan:
    """The next release of a line at the requested level, or an :class:`InputError`."""
    start = _start(matrix, request)
    base, line, new_line, target = start.base, start.line, start.new_line, start.target
    version = versioning.next_version(matrix, target, request.pre)
    if new_line is None:
        _check_maintained(line, request.day, allow_eol=request.allow_eol)
    if base.released is not None and request.day < base.released:
        raise InputError(
            f"the release date {request.day.isoformat()} is before {base.released.isoformat()}, "
            f"when {base.name}, which it starts from, was released"
        )
    candidates = versioning.candidates_of(matrix, target)
    promoted: tuple[Release, ...] = ()
    notes = request.notes
    if candidates:  # the next candidate, or the final, starts from the last one
        base = candidates[-1]
        if request.pre is None:  # the final folds its candidates in, notes and sections
            promoted = candidates
            notes = _combined([*(c.notes for c in candidates), request.notes])
    if start.new_airflow:
        airflow = _major_airflow(matrix, request.airflow)
    else:
        airflow = _airflow(base, request.airflow)
    packages = _packages(matrix, base, request)
    fresh = new_line is not None
    release = Release(
        version=version,
        airflow=airflow,
        line=line,
        python=line.python if fresh else base.python,
        python_versions=line.python_versions if fresh else base.python_versions,
        os=line.os if fresh else base.os,
        architectures=line.architectures if fresh else base.architectures,
        released=request.day,
        packages=packages,
        flavors=_flavors(base.flavors, packages),
        notes=notes,
    )
    updated = _with(matrix, release, new_line)
    previous = predecessor(updated, release)
    return ReleasePlan(
        level=request.level,
        base=base,
        previous=previous,
        release=release,
        matrix=updated,
        requirement=required(previous, release, updated.policy, on=request.day),
        diff=diff_releases(previous or base, release),
        new_line=new_line,
        promoted=promoted,
    )


@dataclass(frozen=True)
class _Start:
    """Where a release starts: its content's base, its line, its MAJOR.MINOR.PATCH."""

    base: Release
    line: Line
    target: tuple[int, int, int]
    new_line: Line | None = None  # a line this release creates
    new_airflow: bool = False  # the release opens a line: it needs a new Airflow minor


def _start(matrix: Matrix, request: ReleaseRequest) -> _Start:
    if request.level is Level.MAJOR:
        return _major_start(matrix, request)
    base = versioning.base_of(versioning.line_releases(matrix, request.line))
    if base.is_prerelease:
        raise InputError(
            f"{request.line or base.major} has only release candidates (up to {base.name}); "
            "promote one before releasing from it"
        )
    target = versioning.next_core(base.version, request.level, base.major)
    return _Start(base=base, line=matrix.lines[base.major], target=target)


def _major_start(matrix: Matrix, request: ReleaseRequest) -> _Start:
    """A major opens the line after the highest; a line declared without releases is used as
    it is; a line holding only the candidates of its X.0.0 gets its next candidate or final."""
    highest = max(matrix.lines)
    existing = matrix.releases_of(highest)
    opening = all(versioning.core(r.version) == (highest, 0, 0) for r in existing)
    if existing and opening and all(r.is_prerelease for r in existing):
        last = max(existing, key=lambda r: r.version)
        return _Start(base=last, line=matrix.lines[highest], target=(highest, 0, 0))
    if not existing:  # declared ahead of its first release: its own defaults
        base = versioning.base_of(matrix.releases)
        line = matrix.lines[highest]
        return _Start(base, line, (highest, 0, 0), new_line=None, new_airflow=True)
    base = versioning.base_of(existing)
    line = _new_line(matrix, request)
    return _Start(base, line, (highest + 1, 0, 0), new_line=line, new_airflow=True)


def plan_promote(
    matrix: Matrix, candidate: Release, day: date, *, allow_eol: bool = False
) -> ReleasePlan:
    """``X.Y.Z`` from its candidate ``X.Y.Z-rc.N``: the same content, the candidates' notes."""
    number = versioning.candidate_number(candidate.version)
    if number is None:
        raise InputError(f"{candidate.name} is not a release candidate (X.Y.Z-rc.N)")
    if candidate.is_yanked:
        raise InputError(f"{candidate.name} is yanked ({candidate.yanked}); it cannot be promoted")
    target = versioning.core(candidate.version)
    candidates = versioning.candidates_of(matrix, target)
    good = [c for c in candidates if not c.is_yanked]
    if good[-1].version != candidate.version:
        raise InputError(
            f"{candidate.name} is not the latest good candidate of "
            f"{'.'.join(map(str, target))}; promote {good[-1].name}"
        )
    if candidate.released is not None and day < candidate.released:
        raise InputError(
            f"the release date {day.isoformat()} is before {candidate.released.isoformat()}, "
            f"when {candidate.name} was released"
        )
    version = versioning.next_version(matrix, target, None)
    notes = _combined(c.notes for c in candidates)
    release = replace(candidate, version=version, released=day, yanked=None, notes=notes)
    _check_maintained(release.line, day, allow_eol=allow_eol)
    updated = _with(matrix, release, None)
    previous = predecessor(updated, release)
    bump = _bump(previous, release)
    return ReleasePlan(
        level=bump,
        base=candidate,
        previous=previous,
        release=release,
        matrix=updated,
        requirement=required(previous, release, updated.policy, on=day),
        diff=diff_releases(previous or candidate, release),
        promoted=candidates,
    )


# -- parts --------------------------------------------------------------------------------------


def _bump(previous: Release | None, release: Release) -> Level:
    if previous is None or previous.major != release.major:
        return Level.MAJOR
    if previous.version.minor != release.version.minor:
        return Level.MINOR
    return Level.PATCH


def _combined(groups: Iterable[Iterable[ReleaseNote]]) -> tuple[ReleaseNote, ...]:
    """The candidates' notes, each once, in the order they were first released."""
    seen: dict[ReleaseNote, None] = {}
    for group in groups:
        for note in group:
            seen.setdefault(note, None)
    return tuple(seen)


def _check_maintained(line: Line, day: date, *, allow_eol: bool) -> None:
    if day > line.end_of_maintenance and not allow_eol:
        raise EndOfMaintenance(line, day)


def _new_line(matrix: Matrix, request: ReleaseRequest) -> Line:
    """A new major line, derived from the highest one: its Python, OS and architectures."""
    previous = matrix.lines[max(matrix.lines)]
    end = request.end_of_maintenance or _months_after(request.day)
    if end < request.day:
        raise InputError(
            f"the new line's end of maintenance {end.isoformat()} is before its first release "
            f"({request.day.isoformat()})"
        )
    return Line(
        major=max(matrix.lines) + 1,
        channel=request.channel or Channel.STABLE,
        end_of_maintenance=end,
        python=previous.python,
        python_versions=previous.python_versions,
        os=previous.os,
        architectures=previous.architectures,
    )


def _months_after(day: date, months: int = NEW_LINE_MAINTENANCE_MONTHS) -> date:
    """The last day of the month ``months`` after ``day``."""
    index = day.year * 12 + day.month + months  # the month after the one wanted
    year, month = divmod(index, 12)
    return date(year, month + 1, 1) - timedelta(days=1)


def _parse_airflow(text: str) -> Version:
    try:
        return versions.parse_pep440(text)
    except (versions.InvalidVersion, ValueError):
        raise InputError(f"Airflow {text!r} is not a PEP 440 version such as 2.9.3") from None


def _airflow(base: Release, text: str | None) -> str:
    """The Airflow of a minor or patch release: the same minor as its line, never lower."""
    if text is None:
        return base.airflow
    wanted = _parse_airflow(text.strip())
    minor = versions.airflow_minor(base.airflow)
    if versions.airflow_minor(str(wanted)) != minor:
        raise InputError(
            f"Airflow {text} is not in Airflow {minor}, which line {base.major} ships; "
            "a new Airflow minor needs a major release"
        )
    if wanted < versions.parse_pep440(base.airflow):
        raise InputError(f"Airflow {text} goes backwards from {base.airflow} ({base.name})")
    return str(wanted)


def _major_airflow(matrix: Matrix, text: str | None) -> str:
    """A new line needs its own, newer Airflow minor."""
    if text is None:
        raise InputError("a major release starts a new line and needs its Airflow version")
    wanted = _parse_airflow(text.strip())
    minor = versions.airflow_minor(str(wanted))
    owners = {versions.airflow_minor(r.airflow): r.major for r in matrix.releases}
    if minor in owners:
        raise InputError(
            f"Airflow {minor} is already the Airflow of line {owners[minor]}; "
            "a new line ships a new Airflow minor"
        )
    newest = max((versions.parse_pep440(r.airflow) for r in matrix.releases), default=None)
    if newest is not None and wanted < newest:
        raise InputError(f"Airflow {text} goes backwards from {newest}, the newest in the matrix")
    return str(wanted)


def known_packages(matrix: Matrix) -> frozenset[str]:
    """Every package the matrix pins somewhere or describes."""
    names: set[str] = set(matrix.packages)
    for release in matrix.releases:
        names.update(release.packages)
    return frozenset(names)


def _name(
    matrix_names: frozenset[str], raw: str, *, must_exist: bool, release: str | None = None
) -> str:
    name = versions.normalize_name(raw.strip())
    if not versions.is_normalized_name(name):
        raise InputError(f"{raw!r} is not a valid distribution name")
    if name == AIRFLOW:
        raise AirflowIsNotAPin()
    if must_exist and name not in matrix_names:
        import difflib  # only an unknown name pays for it

        close = difflib.get_close_matches(name, sorted(matrix_names), n=1, cutoff=0.6)
        raise UnknownPackage(name, close[0] if close else None, release)
    return name


def _version(name: str, text: str) -> str:
    version = text.strip()
    if not versions.is_pep440(version):
        raise InputError(f"{name}: {versions.pep440_problem(version)}")
    return version


def _packages(matrix: Matrix, base: Release, request: ReleaseRequest) -> dict[str, str]:
    names = known_packages(matrix)
    pins = dict(base.packages)
    seen: set[str] = set()
    for raw, text in request.sets:
        name = _name(names, raw, must_exist=True)
        if name in seen:
            raise InputError(f"{name} is set twice")
        seen.add(name)
        pins[name] = _version(name, text)
    for raw, text in request.adds:
        name = _name(names, raw, must_exist=False)
        if name in base.packages:
            raise InputError(f"{name} is already pinned ({base.packages[name]}) in {base.name}")
        if name in pins:
            raise InputError(f"{name} is added twice")
        pins[name] = _version(name, text)
    for raw in request.unsets:
        name = _name(frozenset(pins), raw, must_exist=True, release=base.name)
        del pins[name]
    return dict(sorted(pins.items()))


def _flavors(
    flavors: Mapping[str, Mapping[str, str]], pins: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """A flavor keeps its packages, at the release's versions; a removed package leaves it."""
    return {
        name: {package: pins[package] for package in subset if package in pins}
        for name, subset in flavors.items()
    }


def _with(matrix: Matrix, release: Release, new_line: Line | None) -> Matrix:
    """The matrix with ``release`` (and its new line) in it, checked like a loaded file."""
    lines = dict(matrix.lines)
    if new_line is not None:
        lines[new_line.major] = new_line
    updated = replace(
        matrix,
        lines=lines,
        releases=tuple(sorted((*matrix.releases, release), key=lambda r: r.version)),
    )
    return build_matrix(to_document(updated), "the planned matrix", matrix.header)
