"""No green light over a hole in the WAL archive (issue 13), on a private sandbox of its own.

A partial copy of the current segment pushed ahead of PostgreSQL, as a cloned
VM or a second primary would push it, makes PostgreSQL's archiver stick on
that segment while later WAL keeps reaching the bucket.  Committed rows after
the copy are then in no restorable WAL: the monitor must say so, naming the
segment, and a restore to "latest" must fail instead of promoting a copy
that silently lacks them.
"""

from __future__ import annotations

import pytest

from pgvault.core import pgbackrest
from pgvault.core.plan import DesiredDir
from pgvault.core.wal import position
from pgvault.edges import bucket, remote
from pgvault.edges.cloud import s3_client
from pgvault.edges.waiting import within
from tests.fixtures import private_sandbox
from tests.integration.helpers import collect, connection, flush_wal, mark


@pytest.fixture(scope="module")
def holes():
    """A sandbox of its own with data, host.setup done and one full backup: these tests break its archive."""
    with private_sandbox("holes", bucket="pgvault-holes") as own:
        own.ok("sandbox.seed")
        own.ok("host.setup")
        own.ok("backup.full")
        yield own


def _sql(sandbox, text: str) -> str:
    return remote.sql(connection(sandbox), sandbox.cfg, text).strip()


def _push_partial_copy_of_the_current_segment(sandbox) -> str:
    """Push what the current WAL segment holds so far, as if it were finished; return its name."""
    cfg, conn, owner = sandbox.cfg, connection(sandbox), sandbox.cfg.postgres.os_user
    current = _sql(sandbox, "SELECT pg_walfile_name(pg_current_wal_lsn());")
    planted = f"{cfg.postgres.scratch_dir}/planted"
    remote.ensure_dir(conn, DesiredDir(planted, owner, 0o700))
    remote.run(conn, ["cp", f"{cfg.postgres.data_dir}/pg_wal/{current}", f"{planted}/{current}"], user=owner)
    remote.run(conn, pgbackrest.command(cfg, "archive-push", "--no-archive-async", params=(f"{planted}/{current}",)),
               user=owner)
    return current


@pytest.mark.slow
def test_a_partial_segment_pushed_ahead_turns_the_monitor_red_and_a_latest_restore_fails_naming_it(holes):
    cfg = holes.cfg
    mark(holes, "before-the-hole")
    flush_wal(holes)
    mark(holes, "in-the-partial-copy")
    planted = _push_partial_copy_of_the_current_segment(holes)
    for n in range(3):  # rows the partial copy lacks, then later segments
        mark(holes, f"after-the-copy-{n}")
        _sql(holes, "SELECT pg_switch_wal();")
    assert within(120, lambda: _sql(holes, "SELECT last_failed_wal FROM pg_stat_archiver;") == planted,
                  interval=1), "PostgreSQL's archiver never refused the segment pushed ahead of it"
    within(60, lambda: position(bucket.newest_wal(s3_client(cfg), cfg)[0])[1] > position(planted)[1], interval=1)

    doc = collect(holes)
    assert doc["state"] == "critical"
    archiving = [c for c in doc["checks"] if c["key"] == "archiving"]
    assert archiving and archiving[0]["state"] == "critical" and planted in archiving[0]["message"], doc["checks"]

    def waiting() -> dict | None:
        checks = collect(holes)["checks"]
        found = next((c for c in checks if c["key"] == "wal-waiting"), None)
        return found if found and found["state"] == "critical" else None

    check = within(cfg.targets.rpo_seconds * 3, waiting, interval=5)
    assert check and f"the oldest, {planted}" in check["message"], "the segment PostgreSQL holds back is named"

    done = holes.fab("restore.full", "--name", "past-the-hole", "--json")
    try:
        assert done.returncode != 0, f"a restore to latest passed over the hole:\n{done.stdout}"
        assert "recovery ended at" in done.stderr and planted in done.stderr, done.stderr
    finally:
        holes.fab("restore.drop", "--name", "past-the-hole")
