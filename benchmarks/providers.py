"""``astroctl providers outdated`` over 150 packages against a ``pip index versions`` loop.

Usage::

    .venv/bin/python benchmarks/providers.py [--rounds 12] [--baseline-rounds 4] [--check]

A loopback package index (``tests/index_server.py``: PEP 691 JSON and PEP 503 HTML pages, real
wheels, PEP 658 metadata files, ``ETag``/``Last-Modified`` and ``304 Not Modified``) runs in a
child process of its own, so its Python threads never compete for this process's GIL. It serves
150 projects generated from ``--seed``: ~10 final versions each (a seeded walk of patch, minor
and major bumps), some newer versions yanked, some pre-releases, some needing Python >= 3.12,
providers needing ``apache-airflow>=X`` (with and without markers), and PEP 658 metadata files
for ~70% of the projects (astroctl downloads the wheel for the others). A matrix with one
release (9.1.0: Python 3.11, Airflow 2.7.2) pins the 150 packages below their newest versions.

Both sides are fresh subprocesses of the same Python, interleaved within each round:

- **astroctl**: ``python .venv/bin/astroctl --matrix FILE providers outdated 9.1.0
  --index-url URL`` (the table, stdout to ``/dev/null``), **cold** (a fresh, empty
  ``ASTROCTL_CACHE_DIR`` for every run), **warm** (a cache filled by an earlier run, its pages
  within their freshness window, ``$ASTROCTL_CACHE_TTL``'s default of 600 s: no request at all,
  metadata read from disk) and **revalidating** (the same cache with ``--refresh``: every page
  revalidated and answered ``304``, as a warm run whose pages have expired; reported beside the
  verdicts, against the warm target);
- **the baseline**: what a release engineer does by hand, a sequential loop of
  ``python -m pip index versions NAME --index-url URL`` over the same 150 packages, the whole
  loop timed. Odd loops get a fresh ``PIP_CACHE_DIR``, even ones the previous loop's. pip keeps
  nothing of these pages (the server's log shows 150 unconditional ``200`` either way and the
  cache directory stays empty), so every loop does the same work and the baseline of both
  verdicts is the median of all the loops. pip's version self-check is off (it would go to
  pypi.org), and no ``PIP_*`` variable of the user's is passed on; both only make pip faster.

The baseline is slow (150 pip processes, ~0.3-0.4 s each), so it runs ``--baseline-rounds``
times (4) and astroctl ``--rounds`` times per state (12), its runs spread around the loops.
Reported: median and min of each, the ratios baseline/astroctl (median/median: the verdict;
min/min), the requests each side made (from the server's log, with the number of connections),
and where an astroctl run's time goes: from the process start to its first request, the first
to the last request, the last request to exit.

Targets: astroctl at least 50x faster than the loop cold and 150x faster warm. Exit status: 0,
unless ``--check`` is given and a target is missed (then 1); 2 when a command fails to run.
Nothing leaves the machine: every proxy variable points at a dead loopback port, loopback exempt.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # for tests.index_server and tests.factories
    sys.path.insert(0, str(REPO))

from tests import factories, index_server  # noqa: E402
from tests.index_server import IndexServer  # noqa: E402

from startup import astroctl_launcher, benchmark_env, loadavg  # noqa: E402 - the sibling script
from validate import package_names  # noqa: E402

COLD_TARGET = 50.0
WARM_TARGET = 150.0
PACKAGES = 150
RELEASE = "9.1.0"
PYTHON = "3.11"
AIRFLOW = "2.7.2"
DEAD_PROXY = "http://127.0.0.1:9"

# -- the index's content -----------------------------------------------------------------------


@dataclass(frozen=True)
class Dist:
    """One version of one project on the index (a wheel, with its PEP 658 file or not)."""

    name: str
    version: str
    requires_python: str | None = None
    requires_dist: tuple[str, ...] = ()
    yanked: bool = False
    metadata_file: bool = True


@dataclass(frozen=True)
class Catalog:
    """The index's projects and the release's pins."""

    dists: tuple[Dist, ...]
    pins: dict[str, str]


def _walk(rng: random.Random, count: int) -> list[str]:
    """``count`` ascending final versions: a seeded walk of patch, minor and major bumps."""
    major, minor, patch = rng.randint(1, 9), rng.randint(0, 20), rng.randint(0, 3)
    versions = []
    for _ in range(count):
        versions.append(f"{major}.{minor}.{patch}")
        roll = rng.random()
        if roll < 0.1:
            major, minor, patch = major + 1, 0, 0
        elif roll < 0.45:
            minor, patch = minor + 1, 0
        else:
            patch += 1
    return versions


def _airflow_requirement(rng: random.Random, provider: bool, newest: bool) -> tuple[str, ...]:
    """A provider's Requires-Dist: apache-airflow (the newest may need a later one), sometimes
    behind a marker, and a common dependency."""
    if not provider:
        return ("requests>=2.27",)
    if newest and rng.random() < 0.35:
        marker = rng.choice(("", '; python_version >= "3.8"', '; python_version >= "3.12"'))
        return (f"apache-airflow>=2.9.0{marker}", "requests>=2.27")
    return ('apache-airflow>=2.6.0; python_version >= "3.8"', "requests>=2.27")


def _project(rng: random.Random, name: str) -> tuple[list[Dist], str]:
    """A project's ~10 versions (newer ones held back in various ways) and the release's pin."""
    versions = _walk(rng, rng.randint(8, 12))
    pin = rng.randint(2, len(versions) - 3)
    provider = name.startswith("apache-airflow-providers-")
    pep658 = rng.random() < 0.7
    dists = []
    for position, version in enumerate(versions):
        newest = position == len(versions) - 1
        needs_312 = newest and rng.random() < 0.15
        dists.append(
            Dist(
                name,
                version,
                requires_python=">=3.12" if needs_312 else ">=3.8",
                requires_dist=_airflow_requirement(rng, provider, newest),
                yanked=position > pin and rng.random() < 0.05,
                metadata_file=pep658,
            )
        )
    if rng.random() < 0.2:  # a pre-release above everything, which a search must skip
        dists.append(Dist(name, _next_rc(versions[-1])))
    return dists, versions[pin]


def _next_rc(version: str) -> str:
    major, minor, _ = (int(part) for part in version.split("."))
    return f"{major}.{minor + 1}.0rc1"


def catalog(seed: int, count: int = PACKAGES) -> Catalog:
    """The index's content for ``seed``: the same seed, the same projects."""
    rng = random.Random(f"providers:{seed}:{count}")
    dists: list[Dist] = []
    pins: dict[str, str] = {}
    for name in package_names(count):
        project, pins[name] = _project(rng, name)
        dists.extend(project)
    return Catalog(tuple(dists), pins)


