"""Start, find and stop the sandbox's daemons; remember them in ``state.json``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.edges.waiting import scaled, within


def venv_binary(name: str) -> str:
    """Path of a program installed by a Python package (beside this Python, else on PATH)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if not found:
        raise PgvaultError(f"{name} is not installed", "run make deps", ExitCode.FAILED)
    return found


def spawn(argv: Sequence[str], log: Path, env: dict | None = None) -> int:
    """Start a daemon in its own session, output to ``log``; return its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, env=env, close_fds=True,
        )
    return proc.pid


def alive(pid: int | None) -> bool:
    """True when ``pid`` is a running (not zombie) process."""
    if not pid:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def stop(pid: int | None, grace: float = 10.0) -> None:
    """Stop a daemon: SIGTERM, then SIGKILL after ``grace`` seconds; reap it when it is our child.

    SeaweedFS can ignore SIGTERM for over 15 s (DESIGN.md), hence the fallback.
    """
    if alive(pid):
        _signal(pid, signal.SIGTERM)
        if not within(grace, lambda: not alive(pid), interval=0.1):
            _signal(pid, signal.SIGKILL)
            within(5, lambda: not alive(pid), interval=0.1)
    _reap(pid)


def _reap(pid: int | None) -> None:
    """Collect the exit status of ``pid`` if this process started it (no zombie is left behind).

    A multi-threaded daemon (SeaweedFS) shows as a zombie while its other
    threads still exit, before it can be collected, hence the short wait.
    """
    def collected() -> bool:
        try:
            return os.waitpid(pid, os.WNOHANG)[0] == pid
        except ChildProcessError:
            return True  # not our child (an earlier ``fab sandbox.up`` started it), or already collected

    if pid:
        within(5, collected, interval=0.05)


def wait_closed(ports: Sequence[int], seconds: float = 30) -> None:
    """Wait until nothing listens on any of ``ports`` on loopback; raise naming those still open."""
    if within(seconds, lambda: not any(port_open(port) for port in ports), interval=0.1):
        return
    still = ", ".join(str(port) for port in ports if port_open(port))
    raise PgvaultError(f"ports {still} are still in use after the sandbox stopped",
                       "find the process with `ss -ltnp` and stop it", ExitCode.FAILED)


def _signal(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except OSError:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def read_pidfile(path: Path) -> int | None:
    """The pid in the first line of ``path``, or ``None``."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class State:
    """``state.json`` in the sandbox folder: pids and ports of what runs."""

    def __init__(self, folder: Path):
        self.path = folder / "state.json"

    def load(self) -> dict:
        """The recorded state, ``{}`` when there is none."""
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def update(self, part: str, value: dict | None) -> None:
        """Record (or, with ``None``, forget) one part, atomically."""
        data = self.load()
        if value is None:
            data.pop(part, None)
        else:
            data[part] = value
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        tmp.replace(self.path)


def wait_started(check, what: str, log: Path, seconds: float = 60) -> None:
    """Wait until ``check()`` is true, or raise with the log's tail."""
    if within(seconds, check, interval=0.2):
        return
    tail = ""
    try:
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
    except OSError:
        pass
    raise PgvaultError(f"{what} did not start within {scaled(seconds):.0f}s: {tail}", f"read {log}")



def require_free_port(port: int, what: str, key: str) -> None:
    """Refuse to start ``what`` on a port something else already uses."""
    if port_open(port):
        raise PgvaultError(
            f"port {port} for {what} is already in use", f"stop what uses it or change {key}", ExitCode.FAILED
        )


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
