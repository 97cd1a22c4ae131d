"""``astroctl publish`` on the real Docker engine and the real registry (Docker Distribution on
loopback): push, manifest lists, floating tags, read-back, immutable tags, and the promote
retag by digest.

The local images stand in for what ``astroctl build`` leaves: a tiny root filesystem built FROM
scratch for each architecture, labelled as ``build`` labels (publish checks the labels and the
architecture, not how the image was built; the engine tests build real ones).
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from astroctl.seams.http import Http
from astroctl.seams.registry import Reference, Registry
from tests import factories
from tests.engine import Engine
from tests.helpers import Invoke
from tests.registry_server import RunningRegistry, registry_server

PREFIX = "io.astronomer.docker"
LABEL = f"{PREFIX}.runtime.version"


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RunningRegistry]:
    with registry_server(tmp_path / "registry") as running:
        yield running


@pytest.fixture
def isolated_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DOCKER_CONFIG of the test's own: no credentials, manifest lists kept apart."""
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")
    return config


def _matrix(tmp_path: Path, repository: str) -> Path:
    line = factories.line(python_versions=("3.11",))
    doc = factories.document(
        factories.release("12.0.0", released=date(2026, 1, 10)),
        factories.release("12.1.0-rc.1"),
        factories.release("12.1.0", released=date(2026, 2, 10)),
        lines={12: line},
        image={"repository": repository, "floating_tags": True},
    )
    path = tmp_path / "matrix.toml"
    path.write_text(factories.toml_text(doc), encoding="utf-8")
    return path


