"""The build plan: the exact argv of every docker command, refusals before anything runs, the CI
matrix, the JSON of --dry-run, the bake file, and running a plan over a recording runner."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from astroctl.errors import InputError
from astroctl.images.plan import (
    Builder,
    BuildOptions,
    BuildPlan,
    Phase,
    Provenance,
    bake_file,
    plan_build,
    run_plan,
    write_bake_file,
)
from astroctl.images.tags import Variant
from astroctl.matrix import selectors, store
from astroctl.matrix.model import Matrix, Release
from astroctl.seams.docker import Docker, DockerFailed
from astroctl.seams.process import ProcessResult
from tests import factories
from tests.helpers import SNAPSHOT, RecordingRunner

REPO = "quay.io/astronomer/astro-runtime"
WORK = Path("/work/build")


def failing_build(fail: Callable[[tuple[str, ...]], bool]) -> RecordingRunner:
    """A recording runner whose builds for which ``fail`` holds fail as the classic builder does."""

    def answer(argv: tuple[str, ...]) -> ProcessResult:
        if fail(argv):
            output = (
                "Step 4/9 : RUN false\nThe command '/bin/sh -c false' returned a non-zero code: 1"
            )
            return ProcessResult(argv, 1, "", output)
        return ProcessResult(argv, 0, "", "")

    return RecordingRunner(answer)


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return store.load(SNAPSHOT)


def release_of(matrix: Matrix, selector: str) -> Release:
    return selectors.select(matrix, selector).release


def constraints(release: Release) -> dict[str, str]:
    return {python: f"apache-airflow=={release.airflow}\n" for python in release.python_versions}


@pytest.fixture
def runner() -> RecordingRunner:
    return RecordingRunner()


def plan(
    matrix: Matrix,
    selector: str,
    runner: RecordingRunner | None = None,
    workdir: Path = WORK,
    **options: Any,
) -> BuildPlan:
    release = release_of(matrix, selector)
    return plan_build(
        matrix,
        release,
        BuildOptions(**options),
        docker=Docker(runner or RecordingRunner(), stream=False),
        constraints=constraints(release),
        workdir=workdir,
        provenance=Provenance(revision="0123abc"),
    )


# -- the classic path ---------------------------------------------------------------------------


def build(ctx: str, tag: str, platform: str, arg: str) -> list[str]:
    return [
        "docker", "build", "--force-rm", "--tag", tag, "--build-arg", arg,
        "--platform", platform, "--network", "host", str(WORK / ctx),
    ]  # fmt: skip


def test_a_multi_arch_release_built_and_pushed_the_classic_way(matrix: Matrix) -> None:
    built = plan(matrix, "9.2.0", pythons=("3.11",), push=True)
    base, onbuild = f"{REPO}:9.2.0-base", f"{REPO}:9.2.0"
    python = "PYTHON_IMAGE=python:3.11-slim-bullseye"
    assert [list(argv) for argv in built.commands] == [
        build("base-python-3.11", f"{base}-amd64", "linux/amd64", python),
        build("base-python-3.11", f"{base}-arm64", "linux/arm64", python),
        build("onbuild-python-3.11", f"{onbuild}-amd64", "linux/amd64", f"BASE_IMAGE={base}-amd64"),
        build("onbuild-python-3.11", f"{onbuild}-arm64", "linux/arm64", f"BASE_IMAGE={base}-arm64"),
        ["docker", "push", f"{base}-amd64"],
        ["docker", "push", f"{base}-arm64"],
        ["docker", "push", f"{onbuild}-amd64"],
        ["docker", "push", f"{onbuild}-arm64"],
        ["docker", "manifest", "create", "--amend", base, f"{base}-amd64", f"{base}-arm64"],
        ["docker", "manifest", "push", "--purge", base],
        ["docker", "manifest", "create", "--amend", f"{REPO}:9.2.0-python-3.11-base",
         f"{base}-amd64", f"{base}-arm64"],
        ["docker", "manifest", "push", "--purge", f"{REPO}:9.2.0-python-3.11-base"],
        ["docker", "manifest", "create", "--amend", onbuild, f"{onbuild}-amd64",
         f"{onbuild}-arm64"],
        ["docker", "manifest", "push", "--purge", onbuild],
        ["docker", "manifest", "create", "--amend", f"{REPO}:9.2.0-python-3.11",
         f"{onbuild}-amd64", f"{onbuild}-arm64"],
        ["docker", "manifest", "push", "--purge", f"{REPO}:9.2.0-python-3.11"],
    ]  # fmt: skip
    assert [step.phase for step in built.steps] == [Phase.BUILD] * 4 + [Phase.PUSH] * 4 + [
        Phase.MANIFEST
    ] * 8
    assert {step.invocation.env["DOCKER_BUILDKIT"] for step in built.steps[:4]} == {"0"}
    assert built.notes == ()


def test_a_base_image_per_architecture_with_arch(matrix: Matrix) -> None:
    """``{arch}`` in --base-image: a local engine holds one Python image per architecture (one
    reference cannot name both without a registry), so each base build gets its own, as its
    build argument and base.name label; the context is rendered for the first architecture."""
    built = plan(matrix, "9.2.0", pythons=("3.11",), base_image="local/py:{python}-{arch}")
    context = built.contexts["base-python-3.11"]
    assert context.build_args == {"PYTHON_IMAGE": "local/py:3.11-amd64"}
    assert context.labels["org.opencontainers.image.base.name"] == "local/py:3.11-amd64"
    label = "org.opencontainers.image.base.name=local/py:3.11-arm64"
    assert [list(argv) for argv in built.commands[:2]] == [
        build("base-python-3.11", f"{REPO}:9.2.0-base-amd64", "linux/amd64",
              "PYTHON_IMAGE=local/py:3.11-amd64"),
        ["docker", "build", "--force-rm", "--tag", f"{REPO}:9.2.0-base-arm64", "--build-arg",
         "PYTHON_IMAGE=local/py:3.11-arm64", "--label", label, "--platform", "linux/arm64",
         "--network", "host", str(WORK / "base-python-3.11")],
    ]  # fmt: skip
    # onbuild images are FROM their own architecture's base, as always
    assert "BASE_IMAGE=" + f"{REPO}:9.2.0-base-arm64" in built.commands[3]
    # one architecture: its image everywhere, no override
    arm = plan(matrix, "9.2.0", pythons=("3.11",), architectures=("arm64",),
               base_image="local/py:{python}-{arch}")  # fmt: skip
    assert arm.contexts["base-python-3.11"].build_args == {"PYTHON_IMAGE": "local/py:3.11-arm64"}
    assert "--label" not in arm.commands[0]
    # bake: a target per platform, each with its own image
    baked = bake_file(
        plan(matrix, "9.2.0", pythons=("3.11",), builder=Builder.BUILDX,
             base_image="local/py:{python}-{arch}")
    )  # fmt: skip
    check_bake_shape(baked)
    target = baked["target"]["runtime-9-2-0-base-python-3-11-arm64"]
    assert target["platforms"] == ["linux/arm64"]
    assert target["args"] == {"PYTHON_IMAGE": "local/py:3.11-arm64"}
    assert target["labels"]["org.opencontainers.image.base.name"] == "local/py:3.11-arm64"
    amd = baked["target"]["runtime-9-2-0-base-python-3-11-amd64"]
    assert amd["args"] == {"PYTHON_IMAGE": "local/py:3.11-amd64"}


def test_every_python_base_first_then_onbuild(matrix: Matrix) -> None:
    built = plan(matrix, "9.2.0")
    assert [entry.id for entry in built.entries] == [
        f"9.2.0{python}{variant}-{arch}"
        for python in ("", "-python-3.8", "-python-3.9", "-python-3.10")
        for variant in ("-base", "")
        for arch in ("amd64", "arm64")
    ]
    assert all(step.phase is Phase.BUILD for step in built.steps)
    assert sorted(built.contexts) == sorted(
        f"{variant}-python-{python}"
        for variant in ("base", "onbuild")
        for python in ("3.8", "3.9", "3.10", "3.11")
    )
    onbuild = built.entry("9.2.0-python-3.9-arm64")
    assert onbuild.needs == ("9.2.0-python-3.9-base-arm64",)
    assert f"BASE_IMAGE={REPO}:9.2.0-python-3.9-base-arm64" in onbuild.build.argv


def test_buildkit_on_the_classic_path(matrix: Matrix) -> None:
    built = plan(matrix, "9.2.0", pythons=("3.11",), buildkit=True)
    assert {step.invocation.env["DOCKER_BUILDKIT"] for step in built.steps} == {"1"}


def test_an_architecture_the_release_lacks_is_refused_before_anything_runs(
    matrix: Matrix, runner: RecordingRunner
) -> None:
    with pytest.raises(InputError) as caught:
        plan(matrix, "6.0.3", runner, architectures=("arm64",))
    assert caught.value.exit_code == 2
    assert str(caught.value) == (
        "Astro Runtime 6.0.3 is built for amd64 only; --arch arm64 is not one of its architectures"
    )
    with pytest.raises(InputError, match="'x86' is not an architecture"):
        plan(matrix, "9.2.0", runner, architectures=("x86",))
    with pytest.raises(InputError, match=r"no Python 3\.12 distribution \(it has 3\.8, 3\.9"):
        plan(matrix, "9.2.0", runner, pythons=("3.12",))
    assert runner.calls == []


def test_a_missing_constraint_set_is_named(matrix: Matrix) -> None:
    release = release_of(matrix, "9.2.0")
    with pytest.raises(InputError, match=r"no constraint set for Python 3\.8 .* --python 3\.8"):
        plan_build(
            matrix,
            release,
            BuildOptions(),
            docker=Docker(RecordingRunner()),
            constraints={"3.11": "apache-airflow==2.7.2\n"},
            workdir=WORK,
        )


def test_one_architecture_of_a_multi_arch_release_pushes_no_manifest_list(
    matrix: Matrix,
) -> None:
    built = plan(matrix, "9.2.0", pythons=("3.11",), architectures=("arm64",), push=True)
    assert [argv[1] for argv in built.commands] == ["build", "build", "push", "push"]
    assert built.commands[-1] == ("docker", "push", f"{REPO}:9.2.0-arm64")
    assert built.notes and "manifest lists are not made" in built.notes[0]


def test_a_single_architecture_release_is_built_under_its_tags(matrix: Matrix) -> None:
    built = plan(matrix, "6.0.3", push=True)
    assert [list(argv) for argv in built.commands] == [
        build("base-python-3.9", f"{REPO}:6.0.3-base", "linux/amd64",
              "PYTHON_IMAGE=python:3.9-slim-bullseye"),
        build("onbuild-python-3.9", f"{REPO}:6.0.3", "linux/amd64",
              f"BASE_IMAGE={REPO}:6.0.3-base"),
        ["docker", "push", f"{REPO}:6.0.3-base"],
        ["docker", "push", f"{REPO}:6.0.3"],
    ]  # fmt: skip


def test_floating_tags_are_manifest_lists_too(matrix: Matrix) -> None:
    built = plan(
        matrix, "9", pythons=("3.11",), variants=(Variant.ONBUILD,), push=True, floating=True
    )
    lists = [argv[4] for argv in built.commands if argv[1:3] == ("manifest", "create")]
    tags = ("9.17.0", "9.17.0-python-3.11", "9.17", "9.17-python-3.11", "9", "9-python-3.11")
    assert lists == [f"{REPO}:{tag}" for tag in tags]


def test_onbuild_alone_still_builds_its_base_but_does_not_push_it(matrix: Matrix) -> None:
    built = plan(matrix, "9.2.0", pythons=("3.11",), variants=(Variant.ONBUILD,), push=True)
    assert [(e.id, e.dependency) for e in built.entries] == [
        ("9.2.0-base-amd64", True),
        ("9.2.0-base-arm64", True),
        ("9.2.0-amd64", False),
        ("9.2.0-arm64", False),
    ]
    pushed = [argv[2] for argv in built.commands if argv[1] == "push"]
    assert pushed == [f"{REPO}:9.2.0-amd64", f"{REPO}:9.2.0-arm64"]
    assert built.variants == (Variant.ONBUILD,)


def test_a_loopback_registry_gets_insecure_manifest_commands(matrix: Matrix) -> None:
    built = plan(matrix, "9.2.0", pythons=("3.11",), push=True, repository="127.0.0.1:5000/astro")
    manifests = [argv for argv in built.commands if argv[1] == "manifest"]
    assert manifests and all("--insecure" in argv for argv in manifests)
    public = plan(matrix, "9.2.0", pythons=("3.11",), push=True)
    assert not any("--insecure" in argv for argv in public.commands)
    forced = plan(matrix, "9.2.0", pythons=("3.11",), push=True, insecure=True)
    assert any("--insecure" in argv for argv in forced.commands)


def test_a_bad_registry_is_refused(matrix: Matrix) -> None:
    with pytest.raises(InputError, match="not an image repository"):
        plan(matrix, "9.2.0", repository="Quay.io/Astro")


# -- --only and the CI matrix ---------------------------------------------------------------------


def test_the_ci_matrix_has_one_entry_per_image_and_platform(matrix: Matrix) -> None:
    built = plan(matrix, "9.2.0", push=True)
    entries = built.ci_matrix()
    assert len(entries) == 4 * 2 * 2
    first = entries[0]
    assert set(first) >= {"id", "variant", "python", "platform", "tags", "argv"}
    assert first["id"] == "9.2.0-base-amd64"
    assert (first["variant"], first["python"], first["platform"]) == ("base", "3.11", "linux/amd64")
    assert first["tags"] == [f"{REPO}:9.2.0-base", f"{REPO}:9.2.0-python-3.11-base"]
    assert first["argv"] == list(built.steps[0].invocation.argv)
    assert first["push"] == [["docker", "push", f"{REPO}:9.2.0-base-amd64"]]
    assert entries[2]["needs"] == ["9.2.0-base-amd64"]
    json.dumps(entries)


def test_only_builds_one_entry(matrix: Matrix) -> None:
    built = plan(matrix, "9.2.0", only="9.2.0-python-3.9-arm64", push=True)
    assert [entry.id for entry in built.entries] == ["9.2.0-python-3.9-arm64"]
    assert [argv[1] for argv in built.commands] == ["build", "push"]
    assert built.commands[0][-1] == str(WORK / "onbuild-python-3.9")
    assert list(built.contexts) == ["onbuild-python-3.9"]
    assert (built.pythons, built.architectures) == (("3.9",), ("arm64",))
    with pytest.raises(
        InputError, match=r"--only '9\.2\.0-x' is not an entry .* 9\.2\.0-base-amd64, "
    ):
        plan(matrix, "9.2.0", only="9.2.0-x")
    with pytest.raises(InputError, match="not an entry"):
        plan(matrix, "9.2.0", only="9.2.0-arm64", architectures=("amd64",))


def test_to_json_shows_every_argv(matrix: Matrix) -> None:
    built = plan(matrix, "9.2.0", pythons=("3.11",), push=True)
    shown = json.loads(json.dumps(built.to_json()))
    assert shown["release"] == "9.2.0" and shown["builder"] == "classic"
    assert shown["platforms"] == ["linux/amd64", "linux/arm64"]
    assert [step["argv"] for step in shown["steps"]] == [list(argv) for argv in built.commands]
    assert shown["steps"][0]["env"] == {"DOCKER_BUILDKIT": "0"}
    assert shown["steps"][0]["entry"] == "9.2.0-base-amd64"
    context = shown["contexts"]["base-python-3.11"]
    assert context["path"] == str(WORK / "base-python-3.11")
    assert "builder/pip.conf" in context["files"]  # astronomer-providers-logging's index
    assert context["labels"]["org.opencontainers.image.revision"] == "0123abc"
    assert context["labels"]["org.opencontainers.image.created"] == "2023-10-12T00:00:00Z"
    assert [image["tags"] for image in shown["images"]] == [
        ["9.2.0", "9.2.0-python-3.11"],
        ["9.2.0-base", "9.2.0-python-3.11-base"],
    ]
    assert shown["matrix"] == built.ci_matrix()


def test_the_created_label_honours_source_date_epoch_else_the_release_date(
    matrix: Matrix,
) -> None:
    release = release_of(matrix, "9.2.0")

    def created(provenance: Provenance, subject: Release = release) -> str:
        built = plan_build(
            matrix,
            subject,
            BuildOptions(pythons=("3.11",)),
            docker=Docker(RecordingRunner()),
            constraints=constraints(subject),
            workdir=WORK,
            provenance=provenance,
            now=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        )
        return built.contexts["base-python-3.11"].labels["org.opencontainers.image.created"]

    assert created(Provenance(source_date_epoch=0)) == "1970-01-01T00:00:00Z"
    assert created(Provenance()) == "2023-10-12T00:00:00Z"
    unreleased = factories.build(factories.document(factories.release("9.3.0", "2.7.3"))).releases[
        0
    ]
    assert created(Provenance(), unreleased) == "2030-01-02T03:04:05Z"


def test_the_private_index_of_a_package_reaches_pip(matrix: Matrix) -> None:
    built = plan(matrix, "9.2.0", pythons=("3.11",))
    config = built.contexts["base-python-3.11"].files["builder/pip.conf"].decode()
    assert "https://pip.astronomer.io/v2/" in config


# -- buildx and the bake file ---------------------------------------------------------------------

TARGET_KEYS = {  # docker buildx bake's JSON/HCL target attributes (docs: "Bake file reference")
    "args", "annotations", "attest", "cache-from", "cache-to", "call", "context", "contexts",
    "description", "dockerfile", "dockerfile-inline", "entitlements", "inherits", "labels",
    "matrix", "name", "network", "no-cache", "no-cache-filter", "output", "platforms", "pull",
    "secret", "shm-size", "ssh", "tags", "target", "ulimits",
}  # fmt: skip
NAME = r"[A-Za-z0-9_-]+"


def check_bake_shape(bake: Mapping[str, Any]) -> None:
    """The documented JSON form: ``group`` (name -> {"targets": [...]}) and ``target``
    (name -> attributes), names [A-Za-z0-9_-]; every grouped or referenced target defined."""
    import re

    assert set(bake) <= {"group", "target", "variable", "function"}
    targets = bake["target"]
    for name, group in bake["group"].items():
        assert re.fullmatch(NAME, name)
        assert set(group) <= {"targets", "description"}
        for member in group["targets"]:
            assert member in targets or member in bake["group"]
    for name, target in targets.items():
        assert re.fullmatch(NAME, name)
        assert set(target) <= TARGET_KEYS, set(target) - TARGET_KEYS
        assert isinstance(target["context"], str) and isinstance(target["dockerfile"], str)
        for key in ("args", "labels", "contexts"):
            value = target.get(key, {})
            assert isinstance(value, dict)
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        for key in ("tags", "platforms"):
            assert isinstance(target[key], list) and all(isinstance(v, str) for v in target[key])
        for source in target.get("contexts", {}).values():
            if source.startswith("target:"):
                assert source.removeprefix("target:") in targets


def test_the_bake_file_of_a_whole_release(matrix: Matrix) -> None:
    built = plan(matrix, "9.2.0", pythons=("3.11", "3.8"), builder=Builder.BUILDX)
    bake = bake_file(built)
    check_bake_shape(bake)
    assert bake["group"] == {
        "default": {"targets": ["runtime-9-2-0"]},
        "runtime-9-2-0": {
            "targets": [
                "runtime-9-2-0-base-python-3-11",
                "runtime-9-2-0-onbuild-python-3-11",
                "runtime-9-2-0-base-python-3-8",
                "runtime-9-2-0-onbuild-python-3-8",
            ]
        },
    }
    base = bake["target"]["runtime-9-2-0-base-python-3-11"]
    assert base["context"] == str(WORK / "base-python-3.11")
    assert base["platforms"] == ["linux/amd64", "linux/arm64"]
    assert base["tags"] == [f"{REPO}:9.2.0-base", f"{REPO}:9.2.0-python-3.11-base"]
    assert base["args"] == {"PYTHON_IMAGE": "python:3.11-slim-bullseye"}
    assert base["labels"]["io.astronomer.docker.variant"] == "base"
    assert base["network"] == "host"
    onbuild = bake["target"]["runtime-9-2-0-onbuild-python-3-8"]
    assert onbuild["contexts"] == {"base": "target:runtime-9-2-0-base-python-3-8"}
    assert onbuild["args"] == {"BASE_IMAGE": "base"}
    assert onbuild["tags"] == [f"{REPO}:9.2.0-python-3.8"]
    assert built.bake == bake


def test_buildx_builds_everything_then_pushes(matrix: Matrix) -> None:
    built = plan(matrix, "9.2.0", pythons=("3.11",), builder=Builder.BUILDX, push=True)
    bake = str(WORK / "docker-bake.json")
    allow = ["--allow", f"fs.read={WORK}", "--allow", "network.host"]
    assert [list(argv) for argv in built.commands] == [
        ["docker", "buildx", "bake", "--file", bake, "--progress", "plain", *allow,
         "runtime-9-2-0"],
        ["docker", "buildx", "bake", "--file", bake, "--progress", "plain", *allow, "--push",
         "runtime-9-2-0"],
    ]  # fmt: skip
    loaded = plan(matrix, "9.2.0", pythons=("3.11",), builder=Builder.BUILDX)
    assert "--load" not in loaded.commands[0]
    assert loaded.notes and "BuildKit's cache" in loaded.notes[0]


def test_buildx_with_one_architecture_loads_per_platform_targets(matrix: Matrix) -> None:
    built = plan(
        matrix,
        "9.2.0",
        pythons=("3.11",),
        variants=(Variant.ONBUILD,),
        architectures=("arm64",),
        builder=Builder.BUILDX,
    )
    assert "--load" in built.commands[0]
    assert built.bake is not None
    bake = bake_file(built)
    check_bake_shape(bake)
    assert bake["group"]["runtime-9-2-0"] == {
        "targets": ["runtime-9-2-0-onbuild-python-3-11-arm64"]
    }
    onbuild = bake["target"]["runtime-9-2-0-onbuild-python-3-11-arm64"]
    assert onbuild["tags"] == [f"{REPO}:9.2.0-arm64"]
    assert onbuild["platforms"] == ["linux/arm64"]
    assert onbuild["contexts"] == {"base": "target:runtime-9-2-0-base-python-3-11-arm64"}
    assert "runtime-9-2-0-base-python-3-11-arm64" in bake["target"]  # built, outside the group


def test_buildx_ci_entries_build_one_platform(matrix: Matrix) -> None:
    built = plan(matrix, "9.2.0", pythons=("3.11",), builder=Builder.BUILDX)
    entry = built.ci_matrix()[1]
    assert entry["argv"][:3] == ["docker", "buildx", "build"]
    assert entry["argv"][entry["argv"].index("--platform") + 1] == "linux/arm64"
    assert "--load" in entry["argv"]
    only = plan(matrix, "9.2.0", builder=Builder.BUILDX, only="9.2.0-arm64", push=True)
    assert [argv[1:3] for argv in only.commands] == [
        ("buildx", "build"),
        ("push", f"{REPO}:9.2.0-arm64"),
    ]


# -- running ------------------------------------------------------------------------------------


def test_run_plan_writes_the_contexts_and_runs_every_step_in_order(
    matrix: Matrix, tmp_path: Path
) -> None:
    runner = RecordingRunner()
    built = plan(matrix, "9.2.0", runner, workdir=tmp_path, pythons=("3.11",), push=True)
    seen: list[str] = []
    report = run_plan(built, Docker(runner, stream=False), progress=lambda s: seen.append(s.phase))
    assert runner.argvs == list(built.commands)
    assert [call[1].get("DOCKER_BUILDKIT") for call in runner.calls[:4]] == ["0"] * 4
    assert len(report.ran) == len(built.steps) == len(seen)
    dockerfile = (tmp_path / "onbuild-python-3.11" / "Dockerfile").read_text()
    assert dockerfile == built.contexts["onbuild-python-3.11"].dockerfile
    assert (tmp_path / "base-python-3.11" / "builder" / "install.sh").is_file()


def test_a_failed_build_pushes_nothing(matrix: Matrix, tmp_path: Path) -> None:
    runner = failing_build(lambda argv: f"{REPO}:9.2.0-arm64" in argv and "build" in argv)
    built = plan(matrix, "9.2.0", runner, workdir=tmp_path, pythons=("3.11",), push=True)
    with pytest.raises(DockerFailed) as caught:
        run_plan(built, Docker(runner, stream=False))
    assert str(caught.value).startswith(
        f"docker build of {REPO}:9.2.0-arm64 failed at Step 4/9 : RUN false (exit status 1)"
    )
    assert [argv[1] for argv in runner.argvs] == ["build"] * 4
    assert not any(argv[1] in ("push", "manifest") for argv in runner.argvs)


def test_run_plan_with_buildx_writes_the_bake_file(matrix: Matrix, tmp_path: Path) -> None:
    runner = RecordingRunner()
    built = plan(
        matrix, "9.2.0", runner, workdir=tmp_path, pythons=("3.11",), builder=Builder.BUILDX
    )
    run_plan(built, Docker(runner, stream=False))
    written = json.loads((tmp_path / "docker-bake.json").read_text())
    assert written == bake_file(built)
    check_bake_shape(written)
    assert runner.argvs == list(built.commands)


def test_write_bake_file(matrix: Matrix, tmp_path: Path) -> None:
    built = plan(matrix, "9.2.0", workdir=tmp_path, pythons=("3.11",))
    path = write_bake_file(bake_file(built), tmp_path / "out" / "bake.json")
    assert json.loads(path.read_text()) == bake_file(built)
    assert path.read_text().endswith("}\n")
