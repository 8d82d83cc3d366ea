"""The targets the benchmark's numbers are held against (pure): a miss is reported, never hidden."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.stats import ratio


def default_variant(doc: dict) -> str:
    """The impact section's key for the configured backup ``process-max`` and priority."""
    defaults = doc["defaults"]
    return f"process-max {defaults['backup_process_max']}, {defaults['backup_priority']} priority"


def _median(doc: dict, *path: str) -> float | None:
    node = doc
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node["median"] if isinstance(node, dict) else node


def _restore_speedup(doc: dict) -> tuple[float | None, float]:
    base, ours = _median(doc, "restore", "baseline", "seconds"), _median(doc, "restore", "pgvault", "seconds")
    return (ratio(base, ours) if base and ours else None), 3.0


def _full_vs_floor(doc: dict) -> tuple[float | None, float]:
    ours, floor = _median(doc, "full", "pgvault", "seconds"), _median(doc, "full", "floor", "seconds")
    return (ratio(ours, floor) if ours and floor else None), 1.5


def _throughput(doc: dict) -> tuple[float | None, float]:
    during, alone = _median(doc, "impact", default_variant(doc), "tps"), _median(doc, "impact", "none", "tps")
    return (ratio(during, alone) if during and alone else None), 0.90


def _wal_lag(doc: dict) -> tuple[float | None, float]:
    return _median(doc, "wal", "async", "lag_s", "p99"), float(doc["defaults"]["archive_timeout_seconds"])


def _stored_share(doc: dict) -> tuple[float | None, float]:
    stored = _median(doc, "full", "pgvault", "stored_bytes")
    return (ratio(stored, doc.get("database_bytes", 0)) if stored else None), 0.25


def _from_standby(doc: dict) -> tuple[float | None, float]:
    found = doc.get("standby") or {}
    during, alone = _median(found, "standby", "tps"), _median(found, "none", "tps")
    return (ratio(during, alone) if during and alone else None), 0.98


def _standby_p99(doc: dict) -> tuple[float | None, float]:
    found = doc.get("standby") or {}
    during, alone = _median(found, "standby", "p99_ms"), _median(found, "none", "p99_ms")
    return (ratio(during, alone) if during and alone else None), 1.5


def day_multiple(doc: dict, rule: str) -> float | None:
    """Bytes a day of backups stored under ``rule`` as a multiple of that day's full (None if not measured)."""
    found = (doc.get("day") or {}).get(rule)
    return ratio(found["total_bytes"], found["full_bytes"]) if found and found.get("full_bytes") else None


def _day(doc: dict) -> tuple[float | None, float]:
    whole_day = (doc.get("day") or {}).get("hours", 0) >= 24
    return (day_multiple(doc, "adaptive") if whole_day else None), 3.0


@dataclass(frozen=True)
class Target:
    """One promise: what is measured, the limit, and which side of it passes."""

    key: str
    text: str
    measure: Callable[[dict], tuple[float | None, float]]
    higher_is_better: bool
    unit: str


TARGETS = (
    Target("restore_speedup", "restore to a usable database at least 3x faster than the baseline's pg_restore",
           _restore_speedup, True, "x"),
    Target("full_vs_floor", "full backup within 1.5x of the floor (tar | zstd -1 -T0)", _full_vs_floor, False, "x"),
    Target("throughput", "production throughput during a full backup at least 90% of the no-backup run",
           _throughput, True, "%"),
    Target("wal_lag_p99", "WAL archive lag p99 within archive_timeout", _wal_lag, False, "s"),
    Target("stored_share", "bytes stored at most 25% of the database size", _stored_share, False, "%"),
    Target("day_vs_full", "a day of backups with the adaptive hourly job stores at most 3 fulls", _day, False, "x"),
    Target("standby_throughput", "production throughput at half of its peak during a full backup from the standby "
           "at least 98% of the no-backup run", _from_standby, True, "%"),
    Target("standby_p99", "production p99 latency at half of its peak during a full backup from the standby "
           "within 1.5x of the no-backup run", _standby_p99, False, "x"),
)


def evaluate(doc: dict) -> list[dict]:
    """Each target with its measured value, limit and verdict (``met`` is None when it was not measured)."""
    out = []
    for target in TARGETS:
        value, limit = target.measure(doc)
        met = None if value is None else (value >= limit if target.higher_is_better else value <= limit)
        out.append({"key": target.key, "text": target.text, "value": value, "limit": limit, "unit": target.unit,
                    "higher_is_better": target.higher_is_better, "met": met})
    return out
