"""``astroctl constraints resolve --check`` against the bare ``uv pip compile`` calls it makes.

Usage::

    .venv/bin/python benchmarks/constraints.py [--rounds 20] [--warmup 1] [--check]
        [--sizes small,300] [--common 40] [--uv-cache warm|cold]
    .venv/bin/python benchmarks/constraints.py --real --upstream TEMPLATE [--release 9.2.0]
        [--python X.Y] [--index-url https://pypi.org/simple] [--rounds 5] [--warmup 1] [--check]

Each size in ``--sizes`` is measured in turn, with an index, a matrix and caches of its own,
and the verdicts are printed side by side. ``small`` is the fixture below (``--common``
packages, flat); a number N is a *realistic* set of N pins: ``apache-airflow`` requiring 80
packages that require others in turn (0-3 each, a seeded random graph over N - 32
packages, every fifth with per-platform wheels only), 30 providers, the Windows-only package.
The real 9.2.0 set has 301 pins; ``300`` stands for it.

A loopback package index (``tests/index_server.py``, in a child process of its own, as in
``benchmarks/providers.py``) serves real wheels: ``apache-airflow`` 2.7.2 requiring ``--common``
(40) common packages (every fifth with only per-platform wheels, ``cp311`` manylinux x86_64 and
aarch64), 30
providers requiring ``apache-airflow`` and common packages, a Windows-only package behind a
marker, each in several versions, every file uploaded before the release date; and, under
``/files/``, Airflow's constraints file for 2.7.2 and Python 3.11 (the common packages, 20 of the
providers and the Windows-only one). The matrix's release 9.2.0 (Python 3.11, Airflow 2.7.2,
amd64 and arm64) pins 30 providers: 10 as upstream, 10 overridden, 10 added.

Both sides are fresh subprocesses, interleaved (the order alternates each round), with the same
warm caches: one uv cache (``UV_CACHE_DIR``) and one astroctl cache, filled by the warm-up runs.
(``--uv-cache cold`` gives every astroctl run and every pair of bare calls an empty uv cache of
its own instead; the second call of a run then finds what the first one fetched, on both sides.)

- **astroctl**: ``python .venv/bin/astroctl --matrix FILE constraints resolve 9.2.0 --check
  --output DIR``: start-up, the matrix, the upstream file (fresh in the cache after the
  warm-up), the overlay, then ``uv pip compile`` for amd64 and arm64 *at once* (as
  ``providers/constraints.py`` runs them), uv's version for the header (cached), and the file
  written.
- **bare uv**: the very argv astroctl ran for amd64 and arm64, with the same requirements and
  constraints files and the environment changes astroctl made for it (recorded with the argv:
  ``seams.uv.environment``, and an index URL with credentials as ``UV_INDEX_URL``),
  timed two ways: both started at once and waited for (**bare uv, at once**: what astroctl
  does, the verdict's baseline) and one after the other (**bare uv, one by one**: the baseline
  before the calls ran at once, shown for comparison). The argv is not rebuilt: an in-process
  ``resolve`` through a recording process runner captures each ``uv pip compile`` astroctl
  runs, with copies of its scratch files; the bare side replays them and must print what uv
  printed for astroctl.

Reported per size: the requests each side makes (the server's log), median and min of each
side, the ratio astroctl/bare at once (median/median: the verdict; min/min), the ratio to the
one-by-one calls, and ``astroctl --version`` as the start-up floor. Target: at most 1.2x.

``--real`` measures the same three sides against a **real index** instead (``--index-url``,
default PyPI), with the matrix embedded in the package (the real Runtime data: astroctl runs in
a temporary directory with no ``--matrix``, so it finds the embedded default) and the release's
real pins. Airflow's constraints come from ``--upstream`` (required: a URL or path template with
``{airflow}`` and ``{python}``, e.g. ``file:///tmp/up-{airflow}-{python}.txt``; GitHub, where
Airflow publishes them, may be out of reach). The uv argvs are recorded as above (``resolve`` in
process through the recording runner), then astroctl, the bare calls at once and one by one are
timed, interleaved, with one shared warm uv cache and astroctl cache (warm-up rounds first); 5
rounds by default, as each takes seconds. A package of the release with an index of its own
(``[packages.X] index``) is probed by astroctl before uv runs; that probe is also timed in
process every round (a fresh HTTP client each time), to show its share. In this mode the
proxy and CA variables of the environment are left as they are: it talks to the network.

Exit status: 0, unless ``--check`` is given and the target is missed (then 1); 2 when a command
fails to run. Without ``--real`` nothing leaves the machine: every proxy variable points at a
dead loopback port.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # for tests.index_server and tests.factories
    sys.path.insert(0, str(REPO))

from tests import factories  # noqa: E402
from tests.index_server import IndexServer  # noqa: E402

from astroctl.matrix import selectors, store  # noqa: E402
from astroctl.matrix.model import Matrix, Release  # noqa: E402
from astroctl.providers import constraints as core  # noqa: E402
from astroctl.providers.target import IndexChoice, choose_index, target_of  # noqa: E402
from astroctl.seams.cache import cache_ttl  # noqa: E402
from astroctl.seams.http import Http  # noqa: E402
from astroctl.seams.process import Environment, ProcessResult, Runner, normalize_argv  # noqa: E402
from astroctl.seams.uv import Uv  # noqa: E402
from providers import RemoteIndex, describe_requests, offline_env, run  # noqa: E402 - sibling
from startup import astroctl_launcher, benchmark_env, loadavg  # noqa: E402

TARGET = 1.2
RELEASE = "9.2.0"
AIRFLOW = "2.7.2"
PYTHON = "3.11"
RELEASED = date(2023, 10, 12)
UPLOADED = datetime(2023, 1, 1, tzinfo=UTC)
UPSTREAM_FILE = f"constraints-{AIRFLOW}-{PYTHON}.txt"
NATIVE_TAGS = ("cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-manylinux_2_17_aarch64")
COMMON_SIZE = 40  # apache-airflow's dependencies (Airflow's own constraint files pin hundreds)
PROVIDERS = tuple(f"apache-airflow-providers-p{n:02d}" for n in range(30))
WINDOWS_ONLY = "winonly"
VERSIONS = ("1.0.0", "1.1.0", "2.0.0")
SMALL = "small"
DIRECT = 80  # apache-airflow's direct dependencies in a realistic set
SEED = 2024
REAL_INDEX = "https://pypi.org/simple"
REAL_ROUNDS = 5
LOOPBACK_ROUNDS = 20
PROBE = "private-index probe"  # timed in process, --real only


# -- the index's content -----------------------------------------------------------------------


def common(size: int) -> tuple[str, ...]:
    """The names of apache-airflow's dependencies."""
    return tuple(f"common-{n:03d}" for n in range(size))