def _rootfs(content: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = content.encode()
        member = tarfile.TarInfo("etc/astro-release")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


class LocalImages:
    """Local images as ``build`` leaves them, removed when the test ends."""

    def __init__(self, engine: Engine, workdir: Path) -> None:
        self.engine = engine
        self.workdir = workdir
        self.made: list[str] = []

    def image(
        self, ref: str, arch: str, version: str, content: str, variant: str | None = None
    ) -> None:
        """One image for ``arch``, labelled as ``build`` labels it (built FROM scratch: the
        classic builder keeps the platform that way, ``docker import`` does not)."""
        context = self.workdir / f"context-{ref.rpartition(':')[2]}-{content.replace(' ', '-')}"
        context.mkdir(parents=True)
        (context / "rootfs.tar").write_bytes(_rootfs(content))
        if variant is None:
            variant = "base" if ref.rsplit("-", 1)[0].endswith("-base") else "onbuild"
        labels = f"{LABEL}={version} {PREFIX}.python.version=3.11 {PREFIX}.variant={variant}"
        (context / "Dockerfile").write_text(
            f"FROM scratch\nADD rootfs.tar /\nLABEL {labels}\n", encoding="utf-8"
        )
        self.engine.run("build", "--platform", f"linux/{arch}", "--tag", ref, context)
        self.made.append(ref)

    def release(self, repository: str, version: str, *, content: str = "one") -> list[str]:
        """Every image of a release (onbuild and base, amd64 and arm64)."""
        refs = []
        for name in (version, f"{version}-base"):
            for arch in ("amd64", "arm64"):
                ref = f"{repository}:{name}-{arch}"
                self.image(ref, arch, version, f"{name} {arch} {content}")
                refs.append(ref)
        return refs

    def forget(self, *refs: str) -> None:
        self.engine.remove(*refs)


@pytest.fixture
def local(engine: Engine, tmp_path: Path) -> Iterator[LocalImages]:
    images = LocalImages(engine, tmp_path / "local")
    yield images
    engine.remove(*images.made)


@pytest.fixture
def repository(registry: RunningRegistry) -> str:
    return f"{registry.host}/astro-runtime"


@pytest.fixture
def matrix(tmp_path: Path, repository: str) -> Path:
    return _matrix(tmp_path, repository)


def _read(registry: RunningRegistry, ref: str) -> tuple[str, dict[str, str], bool]:
    with Http() as http:
        manifest = Registry(http).manifest(Reference.parse(ref))
    assert manifest is not None, f"{ref} is not in the registry"
    return manifest.digest, dict(manifest.platforms), manifest.is_list


@pytest.mark.usefixtures("isolated_docker")
def test_publish_pushes_lists_moves_floating_tags_and_is_idempotent(
    invoke: Invoke, local: LocalImages, registry: RunningRegistry, repository: str, matrix: Path
) -> None:
    local.release(repository, "12.1.0")
    dry = invoke("publish", "12.1.0", "--dry-run", "--format", "json", matrix=matrix)
    assert dry.exit_code == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] is True
    assert [argv[1] for argv in planned["commands"]][:2] == ["push", "push"]
    with Http() as http:  # a dry run pushes nothing
        assert Registry(http).tags(Reference.parse(f"{repository}:x")) == []

    first = invoke("publish", "12.1.0", "--format", "json", matrix=matrix)
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    states = {tag["tag"]: tag["state"] for tag in report["tags"]}
    assert states == {
        tag: "new"
        for tag in (
            "12.1.0",
            "12.1",
            "12",
            "latest",
            "12.1.0-base",
            "12.1-base",
            "12-base",
            "latest-base",
        )
    }
    # every tag read back: a list of both platforms, each the pushed architecture image
    arch_digests = {
        arch: _read(registry, f"{repository}:12.1.0-{arch}")[0] for arch in ("amd64", "arm64")
    }
    digest, platforms, is_list = _read(registry, f"{repository}:12.1.0")
    assert is_list
    assert {p.rsplit("/v", 1)[0]: d for p, d in platforms.items()} == {
        f"linux/{arch}": d for arch, d in arch_digests.items()
    }
    assert _read(registry, f"{repository}:latest")[1] == platforms
    assert _read(registry, f"{repository}:12-base")[1] != platforms
    assert len(report["verified"]) == 8
    assert any(argv[1:3] == ["manifest", "push"] for argv in report["ran"])

    verify = invoke("publish", "12.1.0", "--verify", "--format", "json", matrix=matrix)
    assert verify.exit_code == 0, verify.stderr
    checked = json.loads(verify.stdout)["verified"]
    assert {item["tag"] for item in checked} == set(states)
    assert {item["state"] for item in checked} == {"verified"}

    again = invoke("publish", "12.1.0", "--format", "json", matrix=matrix)
    assert again.exit_code == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["up_to_date"] is True
    assert second["ran"] == []  # a no-op: nothing pushed, nothing listed
    assert {tag["state"] for tag in second["tags"]} == {"unchanged"}
    assert _read(registry, f"{repository}:12.1.0")[0] == digest


@pytest.mark.usefixtures("isolated_docker")
def test_publish_refuses_other_content_under_an_exact_tag_unless_forced(
    invoke: Invoke, local: LocalImages, registry: RunningRegistry, repository: str, matrix: Path
) -> None:
    local.release(repository, "12.1.0")
    assert invoke("publish", "12.1.0", "--no-floating", matrix=matrix).exit_code == 0
    published = _read(registry, f"{repository}:12.1.0")[0]
    local.release(repository, "12.1.0", content="rebuilt")

    refused = invoke("publish", "12.1.0", "--no-floating", matrix=matrix)
    assert refused.exit_code == 1
    assert "never overwritten" in refused.stderr
    assert f"{repository}:12.1.0 is {published}" in refused.stderr
    assert f"{repository}:12.1.0-base is sha256:" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert _read(registry, f"{repository}:12.1.0")[0] == published  # nothing pushed
    assert _read(registry, f"{repository}:12.1.0-amd64")[0] != ""

    forced = invoke(
        "publish", "12.1.0", "--no-floating", "--force", "--format", "json", matrix=matrix
    )
    assert forced.exit_code == 0, forced.stderr
    states = {tag["tag"]: tag["state"] for tag in json.loads(forced.stdout)["tags"]}
    assert states == {"12.1.0": "replaced", "12.1.0-base": "replaced"}
    assert _read(registry, f"{repository}:12.1.0")[0] != published


