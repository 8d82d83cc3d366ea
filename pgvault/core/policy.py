"""Pure derivations from the stack's numbers: every figure computed once, here.

A number lives once in the stack file; whatever follows from it (the
``archive_timeout`` that meets the RPO, how overdue a job may be, the alarm
thresholds, how long canaries are kept) is derived by a function of this module
so that the host, the bucket, the alarms and the runbooks can never disagree.

The lifecycle rules and their safety rule have their own module,
``pgvault.core.lifecycle``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from croniter import croniter

from pgvault.core import metrics
from pgvault.core.metrics import Metric
from pgvault.core.schema import StackConfig, TargetsConfig
from pgvault.core.units import DAY, HOUR, MINUTE, duration

#: below this, PostgreSQL would switch WAL files so often that the archive
#: fills with mostly empty 16 MB segments (FAULTS.md row 39)
MIN_ARCHIVE_TIMEOUT = 10
#: canary rows are kept this long past the longest retention tier, so a drill of any kept set finds them
CANARY_MARGIN_DAYS = 30
#: bytes of WAL between where a canary row's LSN was taken (its INSERT's default) and where its commit record
#: can end: a canary is "after" a recovery target only beyond this slack
CANARY_LSN_SLACK = 16384


def archive_timeout_seconds(targets: TargetsConfig) -> int:
    """``archive_timeout`` for the RPO target.

    A committed transaction reaches the bucket at worst ``archive_timeout``
    after its commit plus the time to push the segment.  Half of the RPO goes
    to the timeout and half is left for the push, the async queue and retries.
    """
    return max(MIN_ARCHIVE_TIMEOUT, targets.rpo_seconds // 2)


@functools.lru_cache(maxsize=256)
def cron_interval_seconds(expression: str) -> int:
    """The longest gap between two runs of a cron schedule, over a year or 2000 runs (at least a week)."""
    it = croniter(expression, datetime(2026, 1, 1, tzinfo=UTC))
    previous = it.get_next(datetime)
    longest = 0
    end = previous.replace(year=previous.year + 1)
    for _ in range(2000):
        following = it.get_next(datetime)
        longest = max(longest, int((following - previous).total_seconds()))
        previous = following
        if previous >= end:
            break
    return longest


def backup_interval_seconds(cfg: StackConfig) -> int:
    """The longest a healthy schedule goes without a backup of any type (full or incremental).

    With the adaptive hourly rule (``schedule.incremental_rule``) the hourly job may mark only restore points all
    day, so that is the full's interval; the hourly job's own runs are watched by the ``hourly`` status check.
    """
    if cfg.schedule.incremental_rule == "adaptive":
        return cron_interval_seconds(cfg.schedule.full)
    return min(cron_interval_seconds(cfg.schedule.full), cron_interval_seconds(cfg.schedule.incremental))


def overdue_after(interval_seconds: int) -> int:
    """When a job that runs every ``interval_seconds`` counts as late: a quarter more, at least 15 min."""
    return interval_seconds + max(interval_seconds // 4, 900)


def canary_keep_days(cfg: StackConfig) -> int:
    """How long the canary job keeps its rows: the longest retention tier plus a margin."""
    return cfg.retention.monthly_days + CANARY_MARGIN_DAYS


def canary_interval_seconds(cfg: StackConfig) -> int:
    """The longest gap between two canary rows (``pgvault:schedule.canary``)."""
    return cron_interval_seconds(cfg.schedule.canary)


def canary_lag_seconds(cfg: StackConfig) -> int:
    """How much older than the newest archived data the newest archived canary can be on a healthy host.

    A canary is written every :func:`canary_interval_seconds`, and the segment holding it reaches the bucket
    within ``archive_timeout`` plus the push: so a restore to latest finds a canary at most about this much
    older than the moment the primary stopped (the push time aside).
    """
    return canary_interval_seconds(cfg) + archive_timeout_seconds(cfg.targets)


def tier_capacity(cfg: StackConfig) -> dict[str, int]:
    """The most backup sets each retention tier can hold with this schedule (daily, weekly, monthly)."""
    full_days = max(1, cron_interval_seconds(cfg.schedule.full) // DAY)
    return {"daily": cfg.retention.daily_days // full_days + 1, "weekly": cfg.retention.weekly_days // 7 + 1,
            "monthly": cfg.retention.monthly_days // 30 + 1}


def topic_name(cfg: StackConfig) -> str:
    """Name of the stack's SNS alert topic (created by ``infra``, published to by ``ops``)."""
    return f"pgvault-{cfg.name}-{cfg.pgbackrest.stanza}-alerts"


def runbook_link(cfg: StackConfig, runbook: str, section: str) -> str:
    """Where on-call reads what to do: the rendered runbook of this stack and its section (a URL when
    ``alerts.runbook_base_url`` says where the repository is browsed, else its path in the repository)."""
    path = f"runbooks/{cfg.name}/{runbook}.md#{section}"
    base = cfg.alerts.runbook_base_url
    return f"{base.rstrip('/')}/{path}" if base else path


def passphrase_parameter(cfg: StackConfig) -> str:
    """SSM Parameter Store name of the repository passphrase (created by ``infra``)."""
    return f"/pgvault/{cfg.name}/{cfg.pgbackrest.stanza}/repo-cipher-pass"


# ---------------------------------------------------------------- alarms