def native(name: str) -> bool:
    """Every fifth common package has per-platform wheels only."""
    return name.startswith("common-") and int(name.rpartition("-")[2]) % 5 == 0


def _publish(index: IndexServer, name: str, version: str, requires: Sequence[str] = ()) -> None:
    tags: tuple[str, ...] = NATIVE_TAGS if native(name) else ("py3-none-any",)
    for tag in tags:
        index.add(name, version, requires_dist=requires, tags=tag, upload_time=UPLOADED)


def populate(index: IndexServer, size: int) -> None:
    """The packages and the upstream constraints file, ``size`` common packages, flat (runs
    in the server's process)."""
    _populate(index, common(size), {})


def graph(size: int) -> tuple[tuple[str, ...], dict[str, list[str]]]:
    """A realistic set of ``size`` pins: the dependencies' names and what each requires
    (0-3 packages further down the list, seeded), apache-airflow the first ``DIRECT``."""
    count = size - len(PROVIDERS) - 2  # apache-airflow and the Windows-only package
    if count < DIRECT:
        raise SystemExit(f"a realistic set needs at least {DIRECT + len(PROVIDERS) + 2} pins")
    names = common(count)
    rng = random.Random(SEED)
    needs: dict[str, list[str]] = {}
    for number, name in enumerate(names):
        later = names[number + 1 :]
        picked = rng.sample(later, min(len(later), rng.choice((0, 1, 2, 2, 3))))
        needs[name] = [f"{other}>=1.0" if rng.random() < 0.8 else f"{other}<2" for other in picked]
    return names, needs


