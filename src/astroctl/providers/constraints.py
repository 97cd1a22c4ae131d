"""A release's constraint set: Airflow's upstream constraints with the release's pins on top.

``constraints resolve`` (SPEC 4) in four steps, each a function a test can call alone:

1. :func:`~astroctl.providers.upstream.fetch_upstream` reads Airflow's constraints file for the
   release's Airflow and Python from ``[upstream] constraints_url``, cached, and parses it
   (see :mod:`astroctl.providers.upstream`).
2. :func:`overlay` puts the release's pins (``apache-airflow`` included) over it: the release
   wins, every override (upstream had X, the release pins Y) and every added pin is reported.
   Without an upstream file (``upstream="none"``), :func:`resolve` makes the whole set the way
   Airflow makes its own: uv resolves ``apache-airflow==X`` and the release's pins for Linux
   x86_64 as of the release date, and the result is frozen.
3. With ``check`` or ``hashes``, uv resolves the set against itself (every package of the set
   required, the set as constraints) for each architecture of the release; a conflict on any
   of them is :class:`ConstraintsDoNotInstall` (exit 3) with uv's explanation per architecture.
   uv prints each resolution as a PEP 751 lock, which lists per package its sdist and only the
   wheels installable on that architecture for that Python: a pin with no wheel there is built
   from source (a warning; with ``wheels_only``, a failure), and ``hashes`` keeps, per package,
   the union over the architectures of the hashes of the files listed (the wheels pip may pick
   on either, and the sdist). One uv run per architecture, whichever of the two is asked.
   What building such a pin takes is read from the files of its version on its index's page
   (see :mod:`astroctl.providers.builds`).
4. :func:`render` writes the file: a header naming its inputs and their digests, then the pins
   sorted by name, one per line, markers kept. Same inputs, same bytes: no clock is read.

A flavor (``Options.flavor``, such as 11.x's ``slim`` image) is made the same way from the
flavor's pins, which replace the standard image's (see
:func:`~astroctl.providers.listing.flavored`; ``apache-airflow`` is always pinned): it is
written as ``constraints-<flavor>-<python>.txt``, as Airflow names its variants
(``constraints-no-providers-3.11.txt``), and its header names the flavor. An unknown flavor is
an :class:`~astroctl.errors.InputError` before anything is fetched or run.

A package with its own index (``[packages.X] index``, such as astronomer-providers-logging on
``https://pip.astronomer.io/v2/``) is handed to uv as an extra index, which uv asks first for
every package (``uv pip compile`` cannot pin one package to one index), so an index that gives no
answer would fail the whole resolution. Before uv runs, each such package is asked of its index
through the index seam (one page, cached; offline: the cache). A package whose index gives no
answer, answers with an error, or does not have it is **left out** of uv's resolution and
check (and that index is not given to uv when none of its packages remain): it is still pinned
in the file as the release pins it, and the header, and a warning, name it with its index and
the problem: it was not checked, and what it needs is not in the set.

Credentials never come from an argument or the matrix: ``--upstream``, ``[upstream]
constraints_url`` and ``[packages.X] index`` with a user name or password are refused, pointing
at netrc (``--index-url`` and ``[upstream] index_url`` are refused by
:func:`~astroctl.providers.target.choose_index`).

:func:`resolve` is the plan (it writes nothing but scratch files for uv); :func:`write` is the
only writer. Nothing here prints: warnings go to ``notify``.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from pathlib import Path
from types import MappingProxyType

from packaging.version import InvalidVersion, Version

from astroctl import __version__
from astroctl.errors import AstroctlError, ChecksFailed, InputError, OperationError
from astroctl.matrix.diff import AIRFLOW_PACKAGE
from astroctl.matrix.model import Matrix, Release
from astroctl.providers.builds import (
    BuildsFromSource,
    SourceBuild,
    ask_index,
    no_wheel_warnings,
    source_builds,
    unclassified,
)
from astroctl.providers.listing import flavored
from astroctl.providers.target import IndexChoice, private_index, target_of, uv_platform
from astroctl.providers.upstream import Pin, UpstreamFile, constraints_url, fetch_upstream
from astroctl.seams.http import HttpClient, shown_url
from astroctl.seams.process import concurrently
from astroctl.seams.urls import refuse_credentials
from astroctl.seams.uv import CompileResult, ResolutionFailed, Uv
from astroctl.versions import normalize_name

Notify = Callable[[str], None]

NONE = "none"  # the --upstream value that means: no upstream file, resolve the whole set
FREEZE_ARCHITECTURE = "amd64"  # Airflow generates its constraints on Linux x86_64


# -- the overlay --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    """A package the release pins at another version than upstream."""

    package: str
    upstream: str
    release: str


@dataclass(frozen=True)
class Overlay:
    """The set: upstream's pins with the release's on top, sorted by name."""

    pins: tuple[Pin, ...]
    overrides: tuple[Override, ...]
    added: tuple[Pin, ...]  # the release's pins upstream lacks
    kept: int  # upstream's pins left as they were (the release agreeing included)


def release_pins(release: Release) -> dict[str, str]:
    """What the release pins: its packages and ``apache-airflow`` (canonical names)."""
    pins: dict[str, str] = {
        normalize_name(name): version for name, version in release.packages.items()
    }
    pins[AIRFLOW_PACKAGE] = release.airflow
    return dict(sorted(pins.items()))


def overlay(upstream: Iterable[Pin], pins: Mapping[str, str]) -> Overlay:
    """``pins`` over ``upstream``: the release wins (an upstream marker stays on its line)."""
    merged: dict[str, Pin] = {}
    overrides: list[Override] = []
    kept = 0
    for pin in upstream:
        wanted = pins.get(pin.name)
        if wanted is None or _same(wanted, pin.version):
            merged[pin.name] = pin if wanted is None else Pin(pin.name, wanted, pin.marker)
            kept += 1
        else:
            overrides.append(Override(pin.name, pin.version, wanted))
            merged[pin.name] = Pin(pin.name, wanted, pin.marker)
    added = [Pin(name, version) for name, version in pins.items() if name not in merged]
    merged.update((pin.name, pin) for pin in added)
    return Overlay(
        tuple(merged[name] for name in sorted(merged)),
        tuple(sorted(overrides, key=lambda o: o.package)),
        tuple(sorted(added, key=lambda p: p.name)),
        kept,
    )


def _same(left: str, right: str) -> bool:
    try:
        return Version(left) == Version(right)
    except InvalidVersion:
        return left == right


# -- the check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchitectureCheck:
    """How the set resolved on one architecture."""

    architecture: str  # amd64, arm64
    platform: str  # uv's --python-platform
    ok: bool
    explanation: str = ""  # uv's, when it found no solution
    unpinned: tuple[str, ...] = ()  # name==version uv needed that the set does not pin
    argv: tuple[str, ...] = ()
    # name==version of the set with no wheel for this platform and Python: built from source
    from_source: tuple[str, ...] = ()


class ConstraintsDoNotInstall(ChecksFailed):
    """uv found no solution for the set on at least one architecture (exit 3)."""

    def __init__(self, subject: str, checks: Sequence[ArchitectureCheck]) -> None:
        self.checks = tuple(checks)
        lines = [f"{subject} does not install (nothing written):"]
        for check in self.checks:
            if check.ok:
                lines.append(f"  {check.architecture} ({check.platform}): installs")
                continue
            lines.append(f"  {check.architecture} ({check.platform}): no solution")
            lines.extend(f"    {line}" if line else "" for line in check.explanation.splitlines())
        super().__init__("\n".join(lines))


# -- the whole resolution -----------------------------------------------------------------------


@dataclass(frozen=True)
class LeftOut:
    """A pinned package left out of uv's resolution and check: its own index did not answer
    for it (no answer, an error, or not found there)."""

    name: str  # canonical
    version: str
    index: str
    problem: str  # one line, naming the index; never credentials

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


@dataclass(frozen=True)
class Inputs:
    """What a constraint set is made from, as its header names them."""

    matrix: str  # the matrix file as shown (a path, or "the embedded default")
    index: IndexChoice | None = None  # the index uv resolved against (None: uv did not run)
    exclude_newer: date | None = None  # uv saw files uploaded by the end of this day only
    uv_version: str | None = None
    extra_index_urls: tuple[str, ...] = ()  # $PIP_EXTRA_INDEX_URL's, then packages' own
    left_out: tuple[LeftOut, ...] = ()  # pinned, but not given to uv


@dataclass(frozen=True)
class Resolution:
    """A release's constraint set for one Python, ready to be written."""

    release: Release  # as its image pins it: a flavor's packages in place of the standard's
    python: str
    upstream_url: str | None  # None: resolved, not fetched (--upstream none)
    upstream: UpstreamFile | None
    overlay: Overlay
    inputs: Inputs
    checks: tuple[ArchitectureCheck, ...] = ()
    hashes: Mapping[str, tuple[str, ...]] | None = None  # None: no --hashes
    # the pins of the checks built from source, with what that takes (see source_builds)
    source_builds: tuple[SourceBuild, ...] = ()
    flavor: str | None = None  # None: the standard image
    text: str = field(default="", repr=False)

    @property
    def filename(self) -> str:
        """``constraints-<python>.txt``; a flavor's is ``constraints-<flavor>-<python>.txt``."""
        if self.flavor is None:
            return f"constraints-{self.python}.txt"
        return f"constraints-{self.flavor}-{self.python}.txt"

    @property
    def image(self) -> str:
        """Whose pins these are, as text says it: "the release's" or "the slim image's"."""
        return "the release's" if self.flavor is None else f"the {self.flavor} image's"

    @property
    def airflow(self) -> str:
        return self.release.airflow

    @property
    def pins(self) -> tuple[Pin, ...]:
        return self.overlay.pins

    @property
    def built_from_source(self) -> tuple[SourceBuild, ...]:
        """The pins the checks build from source, with what that takes (``unknown`` when the
        resolution was made without :func:`source_builds`), those needing a compiler first."""
        return self.source_builds or unclassified(self.checks)

    @property
    def shown_upstream_url(self) -> str | None:
        """The upstream URL as output may show it (no user name or password)."""
        return shown_url(self.upstream_url) if self.upstream_url is not None else None

    @property
    def shown_index_url(self) -> str | None:
        index = self.inputs.index
        return shown_url(index.url) if index is not None else None

    @property
    def shown_extra_index_urls(self) -> tuple[str, ...]:
        return tuple(shown_url(url) for url in self.inputs.extra_index_urls)


