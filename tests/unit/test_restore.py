"""The restore plan: facts in (pgBackRest's info, the primary, the clock, a restore point), a set or a refusal out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pgvault.core.errors import ExitCode, PgvaultError, UsageError
from pgvault.core.pgbackrest import parse_info
from pgvault.core.restore import (
    NOT_REACHED,
    RestoreFacts,
    choose,
    expected_end,
    fallbacks,
    gap_warning,
    recovery_failure,
    short_recovery,
    untouched,
)
from pgvault.core.targets import Target, parse_target
from pgvault.core.wal import parse_lsn
from pgvault.core.walarchive import Gap

INFO = parse_info((Path(__file__).parents[1] / "specs" / "data" / "info_two_fulls.json").read_text(), "crm")
FIRST_FULL, FIRST_INCR, SECOND_FULL, SECOND_INCR = (b.label for b in INFO.backups)
NOW = INFO.backups[-1].stop + timedelta(minutes=10)
PRIMARY = {"lsn": "0/F000200", "next_xid": "900", "last_archived_time": (NOW - timedelta(minutes=1)).isoformat()}


def facts(primary: dict | None = PRIMARY, point: dict | None = None) -> RestoreFacts:
    return RestoreFacts(INFO, primary, NOW, point)


def at(backup: str, seconds: float) -> str:
    """A time ``seconds`` after a backup set ended."""
    return (next(b for b in INFO.backups if b.label == backup).stop + timedelta(seconds=seconds)).isoformat()


@pytest.mark.parametrize("target, chosen", [
    ({}, SECOND_INCR),
    ({"time": at(FIRST_INCR, 30)}, FIRST_INCR),
    ({"time": at(SECOND_FULL, 1)}, SECOND_FULL),
    ({"time": at(SECOND_INCR, 60)}, SECOND_INCR),
    ({"lsn": "0/C000000"}, SECOND_FULL),
    ({"lsn": "0/6000100"}, FIRST_INCR),
    ({"xid": "800"}, FIRST_FULL),
])
def test_the_newest_set_that_ends_before_the_target_is_chosen(target, chosen):
    plan = choose(parse_target(**target), facts())
    assert plan.backup_set.label == chosen
    assert plan.window.earliest == INFO.backups[0].stop and plan.notes == ()


def test_a_restore_point_in_the_registry_picks_the_set_before_it():
    known = choose(parse_target(name="before-upgrade"), facts(point={"lsn": "0/7000000"}))
    assert known.backup_set.label == FIRST_INCR and known.notes == ()


def test_an_unknown_restore_point_is_refused_listing_the_newest_names_and_the_closest():
    names = tuple(f"pgvault-2026112{n}-020000F" for n in range(9, -1, -1)) + ("before-upgrade", "old-1", "old-2")
    with pytest.raises(UsageError) as caught:
        choose(parse_target(name="before-upgrad"), replace(facts(), restore_points=names))
    line = caught.value.one_line()
    assert "restore point 'before-upgrad' is not in pgvault's registry" in line and "\n" not in line
    assert "did you mean before-upgrade?" in line and "pgvault-20261129-020000F" in line and "and 3 older" in line
    assert "--target-lsn" in line
    with pytest.raises(UsageError) as caught:
        choose(parse_target(name="typo"), facts())
    assert "newest: none yet (fab backup.mark creates one)" in caught.value.one_line()


def test_with_the_primary_down_a_restore_point_cannot_be_checked_and_replays_from_the_oldest_set():
    blind = choose(parse_target(name="typo"), facts(primary=None))
    assert blind.backup_set.label == FIRST_FULL and "cannot be looked up" in blind.notes[0]


@pytest.mark.parametrize("target, primary, words", [
    ({"time": (NOW + timedelta(hours=1)).isoformat()}, PRIMARY, "is in the future"),
    ({"time": at(FIRST_FULL, -60)}, PRIMARY, "before the earliest restorable point"),
    ({"lsn": "0/F000300"}, PRIMARY, "is in the future (current 0/F000200)"),
    ({"lsn": "0/1000000"}, PRIMARY, "before the oldest backup's end"),
    ({"xid": "900"}, PRIMARY, "target xid 900 has not been assigned yet (next is 900)"),
])
def test_unreachable_targets_are_refused_before_anything_changes(target, primary, words):
    with pytest.raises(UsageError) as caught:
        choose(parse_target(**target), facts(primary))
    assert words in caught.value.message and caught.value.fix


def test_with_the_primary_down_the_archive_alone_bounds_the_window():
    plan = choose(parse_target(xid="123456"), facts(primary=None))
    assert plan.backup_set.label == FIRST_FULL and plan.window.latest == INFO.backups[-1].stop


def test_no_backup_at_all_is_refused():
    empty = RestoreFacts(INFO.__class__("crm", 2, "no valid backups", (), None, None), PRIMARY, NOW)
    with pytest.raises(UsageError, match="there is no backup to restore from"):
        choose(parse_target(), empty)


GAP = Gap(1, "000000010000000000000007", "00000001000000000000000A",
          datetime.fromisoformat(at(FIRST_INCR, 60)))


@pytest.mark.parametrize("target, outcome", [
    ({}, "warning"),
    ({"name": "later"}, "warning"),
    ({"time": at(FIRST_INCR, 30)}, None),
    ({"time": at(FIRST_INCR, 120)}, "refused"),
    ({"lsn": "0/7000000"}, None),
    ({"lsn": "0/9000000"}, "refused"),
])
def test_a_hole_in_the_archive_is_named_and_blocks_a_target_beyond_it(target, outcome):
    chosen = INFO.backups[1]
    if outcome == "refused":
        with pytest.raises(UsageError, match="000000010000000000000008..000000010000000000000009 are missing"):
            gap_warning(parse_target(**target), chosen, [GAP])
        return
    found = gap_warning(parse_target(**target), chosen, [GAP])
    assert (found is not None) == (outcome == "warning")
    assert found is None or found.startswith("warning: WAL segment(s) 000000010000000000000008..")


def test_a_later_set_skips_the_hole():
    assert gap_warning(parse_target(), INFO.backups[2], [GAP]) is None


@pytest.mark.parametrize("tail, message, fix", [
    (f"2026-11-27 LOG: redo done\n2026-11-27 FATAL:  {NOT_REACHED}\n", NOT_REACHED, "choose an earlier target"),
    ("2026-11-27 PANIC: could not locate a valid checkpoint record\n", "could not locate a valid checkpoint",
     "read /x/log"),
    ("", "see its log", "read /x/log; drop it"),
])
def test_a_cluster_that_stopped_in_recovery_is_one_line_with_the_reason(tail, message, fix):
    error = recovery_failure(tail, "/x/log", "drop it")
    assert isinstance(error, PgvaultError) and message in error.message and fix in error.fix


def test_latest_must_replay_the_newest_archived_segment_the_bucket_or_the_primary_knows():
    primary = {"last_archived_wal": "000000010000000000000012"}
    assert expected_end(Target("latest"), "000000010000000000000010", primary) == "000000010000000000000012"
    assert expected_end(Target("latest"), "000000010000000000000014", primary) == "000000010000000000000014"
    assert expected_end(Target("latest"), None, None) is None
    assert expected_end(parse_target(time="2026-11-30 10:00:00+00"), "000000010000000000000014", primary) is None


def test_a_recovery_that_ends_before_the_newest_archived_segment_is_refused_naming_the_segment():
    newest = "000000010000000000000014"
    # ended inside segment 0x11 (a partial segment, or 0x12 unreadable)
    problem = short_recovery(newest, parse_lsn("0/11FFF0A0"), "kept for inspection")
    assert problem is not None and problem.code == ExitCode.FAILED
    assert "in WAL segment 000000010000000000000011" in problem.message and newest in problem.message
    assert "3 segment(s)" in problem.message and "kept for inspection" in problem.fix
    assert "000000010000000000000011 or 000000010000000000000012 is partial" in problem.fix
    # ended exactly at a segment boundary: the last record replayed was in the segment before
    assert "segment 000000010000000000000012," in short_recovery(newest, parse_lsn("0/13000000"), "x").message
    # recovery replayed into the newest segment and stopped where the archive ends
    assert short_recovery(newest, parse_lsn("0/140000A0"), "x") is None
    assert short_recovery(newest, parse_lsn("0/15000000"), "x") is None
    assert short_recovery(None, parse_lsn("0/10000000"), "x") is None


def _sets(*stops: str):
    from pgvault.core.pgbackrest import BackupSet
    return [BackupSet(f"2026113{n}-000000F", "full", datetime.fromisoformat(stop) - timedelta(minutes=5),
                      datetime.fromisoformat(stop), 1, 1, 1, 1, f"00000001000000000000000{n}",
                      f"00000001000000000000000{n}", None, None, None, (), False)
            for n, stop in enumerate(stops, start=1)]


def test_fallbacks_are_older_sets_newest_first_that_cross_no_hole():
    sets = _sets("2026-11-30 01:00:00+00", "2026-11-30 02:00:00+00", "2026-11-30 03:00:00+00",
                 "2026-11-30 04:00:00+00")
    latest = Target("latest")
    assert [b.label for b in fallbacks(latest, sets, sets[-1], [])] == [sets[2].label, sets[1].label, sets[0].label]
    hole = Gap(1, "000000010000000000000001", "000000010000000000000003")  # segment 2 is missing
    assert [b.label for b in fallbacks(latest, sets, sets[-1], [hole])] == [sets[2].label]
    assert fallbacks(Target("immediate"), sets, sets[0], []) == ()
    assert fallbacks(latest, sets, sets[0], []) == ()


#: timeline 2 left timeline 1 at 0/7000000: after the first full's incremental, before the second full
FORK = ((1, parse_lsn("0/7000000")),)


def test_only_sets_in_the_timelines_past_are_chosen():
    forked = RestoreFacts(INFO, PRIMARY, NOW, None, 2, FORK)
    assert choose(Target("latest"), forked).backup_set.label == FIRST_INCR
    assert choose(parse_target(time=at(SECOND_INCR, 60)), forked).backup_set.label == FIRST_INCR
    assert choose(Target("latest"), RestoreFacts(INFO, PRIMARY, NOW, None, 1, ())).backup_set.label == SECOND_INCR
    assert choose(Target("latest"), facts()).backup_set.label == SECOND_INCR, "no timeline known: as before"


def test_an_explicit_set_is_checked_against_the_timeline_and_the_target():
    forked = RestoreFacts(INFO, PRIMARY, NOW, None, 2, FORK)
    assert choose(Target("latest"), forked, FIRST_FULL).backup_set.label == FIRST_FULL
    with pytest.raises(UsageError, match="ended after timeline 2 left it"):
        choose(Target("latest"), forked, SECOND_FULL)
    with pytest.raises(UsageError, match="not a valid set"):
        choose(Target("latest"), facts(), "20261101-000000F")
    with pytest.raises(UsageError, match="after target"):
        choose(parse_target(time=at(FIRST_FULL, 1)), facts(), SECOND_FULL)


def test_timeline_and_set_flags_are_checked_before_anything_runs():
    from pgvault.core.targets import check_set_label, with_timeline

    assert with_timeline(Target("latest"), "2").pgbackrest_options() == ["--type=default", "--target-timeline=2"]
    assert with_timeline(Target("latest"), None) == Target("latest")
    assert with_timeline(Target("latest"), "Current").timeline == "current"
    with pytest.raises(UsageError, match="not current, latest or a timeline number"):
        with_timeline(Target("latest"), "2; rm")
    assert check_set_label(SECOND_INCR) == SECOND_INCR
    with pytest.raises(UsageError, match="not a backup set label"):
        check_set_label("last-tuesday")


def test_after_a_damage_only_sets_that_do_not_share_the_damaged_one_are_tried():
    from dataclasses import replace

    full, incr1, incr2, older = (replace(s, label=label, references=refs) for s, label, refs in zip(
        _sets("2026-11-30 01:00:00+00", "2026-11-30 02:00:00+00", "2026-11-30 03:00:00+00",
              "2026-11-30 00:00:00+00"),
        ("20261130-010000F", "20261130-010000F_20261130-020000I", "20261130-010000F_20261130-030000I",
         "20261129-000000F"),
        ((), ("20261130-010000F",), ("20261130-010000F",), ()), strict=True))
    in_the_full = "ERROR: [026]: checksum mismatch in /pgbackrest/backup/crm/20261130-010000F/bundle/3"
    assert untouched([incr1, full, older], incr2, in_the_full) == [older]
    in_the_incr = "ERROR: [026]: x /pgbackrest/backup/crm/20261130-010000F_20261130-030000I/bundle/1"
    assert untouched([incr1, full, older], incr2, in_the_incr) == [incr1, full, older]
    assert untouched([incr1, full, older], incr2, "ERROR: [029]: unknown file") == [older]


def test_latest_expects_only_wal_of_the_timeline_it_follows_up_to_where_ancestors_were_left():
    fork = ((1, parse_lsn("0/7000000")),)
    tl1_past_fork, tl2 = "000000010000000000000009", "000000020000000000000008"
    assert expected_end(Target("latest"), tl1_past_fork, None, 2, fork) == "000000010000000000000006"
    assert expected_end(Target("latest"), tl2, {"last_archived_wal": tl1_past_fork}, 2, fork) == tl2
    assert expected_end(Target("latest"), "000000030000000000000009", None, 2, fork) is None
    assert expected_end(Target("latest"), tl2, {"last_archived_wal": "00000002.history"}, 2, fork) == tl2
    assert expected_end(Target("latest", timeline="1"), tl2, None, 1, ()) is None
