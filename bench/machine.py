"""EDGE: a description of the machine a benchmark ran on, for the results' header."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path


def _first(pattern: str, text: str, default: str = "unknown") -> str:
    found = re.search(pattern, text, re.MULTILINE)
    return found.group(1).strip() if found else default


def _version(argv: list[str]) -> str:
    if not shutil.which(argv[0]):
        return "not installed"
    done = subprocess.run(argv, capture_output=True, text=True)
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else "unknown"


def _scheduler(folder: Path) -> str:
    """The I/O scheduler of the disk holding ``folder`` (``ionice`` only matters with bfq)."""
    dev = os.stat(folder).st_dev
    base = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
    for queue in (base / "queue" / "scheduler", base.parent / "queue" / "scheduler"):
        if queue.is_file():
            return _first(r"\[(\w[\w-]*)\]", queue.read_text(), queue.read_text().strip())
    return "unknown"


def describe(folder: Path, weed: str, server_version: str) -> dict:
    """CPU, memory, disk, OS and the versions of every part that was measured."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    meminfo = Path("/proc/meminfo").read_text()
    disk = shutil.disk_usage(folder)
    return {
        "cpu": _first(r"^model name\s*:\s*(.+)$", cpuinfo),
        "cores": os.cpu_count(),
        "memory_gb": round(int(_first(r"^MemTotal:\s*(\d+)", meminfo, "0")) / 2**20, 1),
        "disk_gb": round(disk.total / 2**30),
        "io_scheduler": _scheduler(folder),
        "os": _first(r'^PRETTY_NAME="?([^"\n]+)', Path("/etc/os-release").read_text()),
        "kernel": platform.release(),
        "postgresql": server_version,
        "pgbackrest": _version(["pgbackrest", "version"]),
        "seaweedfs": _version([weed, "version"]),
        "python": platform.python_version(),
        "s3": "SeaweedFS on the same machine, TLS over loopback",
    }
