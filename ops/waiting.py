"""Polling to a deadline instead of sleeping (Patroni's "within N seconds").

Every wait in pgvault and its tests goes through :func:`within`, scaled by
``$PGVAULT_TIMEOUT_MULTIPLIER`` for slow machines.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Callable, Optional, TypeVar

T = TypeVar("T")


def scaled(seconds: float) -> float:
    """``seconds`` times ``$PGVAULT_TIMEOUT_MULTIPLIER`` (default 1)."""
    return seconds * float(os.environ.get("PGVAULT_TIMEOUT_MULTIPLIER", "1"))


def within(seconds: float, probe: Callable[[], Optional[T]], interval: float = 0.2) -> Optional[T]:
    """Call ``probe`` until it returns something truthy or the deadline passes.

    :returns: the first truthy value, or ``None`` at the deadline
    """
    deadline = time.monotonic() + scaled(seconds)
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


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
