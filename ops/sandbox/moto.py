"""``moto_server`` as the sandbox's AWS control plane (CloudWatch, SNS, SQS)."""

from __future__ import annotations

from pathlib import Path

from ops.sandbox.processes import require_free_port, spawn, venv_binary, wait_started
from ops.waiting import port_open


def start(folder: Path, port: int) -> dict:
    """Start ``moto_server`` on 127.0.0.1:``port``; return ``{"pid"}``."""
    require_free_port(port, "moto_server", "pgvault:sandbox.moto_port")
    log = folder / "moto.log"
    pid = spawn([venv_binary("moto_server"), "-H", "127.0.0.1", "-p", str(port)], log)
    wait_started(lambda: port_open(port), "moto_server", log)
    return {"pid": pid}