def populate_graph(index: IndexServer, size: int) -> None:
    """A realistic index for a set of ``size`` pins (runs in the server's process)."""
    names, needs = graph(size)
    _populate(index, names, needs, direct=names[:DIRECT])


def _populate(
    index: IndexServer,
    names: Sequence[str],
    needs: dict[str, list[str]],
    direct: Sequence[str] | None = None,
) -> None:
    index.add(
        "apache-airflow",
        AIRFLOW,
        requires_python=">=3.8",
        requires_dist=[f"{name}>=1.0" for name in (names if direct is None else direct)]
        + [f'{WINDOWS_ONLY}>=1; sys_platform == "win32"'],
        upload_time=UPLOADED,
    )
    for name in names:
        for version in VERSIONS:
            _publish(index, name, version, needs.get(name, ()))
    size = len(names)
    for number, name in enumerate(PROVIDERS):
        requires = ["apache-airflow>=2.6.0", f"{names[number % size]}>=1.0", f"{names[-1]}>=1.0"]
        for version in VERSIONS:
            _publish(index, name, version, requires)
    index.add(WINDOWS_ONLY, "306", tags="cp311-cp311-win_amd64", upload_time=UPLOADED)
    index.add_file("constraints", UPSTREAM_FILE, upstream_text(names).encode())


def upstream_text(names: Sequence[str]) -> str:
    """Airflow's constraints: the common packages at 1.1.0, providers p00-p19 at 1.0.0."""
    lines = ["# Airflow's constraints for 2.7.2 and Python 3.11 (benchmark)"]
    lines += [f"{name}==1.1.0" for name in names]
    lines += [f"{name}==1.0.0" for name in PROVIDERS[:20]]
    lines.append(f'{WINDOWS_ONLY}==306; sys_platform == "win32"')
    return "\n".join(lines) + "\n"


def release_pins() -> dict[str, str]:
    """p00-p09 as upstream, p10-p19 overridden (2.0.0), p20-p29 added (1.1.0)."""
    pins = {name: "1.0.0" for name in PROVIDERS[:10]}
    pins |= {name: "2.0.0" for name in PROVIDERS[10:20]}
    pins |= {name: "1.1.0" for name in PROVIDERS[20:]}
    return pins


def matrix_text(base: str) -> str:
    doc = factories.document(
        factories.release(RELEASE, AIRFLOW, released=RELEASED, packages=release_pins()),
        lines={9: factories.line(python=PYTHON, python_versions=("3.10", PYTHON))},
        upstream={
            "constraints_url": f"{base}/files/constraints-{{airflow}}-{{python}}.txt",
            "index_url": f"{base}/simple/",
        },
    )
    return factories.toml_text(doc)


# -- what astroctl runs --------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One ``uv pip compile`` as astroctl ran it, its scratch files copied to stay."""

    argv: tuple[str, ...]
    stdout: str
    env: Environment  # the changes to the environment astroctl's uv seam ran it with


class Recorder:
    """A process runner that runs as astroctl's does, keeping every ``uv pip compile`` with
    copies of the requirements and constraints files (astroctl deletes its own)."""

    def __init__(self, keep: Path) -> None:
        self.inner = Runner()
        self.keep = keep
        self.calls: list[Call] = []

    def run(
        self,
        argv: Sequence[str | os.PathLike[str]],
        *,
        stream: bool = False,
        check: bool = True,
        timeout: float | None = None,
        env: Environment | None = None,
        cwd: str | os.PathLike[str] | None = None,
        input: str | None = None,
        read_only: bool = False,
        observe: Callable[[str], None] | None = None,
    ) -> ProcessResult:
        command = normalize_argv(argv)
        kept = self._kept(command) if command[1:3] == ("pip", "compile") else None
        result = self.inner.run(
            argv,
            stream=stream,
            check=check,
            timeout=timeout,
            env=env,
            cwd=cwd,
            input=input,
            read_only=read_only,
            observe=observe,
        )
        if kept is not None:
            self.calls.append(Call(kept, result.stdout, env or {}))
        return result

    def _kept(self, command: tuple[str, ...]) -> tuple[str, ...]:
        folder = self.keep / f"call-{len(self.calls)}"
        folder.mkdir(parents=True)
        replaced = list(command)
        for position in (3, command.index("-c") + 1 if "-c" in command else None):
            if position is None:
                continue
            source = Path(command[position])
            copy = folder / source.name
            copy.write_bytes(source.read_bytes())
            replaced[position] = str(copy)
        return tuple(replaced)