@dataclass(frozen=True)
class Options:
    """How to resolve: the choices of the command line."""

    python: str | None = None
    flavor: str | None = None  # an image flavor of the release (None: the standard image)
    upstream: str | None = None  # a URL template, "none", or None for [upstream]
    check: bool = False
    hashes: bool = False
    offline: bool = False
    wheels_only: bool = False  # a pin without a wheel on some platform fails the check
    exclude_newer: date | None = None
    cache_dir: Path | None = None  # astroctl's cache (None: the user cache directory)
    uv_cache_dir: Path | None = None  # uv's cache (None: uv's own default)
    fresh_for: float = 0.0  # seconds a cached upstream file or page is used without a request


def resolve(
    matrix: Matrix,
    release: Release,
    options: Options,
    *,
    http: HttpClient | None,
    uv: Uv | None,
    index: IndexChoice,
    matrix_label: str,
    notify: Notify | None = None,
) -> Resolution:
    """The release's constraint set for ``options.python`` (default: the release's Python),
    of ``options.flavor``'s image if given (the flavor's pins in place of the release's).

    Fetches and overlays the upstream file (or, with ``upstream="none"``, resolves the set with
    uv), then with ``check`` or ``hashes`` proves it installs on each of the release's
    architectures; :class:`ConstraintsDoNotInstall` when it does not on some.
    """
    release = flavored(release, options.flavor)  # an unknown flavor: before any request
    if options.wheels_only and not options.check:
        options = replace(options, check=True)
    python = target_of(release, options.python).python
    wanted = release_pins(release)
    if options.upstream is not None:
        template = options.upstream
    else:
        template = refuse_credentials(matrix.upstream.constraints_url, "[upstream] constraints_url")
    frozen = template.strip().lower() == NONE
    private = private_packages(matrix, release, index)
    job: _Job | None = None
    left_out: tuple[LeftOut, ...] = ()
    if frozen or options.check or options.hashes:
        if uv is None:
            raise OperationError("uv is needed to resolve or check a constraint set")
        left_out = probe_private(private, wanted, http=http, options=options, notify=notify)
        job = _Job(uv, python, index, _extra_indexes(index, private, left_out), options)
    skipped = {item.name for item in left_out}
    given = {name: version for name, version in wanted.items() if name not in skipped}
    upstream_url: str | None = None
    upstream: UpstreamFile | None = None
    if job is not None and frozen:
        frozen_pins = job.freeze(release, given)
        resolved = {pin.name for pin in frozen_pins}
        # the packages left out join the set as the release pins them, not as resolved by uv
        unresolved = [Pin(i.name, i.version) for i in left_out if i.name not in resolved]
        merged = overlay([*frozen_pins, *unresolved], wanted)
    else:
        upstream_url = constraints_url(template.strip(), release.airflow, python)
        upstream = fetch_upstream(
            upstream_url,
            http=http,
            cache_dir=options.cache_dir,
            offline=options.offline,
            notify=notify,
            fresh_for=options.fresh_for,
        )
        merged = overlay(upstream.pins, wanted)
    checks: tuple[ArchitectureCheck, ...] = ()
    hashes: Mapping[str, tuple[str, ...]] | None = None
    builds: tuple[SourceBuild, ...] = ()
    if job is not None and (options.check or options.hashes):
        checked = [pin for pin in merged.pins if pin.name not in skipped]
        subject = _subject(release, options.flavor, python)
        checks, found = job.check(release, checked, subject, notify)
        builds = source_builds(
            checks, python, index=index, private=private, http=http, options=options, notify=notify
        )
        if options.wheels_only and builds:
            raise BuildsFromSource(subject, python, checks, builds)
        if notify is not None:
            for warning in no_wheel_warnings(builds, python):
                notify(warning)
        hashes = MappingProxyType(found) if options.hashes else None
    inputs = Inputs(
        matrix_label,
        index if job is not None else None,
        options.exclude_newer if job is not None else None,
        job.uv_version() if job is not None else None,
        job.extras if job is not None else (),
        left_out,
    )
    resolution = Resolution(
        release,
        python,
        upstream_url,
        upstream,
        merged,
        inputs,
        checks,
        hashes,
        builds,
        flavor=options.flavor,
    )
    return _with_text(resolution)


