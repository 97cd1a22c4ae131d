"""What a run imports: start-up time is paid on every command, so each command loads only what
its own work needs (benchmarks/startup.py and benchmarks/constraints.py measure the time; these
tests keep the import graph from growing back behind them).

Each case runs the real entry point (``astroctl.cli.main``) in a fresh interpreter and lists the
modules loaded when it returns (``tests.helpers.loaded_modules``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests import factories
from tests.helpers import loaded_modules


def test_version_imports_no_command_and_no_matrix(tmp_path: Path) -> None:
    modules = loaded_modules("--version", cwd=tmp_path)
    commands = {m for m in modules if m.startswith("astroctl.commands.")}
    assert commands <= {"astroctl.commands.context", "astroctl.commands.completion"}
    assert "astroctl.matrix.store" not in modules


def test_constraints_resolve_from_a_file_loads_no_index_client(tmp_path: Path) -> None:
    """The common path (the upstream file read, the pins laid over it, the file written) needs
    neither the index client, nor outdated's search, nor an HTTP library."""
    (tmp_path / "up-2.7.2-3.11.txt").write_text("alpha==1.0\nbeta==1.0\n", encoding="utf-8")
    release = factories.release(
        "9.2.0", "2.7.2", released=date(2023, 10, 12), packages={"beta": "2.0"}
    )
    upstream = {"constraints_url": f"file://{tmp_path}/up-{{airflow}}-{{python}}.txt"}
    matrix = tmp_path / "compatibility.toml"
    matrix.write_text(factories.toml_text(factories.document(release, upstream=upstream)))
    out = tmp_path / "out"
    out.mkdir()
    args = ("--matrix", str(matrix), "constraints", "resolve", "9.2.0", "--output", str(out))
    modules = loaded_modules(*args, cwd=tmp_path)
    assert (out / "constraints-3.11.txt").is_file()
    heavy = {
        "httpx",
        "astroctl.seams.index",
        "astroctl.providers.outdated",
        "packaging.specifiers",
        "packaging.tags",
    }
    assert not heavy & modules, sorted(heavy & modules)
