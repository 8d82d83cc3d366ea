"""Restores as pure logic: which backup set, whether the target can be reached, why recovery stopped.

pgBackRest recovers to the end of WAL, silently ignoring a time target, when
the chosen set is newer than the target, and PostgreSQL silently ends
recovery at the first missing WAL segment.  So before anything changes,
:func:`choose` validates the target against the recoverable window and the
primary (a future time, an LSN not yet written, an xid not yet assigned) and
picks the set, and :func:`gap_warning` refuses a target whose replay would
cross a hole in the archive.  Afterwards :func:`recovery_failure` turns the
restored cluster's last log lines into one error with its fix, and
:func:`short_recovery` catches the silent case: a restore to "latest" whose
recovery ended before the newest archived WAL (a damaged, foreign or missing
segment ends it early, and PostgreSQL promotes anyway).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pgvault.core.errors import ExitCode, PgvaultError, UsageError, did_you_mean
from pgvault.core.pgbackrest import BackupSet, StanzaInfo
from pgvault.core.targets import Target, Window, choose_set, recoverable_window, validate
from pgvault.core.wal import SEGMENT_BYTES, SEGMENT_NAME, lsn_text, name_of, parse_lsn, position, segment_of
from pgvault.core.walarchive import Gap, crossing

#: PostgreSQL's words when the archive ends before a commit past the target
NOT_REACHED = "recovery ended before configured recovery target was reached"


@dataclass(frozen=True)
class RestoreFacts:
    """What a restore reads before choosing: the repository, the primary, the host's clock."""

    stanza: StanzaInfo
    #: the primary's state (``catalog.PRIMARY_STATE_SQL``), ``None`` when it is down
    primary: dict | None
    now: datetime
    #: for a name target: its row in pgvault's restore-point registry, when there is one
    restore_point: dict | None = None
    #: the timeline recovery will follow, when known, and its history (``wal.parse_history``)
    timeline: int | None = None
    history: tuple[tuple[int, int], ...] = ()
    #: for a name target missing from the registry: the names the registry holds, newest first
    restore_points: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestorePlan:
    """The backup set to restore, the window it was chosen in, and what to tell the operator."""

    backup_set: BackupSet
    window: Window
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: for "latest": the newest WAL segment known archived when the restore began; recovery must get past it
    expected_end: str | None = None
    #: older sets to restore from, newest first, if the chosen one proves damaged (:func:`fallbacks`)
    fallbacks: tuple[BackupSet, ...] = ()

    def describe(self) -> str:
        """One line: the set, its type and end, and the window."""
        chosen = self.backup_set
        ended = chosen.stop.isoformat(sep=" ", timespec="seconds")
        return f"backup set {chosen.label} ({chosen.type}, ended {ended}); window {self.window.describe()}"


def timeline_of(backup: BackupSet) -> int | None:
    """The timeline a backup set was taken on (from its first WAL segment's name)."""
    return int(backup.wal_start[:8], 16) if backup.wal_start else None


def descends(backup: BackupSet, timeline: int, history: Sequence[tuple[int, int]]) -> bool:
    """Whether recovery from ``backup`` can follow ``timeline``: the set is on it, or on an ancestor
    and ended before that ancestor was left (a set past the fork is not in the timeline's past)."""
    own = timeline_of(backup)
    if own is None or own == timeline:
        return True
    left = dict(history).get(own)
    return left is not None and backup.lsn_stop is not None and parse_lsn(backup.lsn_stop) <= left