#: periods CloudWatch accepts besides whole minutes (high resolution)
ALARM_HIGH_RESOLUTION_PERIODS = (10, 20, 30)
#: the longest span (period x evaluation periods) CloudWatch evaluates: 7 days, or 1 day for periods under an hour
ALARM_SPAN = 7 * DAY
ALARM_SPAN_SHORT_PERIOD = DAY


def alarm_window(period: int, evaluation_periods: int) -> tuple[int, int]:
    """``(period, evaluation_periods)`` within PutMetricAlarm's limits.

    The period is a whole number of minutes (or 10, 20, 30 s) and at most 7
    days; the evaluation periods are cut so that their span is at most 7 days,
    or 1 day when the period is under an hour.
    """
    if period not in ALARM_HIGH_RESOLUTION_PERIODS:
        period = -(-period // MINUTE) * MINUTE
    period = min(period, ALARM_SPAN)
    span = ALARM_SPAN_SHORT_PERIOD if period < HOUR else ALARM_SPAN
    return period, max(1, min(evaluation_periods, span // period))


@dataclass(frozen=True)
class AlarmSpec:
    """One CloudWatch alarm on a pgvault metric, with its thresholds derived from the stack.

    Its period and evaluation periods always fit CloudWatch (:func:`alarm_window`): a monitor that runs once a
    week would otherwise ask for a two-week period, which PutMetricAlarm refuses.
    """

    key: str
    metric: Metric
    threshold: float
    comparison: str
    statistic: str
    period: int
    evaluation_periods: int
    missing: str
    description: str
    anomaly: bool = False

    def __post_init__(self):
        period, evaluation_periods = alarm_window(self.period, self.evaluation_periods)
        object.__setattr__(self, "period", period)
        object.__setattr__(self, "evaluation_periods", evaluation_periods)


#: how far the second copy (``storage.replica_region``) may lag before it alarms: S3 Replication Time Control's
#: 15-minute objective, or the RPO target when that is longer (a lost region loses what had not replicated)
REPLICATION_LAG_FLOOR = 900


def replication_lag_seconds(cfg: StackConfig) -> int:
    """The replication lag alarm's threshold, in seconds."""
    return max(REPLICATION_LAG_FLOOR, cfg.targets.rpo_seconds)


#: metrics whose alarms fire when the figure stops arriving (dead man's switch): the policy pack requires an alarm on
#: each, treating missing data as breaching
DEAD_MAN_METRICS = (metrics.LAST_FULL_BACKUP_AGE, metrics.LAST_BACKUP_AGE, metrics.LAST_LOGICAL_DUMP_AGE,
                    metrics.LAST_DRILL_AGE, metrics.WAL_ARCHIVE_LAG)


def alarm_specs(cfg: StackConfig) -> list[AlarmSpec]:
    """Every alarm of the stack. "Too old" alarms treat missing data as breaching (dead man's switch)."""
    sched = cfg.schedule
    period = 2 * cron_interval_seconds(sched.monitor)

    def too_old(key, metric, interval, what):
        limit = overdue_after(interval)
        return AlarmSpec(key, metric, limit, "GreaterThanThreshold", "Maximum", period, 1, "breaching",
                         f"{what} is older than {duration(limit)}, or no figure was "
                         "published (the job or the monitor stopped)")

    budget = cfg.targets.monthly_budget
    cost = [AlarmSpec("storage-cost", metrics.STORAGE_COST_FORECAST, budget, "GreaterThanThreshold", "Maximum",
                      period, 1, "notBreaching",
                      f"the next 30 days of off-site storage are forecast above the {budget:.2f} "
                      f"{cfg.prices.currency} budget")] if budget else []
    return cost + [
        too_old("full-backup-age", metrics.LAST_FULL_BACKUP_AGE, cron_interval_seconds(sched.full),
                "the newest full backup"),
        too_old("backup-age", metrics.LAST_BACKUP_AGE, backup_interval_seconds(cfg), "the newest backup of any type"),
        too_old("logical-dump-age", metrics.LAST_LOGICAL_DUMP_AGE, cron_interval_seconds(sched.logical),
                "the newest logical dump"),
        too_old("drill-age", metrics.LAST_DRILL_AGE, cron_interval_seconds(sched.drill), "the newest restore drill"),
        AlarmSpec("wal-archive-lag", metrics.WAL_ARCHIVE_LAG, cfg.targets.rpo_seconds, "GreaterThanThreshold",
                  "Maximum", period, 1, "breaching",
                  f"finished WAL has waited longer than the {cfg.targets.rpo_seconds} s RPO target to reach the "
                  "bucket, or no figure"),
        AlarmSpec("job-failed", metrics.JOB_FAILURES, 1, "GreaterThanOrEqualToThreshold", "Sum", period, 1,
                  "notBreaching", "a scheduled pgvault job failed"),
        AlarmSpec("drill-failed", metrics.DRILL_FAILED, 1, "GreaterThanOrEqualToThreshold", "Maximum", period, 1,
                  "notBreaching", "the newest restore drill failed a check"),
        AlarmSpec("repository-size-anomaly", metrics.REPOSITORY_SIZE, 2, "LessThanLowerOrGreaterThanUpperThreshold",
                  "Maximum", 3600, 3, "notBreaching",
                  "the repository size left its usual band (mass deletion or runaway growth)", anomaly=True),
    ]
