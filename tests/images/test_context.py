"""The build context: Dockerfiles, labels, environment, the CA bundle's path, the ONBUILD shell
steps run with sh, the builder's install script run with a real pip against a loopback index,
the monitoring DAG under a stub Airflow, and the templates shipped in the wheel."""

from __future__ import annotations

import hashlib
import http.client
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import types
import zipfile
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from astroctl.errors import InputError
from astroctl.images import context as core
from astroctl.images.context import (
    CHECK_REQUIREMENTS,
    INSTALL_PACKAGES,
    INSTALL_REQUIREMENTS,
    BuildContext,
    render_context,
    write_context,
)
from astroctl.images.tags import Variant
from astroctl.matrix import selectors, store
from astroctl.matrix.model import EnvVar, Matrix, Release
from tests import factories
from tests.helpers import MATRIX, REPO, SNAPSHOT
from tests.index_server import IndexServer, dist_name

TEMPLATES = REPO / "src" / "astroctl" / "images" / "templates"
EPOCH = 1697068800  # 2023-10-12T00:00:00Z
CONSTRAINTS = "# the set\napache-airflow==2.7.2\napache-airflow-providers-http==4.5.0\n"
SHA = hashlib.sha256(CONSTRAINTS.encode()).hexdigest()
SH = shutil.which("sh") or "/bin/sh"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
INDEX = "http://127.0.0.1:3141/simple/"


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return store.load(SNAPSHOT)


@pytest.fixture(scope="module")
def release(matrix: Matrix) -> Release:
    return selectors.select(matrix, "9.2.0").release


def render(release: Release, matrix: Matrix, **overrides: Any) -> BuildContext:
    arguments: dict[str, Any] = {
        "variant": Variant.BASE,
        "python": release.python,
        "base_image": None,
        "constraints_text": CONSTRAINTS,
        "constraints_sha256": SHA,
        "repository": "quay.io/astronomer/astro-runtime",
        "revision": "0123abc",
        "source_date_epoch": EPOCH,
        "env": matrix.env,
    }
    arguments.update(overrides)
    return render_context(release, **arguments)