def choose(target: Target, facts: RestoreFacts, set_label: str | None = None) -> RestorePlan:
    """Validate ``target`` and pick the backup set, or refuse before anything changes.

    :raises UsageError: for a target outside the window (naming it), an xid not yet assigned, or no set before it
    """
    win = recoverable_window(facts.stanza, facts.primary)
    valid = facts.stanza.valid_backups
    oldest_lsn = parse_lsn(valid[0].lsn_stop) if valid and valid[0].lsn_stop else None
    current_lsn = parse_lsn(facts.primary["lsn"]) if facts.primary else None
    validate(target, win, facts.now, current_lsn, oldest_lsn)
    if target.kind == "xid" and facts.primary and int(target.value) >= int(facts.primary["next_xid"]):
        raise UsageError(f"target xid {target.value} has not been assigned yet (next is {facts.primary['next_xid']})",
                         "choose an xid of a committed transaction")
    notes: list[str] = []
    point_lsn = None
    if target.kind == "name" and facts.primary:
        if not facts.restore_point:
            raise unknown_restore_point(target.value, facts.restore_points)
        point_lsn = parse_lsn(facts.restore_point["lsn"])
    elif target.kind == "name":
        notes.append(f"the primary is down, so restore point {target.value!r} cannot be looked up in pgvault's "
                     "registry: replaying from the oldest set (a name never created ends in a recovery error)")
    backups = facts.stanza.backups
    if facts.timeline is not None:
        backups = tuple(b for b in backups if descends(b, facts.timeline, facts.history))
    if set_label is not None:
        return RestorePlan(_named_set(set_label, target, facts, backups), win, tuple(notes))
    return RestorePlan(choose_set(target, backups, point_lsn), win, tuple(notes))


#: how many restore point names an error lists
SHOWN_POINTS = 10


def unknown_restore_point(name: str, known: Sequence[str]) -> UsageError:
    """The error for ``--target-name`` naming no restore point of pgvault's registry, listing the newest ones.

    Recovery to a name that was never created replays every WAL segment and
    then fails, so it is refused before anything changes.

    :param known: the registry's names, newest first
    """
    shown = ", ".join(known[:SHOWN_POINTS]) or "none yet (fab backup.mark creates one)"
    more = f" and {len(known) - SHOWN_POINTS} older" if len(known) > SHOWN_POINTS else ""
    return UsageError(f"restore point {name!r} is not in pgvault's registry (fab backup.mark records them)",
                      f"{did_you_mean(name, known)}newest: {shown}{more}; for a point made with "
                      "pg_create_restore_point outside pgvault, restore to its LSN with --target-lsn")


def _named_set(label: str, target: Target, facts: RestoreFacts, usable: Sequence[BackupSet]) -> BackupSet:
    """The set ``--set`` names, if it exists, is valid, lies on the target's timeline and ends before the target."""
    found = next((b for b in facts.stanza.backups if b.label == label), None)
    if found is None or found.error:
        raise UsageError(f"backup set {label} is not a valid set of stanza {facts.stanza.name}",
                         "choose one from fab backup.list")
    if found not in usable:
        raise UsageError(f"backup set {label} (timeline {timeline_of(found)}) ended after timeline "
                         f"{facts.timeline} left it, so recovery cannot follow that timeline from it",
                         "choose an older set, or --target-timeline current")
    if target.time is not None and found.stop >= target.time:
        raise UsageError(f"backup set {label} ends {found.stop.isoformat(sep=' ')}, after target {target.describe()}",
                         "choose a set that ends before the target")
    return found


def gap_warning(target: Target, chosen: BackupSet, gaps: Sequence[Gap]) -> str | None:
    """A warning when the replay from ``chosen`` crosses a hole in the archive, for targets that end at the hole.

    :raises UsageError: for a time or LSN target beyond the hole (PostgreSQL would stop short of it)
    """
    gap = crossing(target, chosen, gaps)
    if gap is None:
        return None
    until = gap.last_before_at.isoformat(sep=" ", timespec="seconds") if gap.last_before_at else "the gap"
    what = (f"WAL segment(s) {gap.missing} are missing from the archive: recovery from {chosen.label} stops "
            f"about {until}")
    if target.kind in ("latest", "name", "xid"):
        return f"warning: {what}"
    raise UsageError(f"{what}, before target {target.describe()}",
                     "choose a target before the gap, or restore a backup set taken after it; run fab backup.verify")


def recovery_failure(log_tail: str, log: str, cleanup: str) -> PgvaultError:
    """The error for a restored cluster that stopped during recovery, from the tail of its log.

    :param log: the log's path, named in the fix
    :param cleanup: how to remove what the restore left behind
    """
    fatal = [line for line in log_tail.splitlines() if "FATAL" in line or "PANIC" in line]
    reason = fatal[-1].split("FATAL:")[-1].strip() if fatal else "see its log"
    fix = f"read {log}; {cleanup}"
    if NOT_REACHED in reason:
        fix = ("the archived WAL holds no commit after the target yet: choose an earlier target, or wait for the "
               f"next WAL segment to be archived; {cleanup}")
    return PgvaultError(f"the restored cluster stopped during recovery: {reason}", fix, ExitCode.FAILED)


