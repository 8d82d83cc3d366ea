"""``sandbox.down`` leaves nothing behind: every part exited and reaped, every port free for the next ``up``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pgvault.edges.stackfile import load_stack
from sandbox import lifecycle, stackfile
from sandbox.processes import State, port_open, read_pidfile


def _children_zombies() -> list[int]:
    """Pids of this process's children that exited without being reaped."""
    zombies = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            zombies.append(int(stat.parent.name))
    return zombies


@pytest.mark.slow
def test_down_waits_for_every_part_so_up_can_follow_at_once(monkeypatch):
    folder = stackfile.create("lifecycle", prefix="pgv-life-", bucket="pgvault-life")
    monkeypatch.setenv("PGVAULT_STACK_DIR", str(folder))
    cfg = load_stack("lifecycle")
    try:
        lifecycle.up(cfg)
        recorded = State(Path(cfg.sandbox.dir)).load()
        pids = [recorded[part]["pid"] for part in ("s3", "moto", "smtp")]
        pids.append(read_pidfile(Path(cfg.sandbox.dir) / "ssh" / "sshd.pid"))
        ports = [cfg.repository.endpoint_port, cfg.sandbox.moto_port, cfg.hosts[0].ssh_port, cfg.postgres.port,
                 *recorded["s3"]["ports"].values()]

        assert set(lifecycle.down(cfg)) >= {"s3", "moto", "smtp", "sshd", "postgres"}
        assert [port for port in ports if port_open(port)] == []
        assert [pid for pid in _children_zombies() if pid in pids] == [], (pids, recorded)

        # the same stack again, on the same ports, straight away
        folder.mkdir(exist_ok=True)
        assert dict(lifecycle.up(cfg))["sshd"].startswith("started")
    finally:
        lifecycle.down(cfg)
