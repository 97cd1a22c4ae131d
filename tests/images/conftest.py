"""Fixtures of the engine tests: the running Docker engine and a loopback index of small wheels.

Without an engine (or without the base images ``scripts/engine`` makes) the engine tests are
skipped with the reason, except under CI (``CI`` set), where they fail: CI runs
``scripts/engine`` first, so a missing engine there is a broken setup, never a pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.engine import (
    AIRFLOW,
    Engine,
    EngineIndex,
    NoEngine,
    find_engine,
    publish,
    publish_airflow,
)
from tests.index_server import IndexServer


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine, with the base images of both architectures."""
    try:
        return find_engine()
    except NoEngine as exc:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"CI needs the Docker engine: {exc}", pytrace=False)
        pytest.skip(f"no Docker engine for the engine tests: {exc}")


@pytest.fixture(scope="session")
def engine_index() -> Iterator[EngineIndex]:
    """A stand-in apache-airflow (importable, with an ``airflow`` script), two providers (one
    with a newer version the constraint set must hold back), a dependency of one of them in
    two versions, and a package for a child project. All py3-none-any: both architectures.

    HTML pages only: the base images' pip (Debian 12's 23.0.1) fails with a TypeError on the
    JSON ``dist-info-metadata`` key this index sends beside ``core-metadata`` (a dict or a
    bool, where that pip expects a string; PyPI sends only ``core-metadata``, PEP 714, for
    that very pip). The HTML attributes are strings, which it reads."""
    with IndexServer(json=False) as server:
        hashes = {f"apache-airflow=={AIRFLOW}": publish_airflow(server, AIRFLOW)}
        wheels = [
            ("apache-airflow-providers-http", "4.1.0", ["astro-engine-dep>=0.3"]),
            ("apache-airflow-providers-http", "4.2.0", ["astro-engine-dep>=0.3"]),
            ("apache-airflow-providers-common-sql", "1.8.0", []),
            ("astro-engine-dep", "0.3.0", []),
            ("astro-engine-dep", "0.4.0", []),
            ("astro-child-extra", "1.0.0", []),
        ]
        for name, version, requires in wheels:
            hashes[f"{name}=={version}"] = publish(server, name, version, requires)
        yield EngineIndex(server, hashes)