def _with_text(resolution: Resolution) -> Resolution:
    return replace(resolution, text=render(resolution))


def _subject(release: Release, flavor: str | None, python: str) -> str:
    return f"the constraint set of {_named(release, flavor)} for Python {python}"


def _named(release: Release, flavor: str | None) -> str:
    """``Astro Runtime 11.8.0``, or ``Astro Runtime 11.8.0 (slim image)`` for a flavor."""
    image = f" ({flavor} image)" if flavor is not None else ""
    return f"Astro Runtime {release.name}{image}"


def private_packages(matrix: Matrix, release: Release, index: IndexChoice) -> dict[str, list[str]]:
    """The release's packages with an index of their own (not the main one), by index URL in
    the order of the package names; canonical names."""
    found: dict[str, list[str]] = {}
    for name in sorted(release.packages):
        url = private_index(matrix, name)
        if url and url != index.url:
            found.setdefault(url, []).append(normalize_name(name))
    return found


def probe_private(
    private: Mapping[str, Sequence[str]],
    wanted: Mapping[str, str],
    *,
    http: HttpClient | None,
    options: Options,
    notify: Notify | None = None,
) -> tuple[LeftOut, ...]:
    """The packages whose own index does not answer for them: each package's page asked of
    its index through the index seam (offline: its cache). Without an HTTP client (and not
    offline) nothing can be asked and nothing is left out."""
    if not private or (http is None and not options.offline):
        return ()
    left: list[LeftOut] = []
    for url, names in private.items():
        asked, answers = ask_index(url, names, http=http, options=options, notify=notify)
        for name, answer in answers.items():
            if isinstance(answer, AstroctlError):
                left.append(LeftOut(name, wanted[name], asked, answer.message))
    left.sort(key=lambda item: item.name)
    if left and notify is not None:
        for item in left:
            notify(
                f"{item.requirement}: left out of uv's resolution and check: {item.problem}; "
                f"it is pinned in the file unchecked, and the header says so"
            )
    return tuple(left)


