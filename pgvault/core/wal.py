"""PostgreSQL's WAL positions: LSNs, segment file names and the arithmetic between them (pure).

pgvault assumes the default 16 MB ``wal_segment_size`` (``initdb`` default,
Debian's clusters): 256 segments per 4 GB "log" id, so the file
``TTTTTTTTXXXXXXXXYYYYYYYY`` holds LSNs ``XXXXXXXX/YY000000`` up to, not
including, the next segment's start.  Every module that counts segments or
turns a file name into an LSN uses these functions.
"""

from __future__ import annotations

import re

SEGMENT_BYTES = 16 * 1024 * 1024
#: a WAL segment file name: timeline, log and segment, 8 hex digits each
SEGMENT_NAME = re.compile(r"[0-9A-F]{24}")
#: segments in one 4 GB log id (the middle 8 hex digits of a file name)
SEGMENTS_PER_LOG = 0x1_0000_0000 // SEGMENT_BYTES

_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")


def parse_lsn(text: str) -> int:
    """PostgreSQL's ``X/Y`` LSN as an integer.

    :raises ValueError: for any other form
    """
    match = _LSN.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an LSN")
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def lsn_text(value: int) -> str:
    """An integer LSN written as PostgreSQL does (``0/3000060``)."""
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


def position(name: str) -> tuple[int, int]:
    """(timeline, segment number) of a WAL file name."""
    return int(name[:8], 16), int(name[8:16], 16) * SEGMENTS_PER_LOG + int(name[16:24], 16)


def name_of(timeline: int, number: int) -> str:
    """The WAL file name of segment ``number`` on ``timeline``."""
    return f"{timeline:08X}{number // SEGMENTS_PER_LOG:08X}{number % SEGMENTS_PER_LOG:08X}"


def segment_end_lsn(name: str) -> int:
    """The LSN where a segment ends: everything before it is in that file or an earlier one."""
    return (position(name)[1] + 1) * SEGMENT_BYTES


def segment_of(lsn: int) -> int:
    """The segment number holding ``lsn``."""
    return lsn // SEGMENT_BYTES


def segments_between(older: str, newer: str) -> int:
    """How many segments lie strictly between two file names (0 when adjacent or out of order)."""
    return max(0, position(newer)[1] - position(older)[1] - 1)


def parse_history(history: str) -> tuple[tuple[int, int], ...]:
    """The lines of a ``<timeline>.history`` file: (ancestor timeline, LSN where it was left), oldest first.

    Each line is ``<parent timeline> <switch LSN> <reason>`` (tab-separated); comments start with ``#``.
    """
    lines = [line.split() for line in history.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return tuple((int(fields[0]), parse_lsn(fields[1])) for fields in lines if len(fields) >= 2)


def history_switch_lsn(history: str) -> int | None:
    """Where the newest timeline of a ``<timeline>.history`` file branched off: the end of recovery."""
    lines = parse_history(history)
    return lines[-1][1] if lines else None
