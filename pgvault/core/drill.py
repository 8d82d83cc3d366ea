"""Restore drills as pure logic: which target to drill, and whether the restored cluster is right.

The canary table makes the check exact: a random drill target is placed
halfway between two canaries, so every canary up to the first must be in the
restored cluster and none from the second on.  For explicit times a one-second
band around the target is left out (a commit lands a moment after its row's
clock time).  Table counts are judged plausible against the counts recorded
at the last backup before the target.

Results read back from the bucket are judged too (:func:`sort_out`): the
restore keys of a staging host can put any body below ``drills/<stanza>/``,
so the time that counts is the bucket's (``LastModified``), and a body whose
own ``finished`` disagrees with it, or a key written more than once, is not
believed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from pgvault.core.bucket import drills_prefix
from pgvault.core.errors import UsageError
from pgvault.core.pgbackrest import BackupSet
from pgvault.core.policy import CANARY_LSN_SLACK
from pgvault.core.schema import StackConfig
from pgvault.core.targets import Target, Window, parse_target
from pgvault.core.wal import parse_lsn

TOLERANCE = timedelta(seconds=1)
#: what the scheduled drill restores, run after run: the newest archived WAL (proves nothing committed and
#: archived is missing), a random moment of the window, the oldest set (proves the far end still restores)
ROTATION = ("latest", "random", "oldest")
#: how far a stored result's own ``finished`` may lie from the bucket's time of the put (the put follows the end
#: of the drill within seconds; more is a drifting clock, or a body dated to look newer or older than it is)
STORED_SLACK = timedelta(minutes=5)


def scheduled_kind(now: datetime, interval_seconds: int) -> str:
    """The kind of target for the scheduled drill running at ``now`` (every ``interval_seconds``): each run
    takes the next of :data:`ROTATION`, so a drill to "latest" comes round every third run, not by chance."""
    return ROTATION[int(now.timestamp() // max(interval_seconds, 1)) % len(ROTATION)]


def fixed_target(kind: str) -> Target | None:
    """The target of a non-random drill: latest, oldest (the oldest set's end) or a given time; None for random.

    :raises UsageError: for anything else
    """
    if kind == "latest":
        return Target("latest")
    if kind == "oldest":
        return Target("immediate")
    if kind == "random":
        return None
    return parse_target(time=kind)


def random_moment(win: Window, now: datetime, daily_days: int, rng: random.Random) -> datetime:
    """A uniformly random moment of the point-in-time recovery window."""
    if win.earliest is None:
        raise UsageError("there is no backup to drill", "run fab backup.full first")
    low = max(win.earliest, now - timedelta(days=daily_days)) + timedelta(seconds=2)
    high = max(low, (win.latest or now) - timedelta(seconds=2))
    return low + (high - low) * rng.random()


def snap_between_canaries(moment: datetime, canary_times: Sequence[datetime],
                          earliest: datetime | None = None) -> datetime:
    """Move ``moment`` halfway between the two canaries around it, so the canary check is exact.

    Only canaries from ``earliest`` on (the window's start, the oldest set's end) count: halfway between two
    older ones is a moment no set can reach, and the drill would fail a healthy repository.  With fewer than
    two such canaries ``moment`` stays as it is.
    """
    times = sorted(t for t in canary_times if earliest is None or t >= earliest)
    pairs = [(a, b) for a, b in pairwise(times) if a <= moment <= b] or list(pairwise(times))
    if not pairs:
        return moment
    before, after = min(pairs, key=lambda p: abs((p[0] + (p[1] - p[0]) / 2 - moment).total_seconds()))
    return before + (after - before) / 2


def canary_verdict(target: Target, expected: Sequence[tuple[int, datetime, str]], restored: set[int],
                   boundary: tuple[int, int] | None = None) -> tuple[bool, str]:
    """Are exactly the canaries before the target in the restored cluster?

    :param expected: (seq, written_at, lsn) of the primary's canaries around the target
    :param restored: canary sequence numbers present in the restored cluster
    :param boundary: for an ``immediate`` target, the backup's (start, stop) LSN
    """
    if target.time is not None:
        must = {s for s, t, _ in expected if t <= target.time - TOLERANCE}
        must_not = {s for s, t, _ in expected if t > target.time}
    elif target.lsn is not None or boundary is not None:
        start, stop = boundary if boundary else (target.lsn, target.lsn)
        must = {s for s, _, lsn in expected if parse_lsn(lsn) < start}
        must_not = {s for s, _, lsn in expected if parse_lsn(lsn) > stop + CANARY_LSN_SLACK}
    else:
        return True, "no canary expectation for this target"
    missing, extra = sorted(must - restored), sorted(must_not & restored)
    if missing or extra:
        parts = ([f"{len(missing)} canary row(s) written before the target are missing (first seq {missing[0]})"]
                 if missing else []) + ([f"{len(extra)} canary row(s) written after the target are present "
                                         f"(first seq {extra[0]})"] if extra else [])
        return False, "; ".join(parts)
    return True, f"{len(must)} canaries before the target present, {len(must_not)} after it absent"


def counts_verdict(recorded: dict[str, dict[str, int]], actual: dict[str, dict[str, int]],
                   later: dict[str, dict[str, int]] | None = None) -> tuple[bool, str]:
    """Are the restored tables' row counts plausible against those recorded at the backup?

    A table may have grown since the backup (WAL replayed past it), but it must
    not have vanished, nor lost more than half of its rows (from more than 100).
    ``later`` holds the counts recorded at the next backup after the target: a table
    production itself dropped or emptied by then may have gone before the target too,
    so only what the next backup still had is demanded.
    """
    problems = []
    for database, tables in sorted(recorded.items()):
        then = (later or {}).get(database)
        for table, rows in sorted(tables.items()):
            if then is not None and table not in then:
                continue
            floor = min(rows, then[table]) if then is not None else rows
            now = actual.get(database, {}).get(table)
            if now is None:
                problems.append(f"{database}.{table} is missing")
            elif floor > 100 and now < floor // 2:
                problems.append(f"{database}.{table} has {now} rows, {rows} at the backup")
    checked = sum(len(t) for t in recorded.values())
    if problems:
        return False, "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")
    return True, f"{checked} table(s) within plausible bounds of the counts recorded at the backup"


def boundary_of(backup: BackupSet) -> tuple[int, int]:
    """(start, stop) LSN of a backup set, for an ``immediate`` drill."""
    return parse_lsn(backup.lsn_start or "0/0"), parse_lsn(backup.lsn_stop or "0/0")


def recovery_lag(target: Target, started: datetime, newest_canary_at: str) -> float:
    """Seconds between what a drill asked for (its time target, or its start) and the newest canary recovered."""
    wanted = target.time or started
    return round(max(0.0, (wanted - datetime.fromisoformat(newest_canary_at)).total_seconds()), 1)


def result_key(cfg: StackConfig, result: dict) -> str:
    """The bucket key of a drill's result document, beside the backups: ``<drills>/<stanza>/<time>-<name>.json``."""
    stamp = result["finished"][:19].replace(":", "")
    return f"{drills_prefix(cfg)}{stamp}-{result['name']}.json"


def stored_at(result: dict) -> datetime:
    """When the bucket stored a result read back by ``pgvault.edges.bucket.latest_drills`` (its ``LastModified``)."""
    return datetime.fromisoformat(result["stored"]["at"])


def distrust(result: dict, now: datetime) -> str | None:
    """Why a drill result read back from the bucket is not believed; ``None`` when nothing speaks against it.

    Only the bucket's facts count (``result["stored"]``: ``at``, the server's ``LastModified``; ``versions``, how
    many times the key was written, ``None`` when they could not be listed): the body is whatever its writer put.

    :param now: the reader's clock
    """
    stored = result.get("stored") or {}
    if stored.get("invalid"):
        return f"not a drill result ({stored['invalid']})"
    if not stored.get("at"):
        return "the bucket's time of it is unknown"
    try:
        finished = datetime.fromisoformat(result["finished"])
        gap = abs(finished - stored_at(result))
    except (KeyError, TypeError, ValueError):
        return "no finished time with a zone"
    if finished > now + STORED_SLACK:
        return f"says it finished at {result['finished'][:19]}, in the future"
    if gap > STORED_SLACK:
        return f"says it finished at {result['finished'][:19]} but the bucket stored it at {stored['at'][:19]}"
    if (stored.get("versions") or 1) > 1:
        return f"its key was written {stored['versions']} times (a drill writes its result once)"
    return None


def sort_out(results: Sequence[dict], now: datetime) -> tuple[list[dict], list[dict]]:
    """The results to believe, newest first by the bucket's time, and the others as ``{"key", "reason"}``.

    :param results: as ``pgvault.edges.bucket.latest_drills`` reads them
    :param now: the reader's clock
    """
    trusted, suspicious = [], []
    for result in results:
        reason = distrust(result, now)
        if reason:
            suspicious.append({"key": (result.get("stored") or {}).get("key"), "reason": reason})
        else:
            trusted.append(result)
    return sorted(trusted, key=stored_at, reverse=True), suspicious
