"""The WAL proof's pure parts: the archive listing, what to read, pg_waldump's verdicts, the state."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pgvault.core import walproof
from pgvault.core.pgbackrest import BackupSet
from pgvault.core.wal import SEGMENT_BYTES, name_of, parse_lsn

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _digest(timeline: int, number: int, variant: str = "a") -> str:
    return (f"{timeline:02x}{number:06x}{variant}" * 5)[:40]


def _listing(segments: dict[int, range], histories: tuple[int, ...] = (), archive_id: str = "15-1",
             variant: dict[str, str] | None = None) -> str:
    files = {archive_id: {"type": "path"}, "archive.info": {"type": "file"}}
    for timeline, numbers in segments.items():
        for n in numbers:
            name = name_of(timeline, n)
            files[f"{archive_id}/{name[:16]}/{name}-{_digest(timeline, n, (variant or {}).get(name, 'a'))}.zst"] = {
                "type": "file"}
    for t in histories:
        files[f"{archive_id}/{t:08X}.history"] = {"type": "file"}
    return json.dumps(files)


def _set(label: str, start: str, stop: str, kind: str = "full"):
    return BackupSet(label, kind, NOW, NOW, 1, 1, 1, 1, start, stop, None, None, None, (), False)


def _archive(segments, histories=(), **kw) -> walproof.Archive:
    return walproof.archive_listing(_listing(segments, histories, **kw))


def test_the_listing_takes_the_newest_archive_id_its_segments_and_history_files():
    text = json.loads(_listing({1: range(3, 5)}, archive_id="15-1"))
    text.update(json.loads(_listing({1: range(1, 3), 2: range(2, 4)}, histories=(2,), archive_id="15-2")))
    archive = walproof.archive_listing(json.dumps(text))
    assert archive.archive_id == "15-2"
    assert sorted(archive.files) == [name_of(1, 1), name_of(1, 2), name_of(2, 2), name_of(2, 3)]
    assert archive.histories == {2: "15-2/00000002.history"} and archive.newest_timeline == 2
    assert archive.digest(name_of(2, 3)) == _digest(2, 3)
    assert walproof.archive_listing(json.dumps({"archive.info": {"type": "file"}})) is None


def test_a_first_proof_reads_from_the_anchor_set_to_the_newest_segment_in_overlapping_batches():
    archive = _archive({1: range(1, 12)})
    anchor = _set("F1", name_of(1, 2), name_of(1, 3))
    found = walproof.plan(archive, (), [anchor], anchor, {}, batch=4)
    assert [(r.segments[0], r.segments[-1]) for r in found.reads] == [
        (name_of(1, 2), name_of(1, 5)), (name_of(1, 5), name_of(1, 8)), (name_of(1, 8), name_of(1, 11))]
    first = found.reads[0]
    assert (first.start_lsn, first.end_lsn) == (2 * SEGMENT_BYTES, 6 * SEGMENT_BYTES)
    assert first.open_end == name_of(1, 6) and found.newest == name_of(1, 11) and found.missing is None


def test_a_later_proof_rereads_only_the_newest_proven_segment_and_what_arrived_since():
    archive = _archive({1: range(1, 12)})
    anchor = _set("F1", name_of(1, 2), name_of(1, 3))
    proven = {name_of(1, n): _digest(1, n) for n in range(2, 9)}
    found = walproof.plan(archive, (), [anchor], anchor, proven)
    assert [r.segments for r in found.reads] == [tuple(name_of(1, n) for n in range(8, 12))]
    everything = {name_of(1, n): _digest(1, n) for n in range(2, 12)}
    assert walproof.plan(archive, (), [anchor], anchor, everything).reads == ()


def test_a_segment_whose_content_changed_after_it_was_proven_is_read_again():
    archive = _archive({1: range(1, 12)}, variant={name_of(1, 5): "b"})
    anchor = _set("F1", name_of(1, 2), name_of(1, 3))
    proven = {name_of(1, n): _digest(1, n) for n in range(2, 12)}
    found = walproof.plan(archive, (), [anchor], anchor, proven)
    assert found.reads[0].segments[0] == name_of(1, 4), "the read starts at the proven segment before the change"


def test_a_segment_missing_from_the_archive_is_a_break_before_anything_is_read():
    archive = _archive({1: [*range(1, 5), *range(6, 9)]})
    anchor = _set("F1", name_of(1, 1), name_of(1, 2))
    found = walproof.plan(archive, (), [anchor], anchor, {})
    assert found.missing.segment == name_of(1, 5) and "missing from the archive" in found.missing.reason
    assert [r.segments[-1] for r in found.reads] == [name_of(1, 4)], "what comes before the hole is still read"


def test_the_followed_history_switches_timeline_at_the_branch_segment_and_forked_sets_get_their_own_range():
    # timeline 2 branched off timeline 1 in segment 6; timeline 1 went on to segment 9 (abandoned)
    archive = _archive({1: range(1, 10), 2: range(6, 9)}, histories=(2,))
    history = ((1, 6 * SEGMENT_BYTES + 0x100),)
    anchor = _set("F1", name_of(1, 2), name_of(1, 3))
    abandoned = _set("I1", name_of(1, 7), name_of(1, 8), "incr")
    found = walproof.plan(archive, history, [anchor, abandoned], anchor, {})
    assert found.chain == (name_of(1, 2), name_of(1, 3), name_of(1, 4), name_of(1, 5),
                           name_of(2, 6), name_of(2, 7), name_of(2, 8))
    assert [(r.timeline, r.segments) for r in found.reads] == [
        (1, tuple(name_of(1, n) for n in range(2, 6))), (2, tuple(name_of(2, n) for n in range(6, 9))),
        (1, (name_of(1, 7), name_of(1, 8)))]


def test_sets_older_than_the_anchor_need_only_their_own_range():
    archive = _archive({1: [2, 3, *range(10, 14)]})
    old = _set("F0", name_of(1, 2), name_of(1, 3))
    anchor = _set("F1", name_of(1, 10), name_of(1, 11))
    found = walproof.plan(archive, (), [old, anchor], anchor, {})
    assert found.missing is None, "the WAL retention removed between them is no hole"
    assert [r.segments for r in found.reads] == [tuple(name_of(1, n) for n in range(10, 14)),
                                                 (name_of(1, 2), name_of(1, 3))]


READ = walproof.Read(1, tuple(name_of(1, n) for n in range(1, 6)), SEGMENT_BYTES, 6 * SEGMENT_BYTES)


@pytest.mark.parametrize(("stderr", "segment", "lsn", "proven"), [
    # a partial copy: the rest of the segment is zeros (seen with PostgreSQL 15's pg_waldump)
    ("pg_waldump: error: error in WAL record at 0/37FFB50: invalid magic number 0000 in log segment "
     "000000010000000000000003, offset 8388608", name_of(1, 3), 3 * SEGMENT_BYTES + 8388608, 2),
    ("pg_waldump: error: error in WAL record at 0/3000148: invalid record length at 0/3000180: expected at least "
     "24, got 0", name_of(1, 3), parse_lsn("0/3000180"), 2),
    # another cluster's segment under this name: its records do not continue this one's
    ("pg_waldump: error: error in WAL record at 0/3D779D8: contrecord is requested by 0/4000028",
     name_of(1, 4), parse_lsn("0/4000028"), 2),
    ("pg_waldump: error: error in WAL record at 0/4D779D8: record with incorrect prev-link 0/40872A8 at 0/5000028",
     name_of(1, 5), parse_lsn("0/5000028"), 3),
    ('pg_waldump: error: could not find file "000000010000000000000004": No such file or directory',
     name_of(1, 4), 4 * SEGMENT_BYTES, 0),
    ("pg_waldump: error: could not find a valid record after 0/1000000", name_of(1, 1), SEGMENT_BYTES, 0),
])
def test_pg_waldumps_errors_name_the_segment_and_lsn_where_wal_stops_chaining(stderr, segment, lsn, proven):
    result = walproof.outcome(READ, 1, stderr)
    assert result.broken.segment == segment and result.broken.lsn == lsn
    assert result.proven == READ.segments[:proven]
    assert segment in result.broken.describe() and "lost" in result.broken.describe()


def test_reaching_the_end_or_running_into_the_segment_after_the_read_proves_it_all():
    assert walproof.outcome(READ, 0, "").proven == READ.segments
    ran_on = 'pg_waldump: error: could not find file "000000010000000000000006": No such file or directory'
    assert walproof.outcome(READ, 1, ran_on) == walproof.Outcome(READ.segments, None)


def test_the_state_keeps_proven_digests_that_still_match_the_first_break_and_the_frontier():
    archive = _archive({1: range(1, 8)}, variant={name_of(1, 2): "b"})
    anchor = _set("F1", name_of(1, 1), name_of(1, 2))
    previous = walproof.Proof("15-1", {name_of(1, 1): _digest(1, 1), name_of(1, 2): _digest(1, 2),
                                       name_of(1, 99): "gone"})
    found = walproof.plan(archive, (), [anchor], anchor, previous.proven)
    broken = walproof.Break(name_of(1, 5), 5 * SEGMENT_BYTES + 40, "contrecord is requested by 0/5000028")
    state = walproof.advance(previous, archive, found,
                             [walproof.Outcome(tuple(name_of(1, n) for n in range(1, 5)), broken)], NOW)
    assert state.proven == {name_of(1, n): archive.digest(name_of(1, n)) for n in range(1, 5)}
    assert state.broken == broken and state.proven_to == name_of(1, 4) and state.newest == name_of(1, 7)
    again = walproof.Proof.from_json(state.to_json())
    assert again == state and walproof.summary(again) == broken.describe()
    assert walproof.Proof.from_json("not json") == walproof.Proof()


def test_a_new_archive_id_starts_the_proof_over():
    archive = _archive({1: range(1, 3)}, archive_id="16-2")
    previous = walproof.Proof("15-1", {name_of(1, 1): _digest(1, 1)})
    anchor = _set("F1", name_of(1, 1), name_of(1, 1))
    found = walproof.plan(archive, (), [anchor], anchor, {})
    assert walproof.advance(previous, archive, found, [], NOW).proven == {}


def test_the_waldump_command_reads_quietly_between_the_reads_lsns():
    assert walproof.waldump_argv("/usr/lib/postgresql/15/bin", ".", READ) == [
        "/usr/lib/postgresql/15/bin/pg_waldump", "--quiet", "--path=.", "--timeline=1", "--start=0/1000000",
        "--end=0/6000000"]
