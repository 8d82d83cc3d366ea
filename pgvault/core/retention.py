"""Which backup sets to keep: daily / weekly / monthly tiers over pgBackRest's sets (pure).

pgBackRest has no weekly or monthly tiers.  As its maintainers suggest,
``repo1-retention-full`` is set to the maximum (pgBackRest never expires a full
by count) and this selector decides which sets ``pgbackrest expire --set``
removes.  It is a pure function of (backup list, policy, now):

* every full backup of the last ``daily_days`` is kept (the PITR window);
* incremental and differential backups of the last ``incremental_days`` are kept;
* the newest full that ended at or before the window's start is kept as the
  *anchor*: WAL is retained from it on, so every point of the window can be
  recovered (``archive_fulls`` is the ``repo1-retention-archive`` that says so);
* the newest full of each ISO week within ``weekly_days`` and of each calendar
  month within ``monthly_days`` is kept as a restorable snapshot;
* the newest full is always kept, and so is every set a kept set depends on.

Everything else expires, each decision with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pgvault.core.pgbackrest import BackupSet
from pgvault.core.schema import RetentionConfig, StackConfig

Clock = Callable[[BackupSet], datetime]
#: the annotation that sets a sandbox backup's age for the selector
CLOCK_ANNOTATION = "pgvault-clock"


@dataclass(frozen=True)
class Policy:
    """The retention tiers, in days."""

    daily_days: int
    weekly_days: int
    monthly_days: int
    incremental_days: int

    @classmethod
    def from_config(cls, retention: RetentionConfig) -> Policy:
        """The policy of a stack."""
        return cls(retention.daily_days, retention.weekly_days, retention.monthly_days, retention.incremental_days)


@dataclass(frozen=True)
class Decision:
    """Keep or expire one backup set, and why."""

    label: str
    keep: bool
    reasons: tuple[str, ...]


def stop_time(backup: BackupSet) -> datetime:
    """The default clock: when the backup ended."""
    return backup.stop


def clock_for(cfg: StackConfig) -> Clock:
    """The clock the selector uses: the stop time, or in a sandbox stack the ``pgvault-clock`` annotation.

    A backup annotated ``pgvault-clock=<ISO time>`` counts as taken at that
    time: the integration tests age real backup sets that way instead of
    waiting months.  Outside a sandbox the annotation is ignored.
    """
    if not cfg.is_sandbox:
        return stop_time

    def clock(backup: BackupSet) -> datetime:
        stamp = dict(backup.annotations).get(CLOCK_ANNOTATION)
        return datetime.fromisoformat(stamp) if stamp else backup.stop

    return clock


def decide(backups: Sequence[BackupSet], policy: Policy, now: datetime, clock: Clock = stop_time) -> list[Decision]:
    """Decide every set, oldest first."""
    ordered = sorted(backups, key=clock)
    window_start = now - timedelta(days=policy.daily_days)
    reasons: dict[str, list[str]] = {b.label: [] for b in ordered}
    fulls = [b for b in ordered if b.type == "full"]
    if fulls:
        reasons[fulls[-1].label].append("newest full backup")
    for b in ordered:
        when = clock(b)
        if b.type == "full" and when >= window_start:
            reasons[b.label].append(f"daily: inside the {policy.daily_days}-day recovery window")
        elif b.type != "full" and when >= now - timedelta(days=policy.incremental_days):
            reasons[b.label].append(f"{b.type}: younger than {policy.incremental_days} days")
    anchor = anchor_full(fulls, window_start, clock)
    if anchor is not None:
        reasons[anchor.label].append("anchor: recovery to the start of the window replays WAL from here")
    for tier, days, period in (("weekly", policy.weekly_days, _iso_week), ("monthly", policy.monthly_days, _month)):
        newest: dict[str, BackupSet] = {}
        for b in fulls:
            if clock(b) >= now - timedelta(days=days):
                newest[period(clock(b))] = b
        for key, b in newest.items():
            reasons[b.label].append(f"{tier}: newest full of {key}")
    _keep_dependencies(ordered, reasons)
    return [Decision(b.label, bool(reasons[b.label]), tuple(reasons[b.label]) or (_why_not(b, policy),))
            for b in ordered]


def anchor_full(fulls: Sequence[BackupSet], window_start: datetime, clock: Clock = stop_time) -> BackupSet | None:
    """The newest full that ended at or before the start of the recovery window."""
    before = [b for b in fulls if clock(b) <= window_start]
    return before[-1] if before else None


def wal_kept_from(backups: Sequence[BackupSet], policy: Policy, now: datetime,
                  clock: Clock = stop_time) -> BackupSet | None:
    """The full from which WAL is kept without holes: the anchor, or the oldest full while there is none."""
    fulls = sorted((b for b in backups if b.type == "full"), key=clock)
    anchor = anchor_full(fulls, now - timedelta(days=policy.daily_days), clock)
    return anchor or (fulls[0] if fulls else None)


def archive_fulls(backups: Sequence[BackupSet], policy: Policy, now: datetime, clock: Clock = stop_time) -> int:
    """``repo1-retention-archive`` (type full) that keeps WAL from the anchor on: fulls from the anchor to now."""
    first = wal_kept_from(backups, policy, now, clock)
    return 0 if first is None else len([b for b in backups if b.type == "full" and clock(b) >= clock(first)])


def _keep_dependencies(ordered: Sequence[BackupSet], reasons: dict[str, list[str]]) -> None:
    """Keep every set that a kept set depends on (its prior and the sets it references), transitively."""
    by_label = {b.label: b for b in ordered}
    pending = [b for b in ordered if reasons[b.label]]
    while pending:
        b = pending.pop()
        for needed in (b.prior, *b.references):
            if needed in reasons and not reasons[needed]:
                reasons[needed].append(f"needed by {b.label}")
                pending.append(by_label[needed])


def _iso_week(when: datetime) -> str:
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}"


def _month(when: datetime) -> str:
    return when.strftime("%Y-%m")


def _why_not(b: BackupSet, policy: Policy) -> str:
    if b.type == "full":
        return "full: not the newest of its week or month, outside the recovery window"
    return f"{b.type}: older than {policy.incremental_days} days; the fulls and WAL cover its time"


def expiring(decisions: Iterable[Decision]) -> list[str]:
    """Labels of the sets to expire."""
    return [d.label for d in decisions if not d.keep]


def removal_roots(backups: Sequence[BackupSet], labels: Iterable[str]) -> list[str]:
    """The sets to pass to ``expire --set``: pgBackRest removes their dependents with them."""
    chosen = set(labels)
    by_label = {b.label: b for b in backups}
    return [label for label in sorted(chosen) if by_label[label].prior not in chosen]
