"""``astroctl build`` through the real entry point, against a recording fake docker binary.

The fake (``tests/fake_docker.py``) logs every argv it receives; a real run is compared with
the plan ``--dry-run --format json`` shows for the same options. Build contexts go under a
cache directory in tmp_path. The engine tests (a real docker) live with the seam and the plan.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.fake_docker import FakeDocker, make_fake
from tests.helpers import SNAPSHOT, Invoke, git, init_repository

YANKED = "astroctl: warning: 9.2.0 is yanked: serious scheduler performance problems\n"
REGISTRY = "127.0.0.1:5000/astro-runtime"
CONSTRAINTS_LABEL = "io.astronomer.docker.constraints.sha256"


@pytest.fixture(autouse=True)
def _cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The default build directory is under astroctl's cache: keep it in tmp_path."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("ASTROCTL_CACHE_DIR", str(cache))
    monkeypatch.delenv("ASTROCTL_DOCKER", raising=False)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    return cache


@pytest.fixture
def fake(tmp_path: Path) -> FakeDocker:
    return make_fake(tmp_path / "classic", buildx=False)


def dry_run(invoke: Invoke, fake: FakeDocker, *args: str) -> dict[str, Any]:
    result = invoke(
        "build", *args, "--dry-run", "-f", "json", "--docker", fake.binary, matrix=SNAPSHOT
    )
    assert result.exit_code == 0, result.stderr
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


# -- --dry-run ----------------------------------------------------------------------------------


def test_dry_run_json_has_the_plan_every_argv_and_the_ci_matrix(
    invoke: Invoke, fake: FakeDocker
) -> None:
    result = invoke(
        "build", "9.2.0", "--dry-run", "--format", "json", "--docker", fake.binary,
        matrix=SNAPSHOT,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(YANKED)
    assert "the constraint set was not resolved" in result.stderr
    assert "constraints resolve 9.2.0" in result.stderr
    payload = json.loads(result.stdout)
    assert payload["dry_run"] is True
    assert payload["release"] == "9.2.0"
    assert payload["builder"] == "classic"  # the fake has no buildx
    assert payload["platforms"] == ["linux/amd64", "linux/arm64"]
    assert payload["pythons"] == ["3.11", "3.8", "3.9", "3.10"]
    # every command: an argv list, the same as the steps', in order; nothing ran
    commands = payload["commands"]
    assert commands == [step["argv"] for step in payload["steps"]]
    assert all(isinstance(argv, list) and argv[0] == str(fake.binary) for argv in commands)
    assert {argv[1] for argv in commands} == {"build"}  # no --push: builds only
    assert len(commands) == 4 * 2 * 2  # 4 Pythons x 2 variants x 2 architectures
    assert fake.actions() == []
    # the CI matrix: one entry per image and platform
    matrix = payload["matrix"]
    assert len(matrix) == 16
    for entry in matrix:
        assert {"id", "variant", "python", "platform", "tags", "argv"} <= set(entry)
        assert entry["argv"] in commands
    first = matrix[0]
    assert first["id"] == "9.2.0-base-amd64"
    assert (first["variant"], first["python"], first["platform"]) == ("base", "3.11", "linux/amd64")
    assert "quay.io/astronomer/astro-runtime:9.2.0-base" in first["tags"]
    onbuild = next(e for e in matrix if e["id"] == "9.2.0-arm64")
    assert onbuild["needs"] == ["9.2.0-base-arm64"]


def test_dry_run_table_lists_the_images_then_each_command_on_a_line(
    invoke: Invoke, fake: FakeDocker
) -> None:
    result = invoke(
        "build", "9.2.0", "--python", "3.11", "--dry-run", "--push", "--registry", REGISTRY,
        "--docker", fake.binary, matrix=SNAPSHOT,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    head, _, commands = result.stdout.partition("Docker commands, in order (16):\n")
    assert "onbuild   3.11" in head and "9.2.0-base 9.2.0-python-3.11-base" in head
    lines = commands.splitlines()
    assert len(lines) == 16
    assert lines[0].startswith(
        f"DOCKER_BUILDKIT=0 {fake.binary} build --force-rm --tag {REGISTRY}:9.2.0-"
    )
    assert (
        lines[-1] == f"{fake.binary} manifest push --purge --insecure {REGISTRY}:9.2.0-python-3.11"
    )
    assert fake.actions() == []


def test_dry_run_without_docker_assumes_the_classic_builder(invoke: Invoke, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "docker"
    result = invoke(
        "build", "11.8.0", "--dry-run", "-f", "json", "--docker", missing, matrix=SNAPSHOT
    )
    assert result.exit_code == 0, result.stderr
    assert "assuming the classic builder" in result.stderr
    assert json.loads(result.stdout)["builder"] == "classic"


def test_docker_from_the_environment(
    invoke: Invoke, fake: FakeDocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASTROCTL_DOCKER", str(fake.binary))
    result = invoke("build", "11.8.0", "--dry-run", "-f", "json", matrix=SNAPSHOT)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["commands"][0][0] == str(fake.binary)
    assert ["buildx", "version"] in fake.argvs()  # the read-only probe ran


def test_buildx_is_used_when_docker_has_it(invoke: Invoke, tmp_path: Path) -> None:
    buildx = make_fake(tmp_path / "buildx", buildx=True)
    payload = dry_run(invoke, buildx, "9.2.0", "--python", "3.11")
    assert payload["builder"] == "buildx"
    assert payload["commands"][0][1:3] == ["buildx", "bake"]


# -- refusals before anything runs --------------------------------------------------------------


def test_an_architecture_the_release_lacks_is_refused(invoke: Invoke, fake: FakeDocker) -> None:
    result = invoke("build", "6.0.3", "--arch", "arm64", "--docker", fake.binary, matrix=SNAPSHOT)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Astro Runtime 6.0.3 is built for amd64 only" in result.stderr
    assert "--arch arm64 is not one of its architectures" in result.stderr
    assert fake.argvs() == []  # not even a probe


def test_a_python_the_release_lacks_is_refused(invoke: Invoke, fake: FakeDocker) -> None:
    result = invoke("build", "9.2.0", "--python", "3.99", "--docker", fake.binary, matrix=SNAPSHOT)
    assert result.exit_code == 2
    assert "has no Python 3.99 distribution (it has 3.8, 3.9, 3.10, 3.11)" in result.stderr
    assert fake.argvs() == []


def test_an_unknown_entry_is_refused_listing_the_entries(invoke: Invoke, fake: FakeDocker) -> None:
    result = invoke(
        "build", "9.2.0", "--python", "3.11", "--only", "nope", "--docker", fake.binary,
        matrix=SNAPSHOT,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--only 'nope' is not an entry" in result.stderr
    for entry in ("9.2.0-base-amd64", "9.2.0-base-arm64", "9.2.0-amd64", "9.2.0-arm64"):
        assert entry in result.stderr
    assert fake.argvs() == []


def test_an_unknown_variant_is_refused(invoke: Invoke, fake: FakeDocker) -> None:
    result = invoke("build", "9.2.0", "--variant", "slim", "--docker", fake.binary, matrix=SNAPSHOT)
    assert result.exit_code == 2
    assert "--variant 'slim' is not a variant; use onbuild, base or all" in result.stderr


def test_only_builds_one_entry(invoke: Invoke, fake: FakeDocker) -> None:
    payload = dry_run(invoke, fake, "9.2.0", "--only", "9.2.0-base-arm64")
    assert [e["id"] for e in payload["matrix"]] == ["9.2.0-base-arm64"]
    assert len(payload["commands"]) == 1


# -- writers: --bake and --context --------------------------------------------------------------


def test_bake_writes_the_bake_file_and_stops(
    invoke: Invoke, fake: FakeDocker, tmp_path: Path, _cache: Path
) -> None:
    bake = tmp_path / "out" / "bake.json"
    result = invoke(
        "build", "9.2.0", "--python", "3.11", "--bake", bake, "--docker", fake.binary,
        matrix=SNAPSHOT,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "docker buildx bake --file" in result.stderr.replace(str(fake.binary), "docker")
    data = json.loads(bake.read_text())
    assert data["group"]["default"] == {"targets": ["runtime-9-2-0"]}
    targets = data["target"]
    assert set(data["group"]["runtime-9-2-0"]["targets"]) == set(targets)
    onbuild = targets["runtime-9-2-0-onbuild-python-3-11"]
    assert onbuild["contexts"] == {"base": "target:runtime-9-2-0-base-python-3-11"}
    assert onbuild["args"]["BASE_IMAGE"] == "base"
    assert onbuild["platforms"] == ["linux/amd64", "linux/arm64"]
    for target in targets.values():  # the contexts it points at were written
        assert (Path(target["context"]) / "Dockerfile").is_file()
        assert Path(target["context"]).is_relative_to(_cache)
    assert fake.actions() == []


def test_context_writes_the_build_contexts_and_stops(
    invoke: Invoke, fake: FakeDocker, tmp_path: Path
) -> None:
    out = tmp_path / "contexts"
    result = invoke(
        "build", "9.2.0", "--python", "3.11", "--context", out, "--docker", fake.binary,
        matrix=SNAPSHOT,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    base = (out / "base-python-3.11" / "Dockerfile").read_text()
    onbuild = (out / "onbuild-python-3.11" / "Dockerfile").read_text()
    assert "FROM" in base and "ONBUILD" not in base
    assert "ONBUILD" in onbuild
    assert "wrote the build context" in result.stderr
    assert fake.argvs() == []  # nothing ran, not even a probe


def test_index_url_reaches_pip_in_the_builder_stage_only(
    invoke: Invoke, fake: FakeDocker, tmp_path: Path
) -> None:
    out = tmp_path / "contexts"
    index = "http://127.0.0.1:8080/simple/"
    result = invoke(
        "build", "9.2.0", "--python", "3.11", "--index-url", index, "--context", out,
        "--docker", fake.binary, matrix=SNAPSHOT,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    base = out / "base-python-3.11"
    assert f"index-url = {index}\n" in (base / "builder" / "pip.conf").read_text()
    assert "COPY builder/" in (base / "Dockerfile").read_text().split("AS builder", 1)[1]
    assert not (out / "onbuild-python-3.11" / "builder").exists()


# -- --constraints ------------------------------------------------------------------------------


def test_a_constraints_file_is_installed_and_labelled(
    invoke: Invoke, fake: FakeDocker, tmp_path: Path
) -> None:
    text = "# a set\napache-airflow==2.7.2\napache-airflow-providers-amazon==8.7.1\nsix==1.16.0\n"
    path = tmp_path / "constraints-3.11.txt"
    path.write_text(text)
    result = invoke(
        "build", "9.2.0", "--python", "3.11", "--constraints", path, "--dry-run", "-f", "json",
        "--docker", fake.binary, matrix=SNAPSHOT,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "not resolved" not in result.stderr
    contexts = json.loads(result.stdout)["contexts"]
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert {c["labels"][CONSTRAINTS_LABEL] for c in contexts.values()} == {digest}


def test_a_constraints_directory_serves_each_python(
    invoke: Invoke, fake: FakeDocker, tmp_path: Path
) -> None:
    sets = tmp_path / "sets"
    sets.mkdir()
    for python in ("3.10", "3.11"):
        (sets / f"constraints-{python}.txt").write_text(f"apache-airflow==2.7.2\n# {python}\n")
    payload = dry_run(invoke, fake, "9.2.0", "--python", "3.10", "--constraints", str(sets))
    (context,) = (c for c in payload["contexts"].values() if c["variant"] == "base")
    expected = hashlib.sha256(b"apache-airflow==2.7.2\n# 3.10\n").hexdigest()
    assert context["labels"][CONSTRAINTS_LABEL] == expected
    result = invoke(
        "build", "9.2.0", "--constraints", sets, "--dry-run", "--docker", fake.binary,
        matrix=SNAPSHOT,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no constraint set for Python 3.8, 3.9" in result.stderr


# -- real runs against the fake docker ----------------------------------------------------------


def run_args(fake: FakeDocker, *extra: str) -> list[str]:
    return [
        "build", "9.2.0", "--python", "3.11", "--registry", REGISTRY, "--docker",
        str(fake.binary), *extra,
    ]  # fmt: skip


def test_a_run_sends_docker_the_argv_of_the_plan_in_order(invoke: Invoke, fake: FakeDocker) -> None:
    planned = dry_run(invoke, fake, *run_args(fake)[1:])["commands"]
    fake.log.unlink()
    result = invoke(*run_args(fake), "-f", "json", matrix=SNAPSHOT)
    assert result.exit_code == 0, result.stderr
    assert fake.actions() == [argv[1:] for argv in planned]
    builds = [c for c in fake.calls() if c["argv"][0] == "build"]
    assert {c["env"]["DOCKER_BUILDKIT"] for c in builds} == {"0"}
    assert "[1/4] build 9.2.0-base-amd64" in result.stderr
    assert json.loads(result.stdout)["ran"] == planned


def test_push_comes_after_every_build_then_the_manifest_lists(
    invoke: Invoke, fake: FakeDocker
) -> None:
    planned = dry_run(invoke, fake, *run_args(fake, "--push")[1:])["commands"]
    fake.log.unlink()
    result = invoke(*run_args(fake, "--push"), matrix=SNAPSHOT)
    assert result.exit_code == 0, result.stderr
    ran = fake.actions()
    assert ran == [argv[1:] for argv in planned]
    kinds = [argv[0] for argv in ran]
    assert kinds == ["build"] * 4 + ["push"] * 4 + ["manifest"] * 8
    assert ["push", f"{REGISTRY}:9.2.0-base-arm64"] in ran
    assert [
        "manifest", "create", "--amend", "--insecure", f"{REGISTRY}:9.2.0",
        f"{REGISTRY}:9.2.0-amd64", f"{REGISTRY}:9.2.0-arm64",
    ] in ran  # fmt: skip


def test_a_failed_build_names_image_and_step_and_pushes_nothing(
    invoke: Invoke, fake: FakeDocker
) -> None:
    failing = f"{REGISTRY}:9.2.0-base-arm64"
    fake.answer(
        ["build", "--force-rm", "--tag", failing],
        stdout="Step 1/9 : FROM python:3.11-slim-bullseye\n"
        "Step 5/9 : RUN /bin/sh builder/install.sh\n"
        "ERROR: No matching distribution found for apache-airflow==2.7.2\n"
        "The command '/bin/sh -c /bin/sh builder/install.sh' returned a non-zero code: 1\n",
        exit=1,
    )
    result = invoke(*run_args(fake, "--push"), matrix=SNAPSHOT)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (
        f"docker build of {failing} failed at Step 5/9 : RUN /bin/sh builder/install.sh"
        in result.stderr
    )
    assert "No matching distribution found" in result.stderr
    ran = fake.actions()
    assert [argv[0] for argv in ran] == ["build", "build"]  # stopped at the 2nd build
    assert not any(argv[0] in ("push", "manifest") for argv in fake.argvs())


# -- the revision label ---------------------------------------------------------------------------

REVISION_LABEL = "org.opencontainers.image.revision"


def _labels(invoke: Invoke, fake: FakeDocker, matrix: Path, *args: str) -> dict[str, str]:
    result = invoke(
        "build", "9.2.0", "--python", "3.11", "--dry-run", "-f", "json", "--docker",
        fake.binary, *args, matrix=matrix,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    contexts = json.loads(result.stdout)["contexts"]
    labels: dict[str, str] = contexts["base-python-3.11"]["labels"]
    return labels


def test_the_revision_is_the_release_tag_else_head_of_the_matrix_repository(
    invoke: Invoke, fake: FakeDocker, tmp_path: Path
) -> None:
    root = init_repository(tmp_path / "runtime")
    matrix = root / "compatibility.toml"
    matrix.write_text(SNAPSHOT.read_text(encoding="utf-8"), encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "history")
    first = git(root, "rev-parse", "HEAD").strip()
    assert _labels(invoke, fake, matrix)[REVISION_LABEL] == first  # no tag: HEAD
    git(root, "tag", "runtime-9.2.0")
    git(root, "commit", "-q", "--allow-empty", "-m", "later")
    assert git(root, "rev-parse", "HEAD").strip() != first
    assert _labels(invoke, fake, matrix)[REVISION_LABEL] == first  # the release's tag
    given = _labels(invoke, fake, matrix, "--revision", "0123abcd")
    assert given[REVISION_LABEL] == "0123abcd"


def test_no_revision_label_outside_git_and_a_bad_revision_is_refused(
    invoke: Invoke, fake: FakeDocker, tmp_path: Path
) -> None:
    matrix = tmp_path / "plain" / "compatibility.toml"
    matrix.parent.mkdir()
    matrix.write_text(SNAPSHOT.read_text(encoding="utf-8"), encoding="utf-8")
    assert REVISION_LABEL not in _labels(invoke, fake, matrix)
    result = invoke(
        "build", "9.2.0", "--dry-run", "--revision", "main; rm -rf /", "--docker", fake.binary,
        matrix=matrix,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--revision 'main; rm -rf /' is not a commit id" in result.stderr
