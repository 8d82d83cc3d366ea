"""WAL continuity, proven: which archived WAL to read, and what ``pg_waldump`` said about it (pure).

A segment file that exists and matches its own checksum proves nothing about
the data: a partial copy of a segment, or one from another cluster under the
same name, passes ``pgbackrest verify``, and PostgreSQL's recovery then stops
early without an error.  The proof reads the records themselves:
``pg_waldump`` follows every record from a starting point and fails where a
record does not chain to the one before it (a zeroed page, a wrong
``xl_prev`` link, a missing continuation, another system's page).

What is read (:func:`plan`):

* the followed timeline history: the newest timeline in the archive and its
  ancestors, each up to the point where the next one branched off (a
  timeline's first segment also holds its parent's WAL before the branch);
* from the start of the set from which retention keeps WAL without holes (the
  anchor full) up to the newest segment archived on that history;
* for each older set, and each set taken on an abandoned timeline, its own
  range (``wal_start`` .. ``wal_stop``), the WAL that makes it consistent.

It is incremental: the state (:class:`Proof`) remembers each proven segment's
content digest (pgBackRest names archived files ``<segment>-<sha1>``), so a
daily run re-reads only the newest proven segment (to check the join) and what
arrived since.  A segment whose digest changed after it was proven is read
again.  Reads go in batches so a first run on a large archive needs little
scratch space; batches overlap by one segment, so every join is read.

What it cannot see: WAL that PostgreSQL has not archived yet (the monitor's
``archiving`` and ``wal-waiting`` checks watch that), and a record whose
content is wrong but whose CRC and links are right (nothing short of a
restore sees that; the drills do).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pgvault.core.pgbackrest import BackupSet
from pgvault.core.targets import Target
from pgvault.core.wal import SEGMENT_BYTES, SEGMENT_NAME, lsn_text, name_of, parse_lsn, position, segment_of

#: segments fetched and read per ``pg_waldump`` run (16 MB each: at most 1 GB of scratch space)
BATCH_SEGMENTS = 64
#: segments one monitor run reads at most (2 GB); the rest waits for the next run or the daily verify job
MONITOR_SEGMENTS = 128
#: the state file, in ``jobs.state_dir`` on the DB host
STATE_FILE = "walproof.json"

_FILE = re.compile(rf"^(?:[^/]+/)?[0-9A-F]{{16}}/({SEGMENT_NAME.pattern})-([0-9a-f]{{40}})(\.[a-z0-9]+)?$")
_HISTORY = re.compile(r"^(?:[^/]+/)?([0-9A-F]{8})\.history$")
_ARCHIVE_ID = re.compile(r"^(\d+)-(\d+)$")
_LSN = re.compile(r"\b([0-9A-F]{1,8}/[0-9A-F]{1,8})\b")
_SEGMENT_OFFSET = re.compile(rf"log segment ({SEGMENT_NAME.pattern}), offset (\d+)")
_RECORD = re.compile(r"error in WAL record at ([0-9A-F]{1,8}/[0-9A-F]{1,8}): (.*)")
_NOT_FOUND = re.compile(rf'could not find file "({SEGMENT_NAME.pattern})"')


@dataclass(frozen=True)
class Archive:
    """The current archive id's WAL as the repository lists it."""

    archive_id: str
    #: segment name -> its file, relative to ``archive/<stanza>/``
    files: Mapping[str, str]
    #: timeline -> its history file, relative to ``archive/<stanza>/``
    histories: Mapping[int, str]

    def digest(self, name: str) -> str:
        """The content digest pgBackRest put in segment ``name``'s file name."""
        return _FILE.match(self.files[name]).group(2)

    @property
    def newest_timeline(self) -> int:
        """The newest timeline with a history file or a segment (1 for a stanza that never branched)."""
        return max([1, *self.histories, *(position(n)[0] for n in self.files)])


