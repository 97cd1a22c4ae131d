"""What a release's packages are looked up for, and where (SPEC 4).

The target: the release's Python (its default, or one it ships, chosen with ``--python``) and
Airflow, on Linux, with the PEP 508 marker environment of the runtime image. The indexes:
``--index-url``, then ``$PIP_INDEX_URL``, then the matrix's ``[upstream] index_url``, with
``$PIP_EXTRA_INDEX_URL`` as extra indexes, and a package's own ``[packages.X] index``.

The platform a check resolves for (:func:`uv_platform`): the architecture, and the glibc of
the release's Debian (its ``os``), as the manylinux level uv accepts wheels up to.

Shared by ``providers outdated`` and ``constraints resolve``; light on purpose (no index client,
no packaging), so a command that only needs the choice does not pay for the rest at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from astroctl.errors import InputError
from astroctl.matrix.model import Matrix, Release
from astroctl.seams.http import shown_url
from astroctl.seams.urls import index_urls_from_environment, refuse_credentials


@dataclass(frozen=True)
class IndexChoice:
    """The index packages are looked up on, where that choice came from, and extra indexes."""

    url: str
    origin: str  # "--index-url", "$PIP_INDEX_URL" or "[upstream] index_url"
    extra_urls: tuple[str, ...] = ()

    @property
    def shown_url(self) -> str:
        """The index as output shows it: without the credentials ``$PIP_INDEX_URL`` may carry."""
        return shown_url(self.url)

    @property
    def shown_extra_urls(self) -> tuple[str, ...]:
        return tuple(shown_url(url) for url in self.extra_urls)


def choose_index(option: str | None, environ: Mapping[str, str], matrix: Matrix) -> IndexChoice:
    """``--index-url``, then ``$PIP_INDEX_URL``, then the matrix's ``[upstream] index_url``;
    ``$PIP_EXTRA_INDEX_URL`` adds extra indexes whichever was chosen, as pip does. A URL with
    credentials is refused from ``--index-url`` and the matrix (netrc is the place for them);
    the environment's may carry them."""
    primary, extras = index_urls_from_environment(environ)
    if option is not None and option.strip():
        return IndexChoice(refuse_credentials(option.strip(), "--index-url"), "--index-url", extras)
    if primary is not None:
        return IndexChoice(primary, "$PIP_INDEX_URL", extras)
    url = refuse_credentials(matrix.upstream.index_url, "[upstream] index_url")
    return IndexChoice(url, "[upstream] index_url", extras)


def private_index(matrix: Matrix, package: str) -> str | None:
    """The ``[packages.X] index`` of a package, refused when it carries credentials."""
    url = matrix.facts(package).index
    if not url:
        return None
    return refuse_credentials(url, f'[packages."{package}"] index')


@dataclass(frozen=True)
class Target:
    """What a release runs on: its Python and Airflow, on Linux x86_64."""

    python: str  # "3.11"
    airflow: str

    @property
    def markers(self) -> Mapping[str, str]:
        """The PEP 508 marker environment of the runtime image."""
        full = f"{self.python}.0"
        return MappingProxyType(
            {
                "python_version": self.python,
                "python_full_version": full,
                "implementation_name": "cpython",
                "implementation_version": full,
                "platform_python_implementation": "CPython",
                "os_name": "posix",
                "sys_platform": "linux",
                "platform_system": "Linux",
                "platform_machine": "x86_64",
                "platform_release": "",
                "platform_version": "",
                "extra": "",
            }
        )


def target_of(release: Release, python: str | None = None) -> Target:
    """The release's default Python (or ``python``, one of its distributions) and Airflow."""
    if python is None:
        return Target(release.python, release.airflow)
    if python not in release.python_versions:
        shipped = ", ".join(release.python_versions)
        raise InputError(
            f"--python {python!r}: {release.name} ships Python {shipped}, not {python}"
        )
    return Target(python, release.airflow)


# glibc of each Debian release a runtime image is built on: the newest manylinux wheels its pip
# installs (manylinux_2_31 on bullseye). https://packages.debian.org/<codename>/libc6
DEBIAN_GLIBC: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "stretch": (2, 24),
        "buster": (2, 28),
        "bullseye": (2, 31),
        "bookworm": (2, 36),
        "trixie": (2, 41),
    }
)
# the manylinux levels uv 0.8+ takes as --python-platform (x86_64-manylinux_2_31, ...)
UV_MANYLINUX = ((2, 17), (2, 28), *((2, minor) for minor in range(31, 41)))
UV_MACHINES: Mapping[str, str] = MappingProxyType({"amd64": "x86_64", "arm64": "aarch64"})


@dataclass(frozen=True)
class Platform:
    """What uv resolves a check for: the architecture and the glibc of the image, as a
    manylinux level (None: uv's own default for Linux, manylinux_2_28, when the release's OS
    names no Debian release astroctl knows)."""

    architecture: str  # amd64, arm64
    uv: str  # uv's --python-platform: x86_64-manylinux_2_31, or x86_64-unknown-linux-gnu
    glibc: tuple[int, int] | None = None  # the image's
    manylinux: tuple[int, int] | None = None  # the level uv is given: the image's, or below

    @property
    def shown(self) -> str:
        """How output names it: ``linux/arm64``."""
        return f"linux/{self.architecture}"


def uv_platform(release: Release, architecture: str) -> Platform:
    """The platform a check of ``release`` resolves for on ``architecture``: manylinux at the
    glibc of its Debian release (bullseye: 2.31), or the highest level uv knows below it, so
    the wheels uv accepts are those pip in the image installs, no more and no fewer (uv's
    ``x86_64-unknown-linux-gnu`` stops at manylinux_2_28, so a manylinux_2_31 wheel, which
    bullseye installs, read as "no wheel", and ``--hashes`` left out the file pip picks)."""
    machine = UV_MACHINES.get(architecture)
    if machine is None:
        known = ", ".join(UV_MACHINES)
        raise InputError(f"release {release.name}: architecture {architecture!r} is not {known}")
    glibc = DEBIAN_GLIBC.get(release.codename or "")
    if glibc is None:
        return Platform(architecture, f"{machine}-unknown-linux-gnu")
    level = max(known for known in UV_MANYLINUX if known <= glibc)
    return Platform(architecture, f"{machine}-manylinux_{level[0]}_{level[1]}", glibc, level)
