"""``astroctl build`` on the real Docker engine (``scripts/engine`` sets it up).

One release of a small matrix is built twice for the module, through the real CLI: base and
onbuild, amd64 and arm64 (arm64 under qemu), FROM the debootstrap Python images
(``--base-image`` with ``{arch}``), installing from a loopback index of small wheels under a
constraint set with hashes. Once with a CA bundle and ``--index-url``, so the base image has
two stages; once with neither (pip's default index is the base image's ``PIP_INDEX_URL``), so
it has one, and pushed to a loopback registry. The tests then look at the images of both:
what pip installed, the environment, the labels, the architecture, the monitoring DAG; then
the ONBUILD steps of a child project, that no layer holds the CA bundle, and the manifest
lists. A failing build shows how a failed RUN step is reported, that nothing is pushed and
that no container of it is left.

Without an engine these tests skip (fail under CI): see ``tests/images/conftest.py``.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from tests import factories
from tests.engine import (
    AIRFLOW,
    BASE_IMAGE,
    MACHINES,
    Engine,
    EngineIndex,
    Registry,
    buildkit_client,
    registry,
    run_cli,
)
from tests.helpers import Result

RELEASE = "12.1.0"
# Names of this run only: two runs may share one engine (another worktree, a second session),
# and each removes what it built.
RUN = f"astroctl-engine-test/{uuid.uuid4().hex[:10]}"
REPOSITORY = f"{RUN}/astro-runtime"
EPOCH = 1767225600  # 2026-01-01T00:00:00Z
ARCHITECTURES = ("amd64", "arm64")
VARIANTS = ("base", "onbuild")
PINS = {
    "apache-airflow-providers-http": "4.1.0",
    "apache-airflow-providers-common-sql": "1.8.0",
}
SET = {  # the constraint set: Airflow, the pins, and a dependency held below its newest
    "apache-airflow": AIRFLOW,
    **PINS,
    "astro-engine-dep": "0.3.0",
}
VENV = "/opt/astronomer/venv"
DAG = "/usr/local/airflow/dags/astronomer_monitoring_dag.py"


def write_matrix(path: Path) -> Path:
    doc = factories.document(
        factories.release(RELEASE, AIRFLOW, released=date(2026, 11, 2), packages=dict(PINS)),
        lines={
            12: factories.line(python="3.11", python_versions=["3.11"], os="Debian 12.7 (bookworm)")
        },
        image={"repository": REPOSITORY, "floating_tags": False},
        env={
            "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": {"value": "30", "description": "baked"},
            "AIRFLOW__CORE__PARALLELISM": {"formula": "workers * 16", "description": "not baked"},
            "AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL": {
                "default": "*/5 * * * *",
                "description": "the deployment's to set",
            },
        },
    )
    path.write_text(factories.toml_text(doc), encoding="utf-8")
    return path


def constraint_set(index: EngineIndex, pins: dict[str, str], *, hashes: bool) -> str:
    lines = [f"# Constraints of Astro Runtime {RELEASE}: engine test, Python 3.11"]
    for name, version in sorted(pins.items()):
        digest = index.hashes.get(f"{name}=={version}")
        if hashes and digest:
            lines.append(f"{name}=={version} \\\n    --hash=sha256:{digest}")
        else:
            lines.append(f"{name}=={version}")
    return "\n".join(lines) + "\n"


def ca_bundle(path: Path, marker: str) -> Path:
    """A CA bundle with ``marker`` in it: the host's bundle when it has one (what a user behind
    a TLS-intercepting proxy passes), else one certificate block."""
    host = Path("/etc/ssl/certs/ca-certificates.crt")
    certificates = (
        host.read_text(encoding="utf-8")
        if host.is_file()
        else "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    )
    path.write_text(f"# {marker}\n{certificates}", encoding="utf-8")
    return path


def cli_env(cache: Path) -> dict[str, str | None]:
    return {
        "ASTROCTL_CACHE_DIR": str(cache),
        "SOURCE_DATE_EPOCH": str(EPOCH),
        "ASTROCTL_DOCKER": None,
        "ASTROCTL_MATRIX": None,
        "NO_COLOR": "1",
        "COLUMNS": "200",
        "TERM": "dumb",
    }


def ref(variant: str, arch: str, repository: str = REPOSITORY) -> str:
    suffix = "-base" if variant == "base" else ""
    return f"{repository}:{RELEASE}{suffix}-{arch}"


@dataclass(frozen=True)
class Built:
    result: Result
    seconds: float
    constraints: str
    marker: str | None  # in the CA bundle, when the build was given one
    workdir: Path  # the build contexts
    repository: str = REPOSITORY
    base_image: str = BASE_IMAGE  # --base-image, with {arch}

    def ref(self, variant: str, arch: str) -> str:
        return ref(variant, arch, self.repository)

    @property
    def dockerfile(self) -> str:
        return (self.workdir / "base-python-3.11" / "Dockerfile").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def built(
    engine: Engine, engine_index: EngineIndex, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    """Every image of the release, built once: the module's tests look at them."""
    tmp = tmp_path_factory.mktemp("engine-build")
    refs = [ref(variant, arch) for variant in VARIANTS for arch in ARCHITECTURES]
    constraints = constraint_set(engine_index, SET, hashes=True)
    (tmp / "constraints-3.11.txt").write_text(constraints, encoding="utf-8")
    marker = f"astroctl-engine-ca-marker-{uuid.uuid4().hex}"
    started = time.monotonic()
    result = run_cli(
        "build", RELEASE, "--base-image", BASE_IMAGE, "--index-url", engine_index.url,
        "--constraints", tmp / "constraints-3.11.txt",
        "--ca-bundle", ca_bundle(tmp / "ca.pem", marker),
        matrix=write_matrix(tmp / "matrix.toml"), env=cli_env(tmp / "cache"),
    )  # fmt: skip
    seconds = time.monotonic() - started
    assert result.exit_code == 0, result.stderr[-6000:]
    yield Built(result, seconds, constraints, marker, tmp / "cache" / "build" / RELEASE)
    engine.remove(*refs)


