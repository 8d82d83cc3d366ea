"""Parsers of pgBackRest output, fed with output captured from pgBackRest 2.45."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest

from pgvault.core.pgbackrest import parse_info, summarise_error, verify_problems

DATA = Path(__file__).parent / "data"


def test_info_parses_every_backup_set_oldest_first():
    info = parse_info((DATA / "info_two_fulls.json").read_text(), "crm")
    assert info.status_code == 0
    assert all(b.start.tzinfo == UTC for b in info.backups)
    assert [b.start for b in info.backups] == sorted(b.start for b in info.backups)
    assert info.archive_min <= info.archive_max
    full = info.backups[0]
    assert full.type == "full" and full.prior is None and full.lsn_stop
    incr = next(b for b in info.backups if b.type == "incr")
    assert incr.prior and incr.references
    raw = json.loads((DATA / "info_two_fulls.json").read_text())[0]["backup"]
    assert len(info.backups) == len(raw)
    assert sum(b.repo_delta for b in info.backups) == sum(b["info"]["repository"]["delta"] for b in raw)


def test_info_for_an_unknown_stanza_is_an_error():
    with pytest.raises(ValueError, match="nosuch"):
        parse_info((DATA / "info_two_fulls.json").read_text(), "nosuch")


def test_info_of_a_missing_stanza_has_its_status():
    text = json.dumps([{"name": "crm", "status": {"code": 1, "message": "missing stanza path"}, "backup": []}])
    info = parse_info(text, "crm")
    assert (info.status_code, info.status_message, info.backups) == (1, "missing stanza path", ())


def test_verify_finds_the_corrupt_wal_segment_and_the_summary():
    problems = verify_problems((DATA / "verify_wal_corrupt.txt").read_text())
    assert problems[0].startswith("WAL segment 000000010000000000000003 (archive 15-1) is damaged: 15-1/")
    assert "Data corruption detected" in problems[0]
    assert "WAL of archive 15-1 is damaged (total WAL checked: 8, total valid WAL: 7)" in problems
    assert "other: 1" in problems


def test_verify_clean_output_has_no_problems():
    assert verify_problems((DATA / "verify_clean.txt").read_text()) == []


@pytest.mark.parametrize("output, code, words", [
    ("P00  ERROR: [082]: WAL segment 000000010000000000000005 was not archived before the 60000ms timeout",
     82, "check archive_command"),
    ("ERROR: [050]: unable to acquire lock on file '/tmp/pgbackrest/crm-backup.lock'", 50, "already running"),
    ("ERROR: [095]: unable to decrypt: wrong key", 95, "PGVAULT_REPO_CIPHER_PASS"),
    ("ERROR: [101]: TLS error [1:337047686] certificate verify failed", 101, "S3 endpoint"),
    ("something went wrong\nlast words", None, "last words"),
])
def test_errors_become_one_line_with_a_hint(output, code, words):
    found, line = summarise_error(output)
    assert found == code
    assert words in line and "\n" not in line


def test_verify_ranges_reveal_a_missing_segment():
    from pgvault.core.walarchive import verify_gaps

    text = (DATA / "verify_wal_gap.txt").read_text()
    assert verify_gaps(text) == [
        "archive 15-1: WAL missing after 000000010000000000000004 up to 000000010000000000000006"]
    assert verify_gaps((DATA / "verify_clean.txt").read_text()) == []