def _extra_indexes(
    index: IndexChoice, private: Mapping[str, Sequence[str]], left_out: Sequence[LeftOut]
) -> tuple[str, ...]:
    """The extra indexes, then the private index of every package of the release that has one
    and that is not left out."""
    found = list(index.extra_urls)
    skipped = {item.name for item in left_out}
    for url, names in private.items():
        if url not in found and any(name not in skipped for name in names):
            found.append(url)
    return tuple(found)


class _Job:
    """The uv runs of one resolution, sharing a scratch directory and the options."""

    def __init__(
        self,
        uv: Uv,
        python: str,
        index: IndexChoice,
        extras: tuple[str, ...],
        options: Options,
    ) -> None:
        self.uv = uv
        self.python = python
        self.index = index
        self.extras = extras
        self.options = options
        self._version: str | None = None

    def uv_version(self) -> str:
        if self._version is None:
            self._version = self.uv.version()
        return self._version

    def _compile(
        self,
        requirements: Sequence[str],
        constraints: Sequence[str] | None,
        platform: str,
        *,
        lock: bool = False,
    ) -> CompileResult:
        with tempfile.TemporaryDirectory(prefix="astroctl-constraints-") as scratch:
            folder = Path(scratch)
            wanted = folder / "requirements.txt"
            wanted.write_text("".join(f"{line}\n" for line in requirements), encoding="utf-8")
            pinned = None
            if constraints is not None:
                pinned = folder / "constraints.txt"
                pinned.write_text("".join(f"{line}\n" for line in constraints), encoding="utf-8")
            return self.uv.compile(
                wanted,
                python_version=self.python,
                platform=platform,
                constraints=pinned,
                index_url=self.index.url,
                extra_index_urls=self.extras,
                exclude_newer=self.options.exclude_newer,
                cache_dir=self.options.uv_cache_dir,
                offline=self.options.offline,
                lock=lock,
            )

    def freeze(self, release: Release, wanted: Mapping[str, str]) -> tuple[Pin, ...]:
        """The whole set, resolved from ``apache-airflow==X`` and the release's pins."""
        requirements = [f"{name}=={version}" for name, version in wanted.items()]
        try:
            platform = uv_platform(release, FREEZE_ARCHITECTURE).uv
            result = self._compile(requirements, None, platform)
        except ResolutionFailed as exc:
            raise ChecksFailed(
                f"the pins of {_named(release, self.options.flavor)} do not resolve together for "
                f"Python {self.python} on {exc.platform} (nothing written):\n"
                + "\n".join(f"  {line}" if line else "" for line in exc.explanation.splitlines())
            ) from exc
        return tuple(Pin(name, version) for name, version in sorted(result.pins.items()))

    def check(
        self, release: Release, pins: Sequence[Pin], subject: str, notify: Notify | None
    ) -> tuple[tuple[ArchitectureCheck, ...], dict[str, tuple[str, ...]]]:
        """The set resolved against itself on each of the release's architectures, and the
        union of the hashes uv lists; :class:`ConstraintsDoNotInstall` if one has no solution.

        With ``check`` or ``hashes``, one uv run per architecture, printed as a PEP 751 lock,
        which lists per package its sdist and only the wheels uv finds installable on that
        platform for that Python: a pin listed with no wheel is built from source there, and
        the hashes are those of the files listed, united over the architectures (not every
        file of the version: a Windows or macOS wheel is not among them). What pip installs
        in an image of either architecture is a wheel listed for it or the sdist."""
        requirements = [f"{p.name}; {p.marker}" if p.marker else p.name for p in pins]
        constraints = [p.requirement for p in pins]
        names = frozenset(p.name for p in pins)
        checks: list[ArchitectureCheck] = []
        found: dict[str, set[str]] = {}
        # one uv run per architecture, at once: see process.concurrently for Ctrl-C
        done = concurrently(
            self.uv.runner,
            [
                partial(
                    self._check_one,
                    architecture,
                    uv_platform(release, architecture).uv,
                    requirements,
                    constraints,
                    names,
                )
                for architecture in release.architectures
            ],
        )
        for architecture, (check, listed) in zip(release.architectures, done, strict=True):
            checks.append(check)
            for name, digests in listed.items():
                found.setdefault(name, set()).update(digests)
            if check.unpinned and notify is not None:
                notify(
                    f"{architecture}: the set does not pin what it needs: "
                    f"{', '.join(check.unpinned)}"
                )
        if not all(check.ok for check in checks):
            raise ConstraintsDoNotInstall(subject, checks)
        hashes = {name: tuple(sorted(found[name])) for name in sorted(found) if name in names}
        return tuple(checks), hashes

    def _check_one(
        self,
        architecture: str,
        platform: str,
        requirements: Sequence[str],
        constraints: Sequence[str],
        names: frozenset[str],
    ) -> tuple[ArchitectureCheck, Mapping[str, tuple[str, ...]]]:
        """One architecture's check (uv's lock, for ``platform``: see
        :func:`~astroctl.providers.target.uv_platform`) and the hashes of the files it lists."""
        try:
            result = self._compile(requirements, constraints, platform, lock=True)
        except ResolutionFailed as exc:
            return ArchitectureCheck(architecture, platform, False, exc.explanation), {}
        unpinned = tuple(
            f"{name}=={version}"
            for name, version in sorted(result.pins.items())
            if name not in names
        )
        return (
            ArchitectureCheck(
                architecture, platform, True, "", unpinned, result.argv, result.from_source
            ),
            result.hashes,
        )


