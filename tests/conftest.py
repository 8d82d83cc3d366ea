"""Test-wide fixtures: layer markers by folder, and the unit-test network guard."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures"]

LAYERS = {"unit": "unit", "specs": "unit", "golden": "unit", "infra": "infra", "integration": "integration",
          "host": "host"}


def pytest_collection_modifyitems(config, items):
    """Mark each test with its layer (from its folder), so ``-m unit`` selects a layer."""
    for item in items:
        layer = Path(str(item.fspath)).parent.name
        if layer in LAYERS:
            item.add_marker(getattr(pytest.mark, LAYERS[layer]))


@pytest.fixture(autouse=True)
def _no_network_in_unit_tests(request, monkeypatch):
    """Unit, spec and golden tests must not open sockets: the pure core needs none."""
    if request.node.get_closest_marker("unit") is None:
        return
    for name in [n for n in os.environ if n.startswith("PGVAULT_")]:
        monkeypatch.delenv(name)

    def refuse(*args, **kwargs):
        raise AssertionError("unit tests must not open network connections")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