@pytest.mark.usefixtures("isolated_docker")
def test_publish_names_every_missing_or_stale_local_image(
    invoke: Invoke, local: LocalImages, registry: RunningRegistry, repository: str, matrix: Path
) -> None:
    stale = f"{repository}:12.1.0-amd64"
    wrong_arch = f"{repository}:12.1.0-arm64"
    local.image(stale, "amd64", "12.0.0", "old")
    local.image(wrong_arch, "amd64", "12.1.0", "x")
    wrong_variant = f"{repository}:12.1.0-base-arm64"
    local.image(wrong_variant, "arm64", "12.1.0", "y", variant="onbuild")
    result = invoke("publish", "12.1.0", matrix=matrix)
    assert result.exit_code == 2
    assert f"{stale} has runtime 12.0.0, not 12.1.0" in result.stderr
    assert f"{wrong_arch} is built for amd64, not arm64" in result.stderr
    assert f"{repository}:12.1.0-base-amd64 is not in the local image store" in result.stderr
    variant = "io.astronomer.docker.variant=onbuild, not base"
    assert f"{wrong_variant} has {variant}" in result.stderr
    assert f"astroctl build 12.1.0 --registry {repository}" in result.stderr
    with Http() as http:
        assert Registry(http).tags(Reference.parse(f"{repository}:x")) == []
    unknown = invoke("publish", "12.1.0", "--python", "3.9", matrix=matrix)
    assert unknown.exit_code == 2
    assert "release 12.1.0 has no Python 3.9 distribution; it has 3.11" in unknown.stderr


@pytest.mark.usefixtures("isolated_docker")
def test_publish_from_a_candidate_retags_by_digest_without_pushing(
    invoke: Invoke, local: LocalImages, registry: RunningRegistry, repository: str, matrix: Path
) -> None:
    local.release(repository, "12.1.0-rc.1")
    assert invoke("publish", "12.1.0-rc.1", matrix=matrix).exit_code == 0
    candidate = _read(registry, f"{repository}:12.1.0-rc.1")[0]
    candidate_base = _read(registry, f"{repository}:12.1.0-rc.1-base")[0]
    local.forget(*local.made)  # promoting needs no local image: the registry has them

    dry = invoke("publish", "12.1.0", "--from", "12.1.0-rc.1", "--dry-run", matrix=matrix)
    assert dry.exit_code == 0, dry.stderr
    with Http() as http:
        assert Registry(http).manifest(Reference.parse(f"{repository}:12.1.0")) is None

    done = invoke("publish", "12.1.0", "--from", "12.1.0-rc.1", "--format", "json", matrix=matrix)
    assert done.exit_code == 0, done.stderr
    for tag in ("12.1.0", "12.1", "12", "latest"):
        assert _read(registry, f"{repository}:{tag}")[0] == candidate
    for tag in ("12.1.0-base", "12-base"):
        assert _read(registry, f"{repository}:{tag}")[0] == candidate_base
    again = invoke("publish", "12.1.0", "--from", "12.1.0-rc.1", "--format", "json", matrix=matrix)
    assert json.loads(again.stdout)["up_to_date"] is True


