"""Helpers of the engine tests (``tests/images/test_engine.py``): a real Docker engine, the base
images ``scripts/engine`` makes, tiny wheels with real content, a registry, and the CLI run
in-process outside a test function (a module fixture builds once for many tests).

``scripts/engine`` (run by ``scripts/test`` as root or under CI) installs the engine, starts
dockerd with ``--bridge=none`` (builds reach the loopback index with ``--network host``) and
imports ``<IMAGE>-amd64`` and ``<IMAGE>-arm64``: Debian bookworm with Python 3.11, shaped
like python:3.11-slim. :func:`find_engine` says why there is no engine when there is none.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from astroctl import cli
from tests.helpers import Result
from tests.index_server import ZIP_TIME, IndexServer, dist_name, metadata_text

IMAGE = os.environ.get("ASTROCTL_ENGINE_IMAGE", "astroctl-test/python:3.11-bookworm")
BASE_IMAGE = IMAGE + "-{arch}"  # for --base-image: the plan fills in each architecture
MACHINES = {"amd64": "x86_64", "arm64": "aarch64"}
SETUP_HINT = "run scripts/engine as root (scripts/test does, as root or with CI=true)"
RUN_TIMEOUT = 600.0  # one docker command; an arm64 build under emulation takes minutes
AIRFLOW = "2.12.0"  # the stand-in's version: what factories give a 12.x release


class NoEngine(Exception):
    """Why the engine tests cannot run here."""


@dataclass(frozen=True)
class Engine:
    """A Docker engine that answers, through the docker client on PATH."""

    docker: str
    server: str  # the engine's version

    def run(
        self, *args: str | Path, check: bool = True, timeout: float = RUN_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.docker, *(str(a) for a in args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"docker {' '.join(str(a) for a in args)} failed ({done.returncode}):\n"
                f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return done

    def inspect(self, ref: str) -> dict[str, Any]:
        record: list[dict[str, Any]] = json.loads(self.run("image", "inspect", ref).stdout)
        return record[0]

    def has_image(self, ref: str) -> bool:
        return self.run("image", "inspect", ref, check=False).returncode == 0

    def container(self, ref: str, *command: str, platform: str | None = None) -> str:
        """``command``'s stdout in a new container of ``ref``, without a network."""
        options = ["--platform", platform] if platform else []
        return self.run("run", "--rm", "--network", "none", *options, ref, *command).stdout

    def remove(self, *refs: str) -> None:
        if refs:
            self.run("image", "rm", "--force", *refs, check=False)

    def layers_holding(self, ref: str, marker: bytes, workdir: Path) -> list[str]:
        """The members of ``docker save ref`` (each layer's tar, the config) holding
        ``marker`` anywhere in their bytes (layers are saved uncompressed, so a file's
        contents appear verbatim)."""
        archive = workdir / f"saved-{hashlib.sha256(ref.encode()).hexdigest()[:12]}.tar"
        self.run("save", "--output", archive, ref)
        try:
            return _members_holding(archive, marker)
        finally:
            archive.unlink()


def _members_holding(archive: Path, marker: bytes) -> list[str]:
    found = []
    chunk = 1 << 20
    with tarfile.open(archive) as saved:
        for member in saved:
            if not member.isfile():
                continue
            handle = saved.extractfile(member)
            if handle is None:
                continue
            tail = b""
            while block := handle.read(chunk):
                if marker in tail + block:
                    found.append(member.name)
                    break
                tail = block[-len(marker) :]
    return found


def find_engine() -> Engine:
    """The engine the docker client on PATH reaches, with both base images; else
    :class:`NoEngine` saying what is missing and how to get it."""
    docker = shutil.which("docker")
    if docker is None:
        raise NoEngine(f"no docker client on PATH; {SETUP_HINT}")
    try:
        done = subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise NoEngine(f"the Docker engine did not answer within 30 s; {SETUP_HINT}") from None
    if done.returncode != 0 or not done.stdout.strip():
        reason = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        raise NoEngine(f"no Docker engine answers ({reason}); {SETUP_HINT}")
    engine = Engine(docker, done.stdout.strip())
    missing = [
        BASE_IMAGE.replace("{arch}", arch)
        for arch in MACHINES
        if not engine.has_image(BASE_IMAGE.replace("{arch}", arch))
    ]
    if missing:
        raise NoEngine(f"the engine lacks the base images {', '.join(missing)}; {SETUP_HINT}")
    return engine


@dataclass(frozen=True)
class EngineIndex:
    """The loopback index and the sha256 of each wheel on it, by ``name==version``."""

    server: IndexServer
    hashes: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url


