"""Progress with percentage and ETA from pgBackRest's detail log lines.

At ``--log-level-console=detail`` pgBackRest prints one line per file copied,
ending in ``(<size>, <percent>%)``.  :class:`Progress` turns that stream into
an occasional ``42.0% (ETA 1m05s)`` line, and :class:`LineSink` is the
file-like object Fabric streams a remote command's output into.
"""

from __future__ import annotations

import re
import time
from typing import Callable, Optional

_PERCENT = re.compile(r"(?:backup|restore) file .*?(\d+(?:\.\d+)?)%\)")


def eta_text(seconds: float) -> str:
    """``1h02m``, ``3m05s`` or ``12s``."""
    seconds = int(max(0, seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Progress:
    """Turn pgBackRest detail lines into throttled progress messages."""

    def __init__(self, label: str, every: float = 2.0, clock: Callable[[], float] = time.monotonic):
        self.label = label
        self.every = every
        self.clock = clock
        self.started = clock()
        self.shown_at: Optional[float] = None
        self.percent = 0.0

    def feed(self, line: str) -> Optional[str]:
        """Return a message for the operator when one is due, else ``None``."""
        match = _PERCENT.search(line)
        if not match:
            return None
        if self.percent >= 100:
            return None
        self.percent = float(match.group(1))
        now = self.clock()
        if self.percent < 100 and self.shown_at is not None and now - self.shown_at < self.every:
            return None
        elapsed = now - self.started
        if self.percent >= 100:
            return f"  {self.label}: 100% copied in {eta_text(elapsed)}"
        if self.percent < 1 or elapsed < 1:
            return None  # too early for an ETA worth reading
        self.shown_at = now
        eta = elapsed * (100 - self.percent) / self.percent
        return f"  {self.label}: {self.percent:5.1f}% (ETA {eta_text(eta)})"


class LineSink:
    """A write-only stream that keeps everything and hands complete lines to a callback."""

    def __init__(self, on_line: Callable[[str], None]):
        self.on_line = on_line
        self.parts: list[str] = []
        self._pending = ""

    def write(self, data: str) -> int:
        self.parts.append(data)
        self._pending += data
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self.on_line(line)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: lines are handled as they complete."""

    @property
    def text(self) -> str:
        """Everything written so far."""
        return "".join(self.parts)