def _project(tmp_path: Path, repository: str) -> Path:
    """A release project whose newest entry is the candidate 12.1.0-rc.1."""
    from astroctl.matrix import store
    from astroctl.release import changelog
    from astroctl.release.history import predecessor

    doc = factories.document(
        factories.release("12.0.0", released=date(2026, 1, 10)),
        factories.release("12.1.0-rc.1", released=date(2026, 2, 1)),
        lines={12: factories.line(python_versions=("3.11",))},
        image={"repository": repository, "floating_tags": True},
    )
    root = tmp_path / "runtime"
    (root / "data").mkdir(parents=True)
    text = factories.toml_text(doc)
    (root / "data" / "compatibility.toml").write_text(text, encoding="utf-8")
    matrix = store.loads(text, "test")
    (root / "CHANGELOG.md").write_text(
        changelog.generate(matrix, lambda r: predecessor(matrix, r)), encoding="utf-8"
    )
    return root / "data" / "compatibility.toml"


@pytest.mark.usefixtures("isolated_docker")
def test_release_promote_images_retags_the_candidate_or_stops_before_writing(
    invoke: Invoke,
    local: LocalImages,
    registry: RunningRegistry,
    repository: str,
    tmp_path: Path,
) -> None:
    matrix = _project(tmp_path, repository)
    local.release(repository, "12.1.0-rc.1")
    assert invoke("publish", "12.1.0-rc.1", matrix=matrix).exit_code == 0
    candidate = _read(registry, f"{repository}:12.1.0-rc.1")[0]
    before = matrix.read_bytes()
    # someone else's 12.1.0-base is in the way: refused before the matrix is written
    other = registry.push_index("astro-runtime", "12.1.0-base", label="other")
    promote = ("release", "promote", "12.1.0-rc.1", "--date", "2026-03-01", "--yes")
    refused = invoke(*promote, "--images", matrix=matrix)
    assert refused.exit_code == 1
    assert f"{repository}:12.1.0-base is {other.digest}" in refused.stderr
    assert matrix.read_bytes() == before
    with Http() as http:
        assert Registry(http).manifest(Reference.parse(f"{repository}:12.1.0")) is None

    done = invoke(*promote, "--images", "--force", matrix=matrix)
    assert done.exit_code == 0, done.stderr
    assert "images: put 8 of 8 tags of 12.1.0 from 12.1.0-rc.1 by digest" in done.stderr
    assert "12.1.0" in matrix.read_text(encoding="utf-8").replace("12.1.0-rc.1", "")
    for tag in ("12.1.0", "12.1", "12", "latest"):
        assert _read(registry, f"{repository}:{tag}")[0] == candidate
    assert _read(registry, f"{repository}:12.1.0-base")[0] != other.digest


def test_verify_reads_the_registry_alone_and_names_every_tag_at_fault(
    invoke: Invoke, registry: RunningRegistry, repository: str, matrix: Path
) -> None:
    """No engine: what some other machine pushed is checked from the registry alone."""
    registry.push_index("astro-runtime", "12.0.0", ("linux/amd64", "linux/arm64"))
    registry.push_image("astro-runtime", "12.0.0-base", platform="linux/amd64")
    result = invoke("publish", "12.0.0", "--verify", "--no-floating", matrix=matrix)
    assert result.exit_code == 1
    stderr = result.stderr
    assert "release 12.0.0: " in stderr and "did not read back as published" in stderr
    label = "io.astronomer.docker.runtime.version=(none), not 12.0.0"
    assert f"{repository}:12.0.0: its linux/amd64 image has {label}" in stderr
    assert f"{repository}:12.0.0: its linux/arm64 image has {label}" in stderr
    assert (
        f"{repository}:12.0.0-base is a single image, not a manifest list of "
        "linux/amd64, linux/arm64" in stderr
    )
    registry.push_index("astro-runtime", "12.0.0-base", ("linux/amd64",))
    result = invoke("publish", "12.0.0", "--verify", "--no-floating", matrix=matrix)
    assert f"{repository}:12.0.0-base is for linux/amd64, not linux/amd64, linux/arm64" in (
        result.stderr
    )
    refused = invoke("publish", "12.0.0", "--verify", "--force", matrix=matrix)
    assert refused.exit_code == 2
    assert "--verify reads the registry only" in refused.stderr
