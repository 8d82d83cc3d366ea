"""Statistics of benchmark samples and the parsers that produce them (pure)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence

#: bytes per WAL segment (PostgreSQL's default, the sandbox's)
SEGMENT_BYTES = 16 * 1024 * 1024


def summary(samples: Sequence[float]) -> dict:
    """Median, extremes and spread of repeated measurements.

    ``spread_pct`` is (max - min) / median in percent: how far to trust the median.
    """
    if not samples:
        raise ValueError("no samples to summarise")
    median = statistics.median(samples)
    return {
        "n": len(samples),
        "median": median,
        "min": min(samples),
        "max": max(samples),
        "spread_pct": 100.0 * (max(samples) - min(samples)) / median if median else 0.0,
        "samples": list(samples),
    }


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile of ``values`` by linear interpolation between ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def pgbench_latencies_ms(lines: Iterable[str]) -> list[float]:
    """Transaction latencies in milliseconds from pgbench's per-transaction log (``-l``).

    Each line is ``client_id transaction_no time script_no time_epoch time_us``
    with ``time`` the latency in microseconds (pgbench documentation,
    "Per-Transaction Logging"); skipped or failed transactions are left out.
    """
    out = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 6 and fields[2].isdigit():
            out.append(int(fields[2]) / 1000.0)
    return out


def segment_number(lsn: str) -> int:
    """The WAL segment number an LSN (``X/Y``) falls in."""
    high, low = lsn.split("/")
    return ((int(high, 16) << 32) | int(low, 16)) // SEGMENT_BYTES


def completions(samples: Sequence[tuple[float, int]]) -> dict[int, float]:
    """When each WAL segment was completed, from (time, current segment) samples.

    A segment is complete when the insert position first lies past it: when
    the current segment moves from ``a`` to ``b``, segments ``a .. b-1``
    completed at that sample's time.
    """
    done: dict[int, float] = {}
    previous = None
    for when, current in samples:
        if previous is not None and current > previous:
            for number in range(previous, current):
                done.setdefault(number, when)
        previous = current if previous is None else max(previous, current)
    return done


def archive_lags(completed: Mapping[int, float], arrived: Mapping[int, float]) -> tuple[list[float], list[int]]:
    """Seconds from each segment's completion to its arrival in the bucket, and the segments that never arrived."""
    lags, missing = [], []
    for number, done in sorted(completed.items()):
        if number in arrived:
            lags.append(max(0.0, arrived[number] - done))
        else:
            missing.append(number)
    return lags, missing


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when the denominator is zero."""
    return numerator / denominator if denominator else None
