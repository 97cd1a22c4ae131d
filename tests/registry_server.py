"""A real Docker Distribution registry on loopback, and synthetic images pushed straight into it.

Use::

    with registry_server(tmp_path) as registry:          # skips if docker-registry is missing
        image = registry.push_index("astro-runtime", "9.2.0")   # two platforms, no Docker engine
        registry.host   # "127.0.0.1:PORT": Reference.parse(f"{registry.host}/astro-runtime:9.2.0")

:func:`registry_server` runs ``docker-registry serve CONFIG`` (Debian's ``docker-registry``
package; ``scripts/engine`` installs it on CI) on a free 127.0.0.1 port with filesystem storage
under the given directory, waits (bounded) until ``/v2/`` answers, and stops it on exit. Without
the binary a test is skipped with the reason, except under ``CI=true``, where it fails.

:meth:`RunningRegistry.push_image` and :meth:`RunningRegistry.push_index` upload through the v2
API itself (blob upload ``POST`` then ``PUT ?digest=``, a config blob with ``os`` and
``architecture``, one layer, an image manifest, and for an index one image per platform), so
registry and publish tests need no Docker engine.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

BINARY = "docker-registry"
START_TIMEOUT = 20.0  # seconds for /v2/ to answer
STOP_TIMEOUT = 10.0
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
PLATFORMS = ("linux/amd64", "linux/arm64/v8")


@dataclass(frozen=True)
class PushedImage:
    """One image manifest as pushed: its digest, exact bytes, and its platform."""

    repository: str
    tag: str | None
    digest: str
    raw: bytes
    media_type: str
    platform: str


@dataclass(frozen=True)
class PushedIndex:
    """An index (or Docker manifest list) as pushed, and the image of each platform."""

    repository: str
    tag: str
    digest: str
    raw: bytes
    media_type: str
    images: Mapping[str, PushedImage]  # platform -> image

    @property
    def platforms(self) -> dict[str, str]:
        return {platform: image.digest for platform, image in self.images.items()}


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class RunningRegistry:
    """A registry serving on ``http://{host}``; its storage lives under ``root``."""

    host: str  # 127.0.0.1:PORT
    root: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def push_blob(self, repository: str, data: bytes) -> str:
        """Upload ``data`` as a blob of ``repository`` (monolithic upload); its digest."""
        blob = digest(data)
        with httpx.Client(base_url=self.url, timeout=10.0) as client:
            started = client.post(f"/v2/{repository}/blobs/uploads/")
            assert started.status_code == 202, started.text
            location = started.headers["Location"]  # carries its own query (_state=...)
            separator = "&" if "?" in location else "?"
            done = client.put(
                f"{location}{separator}digest={blob}",
                content=data,
                headers={"Content-Type": "application/octet-stream"},
            )
            assert done.status_code == 201, done.text
        return blob

    def push_manifest(self, repository: str, reference: str, raw: bytes, media_type: str) -> str:
        """PUT a manifest under a tag or digest; the digest the registry gives it."""
        with httpx.Client(base_url=self.url, timeout=10.0) as client:
            response = client.put(
                f"/v2/{repository}/manifests/{reference}",
                content=raw,
                headers={"Content-Type": media_type},
            )
        assert response.status_code == 201, response.text
        stored = response.headers["Docker-Content-Digest"]
        assert stored == digest(raw)
        return stored

    def push_image(
        self,
        repository: str,
        tag: str | None = None,
        *,
        platform: str = "linux/amd64",
        oci: bool = False,
        label: str = "",
    ) -> PushedImage:
        """A one-layer image for ``platform`` (config with os/architecture/variant).

        ``tag`` None pushes it by digest only (as an index's platform images are). ``label``
        changes the content, so two calls with different labels give different digests.
        """
        system, architecture, *variant = platform.split("/")
        config: dict[str, object] = {
            "architecture": architecture,
            "os": system,
            "config": {"Labels": {"test.label": label}},
            "rootfs": {"type": "layers", "diff_ids": []},
        }
        if variant:
            config["variant"] = variant[0]
        tar = _layer(f"{platform} {label}".encode())
        config["rootfs"] = {"type": "layers", "diff_ids": [digest(gzip.decompress(tar))]}
        config_raw = json.dumps(config, sort_keys=True).encode()
        config_digest = self.push_blob(repository, config_raw)
        layer_digest = self.push_blob(repository, tar)
        media_type = OCI_MANIFEST if oci else DOCKER_MANIFEST
        manifest = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": OCI_CONFIG if oci else DOCKER_CONFIG,
                "size": len(config_raw),
                "digest": config_digest,
            },
            "layers": [
                {
                    "mediaType": OCI_LAYER if oci else DOCKER_LAYER,
                    "size": len(tar),
                    "digest": layer_digest,
                }
            ],
        }
        raw = json.dumps(manifest, indent=3).encode()
        stored = self.push_manifest(repository, tag or digest(raw), raw, media_type)
        return PushedImage(repository, tag, stored, raw, media_type, platform)

    def push_index(
        self,
        repository: str,
        tag: str,
        platforms: Sequence[str] = PLATFORMS,
        *,
        label: str = "",
    ) -> PushedIndex:
        """An OCI index of one image per platform (each pushed by digest), under ``tag``."""
        images = {
            platform: self.push_image(repository, platform=platform, oci=True, label=label)
            for platform in platforms
        }
        entries = []
        for platform, image in images.items():
            system, architecture, *variant = platform.split("/")
            described = {"os": system, "architecture": architecture}
            if variant:
                described["variant"] = variant[0]
            entries.append(
                {
                    "mediaType": image.media_type,
                    "size": len(image.raw),
                    "digest": image.digest,
                    "platform": described,
                }
            )
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        raw = json.dumps(index, indent=2).encode()
        stored = self.push_manifest(repository, tag, raw, OCI_INDEX)
        return PushedIndex(repository, tag, stored, raw, OCI_INDEX, images)


def _layer(content: bytes) -> bytes:
    """A gzipped tar holding one file, reproducibly (no timestamps)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return gzip.compress(buffer.getvalue(), mtime=0)


def registry_binary() -> str:
    """The docker-registry program; skip (or, on CI, fail) when it is not installed."""
    found = shutil.which(BINARY)
    if found is None:
        reason = f"{BINARY} is not installed (apt-get install docker-registry; scripts/engine)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(process: subprocess.Popen[bytes], host: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{BINARY} exited with {process.returncode}: {log.read_text(errors='replace')}"
            )
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://{host}/v2/", timeout=1.0).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{BINARY} did not answer on {host} within {START_TIMEOUT:g} s")


@contextlib.contextmanager
def registry_server(directory: Path) -> Iterator[RunningRegistry]:
    """A registry on a free loopback port, storing under ``directory``; stopped on exit."""
    binary = registry_binary()
    root = directory / "registry"
    (root / "storage").mkdir(parents=True, exist_ok=True)
    host = f"127.0.0.1:{_free_port()}"
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'storage'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: {host}\n",
        encoding="utf-8",
    )
    log = root / "registry.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_up(process, host, log)
        yield RunningRegistry(host, root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