def buildkit_client(engine: Engine) -> str | None:
    """A docker client older than 23, which drives the engine's own BuildKit without buildx
    (``DOCKER_BUILDKIT=1``): the 20.10 client docker.io installs in /usr/bin, behind the 28.x
    one on PATH; None when there is none."""
    for candidate in ("/usr/bin/docker", engine.docker):
        if not Path(candidate).is_file():
            continue
        done = subprocess.run(
            [candidate, "version", "--format", "{{.Client.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        major = done.stdout.strip().split(".", 1)[0]
        if major.isdigit() and int(major) < 23:
            return candidate
    return None


# -- the CLI, in-process, outside a test function -----------------------------------------------


def run_cli(*args: str | Path, matrix: Path, env: Mapping[str, str | None]) -> Result:
    """``astroctl --matrix M ARGS`` through the real entry point, as ``tests.helpers.Invoke``
    runs it, with its own capture (a module fixture has no capsys) and ``env`` set meanwhile
    (None removes a variable)."""
    argv = ["--matrix", str(matrix), *(str(a) for a in args)]
    out, err = io.StringIO(), io.StringIO()
    saved = {name: os.environ.get(name) for name in env}
    code = 0
    try:
        for name, value in env.items():
            _set(name, value)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        for name, value in saved.items():
            _set(name, value)
    return Result(code, out.getvalue(), err.getvalue())


def _set(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


# -- wheels with content -------------------------------------------------------------------------

# A stand-in for Apache Airflow: the names the monitoring DAG imports (DAG, BashOperator), a
# version, and an `airflow version` console script; enough to parse the DAG file in the image.
AIRFLOW_INIT = """\
__version__ = "{version}"
DAGS = []


class DAG:
    def __init__(self, dag_id, **kwargs):
        self.dag_id = dag_id
        self.kwargs = kwargs
        self.tasks = []
        DAGS.append(self)

    def __enter__(self):
        global _current
        _current = self
        return self

    def __exit__(self, *exc):
        global _current
        _current = None
        return False


_current = None
"""
AIRFLOW_BASH = """\
import airflow


class BashOperator:
    def __init__(self, task_id, bash_command, **kwargs):
        self.task_id = task_id
        self.bash_command = bash_command
        self.kwargs = kwargs
        if airflow._current is not None:
            airflow._current.tasks.append(self)
"""
AIRFLOW_MAIN = """\
import sys

import airflow


def main():
    if sys.argv[1:] == ["version"]:
        print(airflow.__version__)
        return 0
    print("usage: airflow version", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
"""


def content_wheel(
    name: str,
    version: str,
    files: Mapping[str, str],
    *,
    requires_dist: Sequence[str] = (),
    console_scripts: Mapping[str, str] | None = None,
) -> tuple[str, bytes, bytes]:
    """A pure-Python wheel (py3-none-any) holding ``files``: file name, bytes, METADATA."""
    stem = f"{dist_name(name)}-{version}"
    info = f"{stem}.dist-info"
    metadata = metadata_text(name, version, requires_dist=requires_dist)
    members = {path: text.encode("utf-8") for path, text in files.items()}
    members[f"{info}/METADATA"] = metadata
    members[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    if console_scripts:
        lines = "".join(f"{script} = {target}\n" for script, target in console_scripts.items())
        members[f"{info}/entry_points.txt"] = f"[console_scripts]\n{lines}".encode()
    record = "".join(f"{path},,\n" for path in members) + f"{info}/RECORD,,\n"
    members[f"{info}/RECORD"] = record.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            archive.writestr(zipfile.ZipInfo(path, ZIP_TIME), data)
    return f"{stem}-py3-none-any.whl", buffer.getvalue(), metadata


def publish_airflow(index: IndexServer, version: str) -> str:
    """The stand-in Airflow on ``index``; its sha256."""
    filename, data, metadata = content_wheel(
        "apache-airflow",
        version,
        {
            "airflow/__init__.py": AIRFLOW_INIT.format(version=version),
            "airflow/__main__.py": AIRFLOW_MAIN,
            "airflow/operators/__init__.py": "",
            "airflow/operators/bash.py": AIRFLOW_BASH,
        },
        console_scripts={"airflow": "airflow.__main__:main"},
    )
    index.add_file("apache-airflow", filename, data, version=version, metadata=metadata)
    return hashlib.sha256(data).hexdigest()


def publish(index: IndexServer, name: str, version: str, requires_dist: Sequence[str] = ()) -> str:
    """A small importable package ``name`` on ``index``; its sha256."""
    module = dist_name(name)
    filename, data, metadata = content_wheel(
        name,
        version,
        {f"{module}/__init__.py": f'__version__ = "{version}"\n'},
        requires_dist=requires_dist,
    )
    index.add_file(name, filename, data, version=version, metadata=metadata)
    return hashlib.sha256(data).hexdigest()


# -- a registry on loopback -----------------------------------------------------------------------


MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)


@dataclass(frozen=True)
class Registry:
    """A Docker Distribution registry (``docker-registry``, Debian's) on 127.0.0.1."""

    host: str  # 127.0.0.1:PORT

    def tags(self, name: str) -> list[str]:
        """The tags of repository ``name`` (none when the registry never heard of it)."""
        try:
            with urllib.request.urlopen(f"http://{self.host}/v2/{name}/tags/list", timeout=10) as r:
                data: dict[str, Any] = json.load(r)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise
        return list(data.get("tags") or [])

    def manifest(self, name: str, reference: str) -> dict[str, Any]:
        """The manifest (or manifest list) of ``name:reference``, as the registry serves it."""
        request = urllib.request.Request(
            f"http://{self.host}/v2/{name}/manifests/{reference}",
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 (http://127.0.0.1)
            data: dict[str, Any] = json.load(r)
            data["digest"] = r.headers.get("Docker-Content-Digest")
        return data

    def catalog(self) -> list[str]:
        with urllib.request.urlopen(f"http://{self.host}/v2/_catalog", timeout=10) as r:
            data: dict[str, Any] = json.load(r)
        return list(data.get("repositories") or [])


@contextlib.contextmanager
def registry() -> Iterator[Registry | None]:
    """A registry for the duration, or None when ``docker-registry`` is not installed."""
    program = shutil.which("docker-registry")
    if program is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="astroctl-registry-") as directory:
        port = _free_port()
        config = Path(directory) / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {directory}/data\nhttp:\n  addr: 127.0.0.1:{port}\n",
            encoding="utf-8",
        )
        log = (Path(directory) / "registry.log").open("wb")
        process = subprocess.Popen(
            [program, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            found = Registry(f"127.0.0.1:{port}")
            _wait_for(found, process)
            yield found
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            log.close()


def _wait_for(found: Registry, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {process.returncode}")
        try:
            found.catalog()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("docker-registry did not answer within 20 s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
