"""``astroctl build`` of one release against a naive script building each tag from scratch.

Usage::

    .venv/bin/python benchmarks/images.py [--rounds 3] [--arch amd64] [--docker PATH]
        [--pythons 3.11,3.10,3.12] [--modules 1500] [--providers 10] [--private-index]
        [--target 2.0] [--check]

Needs the real Docker engine and the base images ``scripts/engine`` makes (run it as root
first); exit 2 without them. Both sides build on that engine with the same docker client
(``--docker``, default ``docker`` on PATH) and the same builder, the one astroctl picks for it:
the classic builder (``DOCKER_BUILDKIT=0``) for the 28.x client without buildx, the engine's
BuildKit (``DOCKER_BUILDKIT=1``) for a client older than 23 (``--docker /usr/bin/docker``, the
20.10 client of docker.io); one architecture, the same base image, the same loopback index
(``tests/index_server.py``, in this process), the same constraint set per Python.

The index is the base image's own (``PIP_INDEX_URL`` in an image made FROM the ``scripts/engine``
one for the run, outside the timing): it stands in for PyPI, pip's default, so astroctl is given
no ``--index-url`` and no CA bundle, nothing to keep out of the image, and renders its one-stage
base. ``--private-index`` passes the index as astroctl's ``--index-url`` instead (a ``pip.conf``
in the build: the two-stage base, as for a private index or one with credentials).

The release (a small matrix written to a temporary directory): 12.1.0, Airflow 2.12.0, Python
distributions ``--pythons`` (the first is the default), ``--providers`` provider pins. The index
serves a stand-in ``apache-airflow`` of ``--modules`` modules (about 2 KB each: a payload pip
has to unpack and the engine to commit), the providers (20 modules each) and a dependency.
Only Python 3.11 exists as a base image here, so every distribution is built FROM it: each
still gets its own build, constraint set and tags, which is what is measured.

- **astroctl**: ``astroctl --matrix M build 12.1.0 --arch ARCH --base-image ... --constraints
  DIR`` (and ``--index-url URL`` with ``--private-index``) in a subprocess: for each Python a
  base image (one stage installing into a venv; with ``--private-index`` a builder stage whose
  venv is copied into the final stage), then the onbuild image FROM it; a tag that names the
  same image as another (``V`` and ``V-python-P``) is not built twice (SPEC 6).
- **naive**: for every tag of the release (``V``, ``V-base``, ``V-python-p``,
  ``V-python-p-base`` for each p), ``docker build --no-cache`` of a one-stage Dockerfile that
  makes the venv, installs the same requirements under the same constraints, sets the same
  environment, user and two of the labels, and (onbuild tags) adds the ONBUILD steps.

Every round is cold for both sides: the naive builds run with ``--no-cache``; astroctl's
constraint sets carry a new comment each round, so each base installs again (with two stages
the builder may still reuse the final stage's small ``useradd`` layer of an earlier round). The
order of the sides alternates. Images are removed after each round.

Reported: each side's time per round, the median, the ratio naive/astroctl (target >= 2x),
the number of builds, and the size of each side's images; the default Python's base images of
both sides must hold the same ``pip freeze`` (exit 2 otherwise).

Exit status: 0, unless ``--check`` is given and the target is missed (then 1); 2 when a command
fails to run or the engine is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import factories
from tests.engine import IMAGE, NoEngine, content_wheel, find_engine
from tests.index_server import IndexServer

from astroctl.seams.docker import BUILDKIT_WITHOUT_BUILDX_BEFORE

RELEASE = "12.1.0"
AIRFLOW = "2.12.0"
TARGET = 2.0
VENV = "/opt/astronomer/venv"
AIRFLOW_HOME = "/usr/local/airflow"


@dataclass(frozen=True)
class Setup:
    arch: str
    pythons: tuple[str, ...]
    work: Path
    matrix: Path
    constraints: Path  # a directory of constraints-<py>.txt
    requirements: str
    index_url: str
    base_image: str
    astroctl: Path
    client: str  # the docker program both sides run
    buildkit: bool  # DOCKER_BUILDKIT=1 (a client older than 23), as astroctl decides
    private_index: bool  # astroctl gets --index-url (a pip.conf: two stages)

    @property
    def default(self) -> str:
        return self.pythons[0]

    def tags(self) -> list[tuple[str, str, str]]:
        """(tag, variant, python) of every tag of the release, as ``astroctl tags`` plans."""
        found = []
        for variant in ("onbuild", "base"):
            suffix = "-base" if variant == "base" else ""
            found.append((f"{RELEASE}{suffix}", variant, self.default))
            for python in self.pythons:
                found.append((f"{RELEASE}-python-{python}{suffix}", variant, python))
        return found


def fail(message: str) -> None:
    sys.stderr.write(f"images.py: {message}\n")
    raise SystemExit(2)


def run(argv: list[str], *, what: str, env: dict[str, str]) -> float:
    started = time.monotonic()
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
        env={**os.environ, **env},
    )
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        fail(f"{what} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return elapsed


def docker(*args: str, what: str) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        fail(f"{what} failed: {done.stderr[-2000:]}")
    return done.stdout


# -- the release, the index and the constraint sets -----------------------------------------------


def publish_wheels(index: IndexServer, modules: int, providers: int) -> dict[str, str]:
    """The stand-in Airflow, the providers and a dependency; name -> version pinned."""
    filler = "".join(
        f"# a line of module source, to give the file some weight: {n}\n" for n in range(30)
    )
    pins = {"apache-airflow": AIRFLOW, "astro-bench-dep": "1.0.0"}
    files = {f"airflow/m{n:05d}.py": filler for n in range(modules)}
    files["airflow/__init__.py"] = f'__version__ = "{AIRFLOW}"\n'
    _add(index, "apache-airflow", AIRFLOW, files)
    _add(index, "astro-bench-dep", "1.0.0", {"astro_bench_dep/__init__.py": ""})
    for number in range(providers):
        name = f"apache-airflow-providers-bench{number:02d}"
        package = name.replace("-", "_")
        files = {f"{package}/m{n:03d}.py": filler for n in range(20)}
        files[f"{package}/__init__.py"] = ""
        _add(index, name, "1.0.0", files, requires=["astro-bench-dep>=1.0"])
        pins[name] = "1.0.0"
    return pins


def _add(
    index: IndexServer,
    name: str,
    version: str,
    files: dict[str, str],
    requires: Sequence[str] = (),
) -> None:
    filename, data, metadata = content_wheel(name, version, files, requires_dist=requires)
    index.add_file(name, filename, data, version=version, metadata=metadata)


def write_matrix(path: Path, pythons: tuple[str, ...], pins: dict[str, str]) -> Path:
    packages = {name: version for name, version in pins.items() if "providers" in name}
    doc = factories.document(
        factories.release(RELEASE, AIRFLOW, released=date(2026, 11, 2), packages=packages),
        lines={
            12: factories.line(
                python=pythons[0], python_versions=list(pythons), os="Debian 12.7 (bookworm)"
            )
        },
        image={"repository": "astroctl-bench/astro-runtime", "floating_tags": False},
        env={"AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": {"value": "30", "description": "x"}},
    )
    path.write_text(factories.toml_text(doc), encoding="utf-8")
    return path


def write_constraints(setup: Setup, pins: dict[str, str], stamp: str) -> None:
    """One set per Python, with this round's stamp (a comment: no cache hit across rounds)."""
    lines = "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))
    for python in setup.pythons:
        text = f"# Constraints of Astro Runtime {RELEASE}: bench {stamp}, Python {python}\n"
        (setup.constraints / f"constraints-{python}.txt").write_text(text + lines)


