"""The compatibility matrix as typed, frozen values (schema 1, SPEC section 2).

Everything here is already validated: :mod:`astroctl.schema` builds these values from a TOML
document and refuses to build an invalid one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from astroctl.versions import RuntimeVersion

SCHEMA_VERSION = 1
ARCHITECTURES = ("amd64", "arm64")
CHANNELS = ("stable", "lts")

_EMPTY: Mapping[str, str] = MappingProxyType({})


class Level(Enum):
    """A release level, ordered: patch < minor < major."""

    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {Level.PATCH: 1, Level.MINOR: 2, Level.MAJOR: 3}

# The kinds of package change a diff reports and the level each needs (SPEC section 5).
DEFAULT_PACKAGE_POLICY: Mapping[str, Level] = MappingProxyType(
    {
        "added": Level.MINOR,
        "removed": Level.MAJOR,
        "major": Level.MAJOR,
        "minor": Level.MINOR,
        "patch": Level.PATCH,
        "downgrade": Level.MAJOR,
        "other": Level.PATCH,
    }
)


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


@dataclass(frozen=True)
class EnvVar:
    """A runtime default environment variable: a fixed value or a per-deployment formula."""

    name: str
    value: str | None = None
    formula: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Line:
    """A major line: the defaults its releases inherit."""

    major: int
    channel: str
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
    def channel(self) -> str:
        return self.line.channel

    @property
    def end_of_maintenance(self) -> date:
        return self.line.end_of_maintenance


@dataclass(frozen=True)
class Policy:
    """Overrides of the versioning policy: change kind -> required level (SPEC section 5)."""

    default: Mapping[str, Level] = field(default_factory=lambda: DEFAULT_PACKAGE_POLICY)
    packages: Mapping[str, Mapping[str, Level]] = field(default_factory=dict)

    def level_for(self, package: str, change: str) -> Level:
        override = self.packages.get(package, {})
        return override.get(change, self.default[change])


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
