"""What building a pin from source takes: the pins a check finds without a wheel, and what each
needs.

uv's check of a constraint set (see :mod:`astroctl.providers.constraints`) lists per
architecture the pins with no wheel there for the Python at hand (``from_source``): pip builds
them from source in the image. :func:`source_builds` says what that takes for each, read from
the files of its version on its index's page (:func:`classify_build`): compiled code
(``native``: a compiler and headers), pure Python, sdist only, or ``unknown`` when the page
cannot be read. One page per such package, none when there is none, cached as any page; only
the files uploaded by the date cutoff count, as for uv.

:func:`no_wheel_warnings` words them, one line per pin and platform, those needing a compiler
first; with ``wheels_only`` they fail the check: :class:`BuildsFromSource` (exit 3).
:func:`ask_index` is how a resolution asks packages' pages of an index (offline: of the cache
alone), here and in the probe of the private indexes. Nothing here prints: warnings go to
``notify``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Literal, NoReturn

from astroctl.errors import AstroctlError, ChecksFailed, OperationError
from astroctl.providers.target import UV_MACHINES, IndexChoice
from astroctl.seams.http import HttpClient, shown_url

if TYPE_CHECKING:
    from astroctl.providers.constraints import ArchitectureCheck, Options
    from astroctl.seams.index import Project

Notify = Callable[[str], None]

SourceKind = Literal["native", "pure", "sdist-only", "unknown"]
# the order pins are reported in: those that need a compiler first, those that surely do not last
KIND_ORDER: tuple[SourceKind, ...] = ("native", "unknown", "sdist-only", "pure")
SDIST_ONLY_DETAIL = "no wheel for any platform (sdist only): pure Python unless it has extensions"
_SHOWN_WHEELS = 3  # wheels named in a native pin's detail, then "and N more"
# one file of a version as the classification reads it: its kind ("wheel", "sdist") and tags
Listed = tuple[str, tuple[str, ...]]

UNKNOWN_DETAIL = "the image needs a compiler unless it is pure Python"


@dataclass(frozen=True)
class SourceBuild:
    """A pin built from source on some architectures, and what building it takes, read from
    the files of its version on its index's page:

    - ``native``: the version has wheels, none of them platform-independent: compiled code,
      building needs a compiler and headers;
    - ``pure``: it has a ``*-any`` wheel, not for this Python (``py2-none-any``): pure Python;
    - ``sdist-only``: no wheel for any platform: pure Python unless it has extensions;
    - ``unknown``: the page could not be read.
    """

    requirement: str  # name==version
    architectures: tuple[str, ...]
    kind: SourceKind
    detail: str  # what building it takes, and why astroctl thinks so

    @property
    def needs_compiler(self) -> bool:
        return self.kind == "native"


def unclassified(checks: Sequence[ArchitectureCheck]) -> tuple[SourceBuild, ...]:
    """The pins built from source, each ``unknown`` (no page read)."""
    return tuple(
        SourceBuild(requirement, tuple(architectures), "unknown", UNKNOWN_DETAIL)
        for requirement, architectures in from_source(checks)
    )


def from_source(checks: Sequence[ArchitectureCheck]) -> list[tuple[str, list[str]]]:
    """Each pin built from source somewhere, with the architectures, in the pins' order."""
    found: dict[str, list[str]] = {}
    for check in checks:
        for requirement in check.from_source:
            found.setdefault(requirement, []).append(check.architecture)
    return sorted(found.items())


def no_wheel(requirement: str, architecture: str, python: str, detail: str = UNKNOWN_DETAIL) -> str:
    """The warning of one pin without a wheel on one platform, with what building it takes."""
    return (
        f"{requirement} has no wheel for linux/{architecture} (Python {python}): pip builds it "
        f"from source there; {detail}"
    )


def no_wheel_warnings(builds: Sequence[SourceBuild], python: str) -> list[str]:
    """One :func:`no_wheel` line per pin and platform, in the order of ``builds``."""
    return [
        no_wheel(build.requirement, architecture, python, build.detail)
        for build in builds
        for architecture in build.architectures
    ]


class BuildsFromSource(ChecksFailed):
    """With ``wheels_only``: some pin has no wheel for some checked platform (exit 3). Each
    such pin and platform is named with what building it takes, those needing a compiler
    first."""

    def __init__(
        self,
        subject: str,
        python: str,
        checks: Sequence[ArchitectureCheck],
        builds: Sequence[SourceBuild] = (),
    ) -> None:
        self.checks = tuple(checks)
        self.builds = tuple(builds) or unclassified(self.checks)
        lines = [f"{subject} needs packages built from source (--wheels-only; nothing written):"]
        lines.extend(f"  {warning}" for warning in no_wheel_warnings(self.builds, python))
        super().__init__("\n".join(lines))