# -- the two sides --------------------------------------------------------------------------------


def astroctl_side(setup: Setup, repository: str) -> tuple[float, list[str]]:
    argv = [
        str(setup.astroctl), "--matrix", str(setup.matrix), "build", RELEASE,
        "--docker", setup.client, "--arch", setup.arch, "--base-image", setup.base_image,
        "--constraints", str(setup.constraints), "--registry", repository,
    ]  # fmt: skip
    if setup.private_index:
        argv += ["--index-url", setup.index_url]
    cache = {"ASTROCTL_CACHE_DIR": str(setup.work / "astroctl-cache")}
    seconds = run(argv, what="astroctl build", env=cache)
    refs = [
        f"{repository}:{RELEASE}{'-python-' + p if p != setup.default else ''}{s}-{setup.arch}"
        for p in setup.pythons
        for s in ("-base", "")
    ]
    return seconds, refs


NAIVE = """\
FROM {base}
COPY requirements.txt constraints.txt /tmp/build/
RUN python3 -m venv {venv} \\
    && {venv}/bin/pip install --no-cache-dir --disable-pip-version-check \\
        --index-url {index} -r /tmp/build/requirements.txt -c /tmp/build/constraints.txt \\
    && rm -rf /tmp/build
ENV PATH={venv}/bin:$PATH AIRFLOW_HOME={home} ASTRONOMER_RUNTIME_VERSION={release} \\
    AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL=30
RUN useradd --uid 50000 --gid 0 --no-log-init --create-home --home-dir {home} astro \\
    && mkdir -p {home}/dags && chown -R 50000:0 {home}
LABEL org.opencontainers.image.version="{release}" io.astronomer.docker.python.version="{python}"
USER astro
WORKDIR {home}
"""
NAIVE_ONBUILD = """\
ONBUILD USER root
ONBUILD COPY packages.txt requirements.txt /usr/local/share/astronomer/project/
ONBUILD RUN ! grep -i -E '^[[:space:]]*apache[-_.]+airflow([^-_.a-z0-9]|$)' \\
    /usr/local/share/astronomer/project/requirements.txt
ONBUILD RUN pip install --no-cache-dir -r /usr/local/share/astronomer/project/requirements.txt
ONBUILD USER astro
ONBUILD COPY --chown=50000:0 . .
"""


