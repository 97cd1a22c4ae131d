"""The compatibility matrix as typed, frozen values (schema 1, SPEC section 2).

Everything here is already validated: :mod:`astroctl.matrix.schema` builds these values from a TOML
document and refuses to build an invalid one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from astroctl.versions import RuntimeVersion

SCHEMA_VERSION = 1
ARCHITECTURES = ("amd64", "arm64")


class Channel(StrEnum):
    """A line's release channel."""

    STABLE = "stable"
    LTS = "lts"


CHANNELS = tuple(channel.value for channel in Channel)

_EMPTY: Mapping[str, str] = MappingProxyType({})


class Level(Enum):
    """A release level, ordered: patch < minor < major."""

    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK: Mapping[Level, int] = MappingProxyType(
    {Level.PATCH: 1, Level.MINOR: 2, Level.MAJOR: 3}
)


class ChangeKind(StrEnum):
    """How a package changed between two releases (SPEC section 4, ``providers diff``)."""

    ADDED = "added"
    REMOVED = "removed"
    MAJOR = "major"
    MINOR = "minor"
    PATCH = "patch"
    DOWNGRADE = "downgrade"
    OTHER = "other"  # not comparable as major/minor/patch: a post, dev or local release
    UNCHANGED = "unchanged"


# The kinds of package change a diff reports and the level each needs (SPEC section 5).
DEFAULT_PACKAGE_POLICY: Mapping[ChangeKind, Level] = MappingProxyType(
    {
        ChangeKind.ADDED: Level.MINOR,
        ChangeKind.REMOVED: Level.MAJOR,
        ChangeKind.MAJOR: Level.MAJOR,
        ChangeKind.MINOR: Level.MINOR,
        ChangeKind.PATCH: Level.PATCH,
        ChangeKind.DOWNGRADE: Level.MAJOR,
        ChangeKind.OTHER: Level.PATCH,
    }
)


class Change(StrEnum):
    """Every kind of change between two releases that the versioning policy rates (SPEC 5).

    Package changes use the :class:`ChangeKind` names (``added``, ``minor``, ...); the rest are
    the Airflow version, the platform, and the types of change notes (fragments).
    """

    AIRFLOW_MAJOR = "airflow-major"
    AIRFLOW_MINOR = "airflow-minor"
    AIRFLOW_PATCH = "airflow-patch"  # a patch or a local (+astro.N) build
    AIRFLOW_DOWNGRADE = "airflow-downgrade"
    ADDED = "added"
    REMOVED = "removed"
    MAJOR = "major"
    MINOR = "minor"
    PATCH = "patch"
    DOWNGRADE = "downgrade"
    OTHER = "other"
    PYTHON_DEFAULT = "python-default"
    PYTHON_ADDED = "python-added"
    PYTHON_REMOVED = "python-removed"
    ARCHITECTURE_ADDED = "architecture-added"
    ARCHITECTURE_REMOVED = "architecture-removed"
    OS = "os"
    BREAKING = "breaking"
    FEATURE = "feature"
    IMPROVEMENT = "improvement"
    BUGFIX = "bugfix"
    SECURITY = "security"
    BACKPORT = "backport"


class NoteType(StrEnum):
    """The types of a change note (``changes/<name>.<type>.md``) and of a release's notes."""

    BREAKING = "breaking"
    FEATURE = "feature"
    IMPROVEMENT = "improvement"
    BUGFIX = "bugfix"
    SECURITY = "security"
    BACKPORT = "backport"


# The level each change requires by default: SPEC section 5's table.
DEFAULT_POLICY: Mapping[Change, Level] = MappingProxyType(
    {
        Change.AIRFLOW_MAJOR: Level.MAJOR,
        Change.AIRFLOW_MINOR: Level.MAJOR,
        Change.AIRFLOW_PATCH: Level.PATCH,
        Change.AIRFLOW_DOWNGRADE: Level.MAJOR,
        **{Change(kind.value): level for kind, level in DEFAULT_PACKAGE_POLICY.items()},
        Change.PYTHON_DEFAULT: Level.MAJOR,
        Change.PYTHON_ADDED: Level.MINOR,
        Change.PYTHON_REMOVED: Level.MAJOR,
        Change.ARCHITECTURE_ADDED: Level.MINOR,
        Change.ARCHITECTURE_REMOVED: Level.MAJOR,
        Change.OS: Level.MAJOR,
        Change.BREAKING: Level.MAJOR,
        Change.FEATURE: Level.MINOR,
        Change.IMPROVEMENT: Level.PATCH,
        Change.BUGFIX: Level.PATCH,
        Change.SECURITY: Level.PATCH,
        Change.BACKPORT: Level.PATCH,
    }
)
PACKAGE_CHANGES = tuple(Change(kind.value) for kind in DEFAULT_PACKAGE_POLICY)


@dataclass(frozen=True)
class PolicyRule:
    """A rule of the versioning policy: ``change`` (of ``package``, or of any) needs ``level``,
    for releases on or after ``since`` (always, without one)."""

    change: Change
    level: Level
    package: str | None = None
    since: date | None = None
    reason: str = ""


@dataclass(frozen=True)
class ReleaseNote:
    """One change note a release carries (a consumed fragment): its type and its text."""

    type: NoteType
    text: str


@dataclass(frozen=True)
class ImageSettings:
    repository: str = "quay.io/astronomer/astro-runtime"
    floating_tags: bool = False


@dataclass(frozen=True)
class Upstream:
    constraints_url: str = (
        "https://raw.githubusercontent.com/apache/airflow/"
        "constraints-{airflow}/constraints-{python}.txt"
    )
    index_url: str = "https://pypi.org/simple"


