"""The hourly job's rule: an incremental only when replaying the WAL since the last backup would take too long (pure).

WAL archiving already gives a recovery point every ``archive_timeout``; an
hourly backup only shortens the WAL a restore has to replay.  pgBackRest 2.45
(Debian 12) copies every changed file whole, so an hourly incremental after
ordinary CRM traffic stores about a full (bench/RESULTS.md, issue 15): 24 a
day.  With ``schedule.incremental_rule: adaptive`` (the default) the hourly
job takes an incremental only when the WAL written since the last backup ended
would take longer to replay than the *replay budget*; otherwise it marks a
named restore point and proves its WAL is in the bucket.  ``always`` keeps an
incremental every hour.

The budget is ``REPLAY_SHARE`` of the RTO target at the replay rate the drills
measured (WAL bytes replayed over the seconds of replay and start-up, the
median of the recent drills; a start-up counted as replay makes the rate
lower, so the rule errs towards an incremental).  Before any drill has
measured it, :data:`ASSUMED_REPLAY_BYTES_PER_SECOND` stands in and the reason
says so.  The other share of the RTO is left for fetching the backup set,
starting the cluster and the WAL the next hour adds before the job runs again.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

from pgvault.core.units import human_bytes

INCREMENTAL, RESTORE_POINT = "incremental", "restore-point"
#: the share of the RTO target that replaying WAL since the last backup may take
REPLAY_SHARE = 0.5
#: the replay rate assumed before a drill measured one: a 16 MB segment a second, a fifth of what the benchmark's
#: point-in-time restore replayed on 2 cores (74 MB/s), so the rule errs towards an incremental
ASSUMED_REPLAY_BYTES_PER_SECOND = 16 * 1024 * 1024
#: drills that replayed less WAL than this measured mostly their start-up, not a rate
MIN_MEASURED_WAL_BYTES = 16 * 1024 * 1024
#: how many recent drills the replay rate is the median of
RATE_DRILLS = 5


@dataclass(frozen=True)
class Decision:
    """What the hourly job does, and why (kept in the job record)."""

    action: Literal["incremental", "restore-point"]
    reason: str
    wal_bytes: int | None
    budget_bytes: int
    replay_bytes_per_second: float
    rate_measured: bool

    def as_dict(self) -> dict:
        """The decision as the job record keeps it."""
        return {"decision": self.action, **{k: v for k, v in asdict(self).items() if k != "action"}}


def replay_rate(drills: Iterable[dict]) -> float | None:
    """Bytes of WAL replayed per second, the median of the newest drills that measured it; ``None`` if none did.

    :param drills: drill results, newest first, as ``drill.run`` stores them (``wal_replayed_bytes`` and
        ``seconds.replay``)
    """
    rates = []
    for drill in drills:
        replayed, seconds = drill.get("wal_replayed_bytes"), (drill.get("seconds") or {}).get("replay")
        if drill.get("passed") and replayed and replayed >= MIN_MEASURED_WAL_BYTES and seconds and seconds > 0:
            rates.append(replayed / seconds)
        if len(rates) == RATE_DRILLS:
            break
    return statistics.median(rates) if rates else None


def budget_bytes(rto_seconds: int, rate: float) -> int:
    """The most WAL since the last backup that replays within :data:`REPLAY_SHARE` of the RTO target."""
    return int(rto_seconds * REPLAY_SHARE * rate)


def decide(rule: str, wal_bytes: int | None, rto_seconds: int, measured_rate: float | None) -> Decision:
    """The hourly job's decision.

    :param rule: ``adaptive`` or ``always`` (``pgvault:schedule.incremental_rule``)
    :param wal_bytes: WAL written since the newest valid backup ended; ``None`` when there is no backup
    :param rto_seconds: the RTO target
    :param measured_rate: :func:`replay_rate` of the drills, ``None`` when none measured it
    """
    rate = measured_rate if measured_rate and measured_rate > 0 else ASSUMED_REPLAY_BYTES_PER_SECOND
    budget = budget_bytes(rto_seconds, rate)
    source = (f"{human_bytes(rate)}/s measured by drills" if measured_rate and measured_rate > 0
              else f"{human_bytes(rate)}/s assumed: no drill has measured replay yet")

    def made(action: str, reason: str) -> Decision:
        return Decision(action, reason, wal_bytes, budget, rate, bool(measured_rate and measured_rate > 0))

    if rule == "always":
        return made(INCREMENTAL, "rule always: an incremental every hour")
    if wal_bytes is None:
        return made(INCREMENTAL, "no backup yet")
    if wal_bytes > budget:
        return made(INCREMENTAL, f"WAL {human_bytes(wal_bytes)} > budget {human_bytes(budget)} "
                                 f"({REPLAY_SHARE:.0%} of the {rto_seconds} s RTO at {source})")
    return made(RESTORE_POINT, f"WAL {human_bytes(wal_bytes)} <= budget {human_bytes(budget)} "
                               f"({REPLAY_SHARE:.0%} of the {rto_seconds} s RTO at {source})")


def explain(rule: str, rto_seconds: int, measured_rate: float | None) -> str:
    """The rule in words, for ``schedule.show``."""
    if rule == "always":
        return "the hourly job takes an incremental backup every hour (pgvault:schedule.incremental_rule always)"
    rate = measured_rate or ASSUMED_REPLAY_BYTES_PER_SECOND
    where = "measured by the recent drills" if measured_rate else "assumed until a drill measures it"
    return (f"the hourly job takes an incremental backup only when the WAL written since the last backup exceeds "
            f"{human_bytes(budget_bytes(rto_seconds, rate))} ({REPLAY_SHARE:.0%} of the {rto_seconds} s RTO target "
            f"at a replay rate of {human_bytes(rate)}/s, {where}); otherwise it marks a named restore point and "
            "waits until its WAL is in the bucket")


def day_summary(records: Iterable[dict]) -> dict:
    """The hourly job's decisions in ``records`` (job records of the last day, any job): counts and a line.

    The line reads like ``hourly: 21 restore points, 3 incrementals: WAL 4.1 GB > budget 2.0 GB``.
    """
    decided = [r for r in records if r.get("job") == "incr" and r.get("outcome") == "ok"]
    counts = Counter((r.get("sizes") or {}).get("decision", INCREMENTAL) for r in decided)
    reasons = [(r.get("sizes") or {}).get("reason") for r in decided
               if (r.get("sizes") or {}).get("decision", INCREMENTAL) == INCREMENTAL]
    points, incrementals = counts.get(RESTORE_POINT, 0), counts.get(INCREMENTAL, 0)
    line = (f"hourly: {points} restore point{'s' * (points != 1)}, "
            f"{incrementals} incremental{'s' * (incrementals != 1)}")
    newest = next((r for r in reversed(reasons) if r), None)
    if newest:
        line += f": {newest.split(' (')[0]}"
    return {"restore_points": points, "incrementals": incrementals, "line": line}