def classify_build(files: Sequence[Listed] | None, python: str) -> tuple[SourceKind, str]:
    """The kind of a pin built from source and its detail, from the files of its version
    (None or none: the page could not be read, or it lists no file of that version)."""
    if not files:
        return "unknown", UNKNOWN_DETAIL
    wheels = [tags for kind, tags in files if kind == "wheel" and tags]
    if not wheels:
        return "sdist-only", SDIST_ONLY_DETAIL
    anywhere = sorted({tag for tags in wheels for tag in tags if tag.endswith("-any")})
    if anywhere:
        those = (
            f"wheel {anywhere[0]} is"
            if len(anywhere) == 1
            else "wheels " + ", ".join(anywhere) + " are"
        )
        return "pure", (
            f"pure Python, it builds without a compiler (its platform-independent {those} "
            f"not for Python {python})"
        )
    return "native", (
        f"it needs a compiler and headers: it has compiled code (wheels only for "
        f"{_wheels_shown(wheels)})"
    )


def _wheels_shown(wheels: Sequence[tuple[str, ...]]) -> str:
    """The wheels in short (``cp36-abi3 manylinux x86_64``), the newest Python and Linux
    first, up to :data:`_SHOWN_WHEELS` of them then "and N more"."""
    labels = sorted({_wheel_label(tags) for tags in wheels}, key=_wheel_order)
    shown = ", ".join(labels[:_SHOWN_WHEELS])
    more = len(labels) - _SHOWN_WHEELS
    return f"{shown} and {more} more" if more > 0 else shown


def _wheel_label(tags: tuple[str, ...]) -> str:
    """One wheel in short: its Python and ABI tags, and its platforms without their versions."""
    parts = [tag.split("-") for tag in tags]
    pythons = ".".join(sorted({part[0] for part in parts}))
    abis = ".".join(sorted({part[1] for part in parts}))
    platforms = "/".join(sorted({_platform(part[2]) for part in parts}))
    return f"{pythons}-{abis} {platforms}"


_VERSIONED_PLATFORM = re.compile(
    r"(manylinux|musllinux)_\d+_\d+_(.+)|manylinux(?:1|2010|2014)_(.+)|macosx_\d+_\d+_(.+)"
)
_FAMILIES = ("manylinux", "musllinux", "linux", "macosx", "win")
_ARCHITECTURES = tuple(UV_MACHINES.values())  # the release's, as wheel tags name them


def _platform(tag: str) -> str:
    """A platform tag without its versions: ``manylinux_2_17_x86_64`` -> ``manylinux x86_64``."""
    found = _VERSIONED_PLATFORM.fullmatch(tag)
    if found is None:
        return tag
    if found[1]:
        return f"{found[1]} {found[2]}"
    if found[3]:
        return f"manylinux {found[3]}"
    return f"macosx {found[4]}"


def _wheel_order(label: str) -> tuple[tuple[int, ...], int, int, str]:
    """The newest Python first, then Linux, macOS, Windows, then the release's architectures
    (x86_64, aarch64) before the others, then by name."""
    pythons, _, platforms = label.partition(" ")
    newest = max((_python_version(tag) for tag in pythons.split("-")[0].split(".")), default=(0,))
    family = next(
        (n for n, name in enumerate(_FAMILIES) if platforms.startswith(name)), len(_FAMILIES)
    )
    ours = 0 if platforms.endswith(_ARCHITECTURES) else 1
    return tuple(-part for part in newest), family, ours, label


def _python_version(tag: str) -> tuple[int, ...]:
    """``cp311`` -> (3, 11), ``py2`` -> (2,); (0,) for a tag without a version."""
    digits = tag.lstrip("abcdefghijklmnopqrstuvwxyz")
    if not digits.isdigit():
        return (0,)
    return (int(digits[0]), int(digits[1:])) if len(digits) > 1 else (int(digits),)


