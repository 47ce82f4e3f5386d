"""The dependency direction of DESIGN.md holds: node -> federation -> protocols; instance_config
is a leaf; protocols is pure. A violation fails here, so the layering cannot rot."""

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


def imported_roots(path: Path) -> set[str]:
    """Top-level package names a module imports."""
    roots = set()
    for statement in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(statement, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in statement.names}
        elif isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
            roots.add(statement.module.split(".")[0])
    return roots


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
