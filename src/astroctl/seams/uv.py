"""The uv seam: ``uv pip compile`` as a typed call over the process runner.

uv (https://docs.astral.sh/uv/) is the resolver astroctl trusts to say whether a set of pins
installs: :meth:`Uv.compile` resolves a requirements file for one Python version on one
platform (``--python-version``, ``--python-platform``), under a constraints file, against the
given indexes only, optionally as of a date (``--exclude-newer``: files uploaded later do not
exist), and returns the pins uv chose; printed as a PEP 751 lock (``lock``), also the hashes of
the files it lists for each on that target and the packages it lists with no wheel there.

The binary is the one the ``uv`` package from PyPI ships (a dependency of astroctl, found with
``uv.find_uv_bin()``), else ``uv`` on ``PATH``. Its version (``uv --version``, for a header) is
remembered in astroctl's cache when a cache is given, keyed by the binary's path, size, inode and
modification time: an upgrade replaces the file, and the next run asks it again.

What uv sees is only what the argv says: ``--no-config`` (no ``uv.toml``/``pyproject.toml``),
every ``UV_*`` variable that could change a resolution removed (an extra index, a constraint
file, a cutoff date the user exported for their own work), Python downloads off, colour off, and
``--python`` set to the interpreter running astroctl (uv needs one to build an sdist; the
*target* Python is ``--python-version``). An index URL that carries credentials goes to uv in
its environment, never in the argv (:func:`index_environment`). Trust is the HTTP seam's:
``$SSL_CERT_FILE``, else ``$REQUESTS_CA_BUNDLE`` (handed to uv as ``SSL_CERT_FILE``), else the
system trust store (``--native-tls``).

A resolution uv proves impossible (exit 1, "No solution found") is :class:`ResolutionFailed`
(exit 3: a check ran and found a problem) carrying uv's own explanation; ``--offline`` without
the needed files in uv's cache, and any other failure of uv (a network error, exit 2), are
operation errors (exit 1). A missing uv is an :class:`~astroctl.errors.OperationError` saying
how to install it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from types import MappingProxyType

from astroctl.errors import ChecksFailed, OperationError
from astroctl.seams.cache import DiskCache, Entry, entry_key
from astroctl.seams.process import Environment, ProcessFailed, ProcessRunner
from astroctl.seams.urls import has_credentials

# The runtime's architectures as uv's --python-platform targets (glibc Linux, manylinux).
PLATFORMS: Mapping[str, str] = MappingProxyType(
    {"amd64": "x86_64-unknown-linux-gnu", "arm64": "aarch64-unknown-linux-gnu"}
)
INSTALL_HINT = (
    "uv is not installed: reinstall astroctl with its dependencies (pip install astroctl, "
    "which brings the uv wheel) or put uv on PATH (pip install uv)"
)
# UV_* variables that tune how uv works, not what it resolves: kept
_KEPT = frozenset(
    {
        "UV_CACHE_DIR",
        "UV_NATIVE_TLS",
        "UV_HTTP_TIMEOUT",
        "UV_REQUEST_TIMEOUT",
        "UV_HTTP_RETRIES",
        "UV_CONCURRENT_DOWNLOADS",
        "UV_CONCURRENT_BUILDS",
        "UV_INSECURE_HOST",
        "UV_KEYRING_PROVIDER",
    }
)
VERSIONS = "uv-v1/versions"  # cache namespace: uv --version per binary
_NO_SOLUTION = "No solution found"
_SEPARATORS = re.compile(r"[-_.]+")  # PEP 503
_OFFLINE = "network was disabled"


def _no_hashes() -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True)
class CompileResult:
    """What ``uv pip compile`` chose: name (canonical) -> version, and with ``lock`` the
    hashes of the files the lock lists for it (``sha256:...``; empty tuples without ``lock``)."""

    pins: Mapping[str, str]
    hashes: Mapping[str, tuple[str, ...]] = field(default_factory=_no_hashes)
    text: str = ""  # uv's output, as it printed it
    argv: tuple[str, ...] = ()
    # with ``lock``: the packages (name==version) for which uv lists no wheel for the target
    # platform and Python, only an sdist: pip builds them from source there
    from_source: tuple[str, ...] = ()


class ResolutionFailed(ChecksFailed):
    """uv proved the requirements cannot be installed together on that target (exit 3)."""

    def __init__(self, python_version: str, platform: str, explanation: str) -> None:
        self.python_version = python_version
        self.platform = platform
        self.explanation = explanation
        indented = "\n".join(f"  {line}" if line else "" for line in explanation.splitlines())
        super().__init__(f"no solution for Python {python_version} on {platform}:\n{indented}")


def find_binary() -> Path:
    """The uv binary of the ``uv`` package, else ``uv`` on PATH; OperationError if neither."""
    try:
        from uv import find_uv_bin

        return Path(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found is None:
        raise OperationError(INSTALL_HINT)
    return Path(found)


def _binary_key(binary: Path) -> str | None:
    """A cache key that changes when the file at ``binary`` is replaced or rewritten."""
    try:
        stat = binary.stat()
    except OSError:
        return None
    return entry_key(os.fspath(binary), str(stat.st_size), str(stat.st_ino), str(stat.st_mtime_ns))


def exclude_newer_stamp(day: date) -> str:
    """The cutoff for packages available on ``day``: the end of that day in UTC, as RFC 3339
    (a timestamp, not a bare date, which uv would read in the local time zone)."""
    return f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z"


def environment(environ: Mapping[str, str] | None = None) -> Environment:
    """The changes to our environment uv runs with (None removes a variable)."""
    env = os.environ if environ is None else environ
    changes: dict[str, str | None] = {
        name: None for name in env if name.startswith("UV_") and name not in _KEPT
    }
    changes.update(
        {"UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"},
    )
    bundle = env.get("REQUESTS_CA_BUNDLE", "").strip()
    if not env.get("SSL_CERT_FILE", "").strip() and bundle:
        changes["SSL_CERT_FILE"] = bundle
    return MappingProxyType(changes)


def index_environment(index_url: str, extra_index_urls: Sequence[str] = ()) -> dict[str, str]:
    """The indexes that go to uv in its environment rather than its argv: those that carry
    credentials (a ``$PIP_INDEX_URL`` of ``https://user:token@host/simple``). A command line is
    readable by every user of the machine (``ps``, ``/proc/PID/cmdline``) and is what an error
    quotes; a process's environment only by its user and root. uv reads ``UV_INDEX_URL`` as
    ``--index-url`` and ``UV_EXTRA_INDEX_URL`` (space-separated) as ``--extra-index-url``;
    :meth:`Uv.compile_argv` leaves out what goes here (the extra indexes all or none, so their
    order stays)."""
    changes: dict[str, str] = {}
    if has_credentials(index_url):
        changes["UV_INDEX_URL"] = index_url
    if any(has_credentials(url) for url in extra_index_urls):
        changes["UV_EXTRA_INDEX_URL"] = " ".join(extra_index_urls)
    return changes


class Uv:
    """The uv commands astroctl runs. ``binary`` None: :func:`find_binary` on first use;
    ``versions``: the cache that remembers :meth:`version` (None: asked on every call)."""

    def __init__(
        self,
        runner: ProcessRunner,
        binary: Path | None = None,
        *,
        interpreter: Path | None = None,
        timeout: float | None = None,
        versions: DiskCache | None = None,
    ) -> None:
        self.runner = runner
        self._binary = binary
        self.interpreter = Path(sys.executable) if interpreter is None else interpreter
        self.timeout = timeout
        self.versions = versions
        self._finding = threading.Lock()

    @property
    def binary(self) -> Path:
        """The uv binary, found once however many threads ask at once (``--check`` runs its
        calls from worker threads; ``uv.find_uv_bin`` reads ``sysconfig``, whose first use is
        not thread-safe: two threads at once saw ``EXE`` as None)."""
        if self._binary is None:
            with self._finding:
                if self._binary is None:
                    self._binary = find_binary()
        elif not self._binary.is_file():
            raise OperationError(f"{self._binary}: no such file; {INSTALL_HINT}")
        return self._binary

    def version(self) -> str:
        """uv's version, e.g. ``0.13.9`` (from the cache when this binary was asked before)."""
        binary = self.binary
        key = _binary_key(binary) if self.versions is not None else None
        if self.versions is not None and key is not None:
            known = self.versions.read(VERSIONS, key)
            if known is not None and known.get("path") == os.fspath(binary) and known.body:
                return known.body.decode("utf-8", errors="replace")
        result = self.runner.run(
            [binary, "--version"], env=environment(), timeout=self.timeout, read_only=True
        )
        words = result.stdout.split()
        version = words[1] if len(words) > 1 else result.stdout.strip()
        if self.versions is not None and key is not None and version:
            entry = Entry(version.encode("utf-8"), {"path": os.fspath(binary)})
            with contextlib.suppress(OperationError):  # not remembered: asked again next time
                self.versions.write(VERSIONS, key, entry)
        return version

    def compile_argv(
        self,
        requirements: Path,
        *,
        python_version: str,
        platform: str,
        constraints: Path | None = None,
        index_url: str,
        extra_index_urls: Sequence[str] = (),
        exclude_newer: date | None = None,
        cache_dir: Path | None = None,
        offline: bool = False,
        lock: bool = False,
    ) -> list[str]:
        """The argv of :meth:`compile` (also what a report shows)."""
        argv = [os.fspath(self.binary), "pip", "compile", os.fspath(requirements)]
        argv += ["--no-config", "--python", os.fspath(self.interpreter)]
        argv += ["--python-version", python_version, "--python-platform", platform]
        if not has_credentials(index_url):
            argv += ["--index-url", index_url]
        if not any(has_credentials(url) for url in extra_index_urls):
            for url in extra_index_urls:
                argv += ["--extra-index-url", url]
        if constraints is not None:
            argv += ["-c", os.fspath(constraints)]
        if exclude_newer is not None:
            argv += ["--exclude-newer", exclude_newer_stamp(exclude_newer)]
        if lock:
            argv += ["--format", "pylock.toml"]
        if cache_dir is not None:
            argv += ["--cache-dir", os.fspath(cache_dir)]
        if offline:
            argv.append("--offline")
        if not os.environ.get("SSL_CERT_FILE") and not os.environ.get("REQUESTS_CA_BUNDLE"):
            argv.append("--native-tls")
        argv += ["--no-header", "--no-annotate", "--quiet", "--color", "never"]
        return argv

    def compile(
        self,
        requirements: Path,
        *,
        python_version: str,
        platform: str,
        constraints: Path | None = None,
        index_url: str,
        extra_index_urls: Sequence[str] = (),
        exclude_newer: date | None = None,
        cache_dir: Path | None = None,
        offline: bool = False,
        lock: bool = False,
    ) -> CompileResult:
        """Resolve ``requirements`` for ``python_version`` on ``platform`` (a uv target such
        as ``aarch64-unknown-linux-gnu``); :class:`ResolutionFailed` when uv finds none.

        ``lock``: uv prints the resolution as a PEP 751 lock (``--format pylock.toml``), which
        names, per package, the sdist and only the wheels uv finds installable on that target
        (Python, ABI, OS, architecture): a package with no wheel there is in ``from_source``,
        and its hashes are those of the files listed (not of every file of the version)."""
        argv = self.compile_argv(
            requirements,
            python_version=python_version,
            platform=platform,
            constraints=constraints,
            index_url=index_url,
            extra_index_urls=extra_index_urls,
            exclude_newer=exclude_newer,
            cache_dir=cache_dir,
            offline=offline,
            lock=lock,
        )
        env = {**environment(), **index_environment(index_url, extra_index_urls)}
        result = self.runner.run(argv, check=False, env=env, timeout=self.timeout, read_only=True)
        if result.returncode == 0:
            if lock:
                pins, hashes, from_source = parse_lock(result.stdout)
            else:
                (pins, hashes), from_source = parse_compiled(result.stdout), ()
            return CompileResult(
                MappingProxyType(pins),
                MappingProxyType(hashes),
                result.stdout,
                result.argv,
                from_source,
            )
        explanation = result.stderr.strip()
        if result.returncode == 1 and _OFFLINE in explanation:
            raise OperationError(
                f"uv cannot resolve offline: its cache lacks packages this needs; run once "
                f"without --offline\n{_indent(explanation)}"
            )
        if result.returncode == 1 and _NO_SOLUTION in explanation:
            raise ResolutionFailed(python_version, platform, explanation)
        tail = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        raise ProcessFailed(result.argv, result.returncode, tail[-20:])


def _project(name: str) -> str:
    """The PEP 503 form of a project name uv printed (packaging.utils would also load
    packaging.tags, ~4 ms on the path after uv returns; seams do not import astroctl.versions)."""
    return _SEPARATORS.sub("-", name).lower()


def parse_compiled(text: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """The pins and hashes of ``uv pip compile`` output (``name==version``, continued with
    ``\\`` onto ``--hash=sha256:...`` lines; comments and markers ignored)."""
    pins: dict[str, str] = {}
    hashes: dict[str, tuple[str, ...]] = {}
    for entry in _logical_lines(text):
        requirement, _, options = entry.partition(" --")
        options = "--" + options if options else ""
        spec = requirement.split(";", 1)[0].strip()
        name, separator, version = spec.partition("==")
        if not separator or not name.strip() or not version.strip():
            raise OperationError(f"uv printed a line astroctl cannot read: {entry!r}")
        key = _project(name.strip())
        pins[key] = version.strip()
        hashes[key] = tuple(
            word.removeprefix("--hash=") for word in options.split() if word.startswith("--hash=")
        )
    return pins, hashes


def parse_lock(
    text: str,
) -> tuple[dict[str, str], dict[str, tuple[str, ...]], tuple[str, ...]]:
    """The pins, hashes and packages without a wheel (``name==version``, sorted) of a PEP 751
    lock as ``uv pip compile --format pylock.toml`` prints it: ``[[packages]]`` with ``name``,
    ``version``, an optional ``sdist`` table and an optional ``wheels`` array."""
    import rtoml  # ~10x tomllib's speed; the matrix store has loaded it already

    try:
        document = rtoml.loads(text)
    except rtoml.TomlParsingError as exc:
        raise OperationError(f"uv printed a lock astroctl cannot read: {exc}") from exc
    pins: dict[str, str] = {}
    hashes: dict[str, tuple[str, ...]] = {}
    from_source: list[str] = []
    packages = document.get("packages", [])
    if not isinstance(packages, list):
        raise OperationError("uv printed a lock astroctl cannot read: packages is not a list")
    for package in packages:
        name, version = package.get("name"), package.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
            raise OperationError(f"uv printed a lock entry astroctl cannot read: {package!r}")
        key = _project(name)
        pins[key] = version
        wheels = package.get("wheels") or []
        sdist = package.get("sdist")
        files = [*wheels, *([sdist] if isinstance(sdist, dict) else [])]
        hashes[key] = tuple(
            sorted(
                f"sha256:{item['hashes']['sha256']}"
                for item in files
                if isinstance(item, dict) and "sha256" in item.get("hashes", {})
            )
        )
        if not wheels:
            from_source.append(f"{key}=={version}")
    return pins, hashes, tuple(sorted(from_source))


def _logical_lines(text: str) -> list[str]:
    """Lines with ``\\`` continuations joined, comments and blank lines dropped."""
    joined: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") and not current:
            continue
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        current += line
        if current.strip():
            joined.append(" ".join(current.split()))
        current = ""
    if current.strip():
        joined.append(" ".join(current.split()))
    return joined


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" if line else "" for line in text.splitlines())
