"""2. Incremental backups after changing 1% and 10% of the rows, against the full."""

from __future__ import annotations

from bench.lab import Lab, say, stopwatch
from bench.plan import CHANGE_PERCENTS, Scale
from sandbox.seed import TABLES


def run(lab: Lab, scale: Scale) -> dict:
    """For each percentage: rewrite that share of every table's rows, then time ``fab backup.incr``.

    The changes are made in one burst, so their WAL (full-page images of
    nearly every page) is archived before the clock starts: in production that
    WAL is archived through the hour, and a backup's stop waits for it.  The
    wait is recorded beside the backup's time.
    """
    out = {}
    for pct in CHANGE_PERCENTS:
        start = lab.wal_lsn()
        changed = change_rows(lab, pct)
        lab.checkpoint()
        wal_bytes = lab.wal_bytes_since(start)
        backlog = lab.wait_archived()
        with stopwatch() as elapsed:
            lab.fab("backup.incr")
        newest = lab.info().backups[-1]
        out[str(pct)] = {"rows_changed": changed, "seconds": elapsed[0], "stored_bytes": newest.repo_delta,
                         "copied_bytes": newest.delta, "wal_bytes": wal_bytes, "wal_archive_seconds": backlog}
        say(f"incremental after {pct}% of rows changed: {elapsed[0]:.1f} s, {newest.repo_delta:,} bytes stored "
            f"(their {wal_bytes:,} bytes of WAL archived first in {backlog:.0f} s)")
    return out


def change_rows(lab: Lab, pct: int) -> int:
    """Rewrite ``pct``% of the rows of every CRM table, chosen at random (the worst case for file-level
    incrementals: the changes land all over the tables); return how many rows changed."""
    script = "".join(f"WITH changed AS (UPDATE {table} SET id = id WHERE random() < {pct / 100} RETURNING 1) "
                     "SELECT count(*) FROM changed;\n" for table in TABLES)
    return sum(int(line) for line in lab.psql(script).split())