@dataclass(frozen=True)
class Pushed:
    built: Built
    registry: Registry | None  # None: docker-registry is not installed, nothing was pushed


@pytest.fixture(scope="module")
def built_one_stage(
    engine: Engine, engine_index: EngineIndex, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pushed]:
    """Every image of the release built with nothing to hide (no CA bundle, no --index-url:
    pip's default index is the base image's PIP_INDEX_URL, as PyPI is python:*'s), so the base
    has one stage; pushed to a loopback registry when there is one."""
    tmp = tmp_path_factory.mktemp("engine-one-stage")
    path = tmp / "constraints-3.11.txt"
    constraints = constraint_set(engine_index, SET, hashes=True)
    path.write_text(constraints, encoding="utf-8")
    base_image = f"{RUN}/python-index:3.11-{{arch}}"
    made = []
    with registry() as found:
        repository = f"{found.host}/astro-runtime" if found else f"{RUN}/one-stage"
        push = ["--push"] if found else []
        refs = [ref(variant, arch, repository) for variant in VARIANTS for arch in ARCHITECTURES]
        try:
            for arch in ARCHITECTURES:  # an ENV on each Python image: no RUN, no emulation
                (tmp / arch).mkdir()
                (tmp / arch / "Dockerfile").write_text(
                    f"FROM {BASE_IMAGE.replace('{arch}', arch)}\n"
                    f"ENV PIP_INDEX_URL={engine_index.url}\n",
                    encoding="utf-8",
                )
                made.append(base_image.replace("{arch}", arch))
                engine.run("build", "--platform", f"linux/{arch}", "--tag", made[-1], tmp / arch)
            started = time.monotonic()
            result = run_cli(
                "build", RELEASE, "--base-image", base_image, "--constraints", path,
                "--registry", repository, *push,
                matrix=write_matrix(tmp / "matrix.toml"), env=cli_env(tmp / "cache"),
            )  # fmt: skip
            seconds = time.monotonic() - started
            assert result.exit_code == 0, result.stderr[-6000:]
            workdir = tmp / "cache" / "build" / RELEASE
            built = Built(result, seconds, constraints, None, workdir, repository, base_image)
            yield Pushed(built, found)
        finally:
            engine.remove(*refs, f"{repository}:{RELEASE}-base", *made)


@pytest.fixture(params=["two stages", "one stage"])
def images(request: pytest.FixtureRequest) -> Built:
    """The release's images of each form of the base Dockerfile: the same checks hold."""
    if request.param == "two stages":
        two: Built = request.getfixturevalue("built")
        return two
    one: Pushed = request.getfixturevalue("built_one_stage")
    return one.built