def archive_listing(repo_ls_json: str) -> Archive | None:
    """The current archive id's segments and history files from ``repo-ls --recurse --output=json archive/<stanza>``.

    The current archive id is the one with the highest database id (``15-2`` after a stanza upgrade).
    ``None`` when the archive holds no archive id yet.
    """
    paths = [path for path, entry in json.loads(repo_ls_json).items() if entry.get("type") == "file"]
    ids = {path.split("/", 1)[0] for path in paths if _ARCHIVE_ID.match(path.split("/", 1)[0])}
    if not ids:
        return None
    current = max(ids, key=lambda i: int(_ARCHIVE_ID.match(i).group(2)))
    files, histories = {}, {}
    for path in paths:
        if not path.startswith(current + "/"):
            continue
        if segment := _FILE.match(path):
            files[segment.group(1)] = path
        elif history := _HISTORY.match(path):
            histories[int(history.group(1), 16)] = path
    return Archive(current, files, histories)


@dataclass(frozen=True)
class Part:
    """The stretch of segment numbers one timeline covers on the followed history."""

    timeline: int
    first: int
    #: the last segment number this timeline covers; ``None`` for the newest timeline (open ended)
    last: int | None


def followed(newest_timeline: int, history: Sequence[tuple[int, int]]) -> list[Part]:
    """The followed history as parts: each ancestor up to the segment before its branch point, then the next.

    ``history`` is the newest timeline's parsed history file (``pgvault.core.wal.parse_history``):
    (ancestor timeline, LSN where the next timeline branched off), oldest first.
    """
    parts, first = [], 0
    for ancestor, switch in history:
        parts.append(Part(ancestor, first, segment_of(switch) - 1))
        first = segment_of(switch)
    parts.append(Part(newest_timeline, first, None))
    return parts


def _on_history(parts: Sequence[Part], number: int) -> int:
    """The timeline whose segment file the followed history uses at segment ``number``."""
    for part in parts:
        if part.last is None or number <= part.last:
            return part.timeline
    return parts[-1].timeline


@dataclass(frozen=True)
class Read:
    """One ``pg_waldump`` run: the segment files to fetch, and the LSN range to follow records across.

    ``stored_as`` names the file each segment is fetched into; it differs from the segment's own name only
    for a parent timeline's last segment before a branch, fetched under the child timeline's name so that
    one run follows the records across the branch point (page timeline ids may only rise, and do).
    """

    timeline: int
    segments: tuple[str, ...]
    start_lsn: int
    end_lsn: int
    stored_as: tuple[str, ...] = ()

    @property
    def files(self) -> tuple[tuple[str, str], ...]:
        """(segment to fetch, file name to store it as), in order."""
        return tuple(zip(self.segments, self.stored_as or self.segments, strict=True))

    @property
    def open_end(self) -> str:
        """The segment after the last one fetched: a record running into it ends the read, not a fault."""
        return name_of(self.timeline, position(self.segments[-1])[1] + 1)

    def describe(self) -> str:
        """``000000010000000000000003..000000010000000000000005`` for progress lines."""
        return self.segments[0] if len(self.segments) == 1 else f"{self.segments[0]}..{self.segments[-1]}"


def resume(read: Read, broken: Break) -> Read | None:
    """The rest of ``read`` after the segment where it broke, so the WAL after a break is proven too."""
    number = position(broken.segment)[1]
    rest = [i for i, name in enumerate(read.segments) if position(name)[1] > number]
    if not rest:
        return None
    first = rest[0]
    return Read(read.timeline, read.segments[first:], position(read.segments[first])[1] * SEGMENT_BYTES,
                read.end_lsn, read.stored_as[first:] if read.stored_as else ())