def record(matrix: Path, keep: Path, output: Path) -> list[Call]:
    """Resolve in process as the command does, recording the uv calls (also a warm-up)."""
    loaded = store.load(matrix)
    release = selectors.select(loaded, RELEASE).release
    options = core.Options(check=True, exclude_newer=release.released)
    index = choose_index(None, os.environ, loaded)
    return record_with(loaded, release, options, index, str(matrix), keep, output)


def record_with(
    loaded: Matrix,
    release: Release,
    options: core.Options,
    index: IndexChoice,
    label: str,
    keep: Path,
    output: Path,
) -> list[Call]:
    """``resolve`` in process with these inputs, recording the uv calls, and the file written."""
    recorder = Recorder(keep)
    with Http() as http:
        result = core.resolve(
            loaded,
            release,
            options,
            http=http,
            uv=Uv(recorder),
            index=index,
            matrix_label=label,
        )
    core.write(result, output)
    return recorder.calls


# -- measurement ---------------------------------------------------------------------------------


def run_at(argv: Sequence[str], env: dict[str, str], *, what: str, cwd: Path) -> float:
    """``providers.run`` in a working directory of its own; the wall time."""
    start = time.perf_counter()
    completed = subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, cwd=cwd, check=False
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        sys.stderr.write(
            f"{what}: exited {completed.returncode}:\n{completed.stderr.decode(errors='replace')}"
        )
        raise SystemExit(2)
    return elapsed


@dataclass(frozen=True)
class Sides:
    python: str
    launcher: Path
    arguments: tuple[str, ...]  # astroctl's, after the launcher
    output: Path
    calls: tuple[Call, ...]
    env: dict[str, str]
    cold_uv: bool = False  # every astroctl run and every bare pair gets an empty uv cache
    cwd: Path | None = None  # astroctl's working directory (None: this process's)

    @contextmanager
    def uv_env(self) -> Iterator[dict[str, str]]:
        """The environment of one run: the shared uv cache, or an empty one of its own."""
        if not self.cold_uv:
            yield self.env
            return
        cache = Path(tempfile.mkdtemp(prefix="uv-cold-", dir=self.output.parent))
        try:
            yield {**self.env, "UV_CACHE_DIR": str(cache)}
        finally:
            shutil.rmtree(cache)

    def astroctl(self) -> float:
        argv = (self.python, str(self.launcher), *self.arguments)
        what = "astroctl constraints resolve --check"
        with self.uv_env() as env:
            if self.cwd is not None:
                return run_at(argv, env, what=what, cwd=self.cwd)
            return run(argv, env, what=what)[0]

    def version(self) -> float:
        argv = (self.python, str(self.launcher), "--version")
        return run(argv, self.env, what="astroctl --version")[0]

    @staticmethod
    def _bare_env(base: dict[str, str], call: Call) -> dict[str, str]:
        env = dict(base)
        for name, value in call.env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def bare(self, *, verify: bool = False) -> float:
        """The recorded ``uv pip compile`` calls, one after the other, with the environment
        changes astroctl's uv seam makes."""
        with self.uv_env() as base:
            total = 0.0
            for call in self.calls:
                elapsed, out = run(call.argv, self._bare_env(base, call), what="uv pip compile")
                total += elapsed
                if verify and out != call.stdout:
                    sys.stderr.write(f"uv printed otherwise than for astroctl:\n{out}")
                    raise SystemExit(2)
        return total

    def bare_at_once(self) -> float:
        """The same calls, all started at once and waited for (as astroctl runs them)."""
        with self.uv_env() as base:
            envs = [self._bare_env(base, call) for call in self.calls]
            start = time.perf_counter()
            children = [
                subprocess.Popen(
                    call.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=env,
                )
                for call, env in zip(self.calls, envs, strict=True)
            ]
            outputs = [child.communicate() for child in children]
            elapsed = time.perf_counter() - start
        for child, (_, err) in zip(children, outputs, strict=True):
            if child.returncode != 0:
                sys.stderr.write(f"uv pip compile: exited {child.returncode}:\n{err.decode()}")
                raise SystemExit(2)
        return elapsed


