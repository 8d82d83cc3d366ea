"""The hourly job's rule: an incremental only when the WAL since the last backup would replay too slowly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgvault.core import hourly
from pgvault.core.hourly import INCREMENTAL, RESTORE_POINT, budget_bytes, day_summary, decide, replay_rate

GB = 1024**3
wal = st.integers(min_value=0, max_value=10**13)
rate = st.one_of(st.none(), st.floats(min_value=1e3, max_value=1e10, allow_nan=False))
rto = st.integers(min_value=60, max_value=7 * 86400)


@given(wal, rto, rate)
def test_an_incremental_exactly_when_the_wal_exceeds_the_budget(wal_bytes, rto_seconds, measured):
    found = decide("adaptive", wal_bytes, rto_seconds, measured)
    assert (found.action == INCREMENTAL) == (wal_bytes > found.budget_bytes)
    assert found.rate_measured == (measured is not None)


@given(wal, rto, rate)
def test_a_restore_point_replays_within_its_share_of_the_rto(wal_bytes, rto_seconds, measured):
    found = decide("adaptive", wal_bytes, rto_seconds, measured)
    if found.action == RESTORE_POINT:
        assert wal_bytes / found.replay_bytes_per_second <= rto_seconds * hourly.REPLAY_SHARE + 1e-6


@given(wal, wal, rto, rate)
def test_more_wal_never_turns_an_incremental_into_a_restore_point(a, b, rto_seconds, measured):
    less, more = sorted((a, b))
    if decide("adaptive", less, rto_seconds, measured).action == INCREMENTAL:
        assert decide("adaptive", more, rto_seconds, measured).action == INCREMENTAL


@given(wal, rto, st.floats(min_value=1e3, max_value=1e10), st.floats(min_value=1e3, max_value=1e10))
def test_a_faster_replay_never_asks_for_more_incrementals(wal_bytes, rto_seconds, a, b):
    slow, fast = sorted((a, b))
    if decide("adaptive", wal_bytes, rto_seconds, fast).action == INCREMENTAL:
        assert decide("adaptive", wal_bytes, rto_seconds, slow).action == INCREMENTAL


@given(wal, rto, st.floats(min_value=1e3, max_value=1e10))
def test_a_longer_rto_target_never_asks_for_more_incrementals(wal_bytes, rto_seconds, measured):
    if decide("adaptive", wal_bytes, rto_seconds * 2, measured).action == INCREMENTAL:
        assert decide("adaptive", wal_bytes, rto_seconds, measured).action == INCREMENTAL


@given(st.one_of(st.none(), wal), rto, rate)
def test_always_keeps_todays_incremental_every_hour(wal_bytes, rto_seconds, measured):
    assert decide("always", wal_bytes, rto_seconds, measured).action == INCREMENTAL


@given(rto, rate)
def test_without_a_backup_the_job_takes_one(rto_seconds, measured):
    found = decide("adaptive", None, rto_seconds, measured)
    assert found.action == INCREMENTAL and found.reason == "no backup yet"


def test_the_reasons_name_the_figures_and_where_the_rate_came_from():
    found = decide("adaptive", 50 * GB, 3600, None)
    assert found.action == INCREMENTAL
    assert found.reason.startswith("WAL 50.0 GB > budget 28.1 GB")
    assert "assumed: no drill has measured replay yet" in found.reason
    quiet = decide("adaptive", 32 * 1024**2, 3600, 50 * 1024**2)
    assert quiet.action == RESTORE_POINT and "measured by drills" in quiet.reason
    assert budget_bytes(3600, 50 * 1024**2) == 1800 * 50 * 1024**2


def test_the_replay_rate_is_the_median_of_passed_drills_that_replayed_enough_wal():
    drills = [{"passed": True, "wal_replayed_bytes": 100 * 2**20, "seconds": {"replay": 2.0}},
              {"passed": False, "wal_replayed_bytes": 900 * 2**20, "seconds": {"replay": 1.0}},
              {"passed": True, "wal_replayed_bytes": 1024, "seconds": {"replay": 0.1}},
              {"passed": True, "seconds": {"replay": 3.0}},
              {"passed": True, "wal_replayed_bytes": 300 * 2**20, "seconds": {"replay": 3.0}},
              {"passed": True, "wal_replayed_bytes": 20 * 2**20, "seconds": {"replay": 1.0}}]
    assert replay_rate(drills) == 50 * 2**20
    assert replay_rate([]) is None


def test_a_days_decisions_read_as_one_line():
    def record(decision, reason):
        return {"job": "incr", "outcome": "ok", "sizes": {"decision": decision, "reason": reason}}
    records = [record(RESTORE_POINT, "WAL 1 MB <= budget 2.0 GB (...)")] * 21 + [
        record(INCREMENTAL, "WAL 4.1 GB > budget 2.0 GB (50% of the 3600 s RTO at ...)")] * 3 + [
        {"job": "incr", "outcome": "failed", "sizes": {}}, {"job": "full", "outcome": "ok", "sizes": {}}]
    found = day_summary(records)
    assert found == {"restore_points": 21, "incrementals": 3,
                     "line": "hourly: 21 restore points, 3 incrementals: WAL 4.1 GB > budget 2.0 GB"}
    assert day_summary([])["line"] == "hourly: 0 restore points, 0 incrementals"


@pytest.mark.parametrize("rule", ["adaptive", "always"])
def test_the_rule_explains_itself(rule):
    text = hourly.explain(rule, 3600, None)
    assert ("restore point" in text) == (rule == "adaptive")
