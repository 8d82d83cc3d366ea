"""Human-readable sizes for reports (pure)."""

from __future__ import annotations


def human_bytes(count: float) -> str:
    """``1.5 GB``-style size (powers of 1024, as pgBackRest prints them)."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
