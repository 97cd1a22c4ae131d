"""Cost of ``astroctl matrix validate`` on large generated matrices, and how it grows.

Usage::

    .venv/bin/python benchmarks/validate.py [--sizes 2000x150,1000x150] [--rounds 5] [--check]

For each size RELEASESxPACKAGES it generates a synthetic, *valid* schema-1 matrix (deterministic
for a given ``--seed``), writes it as TOML to a temporary directory, then measures:

- ``end to end``: ``python bin/astroctl --matrix FILE matrix validate`` as a fresh subprocess
  (the same launcher as benchmarks/startup.py), median and min of ``--rounds``, next to the
  median of ``astroctl --version`` (what merely starting astroctl costs);
- ``load``: in-process ``store.load(path)``, split into its ``parse`` (``store.parse_toml``, rtoml)
  and ``build`` (``schema.build_matrix``: every invariant checked) phases; best of ``--rounds``,
  as timeit does, because on a busy machine noise only ever adds time;
- ``tomllib``: the standard library's ``tomllib.loads`` of the same text, as a baseline that
  shows why the loader parses with rtoml.

Targets: end to end (median) under 1 s at 2000x150, and linear growth: between two sizes with
the same package count, the in-process load time grows like the release count (ratio/expected
in [0.8, 1.25]).

Exit status: 0, unless ``--check`` is given and a target is missed (then 1). 2 when the
generated matrix does not validate (a bug in this generator or in astroctl).
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from astroctl.matrix import schema, store
from startup import astroctl_launcher, benchmark_env, loadavg  # the sibling script

TARGET_SECONDS = 1.0
TARGET_SIZE = (2000, 150)
LINEAR_BAND = (0.8, 1.25)
RELEASES_PER_MAJOR = 100  # 10 minors x 10 patches per major line

PROVIDER_WORDS = (
    *("amazon", "celery", "cncf-kubernetes", "common-sql", "databricks", "datadog", "dbt-cloud"),
    *("docker", "elasticsearch", "ftp", "google", "http", "imap", "microsoft-azure", "mysql"),
    *("openlineage", "postgres", "redis", "slack", "snowflake", "sqlite", "ssh", "sftp", "smtp"),
    *("hashicorp", "github", "jdbc", "odbc", "oracle", "trino"),
)
OTHER_WORDS = (
    *("astro-sdk-python", "astronomer-providers", "astronomer-providers-logging"),
    *("openlineage-airflow", "boto3", "botocore", "requests", "urllib3", "sqlalchemy"),
    *("pendulum", "jinja2", "flask", "gunicorn", "celery", "kombu", "psycopg2-binary", "pandas"),
    *("numpy", "pyarrow", "protobuf", "grpcio", "cryptography"),
)


# -- generation --------------------------------------------------------------------------------


def package_names(count: int) -> list[str]:
    """``count`` distinct normalized distribution names, mostly Airflow providers."""
    base = [f"apache-airflow-providers-{w}" for w in PROVIDER_WORDS] + list(OTHER_WORDS)
    names = base[:count]
    suffix = 2
    while len(names) < count:
        names.extend(f"{name}-{suffix}" for name in base[: count - len(names)])
        suffix += 1
    return names


class PackageVersions:
    """One package's version history: a seeded random walk of patch, minor and major bumps."""

    def __init__(self, rng: random.Random, calver: bool) -> None:
        self.rng = rng
        self.calver = calver
        self.parts = (
            [rng.randint(2020, 2023), rng.randint(1, 12), 0]
            if calver
            else [
                rng.randint(0, 9),
                rng.randint(0, 30),
                rng.randint(0, 5),
            ]
        )

    def advance(self) -> str:
        roll = self.rng.random()
        if roll < 0.01:
            self.parts = [self.parts[0] + 1, 0, 0]
        elif roll < 0.06:
            self.parts = [self.parts[0], self.parts[1] + 1, 0]
            if self.calver and self.parts[1] > 12:  # CalVer YYYY.MM.N: a new year
                self.parts = [self.parts[0] + 1, 1, 0]
        elif roll < 0.20:
            self.parts[2] += 1
        text = ".".join(map(str, self.parts))
        extra = self.rng.random()
        if extra < 0.01:
            return f"{text}rc1"
        if extra < 0.02:
            return f"{text}.post1"
        return text


