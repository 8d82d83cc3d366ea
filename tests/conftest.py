"""Test-wide fixtures: layer markers by folder, the order modules are handed out in under pytest-xdist, and the
unit-test guards (no network, no machine's /etc)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures"]

LAYERS = {"unit": "unit", "specs": "unit", "golden": "unit", "infra": "infra", "integration": "integration",
          "host": "host"}
#: the longest modules, longest first: ``make test`` (pytest-xdist, ``--dist loadfile``) hands them out before the
#: rest, so no worker starts one of them when the others are nearly done. Only an order: a module missing here
#: just starts later.
LONGEST_FIRST = ("integration/test_staging.py", "integration/test_standby.py", "integration/test_failover_rebuild.py",
                 "integration/test_promote_staging.py",
                 "integration/test_faults.py", "integration/test_runbooks.py", "integration/test_wal_history.py",
                 "integration/test_monitoring.py", "integration/test_expire.py", "integration/test_drills.py",
                 "integration/test_three_hosts.py", "integration/test_backup_restore.py",
                 "integration/test_bad_input.py", "integration/test_hourly.py", "integration/test_logical.py")
#: what a unit test may not read: the configuration of the machine it happens to run on
MACHINE_CONFIG = "/etc/"


def pytest_collection_modifyitems(config, items):
    """Mark each test with its layer (from its folder), so ``-m unit`` selects a layer; in a pytest-xdist
    worker, put the longest modules first (each module's tests keep their order)."""
    for item in items:
        layer = Path(str(item.fspath)).parent.name
        if layer in LAYERS:
            item.add_marker(getattr(pytest.mark, LAYERS[layer]))
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=_hand_out_rank)


def _hand_out_rank(item) -> int:
    module = Path(str(item.fspath))
    name = f"{module.parent.name}/{module.name}"
    return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)


class _MachineGuard:
    """An audit hook (hooks cannot be removed, so it is installed once and armed per test) refusing opens of /etc."""

    armed = False

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        if cls.armed and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            if path.startswith(MACHINE_CONFIG):
                cls.armed = False  # let the failure report itself
                raise AssertionError(f"a unit test read {path}: it must not depend on this machine's configuration")


sys.addaudithook(_MachineGuard.hook)


@pytest.fixture(autouse=True)
def _unit_tests_stay_off_the_machine(request, monkeypatch):
    """Unit, spec and golden tests open no sockets, read no ``PGVAULT_*`` variable and no file under /etc."""
    if request.node.get_closest_marker("unit") is None:
        yield
        return
    for name in [n for n in os.environ if n.startswith("PGVAULT_")]:
        monkeypatch.delenv(name)

    def refuse(*args, **kwargs):
        raise AssertionError("unit tests must not open network connections")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    _MachineGuard.armed = True
    try:
        yield
    finally:
        _MachineGuard.armed = False
