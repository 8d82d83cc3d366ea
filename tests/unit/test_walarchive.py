"""Holes in the archived WAL, and whether a restore would have to cross one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pgvault.core.pgbackrest import BackupSet
from pgvault.core.targets import parse_target
from pgvault.core.wal import name_of
from pgvault.core.walarchive import Gap, crossing, gaps, left_by_retention

T = datetime(2026, 11, 26, 12, tzinfo=UTC)


def seg(n: int, timeline: int = 1):
    return (name_of(timeline, n), T + timedelta(minutes=n))


def backup(start: int, stop: int | None = None) -> BackupSet:
    return BackupSet("B", "full", T, T, 1, 1, 1, 1, name_of(1, start), name_of(1, stop or start), None, None, None, (),
                     False)


def test_gaps_are_found_per_timeline():
    found = gaps([seg(1), seg(2), seg(4), seg(5), seg(9, 2), seg(10, 2)])
    assert [(g.timeline, g.missing) for g in found] == [(1, "000000010000000000000003")]
    assert gaps([seg(1), seg(5)])[0].missing == "000000010000000000000002..000000010000000000000004"


def test_a_target_after_the_gap_crosses_it_and_one_before_does_not():
    found = gaps([seg(1), seg(2), seg(4)])
    assert crossing(parse_target(time=(T + timedelta(minutes=3)).isoformat()), backup(1), found) == found[0]
    assert crossing(parse_target(time=(T + timedelta(minutes=1)).isoformat()), backup(1), found) is None
    assert crossing(parse_target(), backup(1), found) == found[0]
    assert crossing(parse_target(), backup(4), found) is None, "a set taken after the gap does not need it"
    assert crossing(parse_target(lsn="0/1FFFFFF"), backup(1), found) is None
    assert crossing(parse_target(lsn="0/4000000"), backup(1), found) == found[0]


def test_gap_text():
    assert Gap(1, name_of(1, 4), name_of(1, 6)).missing == "000000010000000000000005"


def test_holes_before_the_anchor_between_older_sets_are_retention_not_loss():
    older, anchor = backup(10, 11), backup(20, 21)
    sets = [older, anchor]
    assert left_by_retention(name_of(1, 11), name_of(1, 20), sets, anchor), "between an older set and the anchor"
    assert not left_by_retention(name_of(1, 21), name_of(1, 23), sets, anchor), "after the anchor: WAL was lost"
    assert not left_by_retention(name_of(1, 9), name_of(1, 11), sets, anchor), "inside an older set's own range"
    assert not left_by_retention(name_of(1, 11), name_of(1, 20), sets, None), "no anchor known: report it"