# -- the build ----------------------------------------------------------------------------------


def test_the_release_builds_base_then_onbuild_for_each_architecture(
    images: Built, engine: Engine
) -> None:
    progress = [line for line in images.result.stderr.splitlines() if images.repository in line]
    assert progress, images.result.stderr[-3000:]
    for variant in VARIANTS:
        for arch in ARCHITECTURES:
            assert engine.has_image(images.ref(variant, arch))


@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("variant", VARIANTS)
def test_pip_freeze_is_the_constraint_set(
    images: Built, engine: Engine, variant: str, arch: str
) -> None:
    frozen = engine.container(images.ref(variant, arch), "pip", "freeze").split()
    assert sorted(frozen) == sorted(f"{name}=={version}" for name, version in SET.items())
    # from the virtual environment on PATH, which the image's python runs
    where = engine.container(
        images.ref(variant, arch), "sh", "-c", "command -v python; command -v pip"
    )
    assert where.split() == [f"{VENV}/bin/python", f"{VENV}/bin/pip"]


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_the_architecture_is_the_platform_built(images: Built, engine: Engine, arch: str) -> None:
    for variant in VARIANTS:
        image = engine.inspect(images.ref(variant, arch))
        assert (image["Os"], image["Architecture"]) == ("linux", arch)
        machine = engine.container(images.ref(variant, arch), "uname", "-m").strip()
        assert machine == MACHINES[arch]


def test_the_environment_holds_the_runtime_version_and_the_matrix_values(
    images: Built, engine: Engine
) -> None:
    for variant in VARIANTS:
        for arch in ARCHITECTURES:
            config = engine.inspect(images.ref(variant, arch))["Config"]
            env = dict(item.split("=", 1) for item in config["Env"])
            assert env["ASTRONOMER_RUNTIME_VERSION"] == RELEASE
            assert env["AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL"] == "30"
            assert env["AIRFLOW_HOME"] == "/usr/local/airflow"
            assert env["PATH"].startswith(f"{VENV}/bin:/usr/local/sbin:/usr/local/bin:")
            # a formula and an override are the deployment's, never baked
            assert "AIRFLOW__CORE__PARALLELISM" not in env
            assert "AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL" not in env
            assert (config["User"], config["WorkingDir"]) == ("astro", "/usr/local/airflow")
    seen = engine.container(images.ref("onbuild", "arm64"), "sh", "-c", "id -u; id -g; env")
    assert seen.splitlines()[:2] == ["50000", "0"]
    assert f"ASTRONOMER_RUNTIME_VERSION={RELEASE}" in seen.splitlines()


def test_the_labels(images: Built, engine: Engine) -> None:
    sha256 = hashlib.sha256(images.constraints.encode()).hexdigest()
    for variant in VARIANTS:
        for arch in ARCHITECTURES:
            labels = engine.inspect(images.ref(variant, arch))["Config"]["Labels"]
            assert labels["org.opencontainers.image.version"] == RELEASE
            assert labels["org.opencontainers.image.title"] == (
                f"Astro Runtime {RELEASE} ({variant}, Python 3.11)"
            )
            assert labels["org.opencontainers.image.created"] == "2026-01-01T00:00:00Z"
            assert labels["org.opencontainers.image.source"].startswith("https://")
            assert labels["io.astronomer.docker.runtime.version"] == RELEASE
            assert labels["io.astronomer.docker.airflow.version"] == AIRFLOW
            assert labels["io.astronomer.docker.python.version"] == "3.11"
            assert labels["io.astronomer.docker.variant"] == variant
            assert labels["io.astronomer.docker.constraints.sha256"] == sha256
            base = labels["org.opencontainers.image.base.name"]
            if variant == "base":  # each architecture's own Python image
                assert base == images.base_image.replace("{arch}", arch)
            else:
                assert base == f"{images.repository}:{RELEASE}-base"
    # the constraint set itself travels with the image
    shipped = engine.container(
        images.ref("base", "amd64"), "cat", "/usr/local/share/astronomer/constraints.txt"
    )
    assert shipped == images.constraints


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_airflow_runs_and_the_monitoring_dag_parses(
    images: Built, engine: Engine, arch: str
) -> None:
    image = images.ref("onbuild", arch)
    assert engine.container(image, "airflow", "version").strip() == AIRFLOW
    read = (
        f"import runpy, airflow; runpy.run_path({DAG!r}); d = airflow.DAGS[-1]; "
        "print(d.dag_id, d.kwargs['schedule'], d.tasks[0].task_id, sep='|')"
    )
    assert engine.container(image, "python", "-c", read).strip() == (
        "astronomer_monitoring_dag|*/5 * * * *|astronomer_monitoring_task"
    )
    # the deployment's schedule, read when the DAG is parsed
    override = engine.run(
        "run", "--rm", "--network", "none",
        "--env", "AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL=*/10 * * * *",
        image, "python", "-c", read,
    ).stdout  # fmt: skip
    assert override.strip() == "astronomer_monitoring_dag|*/10 * * * *|astronomer_monitoring_task"
    owner = engine.container(image, "stat", "-c", "%u:%g", DAG).strip()
    assert owner == "50000:0"