def expected_end(target: Target, newest_in_bucket: str | None, primary: dict | None, timeline: int | None = None,
                 history: Sequence[tuple[int, int]] = ()) -> str | None:
    """The newest archived WAL segment a restore to "latest" must replay: the newest in the bucket, or the
    primary's last archived one when that is newer; ``None`` for other targets (PostgreSQL checks those) and
    for an explicit ``--target-timeline``.

    With ``timeline`` (the one recovery follows) a segment of an ancestor timeline counts only up to where
    that timeline was left, and one of any other timeline not at all.  Names that are not segments (the
    archiver's last file may be a ``.history``) are ignored.
    """
    if target.kind != "latest" or target.timeline not in (None, "latest"):
        return None
    left = dict(history)
    ends = []
    for name in (newest_in_bucket, (primary or {}).get("last_archived_wal")):
        if not name or not SEGMENT_NAME.fullmatch(name):
            continue
        line, number = position(name)
        if timeline is not None and line != timeline:
            if line not in left:
                continue
            number = min(number, segment_of(max(left[line] - 1, 0)))
        ends.append(name_of(line, number))
    return max(ends, key=lambda name: position(name)[1]) if ends else None


def short_recovery(expected: str | None, ended_lsn: int | None, cleanup: str) -> PgvaultError | None:
    """The error for a recovery that ended before the ``expected`` segment was replayed, else ``None``.

    :param ended_lsn: where recovery ended (the new timeline's switch point); ``None`` when unknown
    :param cleanup: what happens to the restored cluster, for the fix
    """
    if expected is None or ended_lsn is None:
        return None
    timeline, newest = position(expected)
    last = segment_of(max(ended_lsn - 1, 0))  # the segment holding the last record replayed
    if last >= newest:
        return None
    missing = newest - last
    return PgvaultError(
        f"recovery ended at {lsn_text(ended_lsn)} in WAL segment {name_of(timeline, last)}, although the archive "
        f"holds WAL up to {expected} ({missing} segment(s), up to {missing * SEGMENT_BYTES // 2**20} MB of WAL, "
        "not applied): committed transactions after that point are missing from this copy",
        f"{name_of(timeline, last)} or {name_of(timeline, last + 1)} is partial, damaged, missing or from another "
        f"cluster: run fab backup.verify; {cleanup}",
        ExitCode.FAILED)


#: how many older sets a restore tries after the chosen one proves damaged
MAX_FALLBACKS = 3


def fallbacks(target: Target, backups: Sequence[BackupSet], chosen: BackupSet,
              gaps: Sequence[Gap]) -> tuple[BackupSet, ...]:
    """Older valid sets to restore ``target`` from when ``chosen`` proves damaged, newest first.

    Each ends before ``chosen`` (so before the target too) and its replay to
    the target crosses no hole in the archive (:func:`untouched` then drops
    those that share the damaged set).
    """
    if target.kind == "immediate":
        return ()  # "the oldest set's end" names one set
    older = sorted((b for b in backups if not b.error and b.stop < chosen.stop), key=lambda b: b.stop, reverse=True)
    return tuple(b for b in older if crossing(target, b, gaps) is None)


_DAMAGED_SET = re.compile(r"/backup/[^/\s]+/(\d{8}-\d{6}F(?:_\d{8}-\d{6}[DI])?)/")


def untouched(candidates: Sequence[BackupSet], failed: BackupSet, output: str) -> list[BackupSet]:
    """The candidates a damage found while restoring ``failed`` cannot affect.

    pgBackRest's error names the repository file, hence the set that stored it;
    a candidate that is that set or depends on it is dropped.  When no set is
    named, every candidate of ``failed``'s chain (sharing a set with it) is.
    """
    match = _DAMAGED_SET.search(output)
    tainted = {match.group(1)} if match else {failed.label, *failed.references}
    return [c for c in candidates if not tainted & {c.label, *c.references}]
