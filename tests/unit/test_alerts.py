"""When the monitor alerts: checks turning critical alert once, recovering alerts once, anything else stays quiet."""

from __future__ import annotations

import pytest

from pgvault.core.monitoring.alerts import critical_keys, transition


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
