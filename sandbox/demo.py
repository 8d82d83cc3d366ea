"""``make demo``: the main job end to end in the sandbox, with proof at the end.

Sandbox up, CRM data seeded, the host set up, a full backup, changes, an
incremental backup, more changes up to a target time T, an "accidental"
delete after T, then a point-in-time restore to T into a scratch cluster and a
table-by-table comparison (row counts and content checksums) with the
database as it was at T.  It calls the same functions as the ``fab`` tasks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import psycopg

from ops import ssh
from ops.host import converge, survey
from pgvault.actions import backup, restore
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.schema import StackConfig
from pgvault.core.targets import parse_target
from pgvault.core.units import human_bytes
from sandbox import lifecycle
from sandbox.seed import checksum_sql, row_counts, seed_sql

#: changes made between the full and the incremental backup
CHANGES_BEFORE_INCR = [
    "UPDATE clients SET status = 'closed', updated_at = now() WHERE id % 9 = 0",
    "INSERT INTO notes SELECT max_id + g, 1 + g % 100, 1 + g % 10, now(), false, 'Follow-up call booked ' || g "
    "FROM generate_series(1, 500) g, (SELECT max(id) AS max_id FROM notes) m",
]
#: changes after the incremental backup, still before the target time
CHANGES_BEFORE_TARGET = [
    "UPDATE properties SET list_price = list_price - 5000, status = 'active' WHERE id % 13 = 0",
    "INSERT INTO appointments SELECT max_id + g, 1 + g % 50, NULL, 1 + g % 10, 'showing', 'scheduled', "
    "now() + g * interval '1 hour', 30, 'demo' FROM generate_series(1, 200) g, "
    "(SELECT max(id) AS max_id FROM appointments) m",
]
#: the "accident" after the target time that the restore undoes
ACCIDENT = ["DELETE FROM notes WHERE id % 2 = 0", "UPDATE escrows SET status = 'cancelled'"]


def _execute(dsn: str, statements: list[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _checksums(dsn: str) -> dict:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(checksum_sql()).fetchone()[0]


def run(c, cfg: StackConfig, scale: int, say: Callable[[str], None]) -> dict:
    """Run the demo; return the summary. Raises when the restored data differs."""
    timings: dict[str, float] = {}

    def step(name: str, action):
        started = time.monotonic()
        value = action()
        timings[name] = round(time.monotonic() - started, 1)
        return value

    say("1/8 sandbox up")
    step("sandbox up", lambda: [say(f"    {p:9} {w}") for p, w in lifecycle.up(cfg)])
    dsn = lifecycle.dsn(cfg)
    say(f"2/8 seeding the CRM dataset at scale {scale} ({sum(row_counts(scale).values()):,} rows)")
    step("seed", lambda: _execute(dsn, [seed_sql(scale)]))
    (entry, conn, cfg), = ssh.connections(c, cfg)
    say("3/8 host.setup")

    def setup():
        targets, _, host_plan = survey(conn, cfg)
        if not host_plan.empty:
            converge(conn, cfg, entry.name, targets, host_plan, say)
        say(f"    {'no changes' if host_plan.empty else 'configured: ' + '; '.join(host_plan.steps())}")

    step("host.setup", setup)
    say("4/8 full backup")
    full = step("full backup", lambda: backup.run_backup(conn, cfg, "full", say))
    say("5/8 changes, then an incremental backup")
    _execute(dsn, CHANGES_BEFORE_INCR)
    incr = step("incremental backup", lambda: backup.run_backup(conn, cfg, "incr", say))
    say("6/8 more changes up to the target time, then an accidental delete")
    _execute(dsn, CHANGES_BEFORE_TARGET)
    expected = _checksums(dsn)
    with psycopg.connect(dsn) as db:
        target_time: datetime = db.execute("SELECT clock_timestamp()").fetchone()[0]
    time.sleep(1.0)
    _execute(dsn, ACCIDENT)
    step("archive WAL", lambda: backup.flush_wal(conn, cfg))
    target = parse_target(time=target_time.isoformat())
    say(f"7/8 point-in-time restore to {target.value} into a scratch cluster")
    restored = step("restore", lambda: restore.to_scratch(conn, entry, cfg, target, None, say))
    say("8/8 comparing the restored tables with the database at the target time")
    restored_dsn = lifecycle.scratch_dsn(cfg, restored["socket_dir"], restored["port"])
    actual = _checksums(restored_dsn)
    differing = sorted(t for t in expected if expected[t] != actual.get(t))
    if differing:
        raise PgvaultError(f"restored data differs from the target time in: {', '.join(differing)}",
                           "keep the scratch cluster for inspection and report a bug", ExitCode.VERIFY)
    with psycopg.connect(dsn) as db:
        database_bytes = db.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {
        "database": human_bytes(database_bytes),
        "full_backup": f"{full.label}: {human_bytes(full.size)} cluster, {human_bytes(full.repo_delta)} stored",
        "incremental_backup": f"{incr.label}: {human_bytes(incr.repo_delta)} stored",
        "tables_matching": f"{len(expected)}/{len(expected)} (rows and content checksums)",
        "restored_cluster": f"{restored['name']} ({restored['data_dir']}), Unix socket only",
        "connect": restored["psql"],
        "restored_dsn": restored_dsn,
        "recovered_to": str(restored["recovered_to"]),
        "target": target.value,
        "restore_seconds": ", ".join(f"{k} {v}s" for k, v in restored["seconds"].items()),
        "timings": ", ".join(f"{k} {v}s" for k, v in timings.items()),
    }
