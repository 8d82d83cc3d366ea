"""3b. Point-in-time restore that replays the WAL of a busy hour on top of the hourly incremental."""

from __future__ import annotations

import json

from bench.lab import Lab, say, stopwatch
from bench.plan import Scale
from bench.workload import write_wal
from pgvault.actions import backup
from pgvault.edges.execute import LocalHost

POINT = "bench-pitr"


def run(lab: Lab, scale: Scale) -> dict:
    """Take an incremental, write ``scale.pitr_wal_mb`` of WAL, mark a restore point and restore to it."""
    lab.fab("backup.incr")
    written = write_wal(lab, scale.pitr_wal_mb, scale.seed_scale)
    lab.fab("backup.mark", "--name", POINT)
    backup.flush_wal(LocalHost(), lab.cfg, 900)
    with stopwatch() as elapsed:
        doc = json.loads(lab.fab("restore.pitr", "--target-name", POINT, "--name", POINT, "--json"))
    lab.fab("restore.drop", "--name", doc["name"])
    say(f"point-in-time restore replaying {written / 2**20:.0f} MB of WAL: {elapsed[0]:.1f} s")
    return {"seconds": elapsed[0], "wal_bytes": written, "phases": doc.get("seconds", {})}