def populate(index: IndexServer, seed: int) -> None:
    """Publish the catalog of ``seed`` on ``index`` (runs in the server's process)."""
    for dist in catalog(seed).dists:
        index.add(
            dist.name,
            dist.version,
            requires_python=dist.requires_python,
            requires_dist=dist.requires_dist,
            yanked=dist.yanked,
            metadata_file=dist.metadata_file,
        )


def matrix_text(pins: dict[str, str], index_url: str) -> str:
    """A matrix with release 9.1.0 (Python 3.11, Airflow 2.7.2) pinning ``pins``."""
    doc = factories.document(
        factories.release(RELEASE, AIRFLOW, released=date(2023, 10, 12), packages=pins),
        lines={9: factories.line(python=PYTHON, python_versions=("3.10", PYTHON))},
        upstream={
            "constraints_url": f"{index_url}../files/constraints-{{airflow}}-{{python}}.txt",
            "index_url": index_url,
        },
    )
    return factories.toml_text(doc)


# -- the index in a process of its own ---------------------------------------------------------

Populate = Callable[[IndexServer, int], None]
# method, path, status, conditional, client port (one per connection), start, end
Logged = tuple[str, str, int, bool, int, float, float]
LISTEN_BACKLOG = 128


def _serve(conn: Connection, populate: Populate, argument: int) -> None:
    """The server process: build the index, say where it is, then answer the parent's calls.

    The listen backlog is raised from socketserver's 5 to 128: with 5, a client opening 8
    connections at once overflows it now and then (``nstat``: TcpExtListenOverflows), the
    kernel drops the SYN and the client waits 1 s for the retransmission. A real index has a
    deep backlog; that second would be the harness's, not the client's.
    """
    index_server._QuietServer.request_queue_size = LISTEN_BACKLOG
    with IndexServer() as index:
        populate(index, argument)
        conn.send(index.base)
        while True:
            command = conn.recv()
            if command == "take":
                taken = index.requests
                index.clear_log()
                conn.send([_logged(r) for r in taken])
            else:
                break


