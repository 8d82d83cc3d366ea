"""Progress with percentage and ETA from pgBackRest's detail log lines.

At ``--log-level-console=detail`` pgBackRest prints one line per file copied,
ending in ``(<size>, <percent>%)``.  :class:`Progress` turns that stream into
an occasional ``42.0% (ETA 3 min)`` line, and :class:`LineSink` is the
file-like object Fabric streams a remote command's output into.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from pgvault.core.units import duration

_PERCENT = re.compile(r"(?:backup|restore) file .*?(\d+(?:\.\d+)?)%\)")


class Progress:
    """Turn pgBackRest detail lines into throttled progress messages."""

    def __init__(self, label: str, every: float = 2.0, clock: Callable[[], float] = time.monotonic):
        self.label = label
        self.every = every
        self.clock = clock
        self.started = clock()
        self.shown_at: float | None = None
        self.percent = 0.0

    def feed(self, line: str) -> str | None:
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
            return f"  {self.label}: 100% copied in {duration(elapsed)}"
        if self.percent < 1 or elapsed < 1:
            return None  # too early for an ETA worth reading
        self.shown_at = now
        eta = elapsed * (100 - self.percent) / self.percent
        return f"  {self.label}: {self.percent:5.1f}% (ETA {duration(eta)})"


class LineSink:
    """A write-only stream that keeps everything and hands complete lines to a callback."""

    def __init__(self, on_line: Callable[[str], None]):
        self.on_line = on_line
        self.parts: list[str] = []
        self._pending = ""

    def write(self, data: str) -> int:
        """Keep ``data`` and hand every line it completes to the callback."""
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
