"""Resolving a release's constraint set in the tests of ``providers``: a matrix with the one
release to resolve (:func:`release_matrix`), and :func:`run_resolve`, which resolves it with the
real uv against the loopback index of the ``index`` fixture (``conftest.py``), with the
``sandbox`` fixture's environment.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from astroctl.matrix.model import Matrix
from astroctl.providers.constraints import Options, Resolution, resolve
from astroctl.providers.target import IndexChoice
from astroctl.seams.process import Runner
from astroctl.seams.uv import Uv
from tests import factories
from tests.index_server import IndexServer

OLD = datetime(2023, 1, 1, tzinfo=UTC)
RELEASED = date(2023, 10, 12)
X86_TAG = "cp311-cp311-manylinux_2_17_x86_64"
ARM_TAG = "cp311-cp311-manylinux_2_17_aarch64"
UPSTREAM = "alpha==1.0\nbeta==1.0\nnative==1.0\n"


def release_matrix(
    pins: dict[str, str],
    *,
    airflow: str = "2.7.2",
    architectures: tuple[str, ...] = ("amd64", "arm64"),
    os: str = "Debian 12 (bookworm)",
    released: date | None = RELEASED,
    flavors: dict[str, dict[str, str]] | None = None,
    **top: Any,
) -> Matrix:
    """One 9.2.0 (Python 3.11 by default, also 3.10) with these pins (and these flavors:
    name -> pins)."""
    extra: dict[str, Any] = {"released": released} if released is not None else {}
    if flavors is not None:
        extra["flavors"] = {name: {"packages": subset} for name, subset in flavors.items()}
    entry = factories.release("9.2.0", airflow, packages=pins, **extra)
    lines = {9: factories.line(architectures=architectures, os=os)}
    return factories.build(factories.document(entry, lines=lines, **top))


def run_resolve(
    matrix: Matrix,
    index: IndexServer,
    tmp_path: Path,
    upstream_text: str | None,
    notes: list[str] | None = None,
    **options: Any,
) -> Resolution:
    if upstream_text is None:
        options.setdefault("upstream", "none")
    else:
        source = tmp_path / "upstream-2.7.2-3.11.txt"
        source.write_text(upstream_text, encoding="utf-8")
        options.setdefault("upstream", f"file://{tmp_path}/upstream-{{airflow}}-{{python}}.txt")
    options.setdefault("exclude_newer", matrix.releases[-1].released)
    options.setdefault("uv_cache_dir", tmp_path / "uv-cache")
    http = options.pop("http", None)
    runner = options.pop("runner", None) or Runner(timeout=60)
    return resolve(
        matrix,
        matrix.releases[-1],
        Options(**options),
        http=http,
        uv=Uv(runner),
        index=IndexChoice(index.url, "--index-url"),
        matrix_label="compatibility.toml",
        notify=(notes if notes is not None else []).append,
    )


def add_packages(index: IndexServer) -> None:
    """Airflow 2.7.2 (needs beta), alpha (needs beta), beta 1.0 / 2.0 / 3.0 (3.0 after the
    release date), delta (needs beta<2), native (x86_64 and aarch64 wheels), x86only; sdonly
    (an sdist, no wheel), x86sdist (an x86_64 wheel, a Windows wheel and an sdist), oldarm (a
    wheel for Python 3.10 on aarch64 only, and an sdist), py2only (a py2-none-any wheel and an
    sdist), late (an sdist, and a py3-none-any wheel uploaded after the release date)."""
    index.add("apache-airflow", "2.7.2", requires_dist=["beta>=1"], upload_time=OLD)
    index.add("alpha", "1.0", requires_dist=["beta>=1"], upload_time=OLD)
    index.add("beta", "1.0", upload_time=OLD)
    index.add("beta", "2.0", upload_time=OLD)
    index.add("beta", "3.0", upload_time=datetime(2023, 10, 20, tzinfo=UTC))
    index.add("delta", "1.0", requires_dist=["beta<2"], upload_time=OLD)
    index.add("native", "1.0", tags=X86_TAG, upload_time=OLD)
    index.add("native", "1.0", tags=ARM_TAG, upload_time=OLD)
    index.add("x86only", "1.0", tags=X86_TAG, upload_time=OLD)
    index.add("sdonly", "1.0", wheel=False, sdist=True, upload_time=OLD)
    index.add("x86sdist", "1.0", tags=X86_TAG, sdist=True, upload_time=OLD)
    index.add("x86sdist", "1.0", tags="cp311-cp311-win_amd64", upload_time=OLD)
    index.add("oldarm", "1.0", tags=X86_TAG, sdist=True, upload_time=OLD)
    index.add("oldarm", "1.0", tags="cp310-cp310-manylinux_2_17_aarch64", upload_time=OLD)
    index.add("py2only", "1.0", tags="py2-none-any", sdist=True, upload_time=OLD)
    index.add("late", "1.0", wheel=False, sdist=True, upload_time=OLD)
    index.add("late", "1.0", upload_time=datetime(2023, 10, 20, tzinfo=UTC))  # after
