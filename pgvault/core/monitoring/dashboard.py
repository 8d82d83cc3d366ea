"""The backup dashboard: one self-contained HTML page from a status document (pure).

Everything is inline (CSS and SVG charts from ``charts``); the page makes no
network request, so it works opened from disk, served by ``monitor.serve``
or copied into an admin panel.  The template is autoescaped: every value
from the document (host names, backup labels, job messages, check messages)
is escaped by Jinja; only the charts, which ``charts`` builds with their own
escaping, arrive as :class:`~markupsafe.Markup` and go in as they are.  Key figures carry ``id`` and
``data-*`` attributes so that tests (and scripts) can read them back.
"""

from __future__ import annotations

from datetime import datetime

from pgvault.core.monitoring import charts, lastknown
from pgvault.core.monitoring.status import CRITICAL, OK, WARNING, headline
from pgvault.core.render import environment
from pgvault.core.units import duration, human_bytes

COLOURS = {OK: "#2e7d32", WARNING: "#ef8f00", CRITICAL: "#c62828"}


def _age(seconds: int | None, missing: str) -> str:
    return missing if seconds is None else f"{duration(seconds)} ago"


def _size(value: int | None) -> str:
    return "unknown" if value is None else human_bytes(value)


def stale_line(doc: dict) -> str:
    """What a stale document's page says above its figures ("" when everything was read this time)."""
    stale = doc.get("stale")
    if not stale:
        return ""
    what = "The bucket cannot be reached" if stale["unread"] == "bucket" else "pgBackRest cannot read the repository"
    return f"{what} {lastknown.note(doc)}."


#: storage classes of the forecast chart, cheapest last
FORECAST_CLASSES = (("STANDARD", "#5c6bc0"), ("STANDARD_IA", "#26a69a"), ("GLACIER_IR", "#8d6e63"))


def _forecast_chart(doc: dict):
    """The next 30 days of storage by class, the cost in the title (an empty chart before the first forecast)."""
    found = doc.get("forecast") or {"days": [], "cost": None}
    cost = found["cost"]
    title = (f"Storage forecast: {cost['total']:.2f} {cost['currency']} for {cost['period_days']} days"
             if cost else "Storage forecast")
    return charts.bar_chart(title, [f"+{d['day']}d" for d in found["days"]],
                            [(cls, [float(d["bytes"].get(cls, 0)) for d in found["days"]], colour)
                             for cls, colour in FORECAST_CLASSES], "size", human_bytes)


def render(doc: dict) -> str:
    """The dashboard page for one status document.

    The one cause to read first heads the page with what to do and its runbook section; each check links
    to its own section; a figure that could not be read is "unknown" (never "never"), and while the bucket
    cannot be read the figures shown are the last known, with their date.
    """
    checks = {c["key"]: c for c in doc["checks"]}
    backups = doc["backups"][-30:]
    labels = [datetime.fromisoformat(b["stop"]).strftime("%m-%d %H:%M") for b in backups]
    size_chart = charts.bar_chart(
        "Backup size history", labels,
        [("database size", [b["database_bytes"] for b in backups], "#5c6bc0"),
         ("stored in the bucket", [b["repository_delta_bytes"] for b in backups], "#26a69a")],
        "size", human_bytes)
    drills = list(reversed(doc.get("drills") or []))[-20:]
    drill_chart = charts.bar_chart(
        "Restore drills", [d["finished"][5:16].replace("T", " ") for d in drills],
        [("measured RTO", [float((d.get("seconds") or {}).get("rto") or 0) for d in drills], "#7e57c2"),
         ("recovery point lag", [float(d.get("recovery_lag_seconds") or 0) for d in drills], "#ff7043")],
        "seconds", lambda v: f"{v:.0f}")
    usage = sorted(doc["usage"].items(), key=lambda kv: -kv[1])
    usage_chart = charts.bar_chart("Off-site storage by category", [k for k, _ in usage],
                                   [("bytes", [float(v) for _, v in usage], "#8d6e63")], "size", human_bytes)
    return environment().get_template("dashboard.html.j2").render(
        doc=doc, checks=checks, colours=COLOURS, human_bytes=_size, headline=headline(doc), stale=stale_line(doc),
        age=lambda seconds: _age(seconds, lastknown.missing(doc)),
        nothing=lastknown.missing(doc) if doc.get("stale") else "nothing yet",
        none=lastknown.missing(doc) if doc.get("stale") else "none",
        size_chart=size_chart, drill_chart=drill_chart, usage_chart=usage_chart, forecast_chart=_forecast_chart(doc),
        jobs=list(reversed(doc["recent_jobs"]))[:15])
