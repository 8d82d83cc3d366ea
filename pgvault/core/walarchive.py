"""The WAL archive as the bucket holds it: segments, their arrival times, and gaps.

pgBackRest's ``verify`` reports a missing segment only as two separate WAL
ranges, and PostgreSQL silently ends recovery at the first missing segment.
So pgvault looks at the bucket itself: :func:`gaps` (pure) finds holes in the
numbering within each timeline, and :func:`crossing` says whether a restore
from a backup set to a target would have to replay across one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from pgvault.core.pgbackrest import BackupSet
from pgvault.core.targets import Target
from pgvault.core.wal import SEGMENT_NAME, name_of, position, segment_of

_SEGMENT = re.compile(rf"^({SEGMENT_NAME.pattern})-[0-9a-f]{{40}}")
_RANGE = re.compile(r"archiveId: (\S+), wal start: ([0-9A-F]{24}), wal stop: ([0-9A-F]{24})")

@dataclass(frozen=True)
class Gap:
    """Segments missing between two archived ones of the same timeline."""

    timeline: int
    last_before: str
    first_after: str
    last_before_at: datetime | None = None

    @property
    def missing(self) -> str:
        """The missing segment names, e.g. ``000000010000000000000005`` or a ``a..b`` range."""
        first = name_of(self.timeline, position(self.last_before)[1] + 1)
        last = name_of(self.timeline, position(self.first_after)[1] - 1)
        return first if first == last else f"{first}..{last}"


def gaps(segments: Sequence[tuple[str, datetime | None]]) -> list[Gap]:
    """Holes in the numbering of archived segments, per timeline."""
    by_timeline: dict[int, list[tuple[int, str, datetime | None]]] = {}
    for name, when in segments:
        timeline, number = position(name)
        by_timeline.setdefault(timeline, []).append((number, name, when))
    found = []
    for timeline, items in sorted(by_timeline.items()):
        items = sorted(set(items), key=lambda item: item[0])
        for (n1, name1, at1), (n2, name2, _) in pairwise(items):
            if n2 > n1 + 1:
                found.append(Gap(timeline, name1, name2, at1))
    return found


def crossing(target: Target, chosen: BackupSet, found: Sequence[Gap]) -> Gap | None:
    """The gap a restore from ``chosen`` to ``target`` would have to replay across, if any.

    For a time target the gap counts when the segment before it arrived before
    the target; for an LSN target when the gap lies below the target's segment;
    for latest, name and xid targets every gap after the set's start counts.
    """
    start = position(chosen.wal_start)[1] if chosen.wal_start else 0
    for gap in found:
        if position(gap.last_before)[1] + 1 < start:
            continue
        if target.time is not None and gap.last_before_at is not None and target.time <= gap.last_before_at:
            continue
        if target.lsn is not None and segment_of(target.lsn) <= position(gap.last_before)[1]:
            continue
        if target.kind == "immediate":
            continue
        return gap
    return None


def left_by_retention(stop: str, start: str, sets: Sequence[BackupSet], kept_from: BackupSet | None) -> bool:
    """Whether the WAL missing after ``stop`` up to ``start`` was removed on purpose by archive retention.

    ``backup.expire`` keeps WAL without holes from ``kept_from`` (the anchor
    full) on and, before it, only each older set's own range, the WAL that
    makes it consistent.  A hole before the anchor's start that no set's range
    touches is that design, not a loss.
    """
    if kept_from is None or kept_from.wal_start is None:
        return False
    first, last = position(stop)[1] + 1, position(start)[1] - 1
    if last >= position(kept_from.wal_start)[1]:
        return False
    return not any(s.wal_start and s.wal_stop and position(s.wal_start)[1] <= last and first <= position(s.wal_stop)[1]
                   for s in sets)


def verify_gaps(output: str, sets: Sequence[BackupSet] = (), kept_from: BackupSet | None = None) -> list[str]:
    """Gaps that ``pgbackrest verify`` shows as several WAL ranges of one archive id, less retention's own."""
    ranges: dict[str, list[tuple[str, str]]] = {}
    for archive_id, start, stop in _RANGE.findall(output):
        ranges.setdefault(archive_id, []).append((start, stop))
    out = []
    for archive_id, spans in ranges.items():
        spans.sort()
        for (_, stop), (start, _) in pairwise(spans):
            if position(stop)[0] == position(start)[0] and not left_by_retention(stop, start, sets, kept_from):
                out.append(f"archive {archive_id}: WAL missing after {stop} up to {start}")
    return out


def segment_name(key: str) -> str | None:
    """The WAL segment an archive object key holds, or None (history, backup label files)."""
    match = _SEGMENT.match(key.rsplit("/", 1)[-1])
    return match.group(1) if match else None
