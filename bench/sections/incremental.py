"""2. Incremental backups after changing 1% and 10% of the rows, against the full."""

from __future__ import annotations

from bench.lab import Lab, say, stopwatch
from bench.plan import CHANGE_PERCENTS, Scale
from ops.sandbox.seed import TABLES


def run(lab: Lab, scale: Scale) -> dict:
    """For each percentage: rewrite that share of every table's rows, then time ``fab backup.incr``."""
    out = {}
    for pct in CHANGE_PERCENTS:
        changed = change_rows(lab, pct)
        lab.checkpoint()
        with stopwatch() as elapsed:
            lab.fab("backup.incr")
        newest = lab.info().backups[-1]
        out[str(pct)] = {"rows_changed": changed, "seconds": elapsed[0], "stored_bytes": newest.repo_delta,
                         "copied_bytes": newest.delta}
        say(f"incremental after {pct}% of rows changed: {elapsed[0]:.1f} s, {newest.repo_delta:,} bytes stored")
    return out


def change_rows(lab: Lab, pct: int) -> int:
    """Rewrite ``pct``% of the rows of every CRM table, chosen at random (the worst case for file-level
    incrementals: the changes land all over the tables); return how many rows changed."""
    script = "".join(f"WITH changed AS (UPDATE {table} SET id = id WHERE random() < {pct / 100} RETURNING 1) "
                     "SELECT count(*) FROM changed;\n" for table in TABLES)
    return sum(int(line) for line in lab.psql(script).split())