# -- the file -----------------------------------------------------------------------------------


def _wheels_taken(release: Release, checks: Sequence[ArchitectureCheck]) -> str:
    """Which Linux wheels the checks took, as the header says it after the platforms."""
    levels = {uv_platform(release, check.architecture).manylinux for check in checks}
    if len(levels) != 1:
        return ""
    level = levels.pop()
    if level is None:
        return " (uv's default Linux target: no Debian release astroctl knows in the OS)"
    major, minor = level
    return f" (wheels up to manylinux_{major}_{minor}: the glibc of Debian {release.codename})"


def pins_digest(pins: Mapping[str, str]) -> str:
    """A SHA-256 over the release's pins (``name==version`` lines, sorted): what of the matrix
    file the set depends on, unchanged by edits to other releases."""
    text = "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def render(resolution: Resolution) -> str:
    """The constraints file: the header, then one pin per line (with hashes when asked)."""
    lines = [f"# {line}" if line else "#" for line in header(resolution)]
    lines.append("")
    hashes = resolution.hashes
    for pin in resolution.pins:
        listed = hashes.get(pin.name, ()) if hashes is not None else ()
        if not listed:
            lines.append(pin.requirement)
            continue
        lines.append(f"{pin.requirement} \\")
        lines.extend(
            f"    --hash={digest} \\" if n < len(listed) - 1 else f"    --hash={digest}"
            for n, digest in enumerate(listed)
        )
    return "\n".join(lines) + "\n"