def _logged(r: index_server.Request) -> Logged:
    return (r.method, r.path, r.status, r.conditional, r.client_port, r.started, r.ended)


class RemoteIndex:
    """A loopback :class:`IndexServer` in a spawned child process, filled there by
    ``populate(index, argument)`` (a module-level function: it is pickled by name)."""

    def __init__(self, populate: Populate, argument: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, populate, argument), name="loopback-index", daemon=True
        )
        self._process.start()
        child.close()
        if not self._conn.poll(300):
            raise RuntimeError("the loopback index did not start within 300 s")
        self.base: str = self._conn.recv()

    @property
    def url(self) -> str:
        return f"{self.base}/simple/"

    def take(self) -> list[Logged]:
        """The requests answered since the last call (the log is then cleared)."""
        self._conn.send("take")
        logged: list[Logged] = self._conn.recv()
        return logged

    def close(self) -> None:
        if self._process.is_alive():
            self._conn.send("stop")
            self._process.join(10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._conn.close()

    def __enter__(self) -> RemoteIndex:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def offline_env(**extra: str) -> dict[str, str]:
    """startup.py's environment, every proxy a dead loopback port (loopback exempt), and no
    ``PIP_*``, ``UV_*`` or ``ASTROCTL_*`` variable of the user's (only ``extra``)."""
    env = {
        name: value
        for name, value in benchmark_env().items()
        if not name.startswith(("PIP_", "UV_", "ASTROCTL_"))  # PIP_FIND_LINKS, say, is work
    }
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = DEAD_PROXY
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def run(argv: Sequence[str], env: dict[str, str], *, what: str) -> tuple[float, str]:
    """Run one command; its wall time and stdout. Exit 2 from the benchmark if it fails."""
    start = time.perf_counter()
    completed = subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, env=env, check=False
    )
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        sys.stderr.write(
            f"{what}: exited {completed.returncode}:\n{completed.stderr.decode(errors='replace')}"
        )
        raise SystemExit(2)
    return elapsed, completed.stdout.decode(errors="replace")


# -- the two sides -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sides:
    """How to run astroctl and the pip loop against the index."""

    python: str
    launcher: Path
    matrix: Path
    url: str
    names: tuple[str, ...]
    workdir: Path

    def astroctl(self, cache: Path, *options: str) -> tuple[float, str]:
        argv = (
            *(self.python, str(self.launcher), "--matrix", str(self.matrix)),
            *("providers", "outdated", RELEASE, "--index-url", self.url, *options),
        )
        env = offline_env(ASTROCTL_CACHE_DIR=str(cache))
        return run(argv, env, what="astroctl providers outdated")

    def pip_loop(self, cache: Path) -> float:
        """The whole sequential loop of ``pip index versions``, one process per package."""
        env = offline_env(
            PIP_CACHE_DIR=str(cache),
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PIP_NO_INPUT="1",
            PIP_CONFIG_FILE=os.devnull,
        )
        start = time.perf_counter()
        for name in self.names:
            argv = (self.python, "-m", "pip", "index", "versions", name, "--index-url", self.url)
            _, out = run(argv, env, what=f"pip index versions {name}")
            if "Available versions:" not in out:
                sys.stderr.write(f"pip index versions {name}: unexpected output:\n{out}")
                raise SystemExit(2)
        return time.perf_counter() - start


# -- measurement ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phases:
    """One astroctl run split by the server's log: before the first request, the requests,
    after the last one."""

    start: float
    requests: float
    end: float


@dataclass
class Samples:
    seconds: dict[str, list[float]]
    phases: dict[str, list[Phases]]
    requests: dict[str, str] = field(default_factory=dict)  # a pip loop's, as the server saw

    def median(self, name: str) -> float:
        return statistics.median(self.seconds[name])

    def minimum(self, name: str) -> float:
        return min(self.seconds[name])