def test_the_base_has_two_stages_with_something_to_hide_else_one(
    built: Built, built_one_stage: Pushed, engine: Engine
) -> None:
    two, one = built.dockerfile, built_one_stage.built.dockerfile
    assert "# Two stages: the build was given a CA bundle and a pip.conf (builder/)," in two
    assert "FROM ${PYTHON_IMAGE} AS builder" in two and "COPY --from=builder" in two
    assert "# One stage: the build was given no CA bundle and no pip.conf (no index URL)," in one
    assert "AS builder" not in one and "--from=" not in one
    image = built_one_stage.built.ref("base", "amd64")
    history = engine.run("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).stdout
    (install,) = [line for line in history.splitlines() if "install.sh" in line]
    assert install.endswith("&& rm -rf /tmp/astro-build")
    # the install's inputs (and what install.sh wrote beside them) are gone from the image
    assert engine.container(image, "sh", "-c", "ls /tmp; echo end").split() == ["end"]


# -- a child project FROM the onbuild image -----------------------------------------------------


def child_project(path: Path, image: str, requirements: str) -> Path:
    path.mkdir(parents=True)
    (path / "Dockerfile").write_text(f"FROM {image}\n", encoding="utf-8")
    (path / "requirements.txt").write_text(requirements, encoding="utf-8")
    (path / "packages.txt").write_text("# no Debian packages\n", encoding="utf-8")
    (path / "dags").mkdir()
    (path / "dags" / "project_dag.py").write_text("# the project's DAG\n", encoding="utf-8")
    return path


def test_a_child_pinning_apache_airflow_fails_with_the_reason(
    built: Built, engine: Engine, tmp_path: Path
) -> None:
    project = child_project(
        tmp_path / "child",
        built.ref("onbuild", "amd64"),
        "# the project's requirements\napache-airflow-providers-http==4.1.0\n"
        "Apache_Airflow[celery]==2.9.0\n",
    )
    done = engine.run(
        "build", "--force-rm", "--platform", "linux/amd64", "--network", "none", "--tag",
        f"{RUN}/child:refused", project, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert (
        "requirements.txt must not name apache-airflow: this image already has "
        f"Apache Airflow {AIRFLOW} (Astro Runtime {RELEASE})"
    ) in output
    assert "line 3: Apache_Airflow[celery]==2.9.0" in output
    assert not engine.has_image(f"{RUN}/child:refused")


def test_a_good_child_builds_with_its_requirements_and_dags(
    built: Built, engine: Engine, engine_index: EngineIndex, tmp_path: Path
) -> None:
    project = child_project(
        tmp_path / "child",
        built.ref("onbuild", "amd64"),
        f"--index-url {engine_index.url}\nastro-child-extra==1.0.0\n",
    )
    tag = f"{RUN}/child:good"
    try:
        engine.run("build", "--platform", "linux/amd64", "--network", "host", "--tag", tag, project)
        frozen = engine.container(tag, "pip", "freeze").split()
        assert "astro-child-extra==1.0.0" in frozen
        assert f"apache-airflow=={AIRFLOW}" in frozen
        listing = engine.container(
            tag, "sh", "-c", "id -un; ls dags; stat -c %u dags/project_dag.py"
        )
        assert listing.split() == [
            "astro", "astronomer_monitoring_dag.py", "project_dag.py", "50000"
        ]  # fmt: skip
    finally:
        engine.remove(tag)


# -- the CA bundle ------------------------------------------------------------------------------


def test_no_layer_of_any_image_holds_the_ca_bundle(
    built: Built, engine: Engine, tmp_path: Path
) -> None:
    assert built.marker is not None
    marker = built.marker.encode()
    # the scan finds it where it is: the builder stage (from the classic builder's cache)
    stage = f"{RUN}/builder-stage:amd64"
    context = built.workdir / "base-python-3.11"
    assert (context / "builder" / "ca-bundle.crt").read_text().startswith(f"# {built.marker}")
    try:
        engine.run(
            "build", "--target", "builder", "--platform", "linux/amd64", "--network", "host",
            "--tag", stage, context,
        )  # fmt: skip
        assert engine.layers_holding(stage, marker, tmp_path)
    finally:
        engine.remove(stage)
    for variant in VARIANTS:
        for arch in ARCHITECTURES:
            image = built.ref(variant, arch)
            assert engine.layers_holding(image, marker, tmp_path) == [], image
            history = engine.run("history", "--no-trunc", image).stdout
            assert built.marker not in history


# -- a failed build -----------------------------------------------------------------------------


def test_a_failing_run_step_names_the_image_and_the_step_and_pushes_nothing(
    engine: Engine, engine_index: EngineIndex, tmp_path: Path
) -> None:
    broken = {**SET, "astro-engine-dep": "9.9.9"}  # no such version on the index
    path = tmp_path / "constraints-3.11.txt"
    path.write_text(constraint_set(engine_index, broken, hashes=False), encoding="utf-8")
    with registry() as found:
        if found is None:
            pytest.skip("docker-registry is not installed (scripts/engine installs it)")
        repository = f"{found.host}/astro-runtime"
        result = run_cli(
            "build", RELEASE, "--arch", "amd64", "--base-image", BASE_IMAGE,
            "--index-url", engine_index.url, "--constraints", path,
            "--registry", repository, "--push",
            matrix=write_matrix(tmp_path / "matrix.toml"), env=cli_env(tmp_path / "cache"),
        )  # fmt: skip
        assert result.exit_code == 1, result.stderr[-3000:]
        failed = ref("base", "amd64", repository)
        message = re.search(rf"docker build of {re.escape(failed)} failed at (.*)", result.stderr)
        assert message is not None, result.stderr[-3000:]
        assert re.fullmatch(r"Step \d+/\d+ : RUN .*install\.sh.* \(exit status 1\)", message[1])
        assert "astro-engine-dep==9.9.9" in result.stderr  # pip's reason, in the tail
        assert found.catalog() == []
        assert found.tags("astro-runtime") == []
    assert not engine.has_image(failed)
    assert not engine.has_image(ref("onbuild", "amd64", repository))
    # --force-rm: no container of this build's steps is left, not even the failed step's
    steps = re.findall(r"Running in ([0-9a-f]{12})", result.stderr)
    assert steps, result.stderr[-3000:]  # the failed RUN step ran in one
    left = engine.run("ps", "--all", "--quiet", "--no-trunc").stdout.split()
    assert [c for c in left if c[:12] in steps] == []


# -- pushing ------------------------------------------------------------------------------------


def test_push_makes_each_tag_a_manifest_list_of_both_architectures(
    built_one_stage: Pushed, engine: Engine
) -> None:
    found = built_one_stage.registry
    if found is None:
        pytest.skip("docker-registry is not installed (scripts/engine installs it)")
    repository = built_one_stage.built.repository
    refs = [ref(variant, arch, repository) for variant in VARIANTS for arch in ARCHITECTURES]
    assert sorted(found.tags("astro-runtime")) == sorted(
        [f"{RELEASE}-base", RELEASE, *(r.rpartition(":")[2] for r in refs)]
    )
    for variant in VARIANTS:
        tag = f"{RELEASE}-base" if variant == "base" else RELEASE
        listed = found.manifest("astro-runtime", tag)
        assert listed["mediaType"].endswith(("manifest.list.v2+json", "index.v1+json"))
        platforms = {
            entry["platform"]["architecture"]: entry["digest"] for entry in listed["manifests"]
        }
        assert sorted(platforms) == ["amd64", "arm64"]
        for arch, digest in platforms.items():  # each entry is that architecture's push
            pushed = found.manifest("astro-runtime", f"{tag}-{arch}")
            assert pushed["digest"] == digest
    # the base variant's arm64 image, pulled back by its list, is the arm64 build
    pulled = f"{repository}:{RELEASE}-base"
    engine.run("pull", "--platform", "linux/arm64", pulled)
    assert engine.inspect(pulled)["Architecture"] == "arm64"
    frozen = engine.container(pulled, "pip", "freeze", platform="linux/arm64").split()
    assert sorted(frozen) == sorted(f"{name}=={version}" for name, version in SET.items())


# -- the engine's BuildKit (a client older than 23, without buildx) -------------------------------


def needs_buildkit_client(engine: Engine) -> str:
    client = buildkit_client(engine)
    if client is None:
        reason = "no docker client older than 23 (docker.io's /usr/bin/docker) for BuildKit"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"CI needs it: {reason}", pytrace=False)
        pytest.skip(reason)
    return client


@pytest.fixture(scope="module")
def built_with_buildkit(
    engine: Engine, engine_index: EngineIndex, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """The release built again through the engine's BuildKit (DOCKER_BUILDKIT=1, which astroctl
    picks for that client): (repository, the CA bundle's marker)."""
    client = needs_buildkit_client(engine)
    tmp = tmp_path_factory.mktemp("engine-buildkit")
    repository = f"{RUN}/buildkit"
    path = tmp / "constraints-3.11.txt"
    path.write_text(constraint_set(engine_index, SET, hashes=True), encoding="utf-8")
    marker = f"astroctl-engine-ca-marker-{uuid.uuid4().hex}"
    result = run_cli(
        "build", RELEASE, "--docker", client, "--registry", repository,
        "--base-image", BASE_IMAGE, "--index-url", engine_index.url, "--constraints", path,
        "--ca-bundle", ca_bundle(tmp / "ca.pem", marker),
        matrix=write_matrix(tmp / "matrix.toml"), env=cli_env(tmp / "cache"),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr[-6000:]
    assert "#1 [internal] load build definition" in result.stderr  # BuildKit's progress
    yield repository, marker
    engine.remove(*(ref(v, a, repository) for v in VARIANTS for a in ARCHITECTURES))


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_the_engines_buildkit_builds_the_same_images(
    built_with_buildkit: tuple[str, str], engine: Engine, arch: str, tmp_path: Path
) -> None:
    repository, marker = built_with_buildkit
    for variant in VARIANTS:
        image = ref(variant, arch, repository)
        record = engine.inspect(image)
        assert record["Architecture"] == arch
        assert engine.container(image, "uname", "-m").strip() == MACHINES[arch]
        frozen = engine.container(image, "pip", "freeze").split()
        assert sorted(frozen) == sorted(f"{name}=={version}" for name, version in SET.items())
        labels = record["Config"]["Labels"]
        assert labels["io.astronomer.docker.variant"] == variant
        assert labels["org.opencontainers.image.created"] == "2026-01-01T00:00:00Z"
        if variant == "base":
            assert labels["org.opencontainers.image.base.name"] == BASE_IMAGE.replace(
                "{arch}", arch
            )
            assert engine.layers_holding(image, marker.encode(), tmp_path) == []


def test_a_failing_buildkit_step_names_the_image_and_the_step(
    engine: Engine, engine_index: EngineIndex, tmp_path: Path
) -> None:
    client = needs_buildkit_client(engine)
    broken = {**SET, "astro-engine-dep": "9.9.9"}
    path = tmp_path / "constraints-3.11.txt"
    path.write_text(constraint_set(engine_index, broken, hashes=False), encoding="utf-8")
    repository = f"{RUN}/buildkit-failing"
    result = run_cli(
        "build", RELEASE, "--arch", "amd64", "--docker", client, "--registry", repository,
        "--base-image", BASE_IMAGE, "--index-url", engine_index.url, "--constraints", path,
        matrix=write_matrix(tmp_path / "matrix.toml"), env=cli_env(tmp_path / "cache"),
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr[-3000:]
    failed = ref("base", "amd64", repository)
    message = re.search(rf"docker build of {re.escape(failed)} failed at (.*)", result.stderr)
    assert message is not None, result.stderr[-3000:]
    assert re.fullmatch(r"\[builder \d+/\d+\] RUN .*install\.sh.* \(exit status 1\)", message[1])
    assert not engine.has_image(failed)
