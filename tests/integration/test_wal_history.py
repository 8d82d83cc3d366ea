"""The WAL history on a private sandbox of its own (issue 13): timelines, proven continuity, holes.

First, restores that follow timeline history after an in-place point-in-time
restore forked a new timeline (an in-place restore is the one operation that
rewrites production).  Then, on the same forked history, the faults that break
the archive, in an order where each leaves the next one's proof meaningful:
a segment replaced by another (the WAL proof names it; bringing the original
back turns it green), then a partial copy of the current segment pushed ahead
of PostgreSQL, as a cloned VM or a second primary would push it, which makes
PostgreSQL's archiver stick on that segment while later WAL keeps reaching the
bucket.  Committed rows after the copy are then in no restorable WAL: the
monitor and verify must say so, naming the segment, and a restore to "latest"
must fail instead of promoting a copy that silently lacks them.
"""

from __future__ import annotations

import json

import pytest

from pgvault.core import pgbackrest
from pgvault.core.errors import ExitCode
from pgvault.core.plan import DesiredDir
from pgvault.core.wal import position
from pgvault.edges import bucket, remote
from pgvault.edges.cloud import s3_client
from pgvault.edges.waiting import within
from sandbox.lifecycle import admin_client
from tests.fixtures import private_sandbox
from tests.integration.helpers import collect, connection, flush_wal, labels, mark


@pytest.fixture(scope="module")
def forked():
    """A sandbox whose production was restored in place to a moment before its newest backup set."""
    with private_sandbox("history", bucket="pgvault-history") as own:
        own.ok("sandbox.seed")
        own.ok("host.setup")
        own.ok("backup.full")
        fork = mark(own, "timeline-1-kept")
        mark(own, "timeline-1-abandoned")
        flush_wal(own)
        own.ok("backup.incr")  # on timeline 1, past the moment timeline 2 will leave it
        own.ok("restore.pitr", "--target", fork["time"].isoformat(), "--in-place", "--force", "--no-backup")
        yield own


def _restored(sandbox, *args: str) -> tuple[set[str], dict]:
    doc = json.loads(sandbox.ok(*args, "--json"))
    try:
        return labels(sandbox, sandbox.dsn_for(doc)), doc
    finally:
        sandbox.ok("restore.drop", "--name", doc["name"])


@pytest.mark.slow
def test_latest_after_an_in_place_restore_follows_the_new_timeline(forked):
    mark(forked, "timeline-2-new")
    flush_wal(forked)
    found, doc = _restored(forked, "restore.full", "--name", "after-the-fork")
    assert {"timeline-1-kept", "timeline-2-new"} <= found and "timeline-1-abandoned" not in found, doc


@pytest.mark.slow
def test_a_time_between_the_fork_and_the_next_backup_is_restorable(forked):
    between = mark(forked, "timeline-2-between")
    mark(forked, "timeline-2-after-target")
    flush_wal(forked)
    found, doc = _restored(forked, "restore.pitr", "--target", between["time"].isoformat(), "--name", "between")
    assert "timeline-2-between" in found and "timeline-2-after-target" not in found, doc
    assert "timeline-1-abandoned" not in found


@pytest.mark.slow
def test_an_in_place_restore_takes_a_full_backup_on_its_new_timeline(forked):
    doc = json.loads(forked.ok("restore.full", "--in-place", "--force", "--json"))
    newest = json.loads(forked.ok("backup.list", "--json"))["backups"][-1]
    assert doc["new_full"] == newest["label"] and newest["type"] == "full"
    assert int(newest["wal_start"][:8], 16) >= 3, "the full starts on the timeline the restore opened"
    found, _ = _restored(forked, "restore.full", "--name", "from-the-new-full")
    assert "timeline-1-kept" in found


def _checks(sandbox) -> dict[str, dict]:
    return {c["key"]: c for c in collect(sandbox)["checks"]}


