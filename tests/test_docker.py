"""The container files agree with README: same command, PostgreSQL wired by URL."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_runs_the_node_with_postgresql_as_readme_says() -> None:
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    node, db = compose["services"]["node"], compose["services"]["db"]
    assert node["command"] == ["maillage", "serve"]
    assert node["environment"]["MAILLAGE_DATABASE_URL"].startswith("postgresql://")
    assert node["depends_on"]["db"]["condition"] == "service_healthy"
    assert db["image"].startswith("postgres:15")
    context = (ROOT / "docker" / node["build"]["context"]).resolve()
    assert context == ROOT and (context / node["build"]["dockerfile"]).exists()
    readme = (ROOT / "README.md").read_text()
    assert "docker compose -f docker/compose.yaml up" in readme
    assert "maillage serve" in readme


def test_dockerfile_runs_the_same_command_and_copies_every_package() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert 'CMD ["maillage", "serve"]' in dockerfile
    for package in ("node", "federation", "protocols", "instance_config"):
        assert f"COPY {package} ./{package}" in dockerfile
    assert "'.[postgres]'" in dockerfile


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]'"
        " && .venv/bin/python -m pytest -n 3\n"
    )
    assert command in readme and command in ci
