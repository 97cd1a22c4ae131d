"""The Docker seam against a recording fake docker binary (no engine needed).

The fake is a small executable in tmp_path: it appends its argv and the variables docker reads
(DOCKER_BUILDKIT, DOCKER_HOST) as a JSON line to a log, and prints canned output chosen by
rules (argv prefix -> stdout, stderr, exit status). One fake reports buildx, one does not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from astroctl.errors import InputError, OperationError
from astroctl.seams.docker import (
    Action,
    Docker,
    DockerFailed,
    check_platform,
    check_reference,
    failed_step,
    reference_problem,
)
from astroctl.seams.process import Runner
from tests.fake_docker import FakeDocker, make_fake


@pytest.fixture
def fake(tmp_path: Path) -> FakeDocker:
    return make_fake(tmp_path / "classic", buildx=False)


@pytest.fixture
def fake_buildx(tmp_path: Path) -> FakeDocker:
    return make_fake(tmp_path / "buildx", buildx=True)


@pytest.fixture
def lines() -> list[str]:
    return []


def docker_for(fake: FakeDocker, lines: list[str], **kwargs: Any) -> Docker:
    return Docker(Runner(echo=lines.append, timeout=30), fake.binary, **kwargs)


# -- the reference grammar ----------------------------------------------------------------------

VALID = [
    "python:3.11-slim-bullseye",
    "quay.io/astronomer/astro-runtime:9.2.0",
    "quay.io/astronomer/astro-runtime:9.2.0-python-3.11-base",
    "127.0.0.1:5000/astro-runtime:9.2.0-base-arm64",
    "localhost:5000/a/b/c",
    "localhost/astro",
    "[::1]:5000/astro:1",
    "Registry.Example.com/astro__runtime/x-y.z",
    "astro---runtime:_tag",
    f"repo@sha256:{'a' * 64}",
    f"quay.io/repo:tag@sha256:{'0' * 64}",
    "a" * 255,
]
INVALID = [
    ("", "empty"),
    (" python:3.11", "whitespace"),
    ("python:3.11\n", "whitespace"),
    ("Astro/Runtime:1", "lowercase"),  # a host, then an uppercase path
    ("astro/Runtime", "lowercase"),
    ("quay.io/astro-/runtime", "lowercase"),
    ("quay.io//runtime", "empty path component"),
    ("quay.io/runtime/", "empty path component"),
    ("repo:.tag", "not a valid tag"),
    ("repo:" + "t" * 129, "not a valid tag"),
    ("repo:tag:other", "lowercase"),
    ("repo@sha256:abc", "digest"),
    (f"repo@sha256:{'a' * 63}", "64 hex digits, not 63"),
    ("bad_host_:5000/x", "registry host"),
    ("exa mple.com/x", "whitespace"),
    ("-bad.example.com/x", "registry host"),
    ("a" * 256, "more than 255"),
    ("f" * 64, "image ID"),
    ("-repo", "lowercase"),
]


@pytest.mark.parametrize("reference", VALID)
def test_valid_references(reference: str) -> None:
    assert reference_problem(reference) is None
    assert check_reference(reference) == reference


@pytest.mark.parametrize(("reference", "reason"), INVALID)
def test_invalid_references_say_why(reference: str, reason: str) -> None:
    problem = reference_problem(reference)
    assert problem is not None and reason in problem
    with pytest.raises(InputError, match="is not valid") as caught:
        check_reference(reference, "--registry")
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith("--registry ")


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64", "linux/arm64/v8"])
def test_platforms(platform: str) -> None:
    assert check_platform(platform) == platform


@pytest.mark.parametrize("platform", ["amd64", "linux/AMD64", "linux/amd64,linux/arm64", ""])
def test_bad_platforms(platform: str) -> None:
    with pytest.raises(InputError, match="os/arch"):
        check_platform(platform)


def test_a_bad_reference_is_refused_before_anything_runs(
    fake: FakeDocker, lines: list[str]
) -> None:
    docker = docker_for(fake, lines)
    for call in (
        lambda: docker.run(docker.push_argv("Quay.io/astro/Runtime:1")),
        lambda: docker.run(docker.tag_argv("python:3.11", "bad ref")),
        lambda: docker.run(docker.manifest_create_argv("repo:1", ["repo:1-amd64", "repo:.x"])),
        lambda: docker.run(docker.manifest_push_argv("repo::1")),
        lambda: docker.run(docker.build_argv(Path("."), tags=["Repo:1"], platform="linux/amd64")),
        lambda: docker.run(docker.build_argv(Path("."), tags=["repo:1"], platform="arm64")),
        lambda: docker.inspect("repo:-1"),
    ):
        with pytest.raises(InputError):
            call()
    assert fake.calls() == []


# -- argv -----------------------------------------------------------------------------------------


def test_classic_build_argv_and_builder_variable(
    fake: FakeDocker, lines: list[str], tmp_path: Path
) -> None:
    docker = docker_for(fake, lines)
    docker.run(
        docker.build_argv(
            tmp_path / "ctx",
            tags=["127.0.0.1:5000/astro:9.2.0-base-arm64"],
            platform="linux/arm64",
            build_args={"PYTHON_IMAGE": "python:3.11-slim-bullseye", "A": "x y"},
            labels={"org.opencontainers.image.version": "9.2.0"},
            file=tmp_path / "ctx" / "Dockerfile",
        )
    )
    docker.run(
        docker.build_argv(
            tmp_path / "ctx", tags=["astro:1"], platform="linux/amd64", buildkit=True, network=None
        )
    )
    first, second = fake.calls()
    assert first["argv"] == [
        "build",
        "--force-rm",
        "--file",
        str(tmp_path / "ctx" / "Dockerfile"),
        "--tag",
        "127.0.0.1:5000/astro:9.2.0-base-arm64",
        "--build-arg",
        "A=x y",
        "--build-arg",
        "PYTHON_IMAGE=python:3.11-slim-bullseye",
        "--label",
        "org.opencontainers.image.version=9.2.0",
        "--platform",
        "linux/arm64",
        "--network",
        "host",
        str(tmp_path / "ctx"),
    ]
    assert first["env"]["DOCKER_BUILDKIT"] == "0"
    assert second["argv"] == [
        "build",
        "--force-rm",
        "--tag",
        "astro:1",
        "--platform",
        "linux/amd64",
        str(tmp_path / "ctx"),
    ]
    assert second["env"]["DOCKER_BUILDKIT"] == "1"
    assert lines[-1] == f"done: {' '.join(second['argv'])}"  # streamed through the echo


def test_a_build_may_carry_several_tags(fake: FakeDocker, lines: list[str]) -> None:
    invocation = docker_for(fake, lines).build_argv(
        "ctx", tags=["r:4.2.0", "r:4.2"], platform="linux/amd64"
    )
    assert invocation.action is Action.BUILD
    assert invocation.subject == "r:4.2.0"
    assert invocation.argv[1:7] == ("build", "--force-rm", "--tag", "r:4.2.0", "--tag", "r:4.2")


def test_buildx_build_loads_one_platform_or_pushes_several(
    fake_buildx: FakeDocker, lines: list[str]
) -> None:
    docker = docker_for(fake_buildx, lines)
    docker.run(
        docker.buildx_build_argv(
            "ctx", tags=["r:1-arm64"], platforms=["linux/arm64"], build_args={"B": "1"}
        )
    )
    docker.run(
        docker.buildx_build_argv(
            "ctx",
            tags=["r:1", "r:1-python-3.11"],
            platforms=["linux/amd64", "linux/arm64"],
            push=True,
        )
    )
    load, push = fake_buildx.argvs()
    assert load == [
        "buildx", "build", "--tag", "r:1-arm64", "--build-arg", "B=1", "--platform", "linux/arm64",
        "--network", "host", "--allow", "network.host", "--progress", "plain", "--load", "ctx",
    ]  # fmt: skip
    assert push[push.index("--platform") + 1] == "linux/amd64,linux/arm64"
    assert "--push" in push and "--load" not in push
    with pytest.raises(InputError, match="cannot load an image for several platforms"):
        docker.buildx_build_argv("ctx", tags=["r:1"], platforms=["linux/amd64", "linux/arm64"])


def test_bake_argv(fake_buildx: FakeDocker, lines: list[str], tmp_path: Path) -> None:
    docker = docker_for(fake_buildx, lines)
    docker.run(
        docker.bake_argv(
            tmp_path / "bake.json", ["runtime-9-2-0"], push=True, allow=["network.host"]
        )
    )
    assert fake_buildx.argvs() == [
        ["buildx", "bake", "--file", str(tmp_path / "bake.json"), "--progress", "plain",
         "--allow", "network.host", "--push", "runtime-9-2-0"],
    ]  # fmt: skip
    with pytest.raises(InputError, match="bake target"):
        docker.bake_argv("f.json", ["runtime-9.2.0"])
    with pytest.raises(InputError, match="pushes or loads"):
        docker.bake_argv("f.json", ["x"], push=True, load=True)


def test_push_tag_and_manifest_argv(fake: FakeDocker, lines: list[str]) -> None:
    docker = docker_for(fake, lines)
    docker.run(docker.push_argv("127.0.0.1:5000/astro:9.2.0-amd64"))
    docker.run(docker.tag_argv("astro:9.2.0-amd64", "astro:9.2.0"))
    refs = ["127.0.0.1:5000/astro:9.2.0-amd64", "127.0.0.1:5000/astro:9.2.0-arm64"]
    docker.run(docker.manifest_create_argv("127.0.0.1:5000/astro:9.2.0", refs, insecure=True))
    docker.run(docker.manifest_push_argv("127.0.0.1:5000/astro:9.2.0", insecure=True))
    docker.run(docker.manifest_create_argv("quay.io/astro:9.2.0", ["quay.io/astro:9.2.0-amd64"]))
    docker.run(docker.manifest_push_argv("quay.io/astro:9.2.0"))
    assert fake.argvs() == [
        ["push", "127.0.0.1:5000/astro:9.2.0-amd64"],
        ["tag", "astro:9.2.0-amd64", "astro:9.2.0"],
        ["manifest", "create", "--amend", "--insecure", "127.0.0.1:5000/astro:9.2.0", *refs],
        ["manifest", "push", "--purge", "--insecure", "127.0.0.1:5000/astro:9.2.0"],
        ["manifest", "create", "--amend", "quay.io/astro:9.2.0", "quay.io/astro:9.2.0-amd64"],
        ["manifest", "push", "--purge", "quay.io/astro:9.2.0"],
    ]
    with pytest.raises(InputError, match="no images to list"):
        docker.manifest_create_argv("quay.io/astro:1", [])


def test_the_seams_environment_reaches_every_command(fake: FakeDocker, lines: list[str]) -> None:
    docker = docker_for(fake, lines, env={"DOCKER_HOST": "unix:///tmp/test-engine.sock"})
    docker.run(docker.push_argv("astro:1"))
    docker.run(docker.build_argv(".", tags=["astro:1"], platform="linux/amd64"))
    assert docker.has_buildx() is False
    assert [call["env"]["DOCKER_HOST"] for call in fake.calls()] == [
        "unix:///tmp/test-engine.sock"
    ] * 3


def test_argv_of_another_binary_is_not_run(fake: FakeDocker, lines: list[str]) -> None:
    other = Docker(Runner(echo=lines.append), "/usr/bin/docker").push_argv("astro:1")
    with pytest.raises(ValueError, match="not this seam's docker"):
        docker_for(fake, lines).run(other)


# -- queries ------------------------------------------------------------------------------------


def test_buildx_is_found_or_not(
    fake: FakeDocker, fake_buildx: FakeDocker, lines: list[str]
) -> None:
    assert docker_for(fake_buildx, lines).has_buildx() is True
    assert docker_for(fake, lines).has_buildx() is False
    assert fake.argvs() == [["buildx", "version"]]


def test_version_without_an_engine(fake: FakeDocker, lines: list[str]) -> None:
    version = docker_for(fake, lines).version()
    assert (version.client, version.server, version.client_major) == ("28.2.2", None, 28)
    assert fake.argvs() == [["version", "--format", "{{json .}}"]]


def test_version_with_an_engine(fake: FakeDocker, lines: list[str]) -> None:
    answer = {"Client": {"Version": "20.10.24+dfsg1"}, "Server": {"Version": "20.10.24+dfsg1"}}
    fake.answer(["version"], stdout=json.dumps(answer))
    version = docker_for(fake, lines).version()
    assert (version.client, version.server, version.client_major) == (
        "20.10.24+dfsg1",
        "20.10.24+dfsg1",
        20,
    )


def test_version_that_is_not_json(fake: FakeDocker, lines: list[str]) -> None:
    fake.answer(["version"], stderr="permission denied while trying to connect\n", exit=1)
    with pytest.raises(OperationError, match="printed no JSON"):
        docker_for(fake, lines).version()


@pytest.mark.parametrize(
    ("buildx", "client", "expected"),
    [(True, "28.2.2", True), (False, "28.2.2", False), (False, "20.10.24+dfsg1", True)],
)
def test_buildkit_needs_buildx_from_client_23_on(
    tmp_path: Path, lines: list[str], buildx: bool, client: str, expected: bool
) -> None:
    fake = make_fake(tmp_path / "d", buildx=buildx, client=client)
    assert docker_for(fake, lines).supports_buildkit() is expected


def test_inspect(fake: FakeDocker, lines: list[str]) -> None:
    record = {"Id": "sha256:" + "1" * 64, "Architecture": "arm64", "Config": {"Labels": {}}}
    fake.answer(["image", "inspect", "astro:1"], stdout=json.dumps([record]))
    fake.answer(["image", "inspect"], stderr="Error: No such image: astro:2\n", exit=1)
    docker = docker_for(fake, lines)
    found = docker.inspect("astro:1")
    assert found is not None and found["Architecture"] == "arm64"
    assert docker.inspect("astro:2") is None


def test_inspect_failure_that_is_not_a_missing_image(fake: FakeDocker, lines: list[str]) -> None:
    fake.answer(["image", "inspect"], stderr="Cannot connect to the Docker daemon\n", exit=1)
    with pytest.raises(OperationError, match="Cannot connect to the Docker daemon"):
        docker_for(fake, lines).inspect("astro:1")


# -- dry run ------------------------------------------------------------------------------------


def test_dry_run_records_the_argv_and_runs_only_queries(fake: FakeDocker) -> None:
    runner = Runner(dry_run=True)
    docker = Docker(runner, fake.binary, stream=False)
    docker.run(docker.build_argv("ctx", tags=["astro:1-amd64"], platform="linux/amd64"))
    docker.run(docker.push_argv("astro:1-amd64"))
    docker.run(docker.manifest_create_argv("astro:1", ["astro:1-amd64"]))
    assert docker.has_buildx() is False  # read-only: it ran
    assert fake.argvs() == [["buildx", "version"]]
    assert [argv[1:] for argv in runner.recorded] == [
        (
            "build",
            "--force-rm",
            "--tag",
            "astro:1-amd64",
            "--platform",
            "linux/amd64",
            "--network",
            "host",
            "ctx",
        ),
        ("push", "astro:1-amd64"),
        ("manifest", "create", "--amend", "astro:1", "astro:1-amd64"),
        ("buildx", "version"),
    ]


# -- failures -----------------------------------------------------------------------------------

CLASSIC_FAILURE = """\
Sending build context to Docker daemon  12.29kB
Step 1/9 : ARG PYTHON_IMAGE=python:3.11-slim-bullseye
Step 2/9 : FROM ${PYTHON_IMAGE} AS builder
 ---> 0b6dcc8e1d0a