@dataclass(frozen=True)
class Break:
    """Where WAL stops chaining: the segment, the LSN and pg_waldump's or the listing's reason."""

    segment: str
    lsn: int | None
    reason: str

    def describe(self) -> str:
        """One line for the verify output, the status check and the e-mail."""
        at = f" at LSN {lsn_text(self.lsn)}" if self.lsn is not None else ""
        return (f"WAL stops chaining in segment {self.segment}{at} ({self.reason}): "
                f"recovery ends there, every commit after it is lost to a restore")

    def as_dict(self) -> dict:
        """JSON-ready form (the state file, the status document)."""
        return {"segment": self.segment, "lsn": lsn_text(self.lsn) if self.lsn is not None else None,
                "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping) -> Break:
        """The inverse of :meth:`as_dict`."""
        lsn = data.get("lsn")
        return cls(data["segment"], parse_lsn(lsn) if lsn else None, data.get("reason", ""))


@dataclass(frozen=True)
class Plan:
    """What a proof run reads, and a hole the listing alone already shows (a needed segment not archived)."""

    reads: tuple[Read, ...]
    missing: Break | None
    #: the followed history's segments from the anchor set's start to the newest archived one
    chain: tuple[str, ...] = ()
    #: unproven segments left for a later run (``limit``)
    pending: int = 0

    @property
    def newest(self) -> str | None:
        """The newest segment of the followed history in the archive (what "proven to the end" means)."""
        return self.chain[-1] if self.chain else None


def _ranges(archive: Archive, parts: Sequence[Part], sets: Sequence[BackupSet],
            kept_from: BackupSet | None) -> tuple[list[list[str]], Break | None]:
    """The segment-name lists that must chain: the followed history from the anchor, and older or forked sets.

    The chain starts at the anchor full (``kept_from``) when it lies on the followed history, else at the
    oldest set on it that is not older than the anchor; with none, nothing restorable to "latest" can be
    proven, which is itself a break.
    """
    on_history = [n for n in archive.files if _on_history(parts, position(n)[1]) == position(n)[0]]
    starts = [b for b in sets if b.wal_start and b.wal_stop]
    if not on_history or not starts:
        return [], None
    newest = max(position(n)[1] for n in on_history)

    def followed_by_history(b: BackupSet) -> bool:
        return _on_history(parts, position(b.wal_start)[1]) == position(b.wal_start)[0]

    anchor = kept_from if kept_from is not None and kept_from in starts and followed_by_history(kept_from) else min(
        (b for b in starts if followed_by_history(b) and (kept_from is None or b.start >= kept_from.start)),
        key=lambda b: position(b.wal_start)[1], default=None)
    if anchor is None:
        newest_name = name_of(parts[-1].timeline, newest)
        return [], Break(newest_name, None, "no kept backup set lies on the followed timeline history, so no restore "
                                            "can reach the newest WAL: take a full backup")
    begin = position(anchor.wal_start)[1]
    ranges = [[name_of(_on_history(parts, n), n) for n in range(begin, newest + 1)]]
    for b in starts:
        tl, first = position(b.wal_start)
        if first >= begin and followed_by_history(b):
            continue
        ranges.append([name_of(tl, n) for n in range(first, position(b.wal_stop)[1] + 1)])
    return ranges, None


def _foreign(archive: Archive, timeline: int) -> Break | None:
    """A timeline in the archive newer than the one production follows: another cluster promoted into the stanza."""
    newer = sorted({t for t in archive.histories if t > timeline} | {position(n)[0] for n in archive.files
                                                                      if position(n)[0] > timeline})
    if not newer:
        return None
    first = min((n for n in archive.files if position(n)[0] == newer[0]), key=lambda n: position(n)[1],
                default=name_of(newer[0], 0))
    return Break(first, None, f"timeline {newer[0]} in the archive is newer than production's timeline {timeline}: "
                              "another cluster was promoted into this stanza; fence it")


def plan(archive: Archive, history: Sequence[tuple[int, int]], sets: Sequence[BackupSet],
         kept_from: BackupSet | None, proven: Mapping[str, str], batch: int = BATCH_SEGMENTS,
         timeline: int | None = None, limit: int | None = None) -> Plan:
    """The reads a proof run needs, given what earlier runs proved (segment name -> digest).

    ``timeline`` is the one production is on (``None``: the archive's newest) and ``history`` its parsed
    history file.  Only unproven segments are read, each with its neighbours so every join is followed;
    ``limit`` caps the segments read in one run (the rest are ``pending``); ``batch`` (at least 2) caps a read.
    """
    followed_tl = timeline or archive.newest_timeline
    parts = followed(followed_tl, history)
    ranges, missing = _ranges(archive, parts, sets, kept_from)
    foreign = _foreign(archive, followed_tl)
    if foreign is not None and (missing is None or position(foreign.segment)[1] < position(missing.segment)[1]):
        missing = foreign
    reads: list[Read] = []
    budget, pending = limit, 0
    for names in ranges:
        absent = next((n for n in names if n not in archive.files), None)
        if absent is not None:
            hole = Break(absent, position(absent)[1] * SEGMENT_BYTES, "segment missing from the archive")
            missing = hole if missing is None or position(absent)[1] < position(missing.segment)[1] else missing
            names = names[:names.index(absent)]
        for span in _unproven_spans(names, [proven.get(n) == archive.digest(n) for n in names]):
            taken = span if budget is None else span[:budget if budget >= 2 else 0]
            pending += sum(1 for n in span[len(taken):] if proven.get(n) != archive.digest(n))
            if budget is not None:
                budget -= len(taken)
            if taken:
                reads.extend(_batches(taken, batch))
    return Plan(tuple(reads), missing, tuple(ranges[0]) if ranges else (), pending)


def _unproven_spans(names: Sequence[str], done: Sequence[bool]) -> list[list[str]]:
    """Contiguous stretches to read: every unproven segment with the segment before and after it."""
    wanted = set()
    for i, ok in enumerate(done):
        if not ok:
            wanted.update(j for j in (i - 1, i, i + 1) if 0 <= j < len(names))
    spans: list[list[str]] = []
    for i in sorted(wanted):
        if spans and i - 1 in wanted:
            spans[-1].append(names[i])
        else:
            spans.append([names[i]])
    return spans


def _batches(names: Sequence[str], batch: int) -> list[Read]:
    """Reads of at most ``batch`` segments, each overlapping the one before by a segment.

    Where the names change timeline (a branch point), the child's read starts with the parent's last
    segment stored under the child's name, so the join across the branch is followed too.
    """
    runs: list[list[str]] = []
    for name in names:
        if runs and position(runs[-1][-1])[0] == position(name)[0]:
            runs[-1].append(name)
        else:
            runs.append([name])
    out = []
    for number, run in enumerate(runs):
        stored = list(run)
        if number:
            parent_last = runs[number - 1][-1]
            stored = [name_of(position(run[0])[0], position(parent_last)[1]), *run]
            run = [parent_last, *run]
        i = 0
        while True:
            chunk, names_as = run[i:i + batch], stored[i:i + batch]
            tl = position(names_as[0])[0]
            out.append(Read(tl, tuple(chunk), position(chunk[0])[1] * SEGMENT_BYTES,
                            (position(chunk[-1])[1] + 1) * SEGMENT_BYTES,
                            tuple(names_as) if names_as != chunk else ()))
            if i + batch >= len(run):
                break
            i += batch - 1
    return out


def waldump_argv(bin_dir: str, folder: str, read: Read) -> list[str]:
    """``pg_waldump`` following every record of ``read`` in ``folder``, printing only errors."""
    return [f"{bin_dir}/pg_waldump", "--quiet", f"--path={folder}", f"--timeline={read.timeline}",
            f"--start={lsn_text(read.start_lsn)}", f"--end={lsn_text(read.end_lsn)}"]


@dataclass(frozen=True)
class Outcome:
    """What one read proved: the segments whose records all chain, and the break if it found one."""

    proven: tuple[str, ...]
    broken: Break | None


def judged(exit_code: int, stderr: str) -> bool:
    """Whether a ``pg_waldump`` run ended in a verdict on the WAL (``outcome`` applies), not a local failure.

    A verdict is success, or exit 1 with one of pg_waldump's WAL-reading errors; anything else (the binary
    missing, a full disk, a killed run) says nothing about the WAL and must not be recorded as a break.
    """
    return exit_code == 0 or (exit_code == 1 and bool(
        _RECORD.search(stderr) or _NOT_FOUND.search(stderr) or "could not find a valid record" in stderr))


def outcome(read: Read, exit_code: int, stderr: str) -> Outcome:
    """Judge a ``pg_waldump`` run: reaching the end, or running into the segment after the read, proves it all.

    Any other error is a break: the segment and LSN come from pg_waldump's message
    (``invalid record length at X``, ``incorrect prev-link ... at X``, ``contrecord is requested by X``,
    ``invalid magic number ... in log segment S, offset N``); the segments before the last good record's
    segment are proven.
    """
    missing = _NOT_FOUND.search(stderr)
    if exit_code == 0 or (missing and missing.group(1) == read.open_end):
        return Outcome(read.segments, None)
    line = next((ln for ln in stderr.splitlines() if "error" in ln), stderr.strip() or f"exit status {exit_code}")
    reason = line.split("error: ", 1)[-1].strip()
    record = _RECORD.search(line)
    if record:
        reason = record.group(2).strip()
    where = _SEGMENT_OFFSET.search(reason)
    lsns = [parse_lsn(x) for x in _LSN.findall(reason)]
    if where:
        lsn = position(where.group(1))[1] * SEGMENT_BYTES + int(where.group(2))
    elif missing:
        lsn = position(missing.group(1))[1] * SEGMENT_BYTES
    elif lsns:
        lsn = lsns[-1]
    elif record:
        lsn = parse_lsn(record.group(1))
    else:
        lsn = read.start_lsn
    good = parse_lsn(record.group(1)) if record else read.start_lsn
    limit = min(segment_of(good), segment_of(lsn))
    proven = tuple(n for n in read.segments if position(n)[1] < limit)
    where_named = next((n for n in read.segments if position(n)[1] == segment_of(lsn)),
                       name_of(read.timeline, segment_of(lsn)))
    return Outcome(proven, Break(where_named, lsn, reason))


@dataclass
class Proof:
    """The proof's memory on the DB host (``<state_dir>/walproof.json``)."""

    archive_id: str | None = None
    #: proven segment name -> the digest of the file that was read
    proven: dict[str, str] = field(default_factory=dict)
    broken: Break | None = None
    #: when the last run finished, and the newest segment of the followed history it had proven
    checked: str | None = None
    proven_to: str | None = None
    newest: str | None = None
    #: unproven segments a capped run left for the next one
    pending: int = 0

    def to_json(self) -> str:
        """The state file's text."""
        return json.dumps({"archive_id": self.archive_id, "checked": self.checked, "proven_to": self.proven_to,
                           "newest": self.newest, "broken": self.broken.as_dict() if self.broken else None,
                           "pending": self.pending, "proven": self.proven}, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> Proof:
        """Read the state file; an absent or unreadable one is an empty proof (everything is read again)."""
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        broken = data.get("broken")
        return cls(data.get("archive_id"), dict(data.get("proven") or {}),
                   Break.from_dict(broken) if broken else None, data.get("checked"), data.get("proven_to"),
                   data.get("newest"), int(data.get("pending") or 0))


def advance(previous: Proof, archive: Archive, found: Plan, outcomes: Iterable[Outcome], now: datetime) -> Proof:
    """The new state after a run: proven digests of what is still archived, the first break, the frontier."""
    proven = {} if previous.archive_id != archive.archive_id else {
        name: digest for name, digest in previous.proven.items()
        if name in archive.files and archive.digest(name) == digest}
    broken = found.missing
    for result in outcomes:
        proven.update({name: archive.digest(name) for name in result.proven})
        if result.broken and (broken is None or position(result.broken.segment)[1] < position(broken.segment)[1]):
            broken = result.broken
    frontier = None
    for name in found.chain:
        if name not in proven:
            break
        frontier = name
    return Proof(archive.archive_id, proven, broken, now.isoformat(), frontier, found.newest, found.pending)


def summary(proof: Proof) -> str:
    """One line: proven to which segment, or where it breaks."""
    if proof.broken:
        return proof.broken.describe()
    if proof.newest is None:
        return "no backup set yet: no WAL to prove"
    left = f"; {proof.pending} newer segment(s) still to read" if proof.pending else ""
    return f"WAL chains from the oldest kept backup set to {proof.proven_to} (newest archived: {proof.newest}){left}"


def break_warning(broken: Break | None, target: Target, chosen: BackupSet,
                  timelines: Iterable[int] | None = None) -> str | None:
    """``warning: ...`` when a restore from ``chosen`` to ``target`` must replay across the proof's break.

    The break counts when it lies after the set's start, on a timeline the restore follows (``timelines``;
    ``None``: any), and the target is not an LSN before it.  A time target counts too: the proof does not
    know when the broken WAL was written, so only a scratch restore can tell how far it gets.
    """
    if broken is None or target.kind == "immediate" or not chosen.wal_start:
        return None
    timeline, number = position(broken.segment)
    if number < position(chosen.wal_start)[1] or (timelines is not None and timeline not in set(timelines)):
        return None
    if target.lsn is not None and broken.lsn is not None and target.lsn <= broken.lsn:
        return None
    return f"warning: the WAL proof found a break on the way: {broken.describe()}"
