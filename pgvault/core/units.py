"""How pgvault writes sizes and durations for people: one formatter each (pure).

Every report, alert, status message, progress line and dashboard figure goes
through these two functions, so ``12 min`` and ``1.5 GB`` read the same
everywhere.
"""

from __future__ import annotations

MINUTE, HOUR, DAY = 60, 3600, 86400


def human_bytes(count: float) -> str:
    """``1.5 GB``-style size (powers of 1024, as pgBackRest prints them)."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``1 h 15 min``, ``30 h`` or ``8 d 18 h``: whole units, the two largest that matter."""
    whole = int(max(0, seconds))
    if whole >= 2 * DAY:
        days, hours = divmod(whole, DAY)
        return f"{days} d" + (f" {hours // HOUR} h" if hours // HOUR else "")
    if whole >= HOUR:
        hours, rest = divmod(whole, HOUR)
        return f"{hours} h" + (f" {rest // MINUTE} min" if rest // MINUTE else "")
    if whole >= 2 * MINUTE:
        return f"{whole // MINUTE} min"
    return f"{whole} s"