def _archived(sandbox) -> dict[str, str]:
    """The current timeline's archived segments: name -> object key (admin listing)."""
    cfg, admin = sandbox.cfg, admin_client(sandbox.cfg)
    pages = admin.get_paginator("list_objects_v2").paginate(
        Bucket=cfg.repository.bucket, Prefix=f"{cfg.repository.repo_prefix}archive/{cfg.pgbackrest.stanza}/")
    found = {}
    for page in pages:
        for item in page.get("Contents", []):
            name = item["Key"].rsplit("/", 1)[-1][:24]
            if len(name) == 24 and "." not in name and not name.endswith("history"):
                found[name] = item["Key"]
    newest = max(int(n[:8], 16) for n in found)
    return {n: k for n, k in found.items() if int(n[:8], 16) == newest}


@pytest.mark.slow
def test_a_segment_replaced_by_another_is_named_by_the_proof_until_the_original_is_back(forked):
    admin, name = admin_client(forked.cfg), forked.cfg.repository.bucket
    for n in range(3):
        mark(forked, f"before-the-swap-{n}")
        _sql(forked, "SELECT pg_switch_wal();")
    flush_wal(forked)
    assert "WAL chains from the oldest kept backup set to" in forked.ok("backup.verify")
    segments = _archived(forked)
    donor, victim = sorted(segments)[-3:-1]
    original = segments[victim]
    # the donor's valid, encrypted content under the victim's name: what a second primary's push would leave
    swapped = f"{original.rsplit('/', 1)[0]}/{victim}{segments[donor].rsplit('/', 1)[-1][24:]}"
    admin.copy_object(Bucket=name, Key=swapped, CopySource={"Bucket": name, "Key": segments[donor]})
    admin.delete_object(Bucket=name, Key=original)
    try:
        failed = forked.fab("backup.verify")
        assert failed.returncode == ExitCode.VERIFY, failed.stdout + failed.stderr
        assert f"WAL stops chaining in segment {victim}" in failed.stdout + failed.stderr
        check = _checks(forked)["wal-continuity"]
        assert check["state"] == "critical" and victim in check["message"], check
    finally:
        admin.delete_object(Bucket=name, Key=swapped)
        forked.ok("repo.undo", "--key", original)
    assert "WAL chains" in forked.ok("backup.verify")
    assert _checks(forked)["wal-continuity"]["state"] == "ok"


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
def test_a_partial_segment_pushed_ahead_turns_the_monitor_red_and_a_latest_restore_fails_naming_it(forked):
    holes = forked
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
    checks = {c["key"]: c for c in doc["checks"]}
    assert checks["archiving"]["state"] == "critical" and planted in checks["archiving"]["message"], checks
    assert checks["wal-continuity"]["state"] == "critical", checks["wal-continuity"]
    assert f"segment {planted}" in checks["wal-continuity"]["message"], "the proof names the partial copy"
    failed = holes.fab("backup.verify")
    assert failed.returncode == ExitCode.VERIFY and f"WAL stops chaining in segment {planted}" in failed.stdout
    refused = holes.fab("restore.full", "--in-place", "--force")
    assert refused.returncode == ExitCode.USAGE and planted in refused.stderr, refused.stderr
    assert "an in-place restore would replace production" in refused.stderr
    assert _sql(holes, "SELECT 1;") == "1", "production was left running"

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


@pytest.mark.slow
def test_accept_short_keeps_a_short_copy_with_a_warning_and_exit_0(forked):
    """A hole of its own (the previous test's keeps PostgreSQL's archiver stuck), then --accept-short."""
    holes, cfg = forked, forked.cfg
    planted = _push_partial_copy_of_the_current_segment(holes)
    for n in range(3):
        mark(holes, f"after-the-second-copy-{n}")
        _sql(holes, "SELECT pg_switch_wal();")
    assert within(60, lambda: position(bucket.newest_wal(s3_client(cfg), cfg)[0])[1] > position(planted)[1],
                  interval=1), "no WAL past the planted segment reached the bucket"
    done = holes.fab("restore.full", "--name", "short-kept", "--accept-short", "--json")
    try:
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        assert doc["short_recovery"].startswith("recovery ended at"), doc
        assert "warning: recovery ended at" in done.stderr and "--accept-short" in done.stderr
        listed = json.loads(holes.ok("restore.list", "--json"))["scratch"]
        assert any(item["name"] == "short-kept" and item["running"] for item in listed)
    finally:
        holes.fab("restore.drop", "--name", "short-kept")
