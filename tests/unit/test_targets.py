"""Recovery targets: parsing, the window check, and the choice of backup set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pgvault.core.errors import UsageError
from pgvault.core.pgbackrest import BackupSet
from pgvault.core.targets import Window, choose_set, parse_target, validate, window
from pgvault.core.wal import parse_lsn

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def backup(label: str, hours: float, lsn_stop: str, kind: str = "full", error: bool = False) -> BackupSet:
    start = T0 + timedelta(hours=hours)
    return BackupSet(label, kind, start, start + timedelta(minutes=5), 1, 1, 1, 1, None, None, None, lsn_stop,
                     None, (), error)


SETS = [backup("A", 0, "0/3000000"), backup("B", 24, "0/9000000", "incr"), backup("C", 48, "0/F000000")]


@pytest.mark.parametrize("text", ["2026-11-26 14:05:00+00:00", "2026-11-26T14:05:00Z", "2026-11-26 15:05:00+01:00"])
def test_times_with_a_zone_are_normalised_to_utc(text):
    target = parse_target(time=text)
    assert target.time == datetime(2026, 11, 26, 14, 5, tzinfo=UTC)
    assert target.value == "2026-11-26 14:05:00.000000+00"
    assert target.pgbackrest_options() == ["--type=time", "--target=2026-11-26 14:05:00.000000+00",
                                           "--target-action=promote"]


@pytest.mark.parametrize("text", [
    "2026-11-26 15:05:00 Europe/Berlin", "2026-11-26 15:05 CET", "2026-11-26T15:05:00[Europe/Berlin]",
    "2026-11-26 14:05:00 UTC", " 2026-11-26 09:05:00 America/New_York ",
])
def test_times_with_a_zone_by_name_are_accepted(text):
    assert parse_target(time=text).time == datetime(2026, 11, 26, 14, 5, tzinfo=UTC)


def test_a_named_zone_follows_daylight_saving_time():
    assert parse_target(time="2026-07-01 16:05:00 Europe/Berlin").time == datetime(2026, 7, 1, 14, 5, tzinfo=UTC)


@pytest.mark.parametrize("text, words", [
    ("2026-11-26 15:05:00 Mars/Olympus", "time zone 'Mars/Olympus' in '2026-11-26 15:05:00 Mars/Olympus' is unknown"),
    ("2026-11-26 15:05:00 ../../etc/passwd", "is not a timestamp"),
    ("2026-11-26T15:05:00[../etc/passwd]", "is unknown"),
    ("2026-11-26 15:05:00+01:00 CET", "has both an offset and a zone name"),
    ("2026-03-29 02:30:00 Europe/Berlin", "does not exist (the clocks skipped it) in Europe/Berlin"),
    ("2026-10-25 02:30:00 Europe/Berlin", "happened twice (the clocks went back) in Europe/Berlin"),
])
def test_unknown_or_ambiguous_zones_are_refused_with_the_valid_forms(text, words):
    with pytest.raises(UsageError) as caught:
        parse_target(time=text)
    assert words in caught.value.message
    assert "\n" not in caught.value.message + caught.value.fix
    if "unknown" in words or "timestamp" in words:
        assert "Europe/Berlin" in caught.value.fix and "+00:00" in caught.value.fix


@pytest.mark.parametrize("kwargs, words", [
    ({"time": "2026-11-26 14:05:00"}, "has no time zone"),
    ({"time": "yesterday"}, "is not a timestamp"),
    ({"time": "2026-13-01 00:00:00+00"}, "is not a timestamp"),
    ({"lsn": "3000060"}, "is not an LSN"),
    ({"lsn": "0/30000G0"}, "is not an LSN"),
    ({"lsn": "0/3000060; rm -rf /"}, "is not an LSN"),
    ({"xid": "-5"}, "is not a transaction id"),
    ({"xid": "12a"}, "is not a transaction id"),
    ({"name": "before'; DROP TABLE x;--"}, "characters pgvault does not accept"),
    ({"name": "has space"}, "characters pgvault does not accept"),
    ({"time": "2026-11-26 14:05:00+00", "lsn": "0/1"}, "more than one target"),
])
def test_malformed_targets_are_refused_with_the_fix(kwargs, words):
    with pytest.raises(UsageError) as caught:
        parse_target(**kwargs)
    assert words in caught.value.message and caught.value.fix


def test_no_target_means_latest():
    assert parse_target().kind == "latest"
    assert parse_target().pgbackrest_options() == ["--type=default"]


def test_window_spans_oldest_backup_end_to_last_archive():
    last = T0 + timedelta(hours=50)
    win = window(SETS, last)
    assert win == Window(T0 + timedelta(minutes=5), last)
    assert window([], None) == Window(None, None)
    assert window([backup("X", 0, "0/1", error=True)], last).earliest is None


def test_validate_refuses_future_and_before_window_naming_the_window():
    win = window(SETS, T0 + timedelta(hours=50))
    now = T0 + timedelta(hours=50, minutes=1)
    with pytest.raises(UsageError, match="in the future") as caught:
        validate(parse_target(time=(now + timedelta(minutes=1)).isoformat()), win, now)
    assert "2026-11-20 02:05:00" in caught.value.fix
    with pytest.raises(UsageError, match="before the earliest restorable point"):
        validate(parse_target(time=T0.isoformat()), win, now)
    with pytest.raises(UsageError, match="no backup"):
        validate(parse_target(time=T0.isoformat()), Window(None, None), now)
    validate(parse_target(time=(T0 + timedelta(hours=30)).isoformat()), win, now)


def test_validate_lsn_bounds():
    win = window(SETS, None)
    now = T0 + timedelta(days=3)
    with pytest.raises(UsageError, match="in the future"):
        validate(parse_target(lsn="0/10000000"), win, now, current_lsn=parse_lsn("0/F000100"))
    with pytest.raises(UsageError, match="before the oldest backup"):
        validate(parse_target(lsn="0/1000000"), win, now, oldest_lsn=parse_lsn("0/3000000"))


@pytest.mark.parametrize("target, expected", [
    (parse_target(), "C"),
    (parse_target(time=(T0 + timedelta(hours=1)).isoformat()), "A"),
    (parse_target(time=(T0 + timedelta(hours=24, minutes=4)).isoformat()), "A"),
    (parse_target(time=(T0 + timedelta(hours=30)).isoformat()), "B"),
    (parse_target(lsn="0/9000000"), "B"),
    (parse_target(lsn="0/8FFFFFF"), "A"),
    (parse_target(name="before-migration"), "A"),
    (parse_target(xid="7401"), "A"),
])
def test_the_newest_set_that_ends_before_the_target_is_chosen(target, expected):
    assert choose_set(target, SETS).label == expected


def test_a_known_restore_point_lsn_picks_a_newer_set():
    assert choose_set(parse_target(name="p"), SETS, point_lsn=parse_lsn("0/A000000")).label == "B"


def test_sets_with_errors_are_never_chosen():
    sets = [*SETS[:2], backup("C", 48, "0/F000000", error=True)]
    assert choose_set(parse_target(), sets).label == "B"


def test_no_set_before_the_target_is_an_error():
    with pytest.raises(UsageError, match="no backup set ends before"):
        choose_set(parse_target(time=(T0 + timedelta(minutes=1)).isoformat()), SETS)
