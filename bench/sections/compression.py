"""6. Compression choices: full backups with each zstd level, lz4 and gz; time and bytes stored."""

from __future__ import annotations

from bench import stats
from bench.lab import Lab, say, stopwatch
from bench.plan import COMPRESSIONS, Scale
from pgvault.core.pgbackrest import priority_prefix


def run(lab: Lab, scale: Scale) -> dict:
    """Time a full backup per compression variant (``--compress-type/--compress-level`` on the command line)."""
    out = {}
    pgb = lab.cfg.pgbackrest
    for ctype, level in COMPRESSIONS:
        seconds, stored, copied = [], [], []
        for _ in range(scale.impact_reps):
            with stopwatch() as elapsed:
                lab.pgbackrest("backup", "--type=full", f"--compress-type={ctype}", f"--compress-level={level}",
                               priority=priority_prefix(pgb.backup_priority))  # process-max from [global:backup]
            seconds.append(elapsed[0])
            newest = lab.info().backups[-1]
            stored.append(newest.repo_size)
            copied.append(newest.size)
        key = f"{ctype}-{level}"
        out[key] = {"seconds": stats.summary(seconds), "stored_bytes": stats.summary(stored),
                    "copied_bytes": stats.summary(copied),
                    "default": (ctype, level) == (pgb.compress_type, pgb.compress_level)}
        found = out[key]
        say(f"compression {key}: {found['seconds']['median']:.1f} s, {int(found['stored_bytes']['median']):,} bytes")
    # an incremental inherits its full's compression: leave a full with the configured one as the newest,
    # so that the incremental and restore sections measure the defaults, not the last variant
    lab.fab("backup.full")
    return out