def naive_side(setup: Setup, repository: str) -> tuple[float, list[str]]:
    refs = []
    started = time.monotonic()
    for tag, variant, python in setup.tags():
        context = setup.work / "naive" / tag
        context.mkdir(parents=True, exist_ok=True)
        dockerfile = NAIVE.format(
            base=setup.base_image.replace("{arch}", setup.arch),
            venv=VENV,
            index=setup.index_url,
            home=AIRFLOW_HOME,
            release=RELEASE,
            python=python,
        )
        if variant == "onbuild":
            dockerfile += NAIVE_ONBUILD
        (context / "Dockerfile").write_text(dockerfile)
        (context / "requirements.txt").write_text(setup.requirements)
        shutil.copy(setup.constraints / f"constraints-{python}.txt", context / "constraints.txt")
        ref = f"{repository}:{tag}"
        argv = [
            setup.client, "build", "--no-cache", "--platform", f"linux/{setup.arch}",
            "--network", "host", "--tag", ref, str(context),
        ]  # fmt: skip
        buildkit = {"DOCKER_BUILDKIT": "1" if setup.buildkit else "0"}
        run(argv, what=f"naive docker build of {ref}", env=buildkit)
        refs.append(ref)
    return time.monotonic() - started, refs


def index_base_images(index_url: str, arch: str, stamp: str) -> str:
    """The ``scripts/engine`` Python image of ``arch`` with ``PIP_INDEX_URL`` set to the
    loopback index (pip's default index in it, as PyPI is in python:*): ``--base-image``."""
    base = f"astroctl-bench-index-{stamp}/python:3.11-bookworm-{{arch}}"
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        (Path(tmp) / "Dockerfile").write_text(
            f"FROM {IMAGE}-{arch}\nENV PIP_INDEX_URL={index_url}\n", encoding="utf-8"
        )
        argv = ["docker", "build", "--platform", f"linux/{arch}"]
        argv += ["--tag", base.replace("{arch}", arch), tmp]
        run(argv, what="docker build of the base image", env={"DOCKER_BUILDKIT": "0"})
    return base


def base_form(setup: Setup) -> str:
    """The header line of astroctl's rendered base Dockerfile that names its form."""
    path = setup.work / "astroctl-cache" / "build" / RELEASE / f"base-python-{setup.default}"
    lines = (path / "Dockerfile").read_text(encoding="utf-8").splitlines()
    return next((line for line in lines if line.startswith(("# One stage", "# Two stages"))), "?")


