"""The platform a constraint set is checked for: the architecture and the glibc of the release's
Debian, as the manylinux level uv takes (``providers.target.uv_platform``)."""

from __future__ import annotations

import pytest

from astroctl.errors import InputError
from astroctl.matrix import store
from astroctl.matrix.model import Release
from astroctl.providers.target import DEBIAN_GLIBC, UV_MANYLINUX, uv_platform
from tests import factories


def release_on(os: str) -> Release:
    lines = {9: factories.line(os=os)}
    return factories.build(factories.document(factories.release("9.2.0"), lines=lines)).releases[0]


@pytest.mark.parametrize(
    ("os", "amd64", "arm64"),
    [
        ("Debian 11.7 (bullseye)", "x86_64-manylinux_2_31", "aarch64-manylinux_2_31"),
        ("Debian 12 (bookworm)", "x86_64-manylinux_2_36", "aarch64-manylinux_2_36"),
        ("Debian 10 (buster)", "x86_64-manylinux_2_28", "aarch64-manylinux_2_28"),
        ("Debian 9 (stretch)", "x86_64-manylinux_2_17", "aarch64-manylinux_2_17"),  # 2.24: below
        ("Debian 13 (trixie)", "x86_64-manylinux_2_40", "aarch64-manylinux_2_40"),  # uv's highest
    ],
)
def test_the_platform_is_the_glibc_of_the_releases_debian(os: str, amd64: str, arm64: str) -> None:
    release = release_on(os)
    assert (uv_platform(release, "amd64").uv, uv_platform(release, "arm64").uv) == (amd64, arm64)
    assert uv_platform(release, "arm64").shown == "linux/arm64"


@pytest.mark.parametrize("os", ["Ubuntu 22.04", "Debian 14 (forky)", "Debian (Bullseye)"])
def test_an_os_astroctl_cannot_place_gets_uvs_default(os: str) -> None:
    platform = uv_platform(release_on(os), "amd64")
    assert (platform.uv, platform.glibc, platform.manylinux) == (
        "x86_64-unknown-linux-gnu",
        None,
        None,
    )


def test_an_unknown_architecture_is_refused() -> None:
    with pytest.raises(InputError, match="'s390x'"):
        uv_platform(release_on("Debian 12 (bookworm)"), "s390x")


def test_every_release_of_the_real_history_gets_an_exact_platform() -> None:
    """The embedded matrix: every line's OS names a Debian release whose glibc uv has a level
    for (no check of the real history falls back to uv's manylinux_2_28)."""
    matrix = store.load(store.embedded_path())
    for release in matrix.releases:
        platform = uv_platform(release, "amd64")
        assert platform.glibc == DEBIAN_GLIBC[release.codename or ""], release.name
        assert platform.manylinux == platform.glibc, release.name  # bullseye: 2.31, in uv's set
        assert platform.manylinux in UV_MANYLINUX


def test_the_levels_are_ones_uv_accepts() -> None:
    """uv's own list (uv pip compile --help) has these; a level it lacks is an error of uv's."""
    import subprocess

    from astroctl.seams.uv import find_binary

    shown = subprocess.run(
        [str(find_binary()), "pip", "compile", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for major, minor in UV_MANYLINUX:
        for machine in ("x86_64", "aarch64"):
            assert f"{machine}-manylinux_{major}_{minor}" in shown