def generate(releases: int, packages: int, seed: int = 2024) -> dict[str, Any]:
    """A valid schema-1 document with ``releases`` releases pinning ``packages`` packages each."""
    rng = random.Random(f"{seed}:{releases}x{packages}")
    names = package_names(packages)
    walks = {name: PackageVersions(rng, calver=rng.random() < 0.1) for name in names}
    majors = -(-releases // RELEASES_PER_MAJOR)
    document: dict[str, Any] = {
        "schema": 1,
        "image": {"repository": "quay.io/example/runtime", "floating_tags": False},
        "upstream": {
            "constraints_url": "https://example.invalid/constraints-{airflow}/constraints-{python}.txt",
            "index_url": "https://pypi.org/simple",
        },
        "packages": {
            name: {"runtime_only": True} if index % 7 == 0 else {"maintained": True}
            for index, name in enumerate(names)
            if index % 7 == 0 or index % 11 == 0
        },
        "env": {
            "AIRFLOW__CORE__PARALLELISM": {
                "formula": "workers * max_tasks_per_worker",
                "description": "Task instances each scheduler may run at once.",
            },
            "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": {"value": "30"},
        },
        "lines": {str(major): _line(major, rng) for major in range(1, majors + 1)},
        "releases": [],
    }
    day = date(2018, 1, 1)
    for index in range(releases):
        major, within = divmod(index, RELEASES_PER_MAJOR)
        day += timedelta(days=rng.randint(0, 3))
        pins = {name: walks[name].advance() for name in names}
        document["releases"].append(_release(major + 1, within, day, pins, rng))
    return document


def _line(major: int, rng: random.Random) -> dict[str, Any]:
    pythons = [f"3.{minor}" for minor in range(8 + major % 3, 12 + major % 3)]
    return {
        "channel": "lts" if major % 2 else "stable",
        "end_of_maintenance": date(2019, 1, 31) + timedelta(days=180 * major + rng.randint(0, 27)),
        "python": pythons[-1],
        "python_versions": pythons,
        "os": f"Debian {10 + major % 3} (synthetic)",
        "architectures": ["amd64", "arm64"] if major > 2 else ["amd64"],
    }


def _release(
    major: int, within: int, day: date, pins: dict[str, str], rng: random.Random
) -> dict[str, Any]:
    minor, patch = divmod(within, 10)
    version = f"{major}.{minor}.{patch}"
    if rng.random() < 0.03:
        version += rng.choice(("-rc.1", "-beta.2", "-alpha.1"))
    # One Airflow minor per major, a different one for each major; patches and local builds vary.
    airflow = f"{2 + major // 20}.{major % 20}.{minor}"
    if rng.random() < 0.1:
        airflow += "+astro.1"
    entry: dict[str, Any] = {"version": version, "airflow": airflow, "released": day}
    if rng.random() < 0.01:
        entry["yanked"] = "a regression in the scheduler; upgrade to the next patch"
    if rng.random() < 0.05:
        entry["architectures"] = ["amd64"]
    entry["packages"] = pins
    if within % 4 == 0:
        slim = dict(list(pins.items())[: max(1, len(pins) // 5)])
        entry["flavors"] = {"slim": {"packages": slim}}
    return entry


# -- measurement -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    releases: int
    packages: int

    @property
    def label(self) -> str:
        return f"{self.releases}x{self.packages}"


@dataclass
class Result:
    size: Size
    file_bytes: int
    end_to_end: float
    end_to_end_min: float
    version: float
    parse: float
    build: float
    load: float
    tomllib: float

    @property
    def work(self) -> float:
        """End to end minus ``astroctl --version`` (interpreter, imports and Typer set-up)."""
        return max(self.end_to_end - self.version, 0.0)


def timings(action: Callable[[], object], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def median_time(action: Callable[[], object], rounds: int) -> float:
    return statistics.median(timings(action, rounds))


def best_time(action: Callable[[], object], rounds: int) -> float:
    """Best of ``rounds`` (as timeit does): in process, noise only ever adds time."""
    return min(timings(action, rounds))


def astroctl_argv(workdir: Path) -> list[str]:
    """``python SCRIPT``: the same launcher startup.py uses."""
    script, _ = astroctl_launcher(workdir)
    return [sys.executable, str(script)]


def run_cli(argv: list[str], env: dict[str, str], cwd: Path) -> None:
    completed = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        check=False,
    )
    if completed.returncode != 0:
        sys.stderr.write(
            f"validate.py: {' '.join(argv[1:])} exited {completed.returncode}:\n"
            f"{completed.stderr.decode(errors='replace')[:4000]}"
        )
        raise SystemExit(2)


def write_matrix(size: Size, seed: int, workdir: Path) -> Path:
    document = generate(size.releases, size.packages, seed)
    text = store.dumps_document(document, "# Synthetic matrix for benchmarks/validate.py")
    path = workdir / f"matrix-{size.label}.toml"
    path.write_text(text, encoding="utf-8")
    try:
        matrix = store.load(path)
    except Exception as exc:
        sys.stderr.write(f"validate.py: the generated {size.label} matrix is invalid:\n{exc}\n")
        raise SystemExit(2) from None
    if len(matrix.releases) != size.releases:
        sys.stderr.write(f"validate.py: generated {len(matrix.releases)} releases, not {size}\n")
        raise SystemExit(2)
    return path


def measure(size: Size, path: Path, rounds: int, cli: list[str], workdir: Path) -> Result:
    env = benchmark_env()
    validate = [*cli, "--matrix", str(path), "matrix", "validate"]
    version = [*cli, "--version"]
    run_cli(validate, env, workdir)  # warm-up: page cache, .pyc files
    end_to_end = timings(lambda: run_cli(validate, env, workdir), rounds)
    startup = median_time(lambda: run_cli(version, env, workdir), rounds)
    text = path.read_text(encoding="utf-8")
    source = str(path)
    document = store.parse_toml(text, source)
    header = store.extract_header(text)
    parse = best_time(lambda: store.parse_toml(text, source), rounds)
    build = best_time(lambda: schema.build_matrix(document, source, header), rounds)
    load = best_time(lambda: store.load(path), rounds)
    baseline = best_time(lambda: tomllib.loads(text), max(1, min(rounds, 3)))
    return Result(
        size=size,
        file_bytes=len(text.encode()),
        end_to_end=statistics.median(end_to_end),
        end_to_end_min=min(end_to_end),
        version=startup,
        parse=parse,
        build=build,
        load=load,
        tomllib=baseline,
    )


# -- report ------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}ms"


def report(results: list[Result]) -> bool:
    """Print the tables and the verdicts; whether every target was met."""
    print(
        "subprocess: e2e = matrix validate (median, min), --version (median) | "
        "in process, best of rounds: load = read + header + parse + build"
    )
    print(
        f"{'size':<10} {'file':>8} {'e2e med':>10} {'e2e min':>10} {'--version':>10} "
        f"{'load':>10} {'parse':>10} {'build':>10} {'tomllib':>10} {'load/release':>13}"
    )
    for r in results:
        print(
            f"{r.size.label:<10} {r.file_bytes / 1e6:>6.1f}MB {_ms(r.end_to_end)} "
            f"{_ms(r.end_to_end_min)} {_ms(r.version)} {_ms(r.load)} {_ms(r.parse)} "
            f"{_ms(r.build)} {_ms(r.tomllib)} {r.load / r.size.releases * 1e6:>11.0f}us"
        )
    print()
    passed = True
    for r in results:
        print(
            f"{r.size.label}: tomllib parses {r.tomllib / r.parse:.1f}x slower than rtoml "
            f"({_ms(r.tomllib).strip()} vs {_ms(r.parse).strip()})"
        )
        if (r.size.releases, r.size.packages) == TARGET_SIZE:
            ok = r.end_to_end < TARGET_SECONDS
            passed = passed and ok
            print(
                f"{r.size.label}: end to end {r.end_to_end:.3f}s median, "
                f"{r.end_to_end_min:.3f}s min -> "
                f"{'PASS' if ok else 'FAIL'} (target: median < {TARGET_SECONDS:.1f}s)"
            )
    by_packages: dict[int, list[Result]] = {}
    for r in results:
        by_packages.setdefault(r.size.packages, []).append(r)
    for group in by_packages.values():
        group.sort(key=lambda r: r.size.releases)
        for small, large in itertools.pairwise(group):
            if small.size.releases == large.size.releases:
                continue
            expected = large.size.releases / small.size.releases
            growth = large.load / small.load
            low, high = LINEAR_BAND
            ok = low <= growth / expected <= high
            passed = passed and ok
            print(
                f"{large.size.label} / {small.size.label}: load {growth:.2f}x, build "
                f"{large.build / small.build:.2f}x, parse {large.parse / small.parse:.2f}x, "
                f"end to end {large.end_to_end / small.end_to_end:.2f}x "
                f"(minus --version {large.work / max(small.work, 1e-9):.2f}x); "
                f"linear would be {expected:.2f}x -> {'PASS' if ok else 'FAIL'} (load)"
            )
    return passed


def parse_sizes(text: str) -> list[Size]:
    sizes = []
    for part in text.split(","):
        releases, _, packages = part.strip().lower().partition("x")
        if not (releases.isdigit() and packages.isdigit()) or int(releases) < 1:
            raise argparse.ArgumentTypeError(f"{part!r}: expected RELEASESxPACKAGES, e.g. 2000x150")
        sizes.append(Size(int(releases), int(packages)))
    return sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes("2000x150,1000x150"),
        help="comma-separated RELEASESxPACKAGES (default: 2000x150,1000x150)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds per measurement (5)")
    parser.add_argument("--seed", type=int, default=2024, help="generator seed (2024)")
    parser.add_argument("--keep", type=Path, help="also write the generated matrices here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"python: {sys.executable} ({sys.version.split()[0]}); rounds: {args.rounds} (median)")
    print(f"load average at start: {loadavg()}")
    results = []
    with tempfile.TemporaryDirectory(prefix="astroctl-bench-") as tmp:
        workdir = Path(tmp)
        cli = astroctl_argv(workdir)
        for size in args.sizes:
            start = time.perf_counter()
            path = write_matrix(size, args.seed, workdir)
            print(f"generated {size.label} in {time.perf_counter() - start:.1f}s", flush=True)
            if args.keep is not None:
                args.keep.mkdir(parents=True, exist_ok=True)
                (args.keep / path.name).write_bytes(path.read_bytes())
            results.append(measure(size, path, args.rounds, cli, workdir))
    print()
    passed = report(results)
    print(f"load average at end: {loadavg()}")
    print(f"\nresult: {'PASS' if passed else 'FAIL'}")
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