def timed_astroctl(
    sides: Sides, index: RemoteIndex, warm_cache: Path, state: str
) -> tuple[float, Phases | None]:
    """One astroctl run (cold, warm or revalidating) and its phases from the server's log."""
    index.take()
    cache = Path(tempfile.mkdtemp(prefix="cold-", dir=sides.workdir)) if state == "cold" else None
    options = ("--refresh",) if state == "revalidating" else ()
    try:
        began = time.monotonic()  # CLOCK_MONOTONIC: the server process's clock too
        elapsed = sides.astroctl(cache or warm_cache, *options)[0]
        ended = time.monotonic()
    finally:
        if cache is not None:  # removed outside the phases: that is the harness's time
            shutil.rmtree(cache)
    logged = index.take()
    if not logged:
        return elapsed, None
    first, last = min(r[5] for r in logged), max(r[6] for r in logged)
    return elapsed, Phases(first - began, last - first, ended - last)


def measure(
    sides: Sides, index: RemoteIndex, warm_cache: Path, rounds: int, baseline_rounds: int
) -> Samples:
    """``baseline_rounds`` rounds, each one pip loop (with a fresh ``PIP_CACHE_DIR`` in odd
    rounds, the previous loop's in even ones) between its share of the astroctl runs (cold, warm
    and revalidating in turn, the first state rotating)."""
    states = ("cold", "warm", "revalidating")
    names = (*(f"astroctl {state}" for state in states), "pip loop cold", "pip loop warm")
    samples = Samples({n: [] for n in names}, {f"astroctl {state}": [] for state in states})
    per_round = math.ceil(rounds / baseline_rounds)

    def astroctl_runs(count: int) -> None:
        for n in range(count):
            shift = n % len(states)
            for state in states[shift:] + states[:shift]:
                name = f"astroctl {state}"
                if len(samples.seconds[name]) >= rounds:
                    continue
                elapsed, phases = timed_astroctl(sides, index, warm_cache, state)
                samples.seconds[name].append(elapsed)
                if phases is not None:
                    samples.phases[name].append(phases)

    pip_cache = sides.workdir / "pip-cache"
    for number in range(baseline_rounds):
        astroctl_runs(per_round // 2)
        state = "warm" if number % 2 else "cold"
        if state == "cold":
            shutil.rmtree(pip_cache, ignore_errors=True)
            pip_cache.mkdir()
        index.take()
        samples.seconds[f"pip loop {state}"].append(sides.pip_loop(pip_cache))
        files = sum(1 for path in pip_cache.rglob("*") if path.is_file())
        samples.requests[f"pip loop {state}"] = (
            f"{describe_requests(index.take())}; PIP_CACHE_DIR then held {files} files"
        )
        astroctl_runs(per_round - per_round // 2)
        print(f"  round {number + 1}/{baseline_rounds} done", file=sys.stderr)
    return samples


# -- what astroctl did -------------------------------------------------------------------------


def describe_requests(logged: list[Logged]) -> str:
    kinds: Counter[str] = Counter()
    for _, path, status, conditional, _, _, _ in logged:
        if path.startswith("/simple/"):
            kind = f"page {status}" + (" (conditional)" if conditional else "")
        elif path.endswith(".metadata"):
            kind = f"PEP 658 metadata {status}"
        elif path.endswith(".whl"):
            kind = f"wheel {status}"
        else:
            kind = f"other file {status}"
        kinds[kind] += 1
    if not logged:
        return "none"
    listed = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    return f"{listed}; over {len({r[4] for r in logged})} connections"


def describe_result(text: str) -> str:
    """What the JSON report says: how many packages, how many outdated, why others held back."""
    data: dict[str, Any] = json.loads(text)
    packages = data["packages"]
    outdated = sum(1 for p in packages if p["change"] != "unchanged")
    reasons: Counter[str] = Counter()
    for package in packages:
        held = package.get("held_back")
        if held:
            reasons["Python" if "requires Python" in held else "Airflow"] += 1
    held_text = ", ".join(f"{n} by {why}" for why, n in sorted(reasons.items())) or "none"
    return f"{len(packages)} packages, {outdated} outdated; newest held back: {held_text}"


@contextmanager
def world(seed: int) -> Iterator[tuple[RemoteIndex, Catalog]]:
    with RemoteIndex(populate, seed) as index:
        yield index, catalog(seed)


# -- report --------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def report(samples: Samples) -> bool:
    print(f"\n{'command':<16} {'runs':>5} {'median':>10} {'min':>10}")
    for name, seconds in samples.seconds.items():
        if not seconds:
            continue
        print(
            f"{name:<16} {len(seconds):>5} {_ms(statistics.median(seconds)):>10}"
            f" {_ms(min(seconds)):>10}"
        )
    print(f"\n{'phase (median)':<16} {'to 1st request':>15} {'requests':>10} {'after last':>11}")
    for name, phases in samples.phases.items():
        if phases:
            start = statistics.median(p.start for p in phases)
            requests = statistics.median(p.requests for p in phases)
            end = statistics.median(p.end for p in phases)
            print(f"{name:<16} {_ms(start):>15} {_ms(requests):>10} {_ms(end):>11}")
    for name, described in samples.requests.items():
        print(f"{name}: {described}")
    passed = True
    loops = samples.seconds["pip loop cold"] + samples.seconds["pip loop warm"]
    each = statistics.median(loops) / PACKAGES
    print(
        f"baseline: the median of all {len(loops)} pip loops, {_ms(statistics.median(loops))}"
        f" ({_ms(each)} per package)\n"
    )
    for state, target in (("cold", COLD_TARGET), ("warm", WARM_TARGET)):
        ours = f"astroctl {state}"
        ratio = statistics.median(loops) / samples.median(ours)
        min_ratio = min(loops) / samples.minimum(ours)
        ok = ratio >= target
        passed = passed and ok
        verdict = "PASS" if ok else f"FAIL, {1 - ratio / target:.1%} short"
        print(
            f"{state}: astroctl {ratio:.1f}x faster (min/min {min_ratio:.1f}x); "
            f"target >= {target:.0f}x: {verdict}"
        )
    if samples.seconds["astroctl revalidating"]:
        ratio = statistics.median(loops) / samples.median("astroctl revalidating")
        min_ratio = min(loops) / samples.minimum("astroctl revalidating")
        shortfall = "meets it" if ratio >= WARM_TARGET else f"{1 - ratio / WARM_TARGET:.1%} short"
        print(
            f"revalidating (--refresh, no verdict): astroctl {ratio:.1f}x faster (min/min "
            f"{min_ratio:.1f}x); against the warm target: {shortfall}"
        )
    return passed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=12, help="astroctl runs per state (12)")
    parser.add_argument(
        "--baseline-rounds", type=int, default=4, help="pip loops in all (4; ~1 min each)"
    )
    parser.add_argument("--seed", type=int, default=2024, help="the index's content (2024)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.baseline_rounds < 1:
        parser.error("--rounds and --baseline-rounds must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="astroctl-bench-") as tmp, world(args.seed) as pair:
        index, content = pair
        workdir = Path(tmp)
        matrix = workdir / "compatibility.toml"
        matrix.write_text(matrix_text(content.pins, index.url), encoding="utf-8")
        launcher, how = astroctl_launcher(workdir)
        names = tuple(sorted(content.pins))
        sides = Sides(sys.executable, launcher, matrix, index.url, names, workdir)
        print(f"python:   {sys.executable} ({sys.version.split()[0]})")
        print(f"launcher: astroctl via {how}; pip via python -m pip")
        print(f"index:    {index.url} ({len(content.dists)} wheels, {len(names)} projects)")
        print(
            f"rounds:   astroctl {args.rounds} each cold, warm and revalidating, "
            f"{args.baseline_rounds} pip loops, interleaved"
        )
        print(f"load:     {loadavg()} (1/5/15-minute averages at start)")
        warm_cache = workdir / "warm-cache"
        index.take()
        _, out = sides.astroctl(warm_cache, "--format", "json")  # untimed: fills the warm cache
        print(f"\nfirst run (cold, untimed): {describe_result(out)}")
        print(f"  requests: {describe_requests(index.take())}")
        sides.astroctl(warm_cache)
        print(f"warm run (untimed):        requests: {describe_requests(index.take())}")
        sides.astroctl(warm_cache, "--refresh")
        print(f"--refresh run (untimed):   requests: {describe_requests(index.take())}")
        samples = measure(sides, index, warm_cache, args.rounds, args.baseline_rounds)
    passed = report(samples)
    print(f"\nresult: {'PASS' if passed else 'FAIL'}")
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
