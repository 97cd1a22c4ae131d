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
    """A package the matrix has never pinned (``suggestion``: the closest one it has)."""

    def __init__(self, package: str, suggestion: str | None) -> None:
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(f"{package!r} is not a package of the matrix{hint}")
        self.package = package
        self.suggestion = suggestion


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
    releases = versioning.line_releases(matrix, request.line)
    base = versioning.base_of(releases)
    if base.is_prerelease:
        raise InputError(
            f"{request.line or base.major} has only release candidates (up to {base.name}); "
            "promote one before releasing from it"
        )
    highest_major = max(matrix.lines) if matrix.lines else base.major
    target = versioning.next_core(base.version, request.level, highest_major)
    version = versioning.next_version(matrix, target, request.pre)
    new_line = None
    if request.level is Level.MAJOR:
        line = new_line = _new_line(matrix, base, request)
        airflow = _major_airflow(matrix, request.airflow)
    else:
        line = matrix.lines[base.major]
        _check_maintained(line, request)
        candidates = versioning.candidates_of(matrix, target)
        if candidates:  # the next candidate (or the final) starts from the last one
            base = candidates[-1]
        airflow = _airflow(base, request.airflow)
    packages = _packages(matrix, base, request)
    release = Release(
        version=version,
        airflow=airflow,
        line=line,
        python=base.python if new_line is None else line.python,
        python_versions=base.python_versions if new_line is None else line.python_versions,
        os=base.os if new_line is None else line.os,
        architectures=base.architectures if new_line is None else line.architectures,
        released=request.day,
        packages=packages,
        flavors=_flavors(base.flavors, packages),
        notes=request.notes,
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
    )


def plan_promote(
    matrix: Matrix, candidate: Release, day: date, *, allow_eol: bool = False
) -> ReleasePlan:
    """``X.Y.Z`` from its candidate ``X.Y.Z-rc.N``: the same content, the candidates' notes."""
    number = versioning.candidate_number(candidate.version)
    if number is None:
        raise InputError(f"{candidate.name} is not a release candidate (X.Y.Z-rc.N)")
    target = versioning.core(candidate.version)
    candidates = versioning.candidates_of(matrix, target)
    if candidates[-1].version != candidate.version:
        raise InputError(
            f"{candidate.name} is not the latest candidate of {'.'.join(map(str, target))}; "
            f"promote {candidates[-1].name}"
        )
    version = versioning.next_version(matrix, target, None)
    notes = _combined(c.notes for c in candidates)
    release = replace(candidate, version=version, released=day, yanked=None, notes=notes)
    _check_maintained(release.line, ReleaseRequest(Level.PATCH, day, allow_eol=allow_eol))
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


def _combined(groups: Iterable[tuple[ReleaseNote, ...]]) -> tuple[ReleaseNote, ...]:
    """The candidates' notes, each once, in the order they were first released."""
    seen: dict[ReleaseNote, None] = {}
    for group in groups:
        for note in group:
            seen.setdefault(note, None)
    return tuple(seen)


def _check_maintained(line: Line, request: ReleaseRequest) -> None:
    if request.day > line.end_of_maintenance and not request.allow_eol:
        raise EndOfMaintenance(line, request.day)


def _new_line(matrix: Matrix, base: Release, request: ReleaseRequest) -> Line:
    """A new major line, derived from the highest one: its Python, OS and architectures."""
    previous = matrix.lines[max(matrix.lines)]
    return Line(
        major=max(matrix.lines) + 1,
        channel=request.channel or Channel.STABLE,
        end_of_maintenance=request.end_of_maintenance or _months_after(request.day),
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
    return text.strip()


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
    return text.strip()


def known_packages(matrix: Matrix) -> frozenset[str]:
    """Every package the matrix pins somewhere or describes."""
    names: set[str] = set(matrix.packages)
    for release in matrix.releases:
        names.update(release.packages)
    return frozenset(names)


def _name(matrix_names: frozenset[str], raw: str, *, must_exist: bool) -> str:
    name = versions.normalize_name(raw.strip())
    if not versions.is_normalized_name(name):
        raise InputError(f"{raw!r} is not a valid distribution name")
    if must_exist and name not in matrix_names:
        import difflib  # only an unknown name pays for it

        close = difflib.get_close_matches(name, sorted(matrix_names), n=1, cutoff=0.6)
        raise UnknownPackage(name, close[0] if close else None)
    return name


def _version(name: str, text: str) -> str:
    version = text.strip()
    if not versions.is_pep440(version):
        raise InputError(f"{name}: {versions.pep440_problem(version)}")
    return version


def _packages(matrix: Matrix, base: Release, request: ReleaseRequest) -> dict[str, str]:
    names = known_packages(matrix)
    pins = dict(base.packages)
    for raw, text in request.sets:
        name = _name(names, raw, must_exist=True)
        pins[name] = _version(name, text)
    for raw, text in request.adds:
        name = _name(names, raw, must_exist=False)
        if name in pins:
            raise InputError(f"{name} is already pinned ({pins[name]}) in {base.name}")
        pins[name] = _version(name, text)
    for raw in request.unsets:
        name = _name(frozenset(pins), raw, must_exist=True)
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