def header(resolution: Resolution) -> list[str]:
    """The header's lines (without ``#``): what the set is, and what it was made from."""
    release, inputs, merged = resolution.release, resolution.inputs, resolution.overlay
    released = release.released.isoformat() if release.released else "unreleased"
    lines = [
        f"Constraints of {_named(release, resolution.flavor)}: Apache Airflow "
        f"{release.airflow}, Python {resolution.python}",
        "",
        f"Written by astroctl {__version__} from:",
    ]
    if resolution.upstream is not None and resolution.upstream_url is not None:
        lines += [
            f"  upstream: {shown_url(resolution.upstream_url)}",
            f"            sha256:{resolution.upstream.sha256}",
        ]
    else:
        lines += [
            f"  upstream: none; resolved by uv {inputs.uv_version} for linux/"
            f"{FREEZE_ARCHITECTURE} from apache-airflow=={release.airflow} and "
            f"{resolution.image} pins",
        ]
    image = f", {resolution.flavor} image" if resolution.flavor is not None else ""
    lines += [
        f"  matrix:   {inputs.matrix}, release {release.name} ({released}){image}",
        f"            pins sha256:{pins_digest(release_pins(release))}",
    ]
    if inputs.index is not None:
        cutoff = inputs.exclude_newer.isoformat() if inputs.exclude_newer else "no date cutoff"
        lines.append(f"  index:    {shown_url(inputs.index.url)} (files uploaded by {cutoff})")
        lines.extend(f"            extra {shown_url(url)}" for url in inputs.extra_index_urls)
    lines += _summary(merged, resolution)
    lines += _left_out(resolution)
    return lines


