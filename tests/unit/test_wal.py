"""WAL positions: LSNs, segment names and the arithmetic between them."""

from __future__ import annotations

import pytest

from pgvault.core import wal


@pytest.mark.parametrize("text, value", [("0/0", 0), ("0/3000060", 0x3000060), ("1A/FF", (0x1A << 32) | 0xFF)])
def test_lsn_round_trip(text, value):
    assert wal.parse_lsn(text) == value
    assert wal.lsn_text(value) == text.upper()


@pytest.mark.parametrize("text", ["3000060", "0/30000G0", "0/3000060; rm -rf /", "/1", "123456789/0"])
def test_anything_else_is_not_an_lsn(text):
    with pytest.raises(ValueError, match="is not an LSN"):
        wal.parse_lsn(text)


def test_names_and_positions_round_trip_across_log_files():
    assert wal.position("0000000100000001000000FF") == (1, 0x1FF)
    assert wal.name_of(1, 0x200) == "000000010000000200000000"
    assert wal.name_of(*wal.position("0000000300000004000000A0")) == "0000000300000004000000A0"


def test_segment_end_and_segment_of_an_lsn():
    assert wal.segment_end_lsn("000000010000000000000003") == wal.parse_lsn("0/4000000")
    assert wal.segment_end_lsn("0000000100000001000000FF") == wal.parse_lsn("2/0")
    assert wal.segment_of(wal.parse_lsn("0/4000000") - 1) == 3
    assert wal.segment_of(wal.parse_lsn("1/0")) == 0x100


def test_segments_between_ignores_the_timeline_and_never_goes_negative():
    assert wal.segments_between("000000010000000000000005", "000000020000000000000009") == 3
    assert wal.segments_between("000000010000000000000005", "000000010000000000000006") == 0
    assert wal.segments_between("000000010000000000000009", "000000010000000000000005") == 0


def test_the_history_file_says_where_recovery_ended():
    assert wal.history_switch_lsn("1\t0/5000148\tno recovery target specified\n") == wal.parse_lsn("0/5000148")
    two = "1\t0/5000148\tno recovery target specified\n\n2\t0/9A0000D8\tat restore point \"x\"\n"
    assert wal.history_switch_lsn(two) == wal.parse_lsn("0/9A0000D8")
    assert wal.history_switch_lsn("") is None
