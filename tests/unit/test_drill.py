"""Drill logic: targets between canaries, the exact canary verdict, plausible counts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from pgvault.core import drill, hourly
from pgvault.core.targets import Target, Window, parse_target
from pgvault.core.wal import parse_lsn

T = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CANARIES = [T + timedelta(minutes=m) for m in range(10)]


def test_fixed_targets():
    assert drill.fixed_target("latest").kind == "latest"
    assert drill.fixed_target("oldest").pgbackrest_options() == ["--type=immediate", "--target-action=promote"]
    assert drill.fixed_target("random") is None
    assert drill.fixed_target("2026-11-26 12:00:00+00").kind == "time"


def test_random_moments_stay_inside_the_window():
    win = Window(T, T + timedelta(hours=1))
    for seed in range(50):
        moment = drill.random_moment(win, T + timedelta(hours=2), 30, random.Random(seed))
        assert T < moment < T + timedelta(hours=1)


def test_snapping_lands_halfway_between_canaries():
    snapped = drill.snap_between_canaries(T + timedelta(minutes=3, seconds=10), CANARIES)
    assert snapped == T + timedelta(minutes=3, seconds=30)
    assert drill.snap_between_canaries(T, []) == T


def test_snapping_never_leaves_the_window_for_canaries_older_than_its_start():
    """A new full with no canary after it yet (its older sets expired): halfway between two canaries written
    before it is a moment no set reaches, and the drill failed a healthy repository (a clean-clone run)."""
    earliest = CANARIES[-1] + timedelta(minutes=1)
    moment = earliest + timedelta(seconds=2)
    assert drill.snap_between_canaries(moment, CANARIES[-2:], earliest) == moment
    assert drill.snap_between_canaries(moment, [*CANARIES[-1:], earliest + timedelta(seconds=5)], earliest) == moment
    inside = [earliest + timedelta(seconds=1), earliest + timedelta(seconds=9)]
    assert drill.snap_between_canaries(moment, [*CANARIES, *inside], earliest) == earliest + timedelta(seconds=5)


def expected(times):
    return [(n, t, "0/0") for n, t in enumerate(times, start=1)]


def test_canary_verdict_is_exact_between_canaries():
    target = parse_target(time=(T + timedelta(minutes=3, seconds=30)).isoformat())
    ok, detail = drill.canary_verdict(target, expected(CANARIES), {1, 2, 3, 4})
    assert ok and detail == "4 canaries before the target present, 6 after it absent"
    bad, detail = drill.canary_verdict(target, expected(CANARIES), {1, 2, 3, 4, 5})
    assert not bad and "written after the target are present (first seq 5)" in detail
    bad, detail = drill.canary_verdict(target, expected(CANARIES), {1, 2})
    assert not bad and "2 canary row(s) written before the target are missing (first seq 3)" in detail


def test_canary_verdict_by_lsn():
    rows = [(1, T, "0/1000000"), (2, T, "0/2000000"), (3, T, "0/9000000")]
    ok, _ = drill.canary_verdict(Target("lsn", "0/3000000", lsn=parse_lsn("0/3000000")), rows, {1, 2})
    assert ok


@pytest.mark.parametrize("recorded, actual, ok", [
    ({"crm": {"public.notes": 1000}}, {"crm": {"public.notes": 990}}, True),
    ({"crm": {"public.notes": 1000}}, {"crm": {"public.notes": 0}}, False),
    ({"crm": {"public.notes": 1000}}, {"crm": {}}, False),
    ({"crm": {"public.notes": 10}}, {"crm": {"public.notes": 0}}, True),
    ({"crm": {"public.notes": 0}}, {"crm": {"public.notes": 8000}}, True),
])
def test_counts_are_judged_plausible(recorded, actual, ok):
    assert drill.counts_verdict(recorded, actual)[0] is ok


@pytest.mark.parametrize("later, ok", [
    ({"crm": {}}, True),                              # production dropped the table before the next backup
    ({"crm": {"public.ballast": 60000}}, False),      # the next backup still had it: the restore lost it
    ({"crm": {"public.ballast": 100}}, True),         # production emptied it on purpose before the next backup
    ({}, False),                                      # no backup since the target: demand what the last one had
])
def test_a_table_production_dropped_after_the_backup_is_not_demanded_of_a_later_target(later, ok):
    recorded, actual = {"crm": {"public.ballast": 60000}}, {"crm": {}}
    if later.get("crm", {}).get("public.ballast") == 100:
        actual = {"crm": {"public.ballast": 100}}
    assert drill.counts_verdict(recorded, actual, later)[0] is ok


def test_the_scheduled_drill_rotates_through_latest_random_and_oldest():
    week = 7 * 24 * 3600
    sundays = [datetime(2026, 11, 1, 4, tzinfo=UTC) + timedelta(weeks=n) for n in range(6)]
    kinds = [drill.scheduled_kind(day, week) for day in sundays]
    assert sorted(kinds[:3]) == sorted(drill.ROTATION) and kinds[3:] == kinds[:3]
    assert all(drill.fixed_target(kind) is not None or kind == "random" for kind in kinds)


def _read_back(finished: str, at: datetime, versions: int | None = 1, **body) -> dict:
    return {"finished": finished, "passed": True, **body,
            "stored": {"key": f"drills/crm/{finished[:19]}.json", "at": at.isoformat(), "versions": versions}}


def test_the_replay_rate_counts_only_results_the_bucket_speaks_for():
    """A forged, future-dated result claiming a fast replay must not talk the hourly rule out of incrementals."""
    now = T + timedelta(hours=1)
    genuine = _read_back(T.isoformat(), T + timedelta(seconds=20), wal_replayed_bytes=64 << 20,
                         seconds={"replay": 64.0})
    forged = _read_back("9999-01-01T00:00:00+00:00", now, wal_replayed_bytes=1 << 40, seconds={"replay": 1.0})
    overwritten = _read_back((now - timedelta(minutes=1)).isoformat(), now, versions=3,
                             wal_replayed_bytes=1 << 40, seconds={"replay": 1.0})
    trusted, suspicious = drill.sort_out([forged, overwritten, genuine], now)
    assert trusted == [genuine] and [s["key"] for s in suspicious] == [forged["stored"]["key"],
                                                                       overwritten["stored"]["key"]]
    assert hourly.replay_rate(trusted) == float(1 << 20)


def test_trusted_results_come_newest_first_by_the_buckets_time():
    older = _read_back("2026-11-26T12:00:00+00:00", T)
    newer = _read_back("2026-11-26T11:59:00+00:00", T + timedelta(minutes=3))
    assert drill.sort_out([older, newer], T + timedelta(hours=1))[0] == [newer, older]
