"""The house rules of ../shared/STYLE.md ("The layout"), read from every module's source.

Which way imports lean: ``commands/`` and ``cli.py`` may import anything; the capabilities
(``release/``, ``providers/``, ``images/``) import ``matrix/``, ``seams/``, ``versions`` and
``errors`` only; ``matrix/`` modules other than ``store`` import no seam; a seam imports only
``errors`` and other seams. Nothing outside ``commands/`` and ``cli.py`` imports typer; nothing
outside ``render/`` writes to stdout or stderr.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import REPO

PACKAGE = REPO / "src" / "astroctl"
CAPABILITIES = ("release", "providers", "images")
TOP_LEVEL = ("versions", "errors")


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. astroctl.matrix.store
    path: Path
    tree: ast.Module

    @property
    def area(self) -> str:
        """The first component under astroctl: matrix, seams, render, commands, cli, ..."""
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else ""


def _modules() -> list[Module]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found.append(Module(".".join(parts), path, tree))
    return found


MODULES = _modules()


def _imports(module: Module) -> Iterator[tuple[int, str]]:
    """Every module an ``import`` names, anywhere in the file (functions and TYPE_CHECKING too)."""
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:  # `from astroctl import store` imports astroctl.store
                yield node.lineno, f"{base}.{alias.name}"


def _astroctl_area(target: str) -> str | None:
    """The area an astroctl import lands in (None for a non-astroctl module)."""
    parts = target.split(".")
    if parts[0] != "astroctl":
        return None
    return parts[1] if len(parts) > 1 else ""


def _allowed(module: Module, target_area: str, target: str) -> bool:
    area = module.area
    if area in ("commands", "cli", "__main__", ""):
        return True
    if target_area in ("", "__version__", "errors") or target_area == area:
        return True  # the package itself, its version, the error tree, its own area
    rules = {
        "versions": set(),
        "errors": set(),
        "seams": set(),
        "matrix": {"versions", "seams"},
        "render": {"versions", "matrix", *CAPABILITIES},  # views of every capability
        **{capability: {"matrix", "seams", "versions"} for capability in CAPABILITIES},
    }
    if target_area not in rules.get(area, set()):
        return False
    return not (
        area == "matrix" and target_area == "seams" and module.name != "astroctl.matrix.store"
    )


def test_the_rule_sees_every_area() -> None:
    areas = {m.area for m in MODULES}
    assert {"matrix", "seams", "render", "commands", "cli", "versions", "errors"} <= areas


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_imports_lean_the_right_way(module: Module) -> None:
    wrong = []
    for lineno, target in _imports(module):
        target_area = _astroctl_area(target)
        if target_area is not None and not _allowed(module, target_area, target):
            wrong.append(f"{module.path.name}:{lineno} imports {target}")
    assert not wrong, f"{module.name} ({module.area}/) may not import: {wrong}"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_only_the_cli_imports_typer(module: Module) -> None:
    if module.area in ("commands", "cli"):
        return
    typer = [t for _, t in _imports(module) if t == "typer" or t.startswith(("typer.", "click"))]
    assert not typer, f"{module.name} imports {typer}"


def _writes_to_a_stream(node: ast.AST) -> bool:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id == "print"
    return (
        isinstance(node, ast.Attribute)
        and node.attr in ("stdout", "stderr", "__stdout__", "__stderr__")
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_only_render_prints(module: Module) -> None:
    if module.area == "render":
        return
    found = [
        getattr(node, "lineno", 0) for node in ast.walk(module.tree) if _writes_to_a_stream(node)
    ]
    assert not found, f"{module.name} prints or touches sys.stdout/stderr at lines {found}"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_no_mutable_module_globals(module: Module) -> None:
    """Module state is constant: no ``global`` statements, no module-level lists/dicts/sets."""
    assert not any(isinstance(node, ast.Global) for node in ast.walk(module.tree))
    for node in module.tree.body:
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        mutable = isinstance(value, ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp)
        targets = getattr(node, "targets", [getattr(node, "target", None)])
        names = [ast.unparse(t) for t in targets if t is not None]
        assert not mutable or names == ["__all__"], f"{module.name}: mutable global {names}"


# -- the checker itself -----------------------------------------------------------------------


def _fake(name: str, source: str) -> Module:
    path = PACKAGE / Path(*name.split(".")[1:]).with_suffix(".py")
    return Module(name, path, ast.parse(source))


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("astroctl.matrix.schema", "from astroctl.seams import fs"),
        ("astroctl.matrix.model", "from astroctl.render import streams"),
        ("astroctl.seams.http", "from astroctl.matrix import model"),
        ("astroctl.release.policy", "from astroctl.commands import context"),
        ("astroctl.release.policy", "from astroctl.providers import outdated"),
        ("astroctl.images.tags", "import astroctl.render.table"),
        ("astroctl.render.table", "from astroctl.commands.context import Context"),
        ("astroctl.matrix.diff", "from ..seams import process"),
    ],
)
def test_the_checker_catches_a_wrong_import(name: str, source: str) -> None:
    with pytest.raises(AssertionError, match="may not import"):
        test_imports_lean_the_right_way(_fake(name, source))


def test_the_checker_catches_printing_and_typer() -> None:
    with pytest.raises(AssertionError, match="prints"):
        test_only_render_prints(_fake("astroctl.matrix.x", "import sys\nsys.stderr.write('x')"))
    with pytest.raises(AssertionError, match="prints"):
        test_only_render_prints(_fake("astroctl.seams.x", "print('x')"))
    with pytest.raises(AssertionError, match="imports"):
        test_only_the_cli_imports_typer(_fake("astroctl.render.x", "import typer"))


def test_the_checker_catches_module_state() -> None:
    with pytest.raises(AssertionError):
        test_no_mutable_module_globals(_fake("astroctl.matrix.x", "_cache = {}"))
    with pytest.raises(AssertionError):
        test_no_mutable_module_globals(
            _fake("astroctl.cli", "def f():\n    global _state\n    _state = 1")
        )
