"""The backup dashboard: one self-contained HTML page from a status document (pure).

Everything is inline (CSS and SVG charts from ``ops.charts``); the page makes
no network request, so it works opened from disk, served by ``monitor.serve``
or copied into an admin panel.  Key figures carry ``id`` and ``data-*``
attributes so that tests (and scripts) can read them back.
"""

from __future__ import annotations

from datetime import datetime

from ops import charts
from ops.render import environment
from ops.status import CRITICAL, OK, WARNING
from ops.units import human_bytes

COLOURS = {OK: "#2e7d32", WARNING: "#ef8f00", CRITICAL: "#c62828"}


def _mb(value: float) -> str:
    return f"{value / 1024 / 1024:.0f}" if value >= 10 * 1024 * 1024 else f"{value / 1024 / 1024:.1f}"


def _age(seconds) -> str:
    if seconds is None:
        return "never"
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.1f} days ago"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} hours ago"
    if seconds >= 120:
        return f"{seconds // 60} minutes ago"
    return f"{seconds} seconds ago"


def render(doc: dict) -> str:
    """The dashboard page for one status document."""
    checks = {c["key"]: c for c in doc["checks"]}
    backups = doc["backups"][-30:]
    labels = [datetime.fromisoformat(b["stop"]).strftime("%m-%d %H:%M") for b in backups]
    size_chart = charts.bar_chart(
        "Backup size history", labels,
        [("database size", [b["database_bytes"] for b in backups], "#5c6bc0"),
         ("stored in the bucket", [b["repository_delta_bytes"] for b in backups], "#26a69a")],
        "MB", _mb)
    drills = list(reversed(doc.get("drills") or []))[-20:]
    drill_chart = charts.bar_chart(
        "Restore drills", [d["finished"][5:16].replace("T", " ") for d in drills],
        [("measured RTO", [float((d.get("seconds") or {}).get("rto") or 0) for d in drills], "#7e57c2"),
         ("recovery point lag", [float(d.get("recovery_lag_seconds") or 0) for d in drills], "#ff7043")],
        "seconds", lambda v: f"{v:.0f}")
    usage = sorted(doc["usage"].items(), key=lambda kv: -kv[1])
    usage_chart = charts.bar_chart("Off-site storage by category", [k for k, _ in usage],
                                   [("bytes", [float(v) for _, v in usage], "#8d6e63")], "MB", _mb)
    return environment().get_template("dashboard.html.j2").render(
        doc=doc, checks=checks, colours=COLOURS, age=_age, human_bytes=human_bytes,
        size_chart=size_chart, drill_chart=drill_chart, usage_chart=usage_chart,
        jobs=list(reversed(doc["recent_jobs"]))[:15])