SIDES = ("bare uv, at once", "bare uv, one by one", "astroctl")


def measure(
    sides: Sides, rounds: int, probe: Callable[[], float] | None = None
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in (*SIDES, "astroctl --version")}
    if probe is not None:
        samples[PROBE] = []
    runs = {"astroctl": sides.astroctl, SIDES[0]: sides.bare_at_once, SIDES[1]: sides.bare}
    for number in range(rounds):
        shift = number % len(SIDES)
        for name in SIDES[shift:] + SIDES[:shift]:  # the order rotates every round
            samples[name].append(runs[name]())
        samples["astroctl --version"].append(sides.version())
        if probe is not None:
            samples[PROBE].append(probe())
    return samples


@dataclass(frozen=True)
class Outcome:
    size: str
    pins: int
    load: str
    samples: dict[str, list[float]]

    def median(self, name: str) -> float:
        return statistics.median(self.samples[name])

    @property
    def ratio(self) -> float:
        return self.median("astroctl") / self.median(SIDES[0])

    @property
    def passed(self) -> bool:
        return self.ratio <= TARGET


def report(outcome: Outcome) -> None:
    samples = outcome.samples
    base = samples[SIDES[0]]
    print(f"\n{'command':<28} {'median':>9} {'min':>9} {'ratio':>7} {'min ratio':>10}")
    for name, seconds in samples.items():
        ratio = statistics.median(seconds) / statistics.median(base)
        min_ratio = min(seconds) / min(base)
        print(
            f"{name:<28} {statistics.median(seconds) * 1000:>7.1f}ms {min(seconds) * 1000:>7.1f}ms"
            f" {ratio:>6.2f}x {min_ratio:>9.2f}x"
        )
    extra = (outcome.median("astroctl") - outcome.median(SIDES[0])) * 1000
    one_by_one = outcome.median("astroctl") / outcome.median(SIDES[1])
    print(
        f"\nastroctl adds {extra:.0f} ms to the bare uv calls run at once: {outcome.ratio:.2f}x"
        f" ({one_by_one:.2f}x the calls one by one)"
    )
    print(f"target <= {TARGET:.1f}x: {'PASS' if outcome.passed else 'FAIL'}")