def _left_out(resolution: Resolution) -> list[str]:
    """The header's account of the packages uv was not given."""
    left = resolution.inputs.left_out
    if not left:
        return []
    what = "resolved or checked" if resolution.upstream is None else "checked"
    lines = [
        f"Not {what} by uv: their own index did not serve them where this was made.",
        "They are pinned below as the release pins them; what they need is not in this set"
        + (", and they carry no hashes:" if resolution.hashes is not None else ":"),
    ]
    lines.extend(f"  {item.requirement}: {item.problem}" for item in left)
    return lines


def _summary(merged: Overlay, resolution: Resolution) -> list[str]:
    if resolution.upstream is None:
        pinned = len(release_pins(resolution.release))
        left = len(resolution.inputs.left_out)
        if left:
            counts = (
                f"{len(merged.pins)} pins: {len(merged.pins) - left} resolved by uv, "
                f"{resolution.image} {pinned - left} among them, and {left} of "
                f"{resolution.image} not resolved."
            )
        else:
            counts = (
                f"{len(merged.pins)} pins resolved by uv, {resolution.image} {pinned} among them."
            )
    else:
        counts = (
            f"{len(merged.pins)} pins: {merged.kept} as upstream, {len(merged.overrides)} "
            f"overridden and {len(merged.added)} added by the release."
        )
    lines = ["", counts]
    if merged.overrides:
        lines.append("Overridden by the release (upstream -> release):")
        lines.extend(f"  {o.package} {o.upstream} -> {o.release}" for o in merged.overrides)
    if merged.added and resolution.upstream is not None:
        lines.append("Added by the release:")
        lines.extend(f"  {p.name}=={p.version}" for p in merged.added)
    if resolution.checks:
        where = ", ".join(f"linux/{c.architecture}" for c in resolution.checks)
        where += _wheels_taken(resolution.release, resolution.checks)
        built = resolution.built_from_source
        if not built:
            lines.append(f"Checked with uv {resolution.inputs.uv_version}: installs on {where}.")
        else:
            lines.append(
                f"Checked with uv {resolution.inputs.uv_version}: installs on {where}; "
                f"without a wheel there, built from source:"
            )
            lines.extend(
                f"  {build.requirement} on {', '.join(f'linux/{a}' for a in build.architectures)}"
                f": {build.detail}"
                for build in built
            )
    if resolution.hashes is not None:
        lines.append("Hashes: every file uv lists for the pinned version on those platforms.")
    return lines


def write(resolution: Resolution, directory: Path) -> Path:
    """Write the set (:attr:`Resolution.filename`) into ``directory`` atomically; the path
    written."""
    from astroctl.seams import fs

    if not directory.is_dir():
        raise InputError(f"--output {directory}: not a directory")
    path = directory / resolution.filename
    fs.write_text(path, resolution.text)
    return path
