"""backup.expire against real backup sets whose ages are faked with pgBackRest annotations.

In a sandbox stack, a set annotated ``pgvault-clock=<time>`` counts as taken
then (pgvault.core.retention.clock_for), so a year of history is built from backups taken seconds
apart.  The expected survivors are worked out here by hand from the tiers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pgvault.core import pgbackrest
from pgvault.core.retention import CLOCK_ANNOTATION
from pgvault.edges import remote
from tests.integration.helpers import connection, flush_wal, labels, mark, restore_json


def _same_week_and_month_pair(now: datetime) -> tuple[datetime, datetime]:
    """A Tuesday and Wednesday about six weeks ago, in the same ISO week and month."""
    day = now - timedelta(days=40)
    while day.weekday() != 2 or (day - timedelta(days=1)).month != day.month:
        day -= timedelta(days=1)
    return day - timedelta(days=1), day


def _annotate(sandbox, label: str, when: datetime) -> None:
    argv = pgbackrest.command(sandbox.cfg, "annotate", f"--set={label}",
                              f"--annotation={CLOCK_ANNOTATION}={when.isoformat()}")
    remote.run(connection(sandbox), argv, user=sandbox.cfg.postgres.os_user)


def _labels_now(sandbox) -> list[str]:
    return [b["label"] for b in json.loads(sandbox.ok("backup.list", "--json"))["backups"]]


@pytest.mark.slow
def test_expire_keeps_exactly_the_tiers_and_pitr_still_works(configured):
    now = datetime.now(UTC)
    older = _labels_now(configured)
    tuesday, wednesday = _same_week_and_month_pair(now)
    scenario = [  # (name, type, fake time, expected to survive)
        ("b1", "full", now - timedelta(days=400), False),   # beyond a year
        ("b2", "full", now - timedelta(days=200), True),    # monthly
        ("b3", "full", now - timedelta(days=60), True),     # weekly
        ("b4", "full", tuesday, False),                     # same week and month as b5, older
        ("b5", "full", wednesday, True),                    # weekly and monthly; the PITR anchor
        ("b6", "full", now - timedelta(days=10), True),     # daily
        ("b7", "incr", now - timedelta(days=9), False),     # incremental older than 7 days
        ("b8", "full", now - timedelta(days=1), True),      # daily, newest full
        ("b9", "incr", now, True),                          # fresh incremental
    ]
    made = {}
    for name, kind, when, _ in scenario:
        configured.ok(f"backup.{kind}")
        made[name] = _labels_now(configured)[-1]
        _annotate(configured, made[name], when)
    for n, label in enumerate(older):  # whatever earlier tests left: make it older than every tier
        _annotate(configured, label, now - timedelta(days=500 + n))

    dry = configured.ok("backup.expire", "--dry-run")
    assert "would expire" in dry and f"EXPIRE {made['b7']}" in dry and "older than 7 days" in dry
    assert set(_labels_now(configured)) == set(older) | set(made.values()), "--dry-run must change nothing"

    configured.ok("backup.expire")
    expected = {made[name] for name, _, _, keep in scenario if keep}
    assert set(_labels_now(configured)) == expected

    again = configured.ok("backup.expire")
    assert "0 of" in again, "a second run must find nothing more to expire"

    mark(configured, "after-expire-before")
    (target,), = configured.sql("SELECT clock_timestamp()")
    mark(configured, "after-expire-after")
    flush_wal(configured)
    doc = restore_json(configured, "restore.pitr", "--target", target.isoformat())
    try:
        found = labels(configured, configured.dsn_for(doc))
        assert "after-expire-before" in found and "after-expire-after" not in found
    finally:
        configured.ok("restore.drop", "--name", doc["name"])
