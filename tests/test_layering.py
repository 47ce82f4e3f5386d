"""The dependency direction of DESIGN.md holds: node -> federation -> protocols; instance_config
is a leaf; protocols is pure; inside node, domain <- storage <- convert <- services <- web, demo,
CLI. A violation fails here, so the layering cannot rot."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"node", "federation", "protocols", "instance_config"}
FORBIDDEN = {
    "protocols": {"node", "federation", "instance_config", "aiohttp", "sqlalchemy", "jinja2"},
    "federation": {"node", "sqlalchemy", "jinja2"},
    "instance_config": {"node", "federation", "protocols", "aiohttp", "sqlalchemy"},
}


#: The node's layers, lowest first. A part may import its own layer's modules and those of lower
#: layers; parts side by side in one layer (web and demo, serve and check) never import each other.
NODE_LAYERS: tuple[tuple[str, ...], ...] = (
    ("domain",),
    ("storage",),
    ("convert",),
    ("services",),
    ("bootstrap", "logs", "supervisor"),
    ("web", "demo"),
    ("serve", "check"),
    ("cli",),
)
LAYER_OF = {part: rank for rank, parts in enumerate(NODE_LAYERS) for part in parts}


def imported_modules(path: Path) -> set[str]:
    """Dotted names of the modules a file imports (absolute imports; we use no relative ones in
    node, federation or instance_config)."""
    modules = set()
    for statement in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(statement, ast.Import):
            modules |= {alias.name for alias in statement.names}
        elif isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
            modules.add(statement.module)
    return modules


def imported_roots(path: Path) -> set[str]:
    """Top-level package names a module imports."""
    return {module.split(".")[0] for module in imported_modules(path)}


def node_part(module: str) -> str | None:
    """The layer part of node a module belongs to: `node.services.x` -> services."""
    parts = module.split(".")
    return parts[1] if parts[0] == "node" and len(parts) > 1 else None


def layer_offences(module: str, imports: set[str]) -> list[str]:
    """Imports of node module `module` that run upwards or sideways between the node's layers."""
    own = node_part(module)
    if own is None:
        return []
    offences = []
    for target_module in sorted(imports):
        target = node_part(target_module)
        if target is None or target == own:
            continue
        if own not in LAYER_OF or target not in LAYER_OF:
            offences.append(f"{module} imports {target_module}: give node.{own} a layer")
        elif LAYER_OF[target] >= LAYER_OF[own]:
            offences.append(f"{module} imports {target_module} (upwards or sideways)")
    return offences


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {root}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for root in imported_roots(path) & FORBIDDEN[package]
    ]
    assert offences == []


def test_only_node_web_serves_http() -> None:
    offences = []
    for path in sorted((ROOT / "node").rglob("*.py")):
        if "web" in path.relative_to(ROOT).parts or path.name in ("serve.py", "logs.py"):
            continue
        source = path.read_text(encoding="utf-8")
        if "from aiohttp import web" in source or "aiohttp.web" in source:
            offences.append(str(path.relative_to(ROOT)))
    assert offences == []


def test_node_layers_import_only_downwards() -> None:
    offences = [
        offence
        for path in sorted((ROOT / "node").rglob("*.py"))
        for offence in layer_offences(
            ".".join(path.relative_to(ROOT).with_suffix("").parts), imported_modules(path)
        )
    ]
    assert offences == []


def test_every_part_of_node_has_a_layer() -> None:
    parts = {
        path.stem if path.is_file() else path.name
        for path in (ROOT / "node").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    assert parts - set(LAYER_OF) == set()


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("node.services.participation.needs", "node.web.forms"),
        ("node.services.accounts.members", "node.cli"),
        ("node.storage.inbox", "node.services.runtime"),
        ("node.domain.mesh", "node.storage.models"),
        ("node.web.app", "node.demo.fill"),
        ("node.convert.needs", "node.services.participation.history"),
    ],
)
def test_an_upward_or_sideways_import_is_caught(module: str, imported: str) -> None:
    assert len(layer_offences(module, {imported})) == 1


def test_downward_imports_pass() -> None:
    assert layer_offences("node.web.app", {"node.services.runtime", "node.domain.forms"}) == []
