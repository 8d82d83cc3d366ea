"""When the monitor alerts: checks turning critical alert once, recovering alerts once, anything else stays quiet."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pgvault.core.monitoring.alerts import critical_keys, state_change, transition
from pgvault.core.monitoring.status import build
from tests.builders import make_stack
from tests.unit.test_status import facts


@pytest.mark.parametrize("before, now, changed, alert, newly", [
    (set(), set(), False, False, ()),
    (set(), {"wal-archive-lag"}, True, True, ("wal-archive-lag",)),
    ({"wal-archive-lag"}, {"wal-archive-lag"}, False, False, ()),
    ({"wal-archive-lag"}, {"wal-archive-lag", "job-failed"}, True, True, ("job-failed",)),
    ({"wal-archive-lag", "job-failed"}, {"job-failed"}, True, False, ()),
    ({"job-failed"}, set(), True, True, ()),
    ({"drill"}, {"job-failed"}, True, True, ("job-failed",)),
], ids=["quiet", "turns critical", "stays critical", "another turns critical", "one of two recovers",
        "all recovered", "one recovers as another fails"])
def test_transitions(before, now, changed, alert, newly):
    step = transition(before, now)
    assert (step.changed, step.alert, step.newly_critical) == (changed, alert, newly)
    assert step.remember == tuple(sorted(now))


def test_only_critical_checks_count():
    doc = {"checks": [{"key": "a", "state": "critical"}, {"key": "b", "state": "warning"}, {"key": "c", "state": "ok"}]}
    assert critical_keys(doc) == {"a"}


def test_a_state_change_alert_puts_the_cause_first_and_links_each_checks_own_section():
    """Not the alarms runbook's overview: the section of each check (issue 13's leftover)."""
    cfg = make_stack(targets={"rpo_seconds": 300})
    doc = build(cfg, facts(timedelta(minutes=5), timedelta(seconds=400),
                           problems=["PostgreSQL on db1 does not answer"]))
    subject, body = state_change(cfg, doc, ["collection", "wal-archive-lag"])
    lines = body.splitlines()
    assert lines[0] == "Cause:   [CRITICAL] collection: PostgreSQL on db1 does not answer"
    assert lines[1].startswith("Do:      ") and lines[2] == "Runbook: runbooks/test/alarms.md#collection"
    assert "  runbooks/test/alarms.md#wal-archive-lag" in lines
    assert "#overview" not in body