def client_major(client: str) -> int:
    """The docker client's major version (astroctl uses BuildKit below 23, without buildx)."""
    out = subprocess.run(
        [client, "version", "--format", "{{.Client.Version}}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout.strip()
    head = out.split(".", 1)[0]
    if not head.isdigit():
        fail(f"{client} version printed no client version")
    return int(head)


def sizes(refs: list[str]) -> dict[str, int]:
    found = {}
    for ref in refs:
        record = json.loads(docker("image", "inspect", ref, what=f"inspect {ref}"))[0]
        found[ref] = int(record["Size"])
    return found


def freeze(ref: str) -> list[str]:
    return sorted(
        docker("run", "--rm", "--network", "none", ref, "pip", "freeze", what="pip freeze").split()
    )


def measure(
    setup: Setup, pins: dict[str, str], rounds: int, samples: dict[str, list[float]]
) -> dict[str, dict[str, int]]:
    """The timed rounds (into ``samples``); the sizes of the first round's images."""
    measured_sizes: dict[str, dict[str, int]] = {}
    for number in range(rounds):
        stamp = uuid.uuid4().hex[:8]
        write_constraints(setup, pins, stamp)
        order = ("astroctl", "naive") if number % 2 == 0 else ("naive", "astroctl")
        built: dict[str, list[str]] = {}
        for side in order:
            repository = f"astroctl-bench-{side}-{stamp}/astro-runtime"
            function = astroctl_side if side == "astroctl" else naive_side
            seconds, refs = function(setup, repository)
            samples[side].append(seconds)
            built[side] = refs
        print(
            f"round {number + 1}: astroctl {samples['astroctl'][-1]:6.1f} s "
            f"({len(built['astroctl'])} builds), naive {samples['naive'][-1]:6.1f} s "
            f"({len(built['naive'])} builds)",
            flush=True,
        )
        if number == 0:
            print(f"  astroctl's base Dockerfile: {base_form(setup)}", flush=True)
            naive_base = f"astroctl-bench-naive-{stamp}/astro-runtime:{RELEASE}-base"
            same = freeze(built["astroctl"][0]) == freeze(naive_base)
            if not same:
                fail("the two sides' base images do not hold the same pip freeze")
            measured_sizes = {side: sizes(refs) for side, refs in built.items()}
        for refs in built.values():
            docker("image", "rm", "--force", *refs, what="image rm")
    return measured_sizes


# -- main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default: 3)")
    parser.add_argument("--arch", default="amd64", choices=("amd64", "arm64"))
    parser.add_argument("--docker", default="docker", help="the docker client both sides run")
    parser.add_argument(
        "--pythons", default="3.11,3.10,3.12", help="the Python distributions, default first"
    )
    parser.add_argument("--modules", type=int, default=1500, help="modules of the stand-in Airflow")
    parser.add_argument("--providers", type=int, default=10, help="provider pins (default: 10)")
    parser.add_argument(
        "--private-index",
        action="store_true",
        help="give astroctl the index as --index-url (a pip.conf: its two-stage base)",
    )
    parser.add_argument("--target", type=float, default=TARGET, help="naive/astroctl at least")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        engine = find_engine()
    except NoEngine as exc:
        fail(str(exc))
    astroctl = Path(sys.executable).parent / "astroctl"
    if not astroctl.exists():
        fail(f"no astroctl next to {sys.executable}: run from the project's venv")
    pythons = tuple(p.strip() for p in args.pythons.split(",") if p.strip())
    samples: dict[str, list[float]] = {"astroctl": [], "naive": []}
    with (
        tempfile.TemporaryDirectory(prefix="bench-images-") as tmp,
        IndexServer(json=False) as index,
    ):
        work = Path(tmp)
        pins = publish_wheels(index, args.modules, args.providers)
        (work / "constraints").mkdir()
        base_image = index_base_images(index.url, args.arch, uuid.uuid4().hex[:8])
        requirements = "".join(
            f"{name}=={version}\n"
            for name, version in sorted(pins.items())
            if name != "astro-bench-dep"
        )
        setup = Setup(
            arch=args.arch,
            pythons=pythons,
            work=work,
            matrix=write_matrix(work / "matrix.toml", pythons, pins),
            constraints=work / "constraints",
            requirements=requirements,
            index_url=index.url,
            base_image=base_image,
            astroctl=astroctl,
            client=args.docker,
            buildkit=client_major(args.docker) < BUILDKIT_WITHOUT_BUILDX_BEFORE,
            private_index=args.private_index,
        )
        print(
            f"engine {engine.server}; {args.docker} "
            f"({'BuildKit' if setup.buildkit else 'classic builder'}); {args.arch}; "
            f"Pythons {', '.join(pythons)}; "
            f"stand-in Airflow of {args.modules} modules, {args.providers} providers; "
            f"{len(setup.tags())} tags; index: "
            + ("astroctl's --index-url" if setup.private_index else "PIP_INDEX_URL of the base")
        )
        try:
            measured_sizes = measure(setup, pins, args.rounds, samples)
        finally:
            docker("image", "rm", base_image.replace("{arch}", args.arch), what="image rm")
    median = {side: statistics.median(values) for side, values in samples.items()}
    ratio = median["naive"] / median["astroctl"]
    print(f"\nmedian: astroctl {median['astroctl']:.1f} s, naive {median['naive']:.1f} s")
    for side, found in measured_sizes.items():
        for ref, size in found.items():
            print(f"  {side:<9} {ref.split(':', 1)[1]:<32} {size / 1e6:7.1f} MB")
    passed = ratio >= args.target
    verdict = "PASS" if passed else "FAIL"
    print(f"\nnaive / astroctl = {ratio:.2f}x; target >= {args.target:.1f}x: {verdict}")
    return 0 if passed or not args.check else 1


if __name__ == "__main__":
    raise SystemExit(main())
