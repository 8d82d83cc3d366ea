"""Polling to a deadline instead of sleeping (Patroni's "within N seconds").

Every wait in pgvault and its tests goes through :func:`within`, scaled by
``$PGVAULT_TIMEOUT_MULTIPLIER`` for slow machines.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def scaled(seconds: float) -> float:
    """``seconds`` times ``$PGVAULT_TIMEOUT_MULTIPLIER`` (default 1)."""
    return seconds * float(os.environ.get("PGVAULT_TIMEOUT_MULTIPLIER", "1"))


def within(seconds: float, probe: Callable[[], T | None], interval: float = 0.2) -> T | None:
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