def stages(dockerfile: str) -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined, comments dropped), per stage."""
    instructions: list[str] = []
    pending = ""
    for line in dockerfile.splitlines():
        if not pending and (not line.strip() or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        instructions.append(pending + line)
        pending = ""
    found: list[list[str]] = [[]]
    for instruction in instructions:
        if instruction.startswith("FROM "):
            found.append([])
        found[-1].append(instruction)
    return found


def env_of(dockerfile: str) -> dict[str, str]:
    (env,) = [i for i in stages(dockerfile)[-1] if i.startswith("ENV ")]
    return dict(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', env))


# -- the base Dockerfile ------------------------------------------------------------------------


def test_base_starts_from_the_python_image_of_the_lines_debian(
    release: Release, matrix: Matrix
) -> None:
    dockerfile = render(release, matrix).dockerfile
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bullseye\n" in dockerfile
    preamble, final = stages(dockerfile)  # nothing to hide: one stage
    assert preamble == ["ARG PYTHON_IMAGE=python:3.11-slim-bullseye"]
    assert final[0] == "FROM ${PYTHON_IMAGE}"
    preamble, builder, final = stages(render(release, matrix, index_url=INDEX).dockerfile)
    assert preamble == ["ARG PYTHON_IMAGE=python:3.11-slim-bullseye"]
    assert builder[0] == "FROM ${PYTHON_IMAGE} AS builder"
    assert final[0] == "FROM ${PYTHON_IMAGE}"
    older = render(release, matrix, python="3.8")
    assert older.build_args == {"PYTHON_IMAGE": "python:3.8-slim-bullseye"}


def test_the_codename_comes_from_the_os_and_base_image_overrides_it(matrix: Matrix) -> None:
    doc = factories.document(factories.release("9.2.0", "2.7.2"))
    bookworm = factories.build(doc).releases[0]
    assert core.python_image(bookworm, "3.11") == "python:3.11-slim-bookworm"
    assert core.python_image(bookworm, "3.10", "127.0.0.1:5000/py:{python}-{codename}") == (
        "127.0.0.1:5000/py:3.10-bookworm"
    )
    assert core.python_image(bookworm, "3.11", "debootstrap-python") == "debootstrap-python"
    with pytest.raises(InputError, match="--base-image 'Bad Image' is not valid"):
        core.python_image(bookworm, "3.11", "Bad Image")
    with pytest.raises(InputError, match=r"\{arch\} is filled in per architecture"):
        core.python_image(bookworm, "3.11", "local/py:{python}-{arch}")
    doc["lines"]["9"]["os"] = "Ubuntu 22.04"
    ubuntu = factories.build(doc).releases[0]
    with pytest.raises(InputError, match=r"cannot tell the Debian codename.*--base-image"):
        core.python_image(ubuntu, "3.11")
    assert core.python_image(ubuntu, "3.11", "python:{python}") == "python:3.11"


def test_the_image_environment_holds_values_only(release: Release, matrix: Matrix) -> None:
    env = env_of(render(release, matrix).dockerfile)
    assert env == {
        "AIRFLOW_HOME": "/usr/local/airflow",
        "ASTRONOMER_RUNTIME_VERSION": "9.2.0",
        "PATH": "/opt/astronomer/venv/bin:${PATH}",
        "AIRFLOW__CELERY__STALLED_TASK_TIMEOUT": "600",
        "AIRFLOW__KUBERNETES_EXECUTOR__WORKER_PODS_CREATION_BATCH_SIZE": "16",
        "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "30",
    }
    assert matrix.env["AIRFLOW__CORE__PARALLELISM"].formula  # a formula: not baked
    # the snapshot gives the monitoring schedule as a value: still the deployment's to set
    assert matrix.env["AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL"].value == "*/5 * * * *"


def test_the_current_matrix_bakes_its_values_and_not_its_override() -> None:
    current = store.load(MATRIX)
    assert current.env["AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL"].default == "*/5 * * * *"
    release = selectors.select(current, "9.2.0").release
    env = env_of(render(release, current).dockerfile)
    assert env["AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY"] == "512"
    assert "AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL" not in env
    assert "AIRFLOW__CORE__PARALLELISM" not in env


def test_env_values_are_quoted_against_substitution(release: Release, matrix: Matrix) -> None:
    env = {"X_ODD": EnvVar("X_ODD", value='a "b" $HOME \\ c')}
    dockerfile = render(release, matrix, env=env).dockerfile
    assert 'X_ODD="a \\"b\\" \\$HOME \\\\ c"' in dockerfile
    with pytest.raises(InputError, match="more than one line"):
        render(release, matrix, env={"X": EnvVar("X", value="a\nRUN rm -rf /")})
    with pytest.raises(InputError, match="the image sets it itself"):
        render(release, matrix, env={"AIRFLOW_HOME": EnvVar("AIRFLOW_HOME", value="/x")})
    with pytest.raises(InputError, match="not an environment variable name"):
        render(release, matrix, env={"BAD NAME": EnvVar("BAD NAME", value="1")})


def test_labels(release: Release, matrix: Matrix) -> None:
    context = render(release, matrix)
    assert context.labels == {
        "io.astronomer.docker.airflow.version": "2.7.2",
        "io.astronomer.docker.constraints.sha256": SHA,
        "io.astronomer.docker.python.version": "3.11",
        "io.astronomer.docker.runtime.version": "9.2.0",
        "io.astronomer.docker.variant": "base",
        "org.opencontainers.image.base.name": "python:3.11-slim-bullseye",
        "org.opencontainers.image.created": "2023-10-12T00:00:00Z",
        "org.opencontainers.image.description": (
            "Apache Airflow 2.7.2 on Python 3.11, the base variant, with no build triggers"
        ),
        "org.opencontainers.image.revision": "0123abc",
        "org.opencontainers.image.source": "https://github.com/astronomer/astro-runtime",
        "org.opencontainers.image.title": "Astro Runtime 9.2.0 (base, Python 3.11)",
        "org.opencontainers.image.version": "9.2.0",
    }
    (label,) = [i for i in stages(context.dockerfile)[-1] if i.startswith("LABEL ")]
    for key, value in context.labels.items():
        assert f'{key}="{value}"' in label
    bare = render(release, matrix, revision=None, source=None)
    assert "org.opencontainers.image.revision" not in bare.labels
    assert "org.opencontainers.image.source" not in bare.labels


def test_same_inputs_same_bytes_and_the_date_comes_from_source_date_epoch(
    release: Release, matrix: Matrix
) -> None:
    first, second = render(release, matrix), render(release, matrix)
    assert first.files == second.files and first.digest == second.digest
    later = render(release, matrix, source_date_epoch=EPOCH + 86400)
    assert later.labels["org.opencontainers.image.created"] == "2023-10-13T00:00:00Z"
    changed = [name for name in first.files if first.files[name] != later.files[name]]
    assert changed == ["Dockerfile"]
    with pytest.raises(InputError, match="before 1970"):
        render(release, matrix, source_date_epoch=-1)


def test_the_context_files(release: Release, matrix: Matrix) -> None:
    context = render(release, matrix)
    assert sorted(context.files) == [
        "Dockerfile",
        "airflow-pin.txt",
        "astronomer_monitoring_dag.py",
        "builder/constraints.txt",
        "builder/install.sh",
        "builder/lock_requirements.py",
        "builder/requirements.txt",
        "constraints.txt",
    ]
    assert context.files["constraints.txt"] == CONSTRAINTS.encode()
    assert context.files["airflow-pin.txt"] == b"apache-airflow==2.7.2\n"
    requirements = context.files["builder/requirements.txt"].decode().splitlines()
    assert requirements[0] == "apache-airflow==2.7.2"
    assert requirements[1:] == [f"{n}=={v}" for n, v in sorted(release.packages.items())]
    monitoring = (TEMPLATES / "astronomer_monitoring_dag.py").read_bytes()
    assert context.files["astronomer_monitoring_dag.py"] == monitoring


def test_the_final_stage_installs_what_the_builder_made(release: Release, matrix: Matrix) -> None:
    context = render(release, matrix, index_url=INDEX)
    _, builder, final = stages(context.dockerfile)
    assert builder[1:] == [
        "COPY builder/ /tmp/astro-build/",
        'RUN ["/bin/sh", "/tmp/astro-build/install.sh", "/opt/astronomer/venv", '
        '"/tmp/astro-build"]',
    ]
    assert final[2].startswith("RUN useradd --uid 50000 --gid 0 ")
    assert final[3:] == [
        "COPY --from=builder /opt/astronomer/venv /opt/astronomer/venv",
        "COPY constraints.txt airflow-pin.txt /usr/local/share/astronomer/",
        "COPY --chown=50000:0 astronomer_monitoring_dag.py "
        "/usr/local/airflow/dags/astronomer_monitoring_dag.py",
        final[6],  # LABEL
        "USER astro",
        "WORKDIR /usr/local/airflow",
    ]
    assert context.dockerfile.splitlines()[3] == (
        "# Two stages: the build was given a pip.conf (builder/),"
    )


def test_with_nothing_to_hide_the_image_installs_in_one_stage(
    release: Release, matrix: Matrix
) -> None:
    context = render(release, matrix)
    assert not any(name.endswith(("ca-bundle.crt", "pip.conf")) for name in context.files)
    dockerfile = context.dockerfile
    assert dockerfile.splitlines()[3] == (
        "# One stage: the build was given no CA bundle and no pip.conf (no index URL),"
    )
    assert "AS builder" not in dockerfile and "--from=" not in dockerfile
    _, final = stages(dockerfile)
    assert final[:3] == [
        "FROM ${PYTHON_IMAGE}",
        "COPY builder/ /tmp/astro-build/",
        # one RUN installs and removes the install's inputs (and what install.sh wrote there)
        "RUN /bin/sh /tmp/astro-build/install.sh /opt/astronomer/venv /tmp/astro-build "
        "&& rm -rf /tmp/astro-build",
    ]
    assert final[4].startswith("RUN useradd --uid 50000 --gid 0 ")
    assert final[5:] == [
        "COPY constraints.txt airflow-pin.txt /usr/local/share/astronomer/",
        "COPY --chown=50000:0 astronomer_monitoring_dag.py "
        "/usr/local/airflow/dags/astronomer_monitoring_dag.py",
        final[7],  # LABEL
        "USER astro",
        "WORKDIR /usr/local/airflow",
    ]
    # the same files to install from, the same labels and build argument as two stages
    two = render(release, matrix, index_url=INDEX)
    assert sorted(two.files) == sorted([*context.files, "builder/pip.conf"])
    assert (two.labels, two.build_args) == (context.labels, context.build_args)


def test_both_forms_make_the_same_image_apart_from_how_the_venv_gets_there(
    release: Release, matrix: Matrix, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text(PEM)
    one = stages(render(release, matrix).dockerfile)[-1]
    install = [i for i in one if "astro-build" in i]
    assert len(install) == 2  # the COPY of builder/ and the installing RUN
    for hidden in ({"ca_bundle": bundle}, {"index_url": INDEX}, {"extra_index_urls": [INDEX]}):
        two = stages(render(release, matrix, **hidden).dockerfile)[-1]
        assert [i for i in two if "--from=builder" not in i] == [i for i in one if i not in install]


@pytest.mark.parametrize(
    ("hidden", "reason"),
    [
        ({}, "One stage: the build was given no CA bundle and no pip.conf (no index URL)"),
        ({"ca_bundle": True}, "Two stages: the build was given a CA bundle (builder/)"),
        ({"index_url": INDEX}, "Two stages: the build was given a pip.conf (builder/)"),
        ({"extra_index_urls": [INDEX]}, "Two stages: the build was given a pip.conf (builder/)"),
        (
            {"ca_bundle": True, "index_url": INDEX},
            "Two stages: the build was given a CA bundle and a pip.conf (builder/)",
        ),
    ],
)
def test_the_header_says_which_form_and_why(
    release: Release, matrix: Matrix, tmp_path: Path, hidden: dict[str, Any], reason: str
) -> None:
    if hidden.get("ca_bundle"):
        hidden["ca_bundle"] = tmp_path / "ca.pem"
        hidden["ca_bundle"].write_text(PEM)
    context = render(release, matrix, **hidden)
    header = " ".join(
        line.removeprefix("#").strip()
        for line in context.dockerfile.splitlines()
        if line.startswith("#")
    )
    assert f" {reason}" in f" {header}"
    two_stage = reason.startswith("Two")
    assert ("AS builder" in context.dockerfile) is two_stage
    assert core.base_form(context.files).two_stage is two_stage


# -- the CA bundle and the indexes reach the builder stage only ---------------------------------


def test_the_ca_bundle_reaches_the_builder_stage_and_no_layer(
    release: Release, matrix: Matrix, tmp_path: Path
) -> None:
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text(PEM)
    context = render(
        release,
        matrix,
        ca_bundle=bundle,
        index_url="http://127.0.0.1:3141/simple/",
    )
    assert context.files["builder/ca-bundle.crt"] == PEM.encode()
    assert (
        context.files["builder/pip.conf"]
        == b"[global]\nindex-url = http://127.0.0.1:3141/simple/\n"
    )
    carrying = [name for name, data in context.files.items() if b"MIIBfake" in data]
    assert carrying == ["builder/ca-bundle.crt"]
    _, builder, final = stages(context.dockerfile)
    assert "COPY builder/ /tmp/astro-build/" in builder
    # the final stage copies the environment from the builder and nothing from builder/
    copies = [i for i in final if i.startswith(("COPY", "ADD"))]
    assert all("builder/" not in i and "ca-bundle" not in i for i in copies)
    from_builder = [i for i in copies if "--from=builder" in i]
    assert from_builder == ["COPY --from=builder /opt/astronomer/venv /opt/astronomer/venv"]
    # the variables that point pip at the bundle live in install.sh, not in the image's ENV
    assert not any(name in env_of(context.dockerfile) for name in ("PIP_CERT", "SSL_CERT_FILE"))
    install = context.files["builder/install.sh"].decode()
    assert 'export PIP_CERT="$dir/ca-bundle.crt"' in install


def test_a_ca_bundle_must_be_pem(release: Release, matrix: Matrix, tmp_path: Path) -> None:
    der = tmp_path / "ca.der"
    der.write_bytes(b"0\x82\x01\n")
    with pytest.raises(InputError, match=r"not UTF-8|no PEM certificate"):
        render(release, matrix, ca_bundle=der)
    with pytest.raises(InputError, match="no such file"):
        render(release, matrix, ca_bundle=tmp_path / "missing.pem")
    with pytest.raises(InputError, match="a directory"):
        render(release, matrix, ca_bundle=tmp_path)


def test_private_indexes_go_into_pip_conf(release: Release, matrix: Matrix) -> None:
    context = render(release, matrix, extra_index_urls=["https://pip.astronomer.io/v2/"])
    assert context.files["builder/pip.conf"] == (
        b"[global]\nextra-index-url =\n    https://pip.astronomer.io/v2/\n"
    )
    with pytest.raises(InputError, match="whitespace"):
        render(release, matrix, index_url="http://a b/")


# -- the constraint set -------------------------------------------------------------------------


def test_the_constraint_set_is_checked(release: Release, matrix: Matrix) -> None:
    with pytest.raises(InputError, match=r"has sha256 .* not 00 as given"):
        render(release, matrix, constraints_sha256="00")
    other = "apache-airflow==2.7.1\n"
    with pytest.raises(InputError, match=r"pins apache-airflow==2\.7\.1, but .* 9\.2\.0 ships"):
        render(
            release,
            matrix,
            constraints_text=other,
            constraints_sha256=hashlib.sha256(other.encode()).hexdigest(),
        )
    none = "boto3==1.0\n"
    with pytest.raises(InputError, match=r"does not pin apache-airflow.*constraints resolve"):
        render(
            release,
            matrix,
            constraints_text=none,
            constraints_sha256=hashlib.sha256(none.encode()).hexdigest(),
        )
    with pytest.raises(InputError, match=r"no Python 3\.12 distribution"):
        render(release, matrix, python="3.12")


# -- the onbuild Dockerfile ---------------------------------------------------------------------


def onbuild_steps(dockerfile: str) -> list[str]:
    return [i.removeprefix("ONBUILD ") for i in stages(dockerfile)[-1] if i.startswith("ONBUILD ")]


def test_onbuild_is_from_the_base_just_built(release: Release, matrix: Matrix) -> None:
    context = render(release, matrix, variant=Variant.ONBUILD)
    assert sorted(context.files) == ["Dockerfile"]
    assert context.build_args == {"BASE_IMAGE": "quay.io/astronomer/astro-runtime:9.2.0-base"}
    preamble, final = stages(context.dockerfile)
    assert preamble == ["ARG BASE_IMAGE=quay.io/astronomer/astro-runtime:9.2.0-base"]
    assert final[0] == "FROM ${BASE_IMAGE}"
    other = render(release, matrix, variant=Variant.ONBUILD, python="3.9")
    assert other.build_args == {
        "BASE_IMAGE": "quay.io/astronomer/astro-runtime:9.2.0-python-3.9-base"
    }
    given = render(release, matrix, variant=Variant.ONBUILD, base_image="r:9.2.0-base-arm64")
    assert given.build_args == {"BASE_IMAGE": "r:9.2.0-base-arm64"}
    assert context.labels["io.astronomer.docker.variant"] == "onbuild"


def test_onbuild_steps(release: Release, matrix: Matrix) -> None:
    steps = onbuild_steps(render(release, matrix, variant=Variant.ONBUILD).dockerfile)
    project = "/usr/local/share/astronomer/project"
    assert steps[0] == "USER root"
    assert steps[1] == f"COPY packages.txt requirements.txt {project}/"
    runs = [json.loads(step.removeprefix("RUN ")) for step in steps[2:5]]
    assert runs == [
        [
            "/bin/sh",
            "-c",
            CHECK_REQUIREMENTS,
            "check-requirements",
            f"{project}/requirements.txt",
            "2.7.2",
        ],
        ["/bin/sh", "-c", INSTALL_PACKAGES, "install-packages", f"{project}/packages.txt"],
        [
            "/bin/sh",
            "-c",
            INSTALL_REQUIREMENTS,
            "install-requirements",
            f"{project}/requirements.txt",
            "/usr/local/share/astronomer/airflow-pin.txt",
        ],
    ]
    assert steps[5:] == ["USER astro", "COPY --chown=50000:0 . ."]


def run_snippet(
    script: str, *args: str, path: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": path or os.environ["PATH"], "ASTRONOMER_RUNTIME_VERSION": "9.2.0"}
    environment.update(env or {})
    return subprocess.run(
        [SH, "-c", script, "snippet", *args],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=30,
    )


REFUSED = [
    ("apache-airflow==2.7.2\n", 1),
    ("pandas\napache-airflow>=2\n", 2),
    ("Apache_Airflow[celery]==2.7.2\n", 1),
    ("  apache.airflow @ https://example.com/a.whl\n", 1),
    ("apache-airflow\n", 1),
    ("apache--airflow ; python_version >= '3.8'\n", 1),
    ("apache-airflow==2.7.2\r\n", 1),
    ("# pinned for x\nboto3\napache-airflow~=2.7 # keep\n", 3),
]
ALLOWED = [
    "",
    "apache-airflow-providers-amazon==8.7.1\n",
    "apache_airflow_providers_http\n",
    "# apache-airflow==2.7.2\n",
    "   # apache-airflow==2.7.2\n",
    "pandas  # not apache-airflow==2.7.2\n",
    "apache-airflowx==1\n",
    "airflow-apache==1\n",
]


@pytest.mark.parametrize(("text", "line"), REFUSED)
def test_requirements_naming_apache_airflow_are_refused(
    text: str, line: int, tmp_path: Path
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_bytes(text.encode())
    result = run_snippet(CHECK_REQUIREMENTS, str(requirements), "2.7.2")
    assert result.returncode == 1
    assert result.stdout == ""
    first, *rest = result.stderr.splitlines()
    assert first == (
        "requirements.txt must not name apache-airflow: this image already has Apache Airflow "
        "2.7.2 (Astro Runtime 9.2.0). Remove the line; to change Airflow, change the Astro "
        "Runtime version your Dockerfile starts FROM."
    )
    assert [r.split(":")[0] for r in rest] == [f"  line {line}"]


@pytest.mark.parametrize("text", ALLOWED)
def test_other_requirements_pass_the_check(text: str, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(text)
    result = run_snippet(CHECK_REQUIREMENTS, str(requirements), "2.7.2")
    assert (result.returncode, result.stderr) == (0, "")


def test_a_project_without_requirements_passes_the_check(tmp_path: Path) -> None:
    assert run_snippet(CHECK_REQUIREMENTS, str(tmp_path / "missing.txt"), "2.7.2").returncode == 0


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A PATH whose apt-get and python record their arguments (one line per call)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for name in ("apt-get", "python"):
        tool = bin_dir / name
        tool.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
        tool.chmod(0o755)
    yield f"{bin_dir}:{os.environ['PATH']}", log


def test_packages_txt_is_installed_with_apt(recorder: tuple[str, Path], tmp_path: Path) -> None:
    path, log = recorder
    packages = tmp_path / "packages.txt"
    packages.write_text("# tools\ngcc  libpq-dev\r\nunixodbc=2.3.11-2 libc6:arm64\n\n")
    result = run_snippet(INSTALL_PACKAGES, str(packages), path=path)
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        "apt-get update",
        "apt-get install -y --no-install-recommends gcc libpq-dev unixodbc=2.3.11-2 libc6:arm64",
    ]


@pytest.mark.parametrize("text", ["gcc -o APT::x=1\n", "curl;rm\n", "Foo\n", "pkg*\n"])
def test_packages_txt_with_other_words_stops_the_build(
    text: str, recorder: tuple[str, Path], tmp_path: Path
) -> None:
    path, log = recorder
    packages = tmp_path / "packages.txt"
    packages.write_text(text)
    result = run_snippet(INSTALL_PACKAGES, str(packages), path=path)
    assert result.returncode == 1
    assert result.stderr.startswith("packages.txt: not Debian package names:")
    assert not log.exists()


@pytest.mark.parametrize("text", ["", "# nothing\n\n   \n"])
def test_empty_packages_and_requirements_install_nothing(
    text: str, recorder: tuple[str, Path], tmp_path: Path
) -> None:
    path, log = recorder
    (tmp_path / "packages.txt").write_text(text)
    (tmp_path / "requirements.txt").write_text(text)
    assert run_snippet(INSTALL_PACKAGES, str(tmp_path / "packages.txt"), path=path).returncode == 0
    pin = str(tmp_path / "pin.txt")
    result = run_snippet(INSTALL_REQUIREMENTS, str(tmp_path / "requirements.txt"), pin, path=path)
    assert result.returncode == 0
    assert not log.exists()


def test_requirements_txt_is_installed_with_airflow_held(
    recorder: tuple[str, Path], tmp_path: Path
) -> None:
    path, log = recorder
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pandas==2.1.0\n")
    result = run_snippet(INSTALL_REQUIREMENTS, str(requirements), "/pin.txt", path=path)
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        f"python -m pip install --no-cache-dir -r {requirements} -c /pin.txt"
    ]


# -- the builder's install script, with a real pip against a loopback index ---------------------


@pytest.fixture(scope="module")
def index() -> Iterator[IndexServer]:
    with IndexServer() as server:
        server.add("apache-airflow", "2.7.2", requires_dist=["dep-a>=1"])
        server.add("dep-a", "1.0")
        server.add("dep-a", "1.1")
        server.add("apache-airflow-providers-http", "4.5.0", requires_dist=["dep-a"])
        yield server


def hashed_set(index: IndexServer, pins: Mapping[str, str], *, tamper: str = "") -> str:
    """The set with the sha256 of each wheel as the index serves it (``tamper``'s wrong)."""
    lines = []
    for name, version in sorted(pins.items()):
        filename = f"{dist_name(name)}-{version}-py3-none-any.whl"
        connection = http.client.HTTPConnection("127.0.0.1", int(index.base.rsplit(":", 1)[1]))
        try:
            connection.request("GET", f"/files/{filename}")
            response = connection.getresponse()
            assert response.status == 200, filename
            digest = hashlib.sha256(response.read()).hexdigest()
        finally:
            connection.close()
        if name == tamper:
            digest = "0" * 64
        lines.append(f"{name}=={version} \\\n    --hash=sha256:{digest}")
    return "# hashed\n" + "\n".join(lines) + "\n"


def install(
    tmp_path: Path, index: IndexServer, constraints: str, release: Release, matrix: Matrix
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the rendered builder/install.sh on this machine, as the builder stage runs it."""
    context = render(
        release,
        matrix,
        constraints_text=constraints,
        constraints_sha256=hashlib.sha256(constraints.encode()).hexdigest(),
        index_url=index.url,
    )
    directory = write_context(context, tmp_path / "context") / "builder"
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env = {k: v for k, v in env.items() if "proxy" not in k.lower()}
    env.update({"ASTRO_BUILD_PYTHON": sys.executable, "NO_PROXY": "*"})
    result = subprocess.run(
        [SH, str(directory / "install.sh"), str(venv), str(directory)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=240,
    )
    return result, venv


def installed(venv: Path) -> dict[str, str]:
    listing = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env={"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PATH": os.environ["PATH"]},
    )
    found = {p["name"].lower(): p["version"] for p in json.loads(listing.stdout)}
    return {k: v for k, v in found.items() if k not in ("pip", "setuptools", "wheel")}


@pytest.fixture(scope="module")
def small() -> tuple[Matrix, Release]:
    entry = factories.release(
        "9.2.0",
        "2.7.2",
        released=date(2023, 10, 12),
        packages={"apache-airflow-providers-http": "4.5.0"},
    )
    built = factories.build(factories.document(entry))
    return built, built.releases[0]


def test_install_sh_installs_airflow_under_the_constraint_set(
    tmp_path: Path, index: IndexServer, small: tuple[Matrix, Release]
) -> None:
    matrix, release = small
    constraints = "apache-airflow==2.7.2\napache-airflow-providers-http==4.5.0\ndep-a==1.0\n"
    result, venv = install(tmp_path, index, constraints, release, matrix)
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(venv) == {
        "apache-airflow": "2.7.2",
        "apache-airflow-providers-http": "4.5.0",
        "dep-a": "1.0",  # the set's, not the newest
    }


def test_install_sh_with_hashes_installs_only_hashed_files(
    tmp_path: Path, index: IndexServer, small: tuple[Matrix, Release]
) -> None:
    matrix, release = small
    pins = {"apache-airflow": "2.7.2", "apache-airflow-providers-http": "4.5.0", "dep-a": "1.1"}
    result, venv = install(tmp_path / "good", index, hashed_set(index, pins), release, matrix)
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed(venv) == pins
    locked = (tmp_path / "good" / "context" / "builder" / "locked.txt").read_text()
    assert locked.count("--hash=sha256:") == 3
    tampered = hashed_set(index, pins, tamper="dep-a")
    result, _ = install(tmp_path / "bad", index, tampered, release, matrix)
    assert result.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in result.stderr


# -- lock_requirements.py -----------------------------------------------------------------------


def run_lock(*args: str) -> subprocess.CompletedProcess[str]:
    script = TEMPLATES / "lock_requirements.py"
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=False
    )


def test_lock_requirements_strips_and_locks(tmp_path: Path) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(
        "# header\n"
        "Apache_Airflow==2.7.2 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
        "dep-a==1.0 ; python_version < '3.12' --hash=sha256:cc\n"
        "plain==1.0\n"
    )
    assert run_lock("strip", str(constraints), str(tmp_path / "pins.txt")).returncode == 0
    assert (tmp_path / "pins.txt").read_text() == (
        "Apache_Airflow==2.7.2\ndep-a==1.0 ; python_version < '3.12'\nplain==1.0\n"
    )
    report = tmp_path / "report.json"
    items = [("apache-airflow", "2.7.2"), ("Dep_A", "1.0.0")]
    report.write_text(
        json.dumps({"install": [{"metadata": {"name": n, "version": v}} for n, v in items]})
    )
    result = run_lock("lock", str(report), str(constraints), str(tmp_path / "locked.txt"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "locked.txt").read_text() == (
        "apache-airflow==2.7.2 --hash=sha256:aa --hash=sha256:bb\ndep-a==1.0.0 --hash=sha256:cc\n"
    )
    items += [("unpinned", "3.0"), ("plain", "1.0")]
    report.write_text(
        json.dumps({"install": [{"metadata": {"name": n, "version": v}} for n, v in items]})
    )
    result = run_lock("lock", str(report), str(constraints), str(tmp_path / "locked.txt"))
    assert result.returncode == 1
    assert "unpinned==3.0 is needed, but the constraint set does not pin it" in result.stderr
    assert "plain==1.0: the constraint set lists no hash for it" in result.stderr
    assert run_lock("what").returncode == 1


# -- the monitoring DAG -------------------------------------------------------------------------


class _Recorder:
    made: list[dict[str, Any]]

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        type(self).made.append(kwargs)

    def __enter__(self) -> _Recorder:
        return self

    def __exit__(self, *args: object) -> None:
        return None


def load_dag(
    monkeypatch: pytest.MonkeyPatch, version: str = "2.7.2", schedule: str | None = None
) -> tuple[types.ModuleType, dict[str, Any], dict[str, Any]]:
    """Import the DAG file under a stub Airflow; the DAG's and the task's keyword arguments."""
    dags: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    dag_class = type("DAG", (_Recorder,), {"made": dags})
    operator_class = type("BashOperator", (_Recorder,), {"made": tasks})
    airflow = types.ModuleType("airflow")
    airflow.__dict__.update(__version__=version, DAG=dag_class)
    operators = types.ModuleType("airflow.operators")
    bash = types.ModuleType("airflow.operators.bash")
    bash.__dict__["BashOperator"] = operator_class
    for name, module in (
        ("airflow", airflow),
        ("airflow.operators", operators),
        ("airflow.operators.bash", bash),
    ):
        monkeypatch.setitem(sys.modules, name, module)
    if schedule is None:
        monkeypatch.delenv("AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL", raising=False)
    else:
        monkeypatch.setenv("AIRFLOW_MONITORING_DAG_SCHEDULE_INTERVAL", schedule)
    spec = importlib.util.spec_from_file_location(
        "astronomer_monitoring_dag_under_test", TEMPLATES / "astronomer_monitoring_dag.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (dag,) = dags
    (task,) = tasks
    return module, dag, task


def test_the_monitoring_dag_runs_a_bash_task_every_5_minutes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, dag, task = load_dag(monkeypatch)
    assert dag["dag_id"] == "astronomer_monitoring_dag"
    assert dag["schedule"] == "*/5 * * * *"
    assert dag["catchup"] is False and dag["is_paused_upon_creation"] is False
    assert task["task_id"] == "astronomer_monitoring_task"
    assert task["bash_command"].startswith("echo ")


def test_the_schedule_comes_from_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    _, dag, _ = load_dag(monkeypatch, schedule=" */10 1-5 * JAN-jun mon-fri ")
    assert dag["schedule"] == "*/10 1-5 * JAN-jun mon-fri"
    _, dag, _ = load_dag(monkeypatch, schedule="@hourly")
    assert dag["schedule"] == "@hourly"


def test_a_schedule_that_is_not_cron_keeps_the_default(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        _, dag, _ = load_dag(monkeypatch, schedule="every 5 minutes")
    assert dag["schedule"] == "*/5 * * * *"
    assert "is not a cron expression (a cron expression has 5 fields, this has 3)" in caplog.text


def test_airflow_before_2_4_gets_schedule_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    _, dag, _ = load_dag(monkeypatch, version="2.2.5+astro.1")
    assert dag["schedule_interval"] == "*/5 * * * *" and "schedule" not in dag


CRON_VALID = [
    "* * * * *",
    "*/5 * * * *",
    "0 0 1 1 0",
    "59 23 31 12 7",
    "0,15,30,45 8-18/2 * * 1-5",
    "5/10 * * * *",
    "0 12 * jan,Jul SUN",
    "0 0 * * sat-sun",
    "0 0 1-31/7 * *",
    "@daily",
]
CRON_INVALID = [
    ("", "5 fields, this has 0"),
    ("* * * *", "5 fields, this has 4"),
    ("* * * * * *", "5 fields, this has 6"),
    ("60 * * * *", "minute field '60': '60' is not a value from 0 to 59"),
    ("* 24 * * *", "hour field"),
    ("* * 0 * *", "day of month field '0'"),
    ("* * * 13 *", "month field"),
    ("* * * * 8", "day of week field"),
    ("*/0 * * * *", "step '0' is not a positive number"),
    ("*/x * * * *", "step 'x'"),
    ("5-1 * * * *", "range '5-1' runs backwards"),
    ("1,,2 * * * *", "an empty list item"),
    ("* * * foo *", "'foo' is not a value"),
    ("* * * * mon-", "'' is not a value"),
    ("@reboot", "5 fields"),
    ("-1 * * * *", "is not a value"),
]


@pytest.mark.parametrize("expression", CRON_VALID)
def test_cron_expressions(monkeypatch: pytest.MonkeyPatch, expression: str) -> None:
    module, _, _ = load_dag(monkeypatch)
    assert module.cron_problem(expression) is None


@pytest.mark.parametrize(("expression", "problem"), CRON_INVALID)
def test_not_cron_expressions(
    monkeypatch: pytest.MonkeyPatch, expression: str, problem: str
) -> None:
    module, _, _ = load_dag(monkeypatch)
    found = module.cron_problem(expression)
    assert found is not None and problem in found


# -- writing ------------------------------------------------------------------------------------


def test_write_context_writes_every_file_and_removes_what_a_build_no_longer_uses(
    release: Release, matrix: Matrix, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text(PEM)
    directory = tmp_path / "out" / "base-python-3.11"
    with_ca = render(release, matrix, ca_bundle=bundle)
    write_context(with_ca, directory)
    for name, data in with_ca.files.items():
        assert (directory / name).read_bytes() == data
    assert (directory / "builder" / "ca-bundle.crt").is_file()
    write_context(render(release, matrix), directory)
    assert not (directory / "builder" / "ca-bundle.crt").exists()
    assert not list(directory.rglob(".*.tmp"))


def test_write_context_refuses_a_directory_it_did_not_write(
    release: Release, matrix: Matrix, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not an astroctl build context"):
        write_context(render(release, matrix), tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


# -- the wheel ships the templates --------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
            *("--no-build-isolation", "--wheel-dir", str(out), str(REPO)),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    (built,) = out.glob("astroctl-*.whl")
    return built


def test_the_wheel_ships_the_templates_and_renders_from_them(wheel: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for template in sorted(TEMPLATES.iterdir()):
            if template.is_file():
                name = f"astroctl/images/templates/{template.name}"
                assert name in names
                assert archive.read(name) == template.read_bytes()
        archive.extractall(tmp_path / "site")
    script = (
        "import hashlib\n"
        "from astroctl.images.context import render_context\n"
        "from astroctl.images.tags import Variant\n"
        "from astroctl.matrix import store, selectors\n"
        "m = store.load(store.embedded_path())\n"
        "r = selectors.select(m, '9.2.0').release\n"
        "t = 'apache-airflow==2.7.2\\n'\n"
        "c = render_context(r, variant=Variant.BASE, python='3.11', base_image=None,"
        " constraints_text=t, constraints_sha256=hashlib.sha256(t.encode()).hexdigest(),"
        " repository='r', revision=None, source_date_epoch=0, env=m.env)\n"
        "import sys; sys.stdout.write(c.dockerfile.splitlines()[0])\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "site")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == "# Astro Runtime 9.2.0 (base, Python 3.11)"
