"""``astroctl constraints resolve --check`` against the bare ``uv pip compile`` calls it makes.

Usage::

    .venv/bin/python benchmarks/constraints.py [--rounds 20] [--warmup 1] [--check]
        [--sizes small,300] [--common 40] [--uv-cache warm|cold]

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
  constraints files and the environment changes astroctl makes (``seams.uv.environment``),
  timed two ways: both started at once and waited for (**bare uv, at once**: what astroctl
  does, the verdict's baseline) and one after the other (**bare uv, one by one**: the baseline
  before the calls ran at once, shown for comparison). The argv is not rebuilt: an in-process
  ``resolve`` through a recording process runner captures each ``uv pip compile`` astroctl
  runs, with copies of its scratch files; the bare side replays them and must print what uv
  printed for astroctl.

Reported per size: the requests each side makes (the server's log), median and min of each
side, the ratio astroctl/bare at once (median/median: the verdict; min/min), the ratio to the
one-by-one calls, and ``astroctl --version`` as the start-up floor. Target: at most 1.2x.

Exit status: 0, unless ``--check`` is given and the target is missed (then 1); 2 when a command
fails to run. Nothing leaves the machine: every proxy variable points at a dead loopback port.
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
from astroctl.providers import constraints as core  # noqa: E402
from astroctl.providers.target import choose_index  # noqa: E402
from astroctl.seams.http import Http  # noqa: E402
from astroctl.seams.process import Environment, ProcessResult, Runner, normalize_argv  # noqa: E402
from astroctl.seams.uv import Uv, environment  # noqa: E402
from providers import RemoteIndex, describe_requests, offline_env, run  # noqa: E402 - sibling
from startup import astroctl_launcher, loadavg  # noqa: E402

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
            self.calls.append(Call(kept, result.stdout))
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
    recorder = Recorder(keep)
    with Http() as http:
        result = core.resolve(
            loaded,
            release,
            options,
            http=http,
            uv=Uv(recorder),
            index=choose_index(None, os.environ, loaded),
            matrix_label=str(matrix),
        )
    core.write(result, output)
    return recorder.calls


# -- measurement ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sides:
    python: str
    launcher: Path
    matrix: Path
    output: Path
    calls: tuple[Call, ...]
    env: dict[str, str]
    cold_uv: bool = False  # every astroctl run and every bare pair gets an empty uv cache

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
        argv = (
            *(self.python, str(self.launcher), "--matrix", str(self.matrix)),
            *("constraints", "resolve", RELEASE, "--check", "--output", str(self.output)),
        )
        with self.uv_env() as env:
            return run(argv, env, what="astroctl constraints resolve --check")[0]

    def version(self) -> float:
        argv = (self.python, str(self.launcher), "--version")
        return run(argv, self.env, what="astroctl --version")[0]

    def _bare_env(self, base: dict[str, str]) -> dict[str, str]:
        env = dict(base)
        for name, value in environment(base).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def bare(self, *, verify: bool = False) -> float:
        """The recorded ``uv pip compile`` calls, one after the other, with the environment
        changes astroctl's uv seam makes."""
        with self.uv_env() as base:
            env = self._bare_env(base)
            total = 0.0
            for call in self.calls:
                elapsed, out = run(call.argv, env, what="uv pip compile")
                total += elapsed
                if verify and out != call.stdout:
                    sys.stderr.write(f"uv printed otherwise than for astroctl:\n{out}")
                    raise SystemExit(2)
        return total

    def bare_at_once(self) -> float:
        """The same calls, all started at once and waited for (as astroctl runs them)."""
        with self.uv_env() as base:
            env = self._bare_env(base)
            start = time.perf_counter()
            children = [
                subprocess.Popen(
                    call.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=env,
                )
                for call in self.calls
            ]
            outputs = [child.communicate() for child in children]
            elapsed = time.perf_counter() - start
        for child, (_, err) in zip(children, outputs, strict=True):
            if child.returncode != 0:
                sys.stderr.write(f"uv pip compile: exited {child.returncode}:\n{err.decode()}")
                raise SystemExit(2)
        return elapsed


SIDES = ("bare uv, at once", "bare uv, one by one", "astroctl")


def measure(sides: Sides, rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in (*SIDES, "astroctl --version")}
    runs = {"astroctl": sides.astroctl, SIDES[0]: sides.bare_at_once, SIDES[1]: sides.bare}
    for number in range(rounds):
        shift = number % len(SIDES)
        for name in SIDES[shift:] + SIDES[:shift]:  # the order rotates every round
            samples[name].append(runs[name]())
        samples["astroctl --version"].append(sides.version())
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
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds (default: 20)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default: 1)")
    parser.add_argument(
        "--sizes",
        default=f"{SMALL},300",
        metavar="LIST",
        help=f"comma-separated: {SMALL} (--common packages, flat) and/or a number of pins for "
        f"a realistic set (default: {SMALL},300)",
    )
    parser.add_argument(
        "--common",
        type=int,
        default=COMMON_SIZE,
        metavar="N",
        help=f"the small fixture's apache-airflow dependencies ({COMMON_SIZE})",
    )
    parser.add_argument(
        "--uv-cache",
        choices=("warm", "cold"),
        default="warm",
        help="warm: one uv cache, filled by the warm-up (the default); cold: an empty one for "
        "every astroctl run and every pair of bare calls",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
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
        sides = Sides(sys.executable, launcher, matrix, output, tuple(calls), env, cold)
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    caller = dict(os.environ)
    outcomes = [bench(size, args, caller) for size in args.sizes]
    summarize(outcomes)
    passed = all(o.passed for o in outcomes)
    print(f"\nresult: {'PASS' if passed else 'FAIL'}")
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