Step 3/9 : COPY builder/ /tmp/astro-build/
 ---> Using cache
 ---> 5a1bd0b0b5e4
Step 4/9 : RUN ["/bin/sh", "/tmp/astro-build/install.sh", "/opt/astronomer/venv", "/tmp/astro-build"]
 ---> Running in 3f2ad3f0c0aa
ERROR: Could not find a version that satisfies the requirement apache-airflow==9.9.9
ERROR: No matching distribution found for apache-airflow==9.9.9
The command '/bin/sh /tmp/astro-build/install.sh /opt/astronomer/venv /tmp/astro-build' returned a non-zero code: 1
"""  # noqa: E501

BUILDKIT_FAILURE = """\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#6 [builder 1/3] FROM docker.io/library/python:3.11-slim-bullseye
#6 DONE 0.1s
#7 [builder 2/3] COPY builder/ /tmp/astro-build/
#7 DONE 0.1s
#8 [builder 3/3] RUN ["/bin/sh", "/tmp/astro-build/install.sh", "/opt/astronomer/venv", "/tmp/astro-build"]
#8 1.203 ERROR: No matching distribution found for apache-airflow==9.9.9
#8 ERROR: process "/bin/sh /tmp/astro-build/install.sh /opt/astronomer/venv /tmp/astro-build" did not complete successfully: exit code: 1
------
 > [builder 3/3] RUN ["/bin/sh", "/tmp/astro-build/install.sh", "/opt/astronomer/venv", "/tmp/astro-build"]:
1.203 ERROR: No matching distribution found for apache-airflow==9.9.9
------
ERROR: failed to solve: process "/bin/sh /tmp/astro-build/install.sh" did not complete successfully: exit code: 1
"""  # noqa: E501


def test_a_failed_classic_build_names_the_image_the_step_and_the_output(
    fake: FakeDocker, lines: list[str]
) -> None:
    fake.answer(["build"], stdout=CLASSIC_FAILURE, exit=1)
    docker = docker_for(fake, lines)
    with pytest.raises(DockerFailed) as caught:
        docker.run(
            docker.build_argv("ctx", tags=["astro:9.2.0-base-arm64"], platform="linux/arm64")
        )
    message = str(caught.value)
    assert message.startswith(
        'docker build of astro:9.2.0-base-arm64 failed at Step 4/9 : RUN ["/bin/sh", '
        '"/tmp/astro-build/install.sh"'
    )
    assert "(exit status 1)" in message
    assert "No matching distribution found for apache-airflow==9.9.9" in message
    assert caught.value.exit_code == 1
    assert caught.value.step is not None and caught.value.step.startswith("Step 4/9")
    assert lines[-1].startswith("The command")  # the output was streamed as it came


def test_a_streamed_build_names_its_step_after_a_long_failure(
    fake: FakeDocker, lines: list[str]
) -> None:
    """Found on the real engine: pip's traceback pushed the step out of the streamed tail (the
    last 20 lines), and the error said no step; the seam now reads every line as it streams."""
    head, _, command = CLASSIC_FAILURE.rpartition("The command")
    traceback = "".join(f'  File "pip/_internal/x.py", line {n}, in f\n' for n in range(60))
    fake.answer(["build"], stdout=f"{head}{traceback}The command{command}", exit=1)
    docker = docker_for(fake, lines)
    with pytest.raises(DockerFailed) as caught:
        docker.run(
            docker.build_argv("ctx", tags=["astro:9.2.0-base-arm64"], platform="linux/arm64")
        )
    assert caught.value.step is not None and caught.value.step.startswith("Step 4/9 : RUN")
    assert "failed at Step 4/9 : RUN" in str(caught.value)
    assert len(caught.value.tail) <= 20 and "Step 4/9" not in "\n".join(caught.value.tail)


def test_a_failed_buildkit_build_names_its_step(fake: FakeDocker, lines: list[str]) -> None:
    fake.answer(["build"], stdout=BUILDKIT_FAILURE, exit=1)
    docker = docker_for(fake, lines, stream=False)
    with pytest.raises(DockerFailed) as caught:
        docker.run(
            docker.build_argv(
                "ctx", tags=["astro:9.2.0-base-amd64"], platform="linux/amd64", buildkit=True
            )
        )
    assert caught.value.step == (
        '[builder 3/3] RUN ["/bin/sh", "/tmp/astro-build/install.sh", "/opt/astronomer/venv", '
        '"/tmp/astro-build"]'
    )
    assert "failed to solve" in str(caught.value)


def test_a_failed_push_names_the_image(fake: FakeDocker, lines: list[str]) -> None:
    fake.answer(["push"], stderr="denied: requested access to the resource is denied\n", exit=1)
    docker = docker_for(fake, lines)
    with pytest.raises(DockerFailed) as caught:
        docker.run(docker.push_argv("quay.io/astronomer/astro-runtime:9.2.0-amd64"))
    assert str(caught.value) == (
        "docker push of quay.io/astronomer/astro-runtime:9.2.0-amd64 failed (exit status 1)\n"
        "last lines of docker's output:\n"
        "  denied: requested access to the resource is denied"
    )


def test_a_missing_docker(tmp_path: Path, lines: list[str]) -> None:
    docker = Docker(Runner(echo=lines.append), tmp_path / "no-docker")
    with pytest.raises(OperationError, match="command not found"):
        docker.run(docker.push_argv("astro:1"))


@pytest.mark.parametrize(
    ("output", "step"),
    [
        (CLASSIC_FAILURE, 'Step 4/9 : RUN ["/bin/sh",'),
        (BUILDKIT_FAILURE, '[builder 3/3] RUN ["/bin/sh",'),
        # the tail of a long classic build: the Step line scrolled away, the command did not
        (
            "x\nThe command '/bin/sh -c pip install x' returned a non-zero code: 2\n",
            "RUN pip install x",
        ),
        (
            " > [stage-1 2/5] COPY missing.txt /x:\n------\nERROR: failed to solve: lstat x\n",
            "[stage-1 2/5] COPY missing.txt /x",
        ),
        (
            'ERROR: failed to solve: process "/bin/sh -c false" did not complete successfully',
            "RUN false",
        ),
        ("Step 2/2 : COPY missing /x\nCOPY failed: file not found in build context\n", "Step 2/2"),
        ("unauthorized: authentication required\n", None),
    ],
)
def test_failed_step(output: str, step: str | None) -> None:
    found = failed_step(output.splitlines())
    if step is None:
        assert found is None
    else:
        assert found is not None and found.startswith(step)