def source_builds(
    checks: Sequence[ArchitectureCheck],
    python: str,
    *,
    index: IndexChoice,
    private: Mapping[str, Sequence[str]],
    http: HttpClient | None,
    options: Options,
    notify: Notify | None = None,
) -> tuple[SourceBuild, ...]:
    """Each pin built from source on some architecture, with what building it takes, those
    needing a compiler first (see :data:`KIND_ORDER`), then by name.

    Reads the page of each such package (and of no other; none when there is none) through
    the index seam, cached as every page is (fresh for ``options.fresh_for``; offline, the
    cache): a package with an index of its own (``private``, by index URL) is asked there,
    the others of ``index`` and its extra indexes. Only the files uploaded by
    ``options.exclude_newer`` count, as for uv. A page that cannot be read makes its pin
    ``unknown`` and a warning, never a failure; without an HTTP client (and not offline)
    nothing is asked and every pin is ``unknown``."""
    built = unclassified(checks)
    if not built:
        return ()
    wanted = dict(build.requirement.split("==", 1) for build in built)
    files = _version_files(wanted, index, private, http=http, options=options, notify=notify)
    classified = []
    for build in built:
        kind, detail = classify_build(files.get(build.requirement.split("==", 1)[0]), python)
        classified.append(replace(build, kind=kind, detail=detail))
    return tuple(sorted(classified, key=lambda b: (KIND_ORDER.index(b.kind), b.requirement)))


def _version_files(
    wanted: Mapping[str, str],
    index: IndexChoice,
    private: Mapping[str, Sequence[str]],
    *,
    http: HttpClient | None,
    options: Options,
    notify: Notify | None,
) -> dict[str, tuple[Listed, ...]]:
    """The files of each wanted version as its index lists them, by package; a package whose
    page cannot be read (or lists no file of that version) is left out, and said."""
    if http is None and not options.offline:
        return {}
    own = {name: url for url, names in private.items() for name in names}
    by_index: dict[str, list[str]] = {}
    for name in wanted:
        by_index.setdefault(own.get(name, index.url), []).append(name)
    found: dict[str, tuple[Listed, ...]] = {}
    problems: dict[str, str] = {}
    for url, names in by_index.items():
        extra_urls = index.extra_urls if url == index.url else ()
        _, answers = ask_index(
            url, names, http=http, options=options, notify=notify, extra_urls=extra_urls
        )
        for name, answer in answers.items():
            if isinstance(answer, AstroctlError):
                problems[name] = answer.message
                continue
            listed = tuple(
                (file.kind, file.tags)
                for file in answer.files_of(wanted[name])
                if _uploaded_by(file.upload_time, options.exclude_newer)
            )
            if listed:
                found[name] = listed
            else:
                problems[name] = f"{shown_url(url)} lists no file of {name} {wanted[name]}"
    if notify is not None:
        for name in sorted(problems):
            notify(
                f"{name}=={wanted[name]}: cannot tell whether building it from source needs a "
                f"compiler: {problems[name]}"
            )
    return found


def _uploaded_by(moment: date | None, day: date | None) -> bool:
    """Whether a file uploaded at ``moment`` (a datetime; None: not said) was there by the end
    of ``day``, UTC, as uv's ``--exclude-newer`` sees it."""
    if moment is None or day is None:
        return True
    from datetime import UTC, datetime

    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC).date()
    return moment <= day


def ask_index(
    url: str,
    names: Sequence[str],
    *,
    http: HttpClient | None,
    options: Options,
    notify: Notify | None,
    extra_urls: Sequence[str] = (),
) -> tuple[str, dict[str, Project | AstroctlError]]:
    """``names`` asked of the index at ``url`` (and of ``extra_urls``) through the index seam,
    cached as every page is (fresh for ``options.fresh_for``; offline, the cache alone and
    ``http`` never asked): the index's URL as the seam spells it, and for each name its
    project or the error that stands for it. The first name is asked alone, so that an index
    that gives no answer is asked once."""
    from astroctl.seams.index import PackageIndex  # only when some page is wanted

    client = PackageIndex(
        url,
        http=http if http is not None else _NO_HTTP,
        extra_urls=extra_urls,
        cache_dir=options.cache_dir,
        offline=options.offline,
        notify=notify,
        fresh_for=options.fresh_for,
    )
    client.lookup(names[:1])  # alone first: an index that gives no answer is asked once
    return client.url, client.lookup(names)


class _NoHttp:
    """The HTTP client of an offline question: never asked (the index seam reads its cache)."""

    def get(self, url: str, **options: object) -> NoReturn:
        raise OperationError(f"GET {shown_url(url)}: offline")

    def close(self) -> None:
        pass


_NO_HTTP = _NoHttp()
