"""Restores that follow timeline history, after an in-place point-in-time restore forked a new timeline.

On a private sandbox: an in-place restore is the one operation that rewrites production.
"""

from __future__ import annotations

import json

import pytest

from tests.fixtures import private_sandbox
from tests.integration.helpers import flush_wal, labels, mark


@pytest.fixture(scope="module")
def forked():
    """A sandbox whose production was restored in place to a moment before its newest backup set."""
    with private_sandbox("timelines", bucket="pgvault-timelines") as own:
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
