"""5. WAL archiving under a write-heavy load: segments per second and the lag to the bucket.

A poller samples the WAL insert position every 0.1 s (a segment is complete
when the position passes its end) and another lists the archive in the bucket
every 0.5 s (a segment has arrived when its object is listed), so each lag is
exact to about half a second.  It runs once with asynchronous archiving (the
default) and once with ``archive_command`` forced synchronous.
"""

from __future__ import annotations

import itertools
import shlex
import threading
import time

from bench import stats
from bench.lab import Lab, say
from bench.plan import Scale
from bench.workload import pgbench
from pgvault.core import pgbackrest, walarchive
from pgvault.core.policy import archive_timeout_seconds
from pgvault.edges.bucket import current_archive

LSN_EVERY, LIST_EVERY = 0.1, 0.5


#: how far behind the newest segment seen the bucket is listed again (segments may land out of order)
REORDER_WINDOW = 32


def run(lab: Lab, scale: Scale) -> dict:
    """Measure archiving with the configured asynchronous mode and with synchronous pushes."""
    out = {"async": measure(lab, scale)}
    sync = shlex.join(pgbackrest.command(lab.cfg, "archive-push", "--archive-async=n", params=("%p",)))
    lab.psql(f"ALTER SYSTEM SET archive_command = '{sync}'; SELECT pg_reload_conf();", database="postgres")
    try:
        out["sync"] = measure(lab, scale)
    finally:
        lab.psql("ALTER SYSTEM RESET archive_command; SELECT pg_reload_conf();", database="postgres")
    return out


def measure(lab: Lab, scale: Scale) -> dict:
    """Write for ``scale.wal_seconds``, then wait for the bucket to catch up; lag statistics in seconds."""
    positions: list[tuple[float, int]] = []
    arrived: dict[int, float] = {}
    stop = threading.Event()
    pollers = [threading.Thread(target=_poll_positions, args=(lab, positions, stop)),
               threading.Thread(target=_poll_bucket, args=(lab, arrived, stop))]
    for poller in pollers:
        poller.start()
    try:
        time.sleep(1)
        load = pgbench(lab, "crm_write", scale.wal_seconds, scale.seed_scale, "wal")
        time.sleep(LSN_EVERY * 3)
        completed = stats.completions(positions)
        deadline = time.monotonic() + archive_timeout_seconds(lab.cfg.targets) + 60
        while time.monotonic() < deadline and not set(completed) <= set(arrived):
            time.sleep(LIST_EVERY)
    finally:
        stop.set()
        for poller in pollers:
            poller.join()
    return summarise(completed, arrived, load["tps"], scale.wal_seconds)


def summarise(completed: dict[int, float], arrived: dict[int, float], tps: float, seconds: int) -> dict:
    """The section's figures from completion and arrival times."""
    lags, missing = stats.archive_lags(completed, arrived)
    fills = [b - a for a, b in itertools.pairwise(sorted(completed.values()))]
    result = {"segments": len(completed), "missing": len(missing), "tps": tps,
              "segments_per_s": len(completed) / seconds,
              "wal_mb_per_s": len(completed) * stats.SEGMENT_BYTES / 2**20 / seconds}
    if lags:
        result["lag_s"] = {f"p{p}": stats.percentile(lags, p) for p in (50, 99)} | {"max": max(lags)}
        fill = stats.percentile(fills, 99) if fills else 0.0
        result["implied_rpo_s"] = fill + result["lag_s"]["p99"]
    say(f"WAL archiving: {len(completed)} segments, {result['segments_per_s']:.2f}/s, lag "
        + (f"p50 {result['lag_s']['p50']:.1f} s p99 {result['lag_s']['p99']:.1f} s" if lags else "not measured")
        + (f", {len(missing)} never arrived" if missing else ""))
    return result


def _poll_positions(lab: Lab, positions: list, stop: threading.Event) -> None:
    with lab.connect() as conn:
        while not stop.is_set():
            lsn = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]
            positions.append((time.monotonic(), stats.segment_number(lsn)))
            time.sleep(LSN_EVERY)


def _poll_bucket(lab: Lab, arrived: dict, stop: threading.Event) -> None:
    client, bucket = lab.s3(), lab.cfg.repository.bucket
    prefix = current_archive(client, lab.cfg)
    newest: tuple[int, int] | None = None
    while not stop.is_set():
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix,
                                                                     StartAfter=_list_from(prefix, newest)):
            for item in page.get("Contents", []):
                name = walarchive.segment_name(item["Key"])
                if name:
                    found = walarchive.position(name)
                    arrived.setdefault(found[1], time.monotonic())
                    newest = max(newest or found, found)
        time.sleep(LIST_EVERY)


def _list_from(prefix: str, newest: tuple[int, int] | None) -> str:
    """Where the next listing starts: ``REORDER_WINDOW`` segments behind the newest seen, because async
    archiving pushes in parallel and a segment can land after a later one."""
    if newest is None:
        return ""
    segment = walarchive.name_of(newest[0], max(0, newest[1] - REORDER_WINDOW))
    return f"{prefix}{segment[:16]}/{segment}"
