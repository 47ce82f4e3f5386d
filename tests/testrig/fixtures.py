"""pytest fixtures for the Fedify test peer; import them into a conftest or a test module:

    from tests.testrig.fixtures import fedify_peer, fedify_peer_dir  # noqa: F401

Where Node.js/npm are missing or `npm ci` fails the Fedify tests are skipped with the reason,
unless MAILLAGE_REQUIRE_FEDIFY=1 or CI=true is set: then that is a failure, so that a CI
machine that should have Node.js never silently skips them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.testrig.fedify import FedifyPeer, FedifyUnavailable, prepare_peer


def fedify_required() -> bool:
    """True where a missing Fedify peer must fail rather than skip."""
    flags = (os.environ.get("MAILLAGE_REQUIRE_FEDIFY", ""), os.environ.get("CI", ""))
    return any(flag.strip().lower() in ("1", "true", "yes") for flag in flags)


@pytest.fixture(scope="session")
def fedify_peer_dir() -> Path:
    """The prepared peer folder (npm ci done once per lock file), or a skip saying why not."""
    try:
        return prepare_peer()
    except FedifyUnavailable as exc:
        if fedify_required():
            pytest.fail(f"Fedify peer unavailable although required: {exc}", pytrace=False)
        pytest.skip(f"Fedify peer tests skipped: {exc}")


@pytest.fixture
def fedify_peer(fedify_peer_dir: Path) -> Iterator[FedifyPeer]:
    """A freshly started peer (actor "alice" on a free loopback port), stopped afterwards."""
    peer = FedifyPeer(fedify_peer_dir).start()
    try:
        yield peer
    finally:
        peer.stop()
        tail = peer.stderr_tail().strip()
        if tail:
            print(f"--- Fedify peer {peer.base} stderr ---\n{tail}")