def summarize(outcomes: Sequence[Outcome]) -> None:
    print(
        f"\n{'size':<8} {'pins':>5} {'bare at once':>13} {'one by one':>11} {'astroctl':>9}", end=""
    )
    print(f" {'ratio':>7} {'vs 1-by-1':>10}  verdict (<= {TARGET:.1f}x)")
    for o in outcomes:
        print(
            f"{o.size:<8} {o.pins:>5} {o.median(SIDES[0]) * 1000:>11.1f}ms"
            f" {o.median(SIDES[1]) * 1000:>9.1f}ms {o.median('astroctl') * 1000:>7.1f}ms"
            f" {o.ratio:>6.2f}x {o.median('astroctl') / o.median(SIDES[1]):>9.2f}x"
            f"  {'PASS' if o.passed else 'FAIL'}"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help=f"timed rounds (default: {LOOPBACK_ROUNDS}; {REAL_ROUNDS} with --real)",
    )
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default: 1)")
    parser.add_argument(
        "--sizes",
        default=None,
        metavar="LIST",
        help=f"comma-separated: {SMALL} (--common packages, flat) and/or a number of pins for "
        f"a realistic set (default: {SMALL},300; not with --real)",
    )
    parser.add_argument(
        "--common",
        type=int,
        default=None,
        metavar="N",
        help=f"the small fixture's apache-airflow dependencies ({COMMON_SIZE}; not with --real)",
    )
    parser.add_argument(
        "--uv-cache",
        choices=("warm", "cold"),
        default="warm",
        help="warm: one uv cache, filled by the warm-up (the default); cold: an empty one for "
        "every astroctl run and every pair of bare calls (not with --real)",
    )
    real = parser.add_argument_group("real index (talks to the network)")
    real.add_argument(
        "--real",
        action="store_true",
        help="measure against a real index with the embedded matrix, not the loopback one",
    )
    real.add_argument("--release", default=None, help=f"the release (default: {RELEASE})")
    real.add_argument(
        "--python", default=None, metavar="X.Y", help="its Python (default: the release's)"
    )
    real.add_argument(
        "--index-url",
        default=None,
        metavar="URL",
        help=f"the index uv resolves against (default: {REAL_INDEX})",
    )
    real.add_argument(
        "--upstream",
        default=None,
        metavar="TEMPLATE",
        help="Airflow's constraints file: a URL or path with {airflow} and {python} "
        "(required with --real)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.real:
        return _real_args(parser, args)
    return _loopback_args(parser, args)


def _real_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    loopback_only = {"--sizes": args.sizes, "--common": args.common}
    given = [name for name, value in loopback_only.items() if value is not None]
    if args.uv_cache != "warm":
        given.append("--uv-cache cold")
    if given:
        parser.error(f"{', '.join(given)}: not with --real")
    if args.upstream is None or not args.upstream.strip():
        parser.error("--real needs --upstream TEMPLATE (a URL or path with {airflow} and {python})")
    args.rounds = REAL_ROUNDS if args.rounds is None else args.rounds
    args.release = RELEASE if args.release is None else args.release
    args.index_url = REAL_INDEX if args.index_url is None else args.index_url
    args.upstream = upstream_template(args.upstream.strip())
    if args.rounds < 1 or args.warmup < 0:
        parser.error("--rounds must be >= 1, --warmup >= 0")
    return args


def _loopback_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    real_only = {
        "--release": args.release,
        "--python": args.python,
        "--index-url": args.index_url,
        "--upstream": args.upstream,
    }
    given = [name for name, value in real_only.items() if value is not None]
    if given:
        parser.error(f"{', '.join(given)}: only with --real")
    args.rounds = LOOPBACK_ROUNDS if args.rounds is None else args.rounds
    args.common = COMMON_SIZE if args.common is None else args.common
    args.sizes = f"{SMALL},300" if args.sizes is None else args.sizes
    if args.rounds < 1 or args.warmup < 0 or args.common < 1:
        parser.error("--rounds and --common must be >= 1, --warmup >= 0")
    sizes = [item.strip() for item in args.sizes.split(",") if item.strip()]
    minimum = DIRECT + len(PROVIDERS) + 2
    for item in sizes:
        if item != SMALL and not (item.isdigit() and int(item) >= minimum):
            parser.error(f"--sizes: {item!r} is neither {SMALL} nor a number >= {minimum}")
    if not sizes:
        parser.error("--sizes: nothing to measure")
    args.sizes = sizes
    return args


def bench(size: str, args: argparse.Namespace, caller: dict[str, str]) -> Outcome:
    """One size: its own index, matrix and caches; the rounds; the report."""
    populating, argument = (populate, args.common) if size == SMALL else (populate_graph, int(size))
    with (
        tempfile.TemporaryDirectory(prefix="astroctl-bench-") as tmp,
        RemoteIndex(populating, argument) as index,
    ):
        workdir = Path(tmp)
        env = offline_env(
            UV_CACHE_DIR=str(workdir / "uv-cache"), ASTROCTL_CACHE_DIR=str(workdir / "cache")
        )
        os.environ.clear()
        os.environ.update(env)  # the in-process recording run sees what the subprocesses see
        matrix = workdir / "compatibility.toml"
        matrix.write_text(matrix_text(index.base), encoding="utf-8")
        output = workdir / "out"
        output.mkdir()
        calls = record(matrix, workdir / "recorded", output)
        launcher, how = astroctl_launcher(workdir)
        cold = args.uv_cache == "cold"
        arguments = (
            *("--matrix", str(matrix)),
            *("constraints", "resolve", RELEASE, "--check", "--output", str(output)),
        )
        sides = Sides(sys.executable, launcher, arguments, output, tuple(calls), env, cold)
        sides.bare(verify=True)
        pins = (output / f"constraints-{PYTHON}.txt").read_text(encoding="utf-8")
        count = sum(1 for line in pins.splitlines() if line and not line.startswith("#"))
        load = loadavg()
        print(f"\n== size {size} ==")
        print(f"python:   {sys.executable} ({sys.version.split()[0]})")
        print(f"launcher: astroctl via {how}")
        print(f"index:    {index.url}; upstream {index.base}/files/{UPSTREAM_FILE}")
        print(f"set:      {count} pins; the release pins {len(release_pins())}")
        print(f"uv calls: {len(calls)}, at once in astroctl:")
        for call in calls:
            print("  " + " ".join(call.argv).replace(str(workdir), "$TMP"))
        state = "an empty one per run" if cold else "one, shared and warm"
        print(f"uv cache: {state}")
        print(f"rounds:   {args.rounds} interleaved, after {args.warmup} warm-up round(s)")
        print(f"load:     {load} (1/5/15-minute averages at start)")
        for _ in range(args.warmup):
            sides.astroctl()
            sides.bare()
            sides.bare_at_once()
            sides.version()
        index.take()
        sides.astroctl()
        print(f"\nastroctl requests: {describe_requests(index.take())}")
        sides.bare()
        print(f"bare uv requests: {describe_requests(index.take())}")
        samples = measure(sides, args.rounds)
        os.environ.clear()
        os.environ.update(caller)
    outcome = Outcome(size, count, load, samples)
    report(outcome)
    return outcome


def upstream_template(text: str) -> str:
    """A URL as given; a path (no ``scheme://``) as a ``file://`` URL, braces kept."""
    if "://" in text:
        return text
    return "file://" + str(Path(text).expanduser().absolute())


def online_env(**extra: str) -> dict[str, str]:
    """startup.py's environment with no ``PIP_*``, ``UV_*`` or ``ASTROCTL_*`` variable of the
    user's (only ``extra``); the proxy and CA variables are kept: this reaches the network."""
    env = {
        name: value
        for name, value in benchmark_env().items()
        if not name.startswith(("PIP_", "UV_", "ASTROCTL_"))
    }
    env.update(extra)
    return env


def probe_timer(
    loaded: Matrix, release: Release, index: IndexChoice, options: core.Options
) -> tuple[Callable[[], float] | None, str]:
    """What astroctl does before uv runs for the packages with an index of their own (timed in
    process, a fresh HTTP client each time, as a fresh astroctl has), and what it found."""
    private = core.private_packages(loaded, release, index)
    if not private:
        return None, "none (no package of the release has an index of its own)"
    wanted = core.release_pins(release)

    def probe() -> float:
        start = time.perf_counter()
        with Http() as http:
            core.probe_private(private, wanted, http=http, options=options)
        return time.perf_counter() - start

    with Http() as http:
        left = core.probe_private(private, wanted, http=http, options=options)
    named = "; ".join(f"{', '.join(names)} on {url}" for url, names in private.items())
    gone = "; ".join(f"{item.requirement} left out: {item.problem}" for item in left)
    return probe, f"{named} ({gone or 'answered: in the resolution'})"


def bench_real(args: argparse.Namespace, caller: dict[str, str]) -> Outcome:
    """The real index: the embedded matrix, the real release, the network."""
    print(
        f"REAL INDEX: this run sends requests to {args.index_url} over the network (the "
        "environment's proxy and CA settings as they are); the loopback index is not used."
    )
    with tempfile.TemporaryDirectory(prefix="astroctl-bench-real-") as tmp:
        workdir = Path(tmp)
        env = online_env(
            UV_CACHE_DIR=str(workdir / "uv-cache"), ASTROCTL_CACHE_DIR=str(workdir / "cache")
        )
        os.environ.clear()
        os.environ.update(env)  # the in-process recording run sees what the subprocesses see
        source = store.locate(None, env, cwd=workdir)  # as astroctl run there finds it
        if source.origin is not store.Origin.EMBEDDED:
            sys.stderr.write(f"{source.path}: found before the embedded matrix ({source.origin})")
            raise SystemExit(2)
        loaded = store.load(source.path)
        release = selectors.select(loaded, args.release).release
        python = target_of(release, args.python).python
        options = core.Options(
            python=python,
            upstream=args.upstream,
            check=True,
            exclude_newer=release.released,
            fresh_for=cache_ttl(env),
        )
        index = choose_index(args.index_url, env, loaded)
        output = workdir / "out"
        output.mkdir()
        start = time.perf_counter()
        calls = record_with(
            loaded, release, options, index, str(source.path), workdir / "recorded", output
        )
        recorded = time.perf_counter() - start
        probe, probed = probe_timer(loaded, release, index, options)
        launcher, how = astroctl_launcher(workdir)
        arguments = (
            *("constraints", "resolve", release.name, "--python", python, "--check"),
            *("--upstream", args.upstream, "--index-url", args.index_url),
            *("--output", str(output)),
        )
        sides = Sides(sys.executable, launcher, arguments, output, tuple(calls), env, cwd=workdir)
        sides.bare(verify=True)
        pins = (output / f"constraints-{python}.txt").read_text(encoding="utf-8")
        count = sum(1 for line in pins.splitlines() if line and not line.startswith("#"))
        load = loadavg()
        print(f"\n== real index: release {release.name}, Python {python} ==")
        print(f"python:   {sys.executable} ({sys.version.split()[0]})")
        print(f"launcher: astroctl via {how}, run in $TMP with no --matrix")
        print(f"matrix:   {source.path} ({source.origin.value})")
        print(f"index:    {index.url} (REAL, over the network); upstream {args.upstream}")
        print(f"set:      {count} pins; the release pins {len(core.release_pins(release))}")
        print(f"probed:   {probed}")
        print(f"uv calls: {len(calls)}, at once in astroctl (recording run: {recorded:.1f} s):")
        for call in calls:
            print("  " + " ".join(call.argv).replace(str(workdir), "$TMP"))
        print("uv cache: one, shared and warm; astroctl cache: one, shared")
        print(f"rounds:   {args.rounds} interleaved, after {args.warmup} warm-up round(s)")
        print(f"load:     {load} (1/5/15-minute averages at start)")
        for _ in range(args.warmup):
            sides.astroctl()
            sides.bare()
            sides.bare_at_once()
            sides.version()
        samples = measure(sides, args.rounds, probe)
        os.environ.clear()
        os.environ.update(caller)
    outcome = Outcome("real", count, load, samples)
    report(outcome)
    # the network drifts between rounds: each round's own ratio shows how much
    paired = [a / b for a, b in zip(samples["astroctl"], samples[SIDES[0]], strict=True)]
    print(
        f"per round, astroctl / bare uv at once: {' '.join(f'{r:.2f}' for r in paired)}"
        f" (median {statistics.median(paired):.2f}x)"
    )
    if probe is not None:
        spent = outcome.median(PROBE)
        without = (outcome.median("astroctl") - spent) / outcome.median(SIDES[0])
        print(
            f"the {PROBE} (in process, a fresh HTTP client; not counting the imports and TLS "
            f"set-up it needs first in a fresh astroctl) takes {spent * 1000:.0f} ms of that: "
            f"astroctl less the probe would be {without:.2f}x"
        )
    return outcome


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    caller = dict(os.environ)
    if args.real:
        outcome = bench_real(args, caller)
        summarize([outcome])
        print(f"\nresult: {'PASS' if outcome.passed else 'FAIL'} (against {args.index_url})")
        return 1 if args.check and not outcome.passed else 0
    outcomes = [bench(size, args, caller) for size in args.sizes]
    summarize(outcomes)
    passed = all(o.passed for o in outcomes)
    print(f"\nresult: {'PASS' if passed else 'FAIL'}")
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
