"""Last known values: what the status document shows while the bucket cannot be read (pure).

A bucket that does not answer for five minutes must not read as "the backups
were deleted" ("last backup never", "0 B, 0 backup sets").  The monitor keeps
its last status document on the host (``status.json``); when the bucket, or
pgBackRest's view of the repository, cannot be read, the figures that come
from there are carried over from that document, their ages recomputed to now,
and the document says so: ``stale`` holds when they were last read and since
when they could not be.  A figure never read is ``None``: shown as "unknown",
never as "never" or zero.
"""

from __future__ import annotations

from datetime import datetime

#: what could not be read -> the document's sections that come from there
PARTS = {
    "repository": ("backups", "archive", "window", "sizes", "retention"),
    "bucket": ("backups", "archive", "window", "sizes", "retention", "usage", "drill", "drills",
               "suspicious_drills"),
}
#: what could not be read -> the keys of the document's ``last`` section that come from there
LAST = {
    "repository": ("full", "full_at", "backup", "backup_at"),
    "bucket": ("full", "full_at", "backup", "backup_at", "logical_at"),
}
#: age in ``ages`` -> the ``last`` key it is measured from
AGES = {"last_full_seconds": "full_at", "last_backup_seconds": "backup_at", "last_logical_seconds": "logical_at"}
#: a section's value when it was never read
_UNKNOWN = {"backups": [], "archive": {"min": None, "max": None}, "window": {"earliest": None, "latest": None},
            "sizes": {"last_backup_database_bytes": None, "repository_bytes": None}, "usage": {}, "drill": None,
            "drills": [], "suspicious_drills": []}


def _age(now: datetime, when: str | None) -> int | None:
    return None if when is None else max(0, int((now - datetime.fromisoformat(when)).total_seconds()))


def carry(doc: dict, previous: dict | None, unread: frozenset[str], now: datetime) -> None:
    """Replace in ``doc`` what could not be read by the last known values of ``previous``, and mark it stale.

    :param doc: the document built from this run's facts (changed in place)
    :param previous: the last status document the monitor wrote, ``None`` when there is none
    :param unread: ``"bucket"`` (nothing from the bucket) and/or ``"repository"`` (pgBackRest's info)
    :param now: the host's clock
    """
    scope = "bucket" if "bucket" in unread else "repository"
    before = (previous or {}).get("stale") or {}
    known = previous is not None and (not before or before.get("as_of") is not None)
    as_of = (before.get("as_of") if before else previous["collected_at"]) if known else None
    unknown = {**_UNKNOWN, "retention": {**doc["retention"], "counts": dict.fromkeys(doc["retention"]["counts"]),
                                         "to_expire": None}}
    for part in PARTS[scope]:
        doc[part] = previous.get(part, unknown[part]) if known else unknown[part]
    for key in LAST[scope]:
        doc["last"][key] = previous.get("last", {}).get(key) if known else None
    for age, key in AGES.items():
        if key in LAST[scope]:
            doc["ages"][age] = _age(now, doc["last"][key])
    if scope == "bucket":
        drill = doc["drill"] or {}  # the bucket's time of it; a document from before pgvault kept that: its own
        doc["ages"]["last_drill_seconds"] = _age(now, (drill.get("stored") or {}).get("at") or drill.get("finished"))
    doc["stale"] = {"unread": scope, "as_of": as_of, "since": before.get("since") or doc["collected_at"]}


def clock(when: str, now: datetime) -> str:
    """``06:51 UTC`` for a moment today, ``2026-11-26 06:51 UTC`` for an older one."""
    moment = datetime.fromisoformat(when)
    return moment.strftime("%H:%M UTC" if moment.date() == now.date() else "%Y-%m-%d %H:%M UTC")


def as_of(doc: dict) -> str | None:
    """When the figures of a stale document were last read, as :func:`clock` writes it; ``None`` when the
    document is not stale or no earlier figures are on record."""
    stale = doc.get("stale")
    if not stale or stale["as_of"] is None:
        return None
    return clock(stale["as_of"], datetime.fromisoformat(doc["collected_at"]))


def missing(doc: dict) -> str:
    """How a figure that is not there reads: "never" when everything was read, "none as of 06:51 UTC" when
    the last known document had none, "unknown" when no earlier document is on record."""
    if not doc.get("stale"):
        return "never"
    return f"none as of {as_of(doc)}" if as_of(doc) else "unknown"


def note(doc: dict) -> str:
    """What a stale document says about its figures (empty when nothing is stale): the cause's tail."""
    stale = doc.get("stale")
    if not stale:
        return ""
    since = clock(stale["since"], datetime.fromisoformat(doc["collected_at"]))
    if as_of(doc) is None:
        return f"since {since}; no earlier figures on record: unknown"
    return f"since {since}; figures shown are the last known, as of {as_of(doc)}"