@dataclass(frozen=True)
class PackageFacts:
    """What the matrix knows about a package beyond its pinned versions."""

    name: str
    maintained: bool = False  # ours: every version change is called out in release notes
    runtime_only: bool = False  # in the runtime, not installed by default with Apache Airflow
    index: str | None = None  # served from this index instead of the public one
    changelog: str | None = None  # where the notes link for its changes


class EnvKind(StrEnum):
    """How the runtime treats an environment variable."""

    VALUE = "value"  # baked into the image
    FORMULA = "formula"  # computed per deployment, never baked
    OVERRIDE = "override"  # not set by the image: the user may set it; ``default`` applies if not


@dataclass(frozen=True)
class EnvVar:
    """A runtime environment variable: a baked value, a per-deployment formula or an override."""

    name: str
    value: str | None = None
    formula: str | None = None
    description: str = ""
    default: str | None = None  # an override's behaviour when the user leaves it unset

    @property
    def kind(self) -> EnvKind:
        if self.value is not None:
            return EnvKind.VALUE
        if self.formula is not None:
            return EnvKind.FORMULA
        return EnvKind.OVERRIDE


@dataclass(frozen=True)
class Line:
    """A major line: the defaults its releases inherit."""

    major: int
    channel: Channel
    end_of_maintenance: date
    python: str
    python_versions: tuple[str, ...]
    os: str
    architectures: tuple[str, ...]


@dataclass(frozen=True)
class Release:
    """One runtime release with its line's defaults applied."""

    version: RuntimeVersion
    airflow: str
    line: Line
    python: str
    python_versions: tuple[str, ...]
    os: str
    architectures: tuple[str, ...]
    released: date | None = None
    yanked: str | None = None
    packages: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    # Named subsets of the standard image, such as 11.x's "slim" image: flavor -> packages.
    flavors: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    notes: tuple[ReleaseNote, ...] = ()  # the change notes it was released with

    @property
    def name(self) -> str:
        return str(self.version)

    @property
    def major(self) -> int:
        return int(self.version.major)

    @property
    def is_prerelease(self) -> bool:
        return self.version.prerelease is not None

    @property
    def is_yanked(self) -> bool:
        return self.yanked is not None

    @property
    def codename(self) -> str | None:
        """The Debian codename of its OS (``bullseye`` for ``Debian 11.7 (bullseye)``), or None
        when the OS names none in parentheses."""
        opened = self.os.rfind("(")
        closed = self.os.find(")", opened + 1)
        if opened < 0 or closed < 0:
            return None
        word = self.os[opened + 1 : closed].strip()
        return word if word.isalpha() and word.islower() else None

    @property
    def channel(self) -> Channel:
        return self.line.channel

    @property
    def end_of_maintenance(self) -> date:
        return self.line.end_of_maintenance


@dataclass(frozen=True)
class Policy:
    """The versioning policy: the level each change requires (SPEC section 5).

    ``default`` rates every :class:`Change` (SPEC's table, with the file's ``[policy.default]``
    applied); ``packages`` overrides package changes per package (``[policy.packages.NAME]``);
    ``rules`` (``[[policy.rules]]``) are rules that may hold only from a date on.
    """

    default: Mapping[Change, Level] = field(default_factory=lambda: DEFAULT_POLICY)
    packages: Mapping[str, Mapping[Change, Level]] = field(default_factory=dict)
    rules: tuple[PolicyRule, ...] = ()

    def level_for(self, package: str, change: ChangeKind | Change) -> Level:
        """The level a change requires, without regard to dates."""
        key = Change(change.value)
        override = self.packages.get(package, {})
        return override.get(key, self.default[key])

    def rule_on(self, change: Change, package: str | None, on: date | None) -> PolicyRule:
        """The rule in force for ``change`` (of ``package``) on day ``on`` (None: the newest).

        The most specific wins: a dated rule for the package, then the package's own table,
        then a dated rule for any package, then the defaults; among dated rules that hold on
        that day, the latest ``since``.
        """
        if package is not None:
            found = self._latest(change, package, on)
            if found is not None:
                return found
            override = self.packages.get(package, {})
            if change in override:
                return PolicyRule(change, override[change], package, None, "the matrix's policy")
        found = self._latest(change, None, on)
        if found is not None:
            return found
        return PolicyRule(change, self.default[change], None, None, "")

    def _latest(self, change: Change, package: str | None, on: date | None) -> PolicyRule | None:
        best: PolicyRule | None = None
        for rule in self.rules:
            if rule.change is not change or rule.package != package:
                continue
            if rule.since is not None and on is not None and rule.since > on:
                continue
            if best is None or (rule.since or date.min) > (best.since or date.min):
                best = rule
        return best


@dataclass(frozen=True)
class Matrix:
    """The whole release database. ``releases`` is sorted by version, ascending."""

    lines: Mapping[int, Line]
    releases: tuple[Release, ...]
    image: ImageSettings = field(default_factory=ImageSettings)
    upstream: Upstream = field(default_factory=Upstream)
    packages: Mapping[str, PackageFacts] = field(default_factory=dict)
    env: Mapping[str, EnvVar] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)
    header: str = ""  # the file's leading comment block, kept when the file is rewritten

    def releases_of(self, major: int) -> tuple[Release, ...]:
        return tuple(r for r in self.releases if r.major == major)

    def facts(self, package: str) -> PackageFacts:
        return self.packages.get(package) or PackageFacts(name=package)
