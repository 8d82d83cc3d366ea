"""Pure derivations from the stack's numbers: every figure computed once, here.

A number lives once in the stack file; whatever follows from it (the
``archive_timeout`` that meets the RPO, how overdue a job may be, the S3
lifecycle rules, the alarm thresholds) is derived by a function of this module
so that the host, the bucket, the alarms and the runbooks can never disagree.

It also holds the safety invariant of DESIGN.md: no S3 lifecycle rule may
expire live objects under the pgBackRest repository prefix
(:func:`check_lifecycle`), checked when a stack loads and again when the
Pulumi program runs.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from croniter import croniter

from ops import metrics
from ops.errors import ConfigError
from ops.metrics import Metric
from ops.schema import StackConfig, TargetsConfig

#: below this, PostgreSQL would switch WAL files so often that the archive
#: fills with mostly empty 16 MB segments (FAULTS.md row 39)
MIN_ARCHIVE_TIMEOUT = 10
#: days an incomplete multipart upload may linger before S3 aborts it
ABORT_MULTIPART_DAYS = 7
#: extra days a lifecycle backstop must leave beyond the longest retention
BACKSTOP_MARGIN_DAYS = 30
#: the only storage classes pgBackRest can read without a restore request
READABLE_CLASSES = ("STANDARD_IA", "GLACIER_IR")
DAY = 86400


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
    it = croniter(expression, datetime(2026, 1, 1, tzinfo=timezone.utc))
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


def overdue_after(interval_seconds: int) -> int:
    """When a job that runs every ``interval_seconds`` counts as late: a quarter more, at least 15 min."""
    return interval_seconds + max(interval_seconds // 4, 900)


def topic_name(cfg: StackConfig) -> str:
    """Name of the stack's SNS alert topic (created by ``infra``, published to by ``ops``)."""
    return f"pgvault-{cfg.name}-{cfg.pgbackrest.stanza}-alerts"


def runbook_link(cfg: StackConfig, runbook: str, section: str) -> str:
    """Where on-call reads what to do: the rendered runbook of this stack and its section."""
    return f"runbooks/{cfg.name}/{runbook}.md#{section}"


def passphrase_parameter(cfg: StackConfig) -> str:
    """SSM Parameter Store name of the repository passphrase (created by ``infra``)."""
    return f"/pgvault/{cfg.name}/{cfg.pgbackrest.stanza}/repo-cipher-pass"


# ---------------------------------------------------------------- lifecycle


def minimum_backstop_days(cfg: StackConfig) -> int:
    """The shortest current-object expiry that can never reach a backup pgBackRest keeps."""
    full_interval = math.ceil(cron_interval_seconds(cfg.schedule.full) / DAY)
    return cfg.retention.monthly_days + full_interval + BACKSTOP_MARGIN_DAYS


def lifecycle_rules(cfg: StackConfig) -> list[dict]:
    """The bucket's lifecycle rules, in the S3 API's own shape (PascalCase).

    Under the pgBackRest prefix: abort stale multipart uploads, expire
    noncurrent versions and expired delete markers after the protection
    window, transition to readable storage classes; current objects expire
    only through an optional backstop.  Logical dumps expire by their tier tag.
    """
    storage, retention, repo = cfg.storage, cfg.retention, cfg.repository
    housekeeping = {
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
        "NoncurrentVersionExpiration": {"NoncurrentDays": storage.protection_days},
        "Expiration": {"ExpiredObjectDeleteMarker": True},
    }
    transitions = [{"Days": days, "StorageClass": cls}
                   for days, cls in ((storage.standard_ia_days, "STANDARD_IA"), (storage.glacier_ir_days, "GLACIER_IR"))
                   if days]
    rules = [{"ID": "pgbackrest-repository", "Status": "Enabled", "Filter": {"Prefix": repo.repo_prefix},
              **housekeeping, **({"Transitions": transitions} if transitions else {})}]
    if storage.backstop_days:
        rules.append({"ID": "pgbackrest-backstop", "Status": "Enabled", "Filter": {"Prefix": repo.repo_prefix},
                      "Expiration": {"Days": storage.backstop_days}})
    logical = f"{repo.logical_prefix}/"
    rules.append({"ID": "logical-housekeeping", "Status": "Enabled", "Filter": {"Prefix": logical}, **housekeeping})
    for tier, days in (("daily", retention.daily_days), ("weekly", retention.weekly_days),
                       ("monthly", retention.monthly_days)):
        rules.append({"ID": f"logical-{tier}", "Status": "Enabled",
                      "Filter": {"And": {"Prefix": logical, "Tags": [{"Key": "tier", "Value": tier}]}},
                      "Expiration": {"Days": days}})
    rules.append({"ID": "drill-results", "Status": "Enabled", "Filter": {"Prefix": f"{repo.drills_prefix}/"},
                  "Expiration": {"Days": retention.monthly_days},
                  "NoncurrentVersionExpiration": {"NoncurrentDays": storage.protection_days},
                  "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS}})
    return rules


def rule_prefix(rule: dict) -> str:
    """The key prefix a lifecycle rule applies to (empty: the whole bucket)."""
    flt = rule.get("Filter") or {}
    return flt.get("Prefix", (flt.get("And") or {}).get("Prefix", ""))


def _overlaps(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def check_lifecycle(cfg: StackConfig, rules: Iterable[dict]) -> None:
    """Refuse lifecycle rules that could corrupt the pgBackRest repository.

    :raises ConfigError: naming the rule, why it would break backups, and the fix
    """
    repo_prefix = cfg.repository.repo_prefix
    shortest = minimum_backstop_days(cfg)
    for rule in rules:
        if not _overlaps(rule_prefix(rule), repo_prefix):
            continue
        rid = rule.get("ID", "?")
        days = (rule.get("Expiration") or {}).get("Days")
        if days is not None and days < shortest:
            raise ConfigError(
                f"{cfg.file}: lifecycle rule {rid} expires objects under {repo_prefix} after {days} days, within the "
                f"{shortest} days pgBackRest may still need them (retention {cfg.retention.monthly_days} d + full "
                f"interval + {BACKSTOP_MARGIN_DAYS} d margin): S3 would silently delete backup files and WAL and "
                "break restores",
                f"raise pgvault:storage.backstop_days above {shortest} or remove it",
            )
        for step in rule.get("Transitions") or []:
            if step.get("StorageClass") not in READABLE_CLASSES:
                raise ConfigError(
                    f"{cfg.file}: lifecycle rule {rid} moves {repo_prefix} objects to {step.get('StorageClass')}, "
                    "which pgBackRest cannot read without a restore request: restores and WAL fetches would fail",
                    f"use only {' or '.join(READABLE_CLASSES)} under the repository prefix",
                )
        noncurrent = (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays")
        if cfg.storage.object_lock and noncurrent is not None and noncurrent <= cfg.storage.object_lock_days:
            raise ConfigError(
                f"{cfg.file}: lifecycle rule {rid} expires noncurrent versions after {noncurrent} days, not after the "
                f"{cfg.storage.object_lock_days}-day Object Lock retention",
                "raise pgvault:storage.protection_days above storage.object_lock_days",
            )


# ---------------------------------------------------------------- alarms


@dataclass(frozen=True)
class AlarmSpec:
    """One CloudWatch alarm on a pgvault metric, with its thresholds derived from the stack."""

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


def alarm_specs(cfg: StackConfig) -> list[AlarmSpec]:
    """Every alarm of the stack. "Too old" alarms treat missing data as breaching (dead man's switch)."""
    sched = cfg.schedule
    period = 2 * cron_interval_seconds(sched.monitor)
    newest = min(cron_interval_seconds(sched.full), cron_interval_seconds(sched.incremental))

    def too_old(key, metric, interval, what):
        limit = overdue_after(interval)
        return AlarmSpec(key, metric, limit, "GreaterThanThreshold", "Maximum", period, 1, "breaching",
                         f"{what} is older than {limit // 3600}h{limit % 3600 // 60:02d}m, or no figure was "
                         "published (the job or the monitor stopped)")

    return [
        too_old("full-backup-age", metrics.LAST_FULL_BACKUP_AGE, cron_interval_seconds(sched.full),
                "the newest full backup"),
        too_old("backup-age", metrics.LAST_BACKUP_AGE, newest, "the newest backup of any type"),
        too_old("logical-dump-age", metrics.LAST_LOGICAL_DUMP_AGE, cron_interval_seconds(sched.logical),
                "the newest logical dump"),
        too_old("drill-age", metrics.LAST_DRILL_AGE, cron_interval_seconds(sched.drill), "the newest restore drill"),
        AlarmSpec("wal-archive-lag", metrics.WAL_ARCHIVE_LAG, cfg.targets.rpo_seconds, "GreaterThanThreshold",
                  "Maximum", period, 1, "breaching",
                  f"the newest WAL segment in the bucket is older than the {cfg.targets.rpo_seconds} s RPO target"),
        AlarmSpec("job-failed", metrics.JOB_FAILURES, 1, "GreaterThanOrEqualToThreshold", "Sum", period, 1,
                  "notBreaching", "a scheduled pgvault job failed"),
        AlarmSpec("drill-failed", metrics.DRILL_FAILED, 1, "GreaterThanOrEqualToThreshold", "Maximum", period, 1,
                  "notBreaching", "the newest restore drill failed a check"),
        AlarmSpec("repository-size-anomaly", metrics.REPOSITORY_SIZE, 2, "LessThanLowerOrGreaterThanUpperThreshold",
                  "Maximum", 3600, 3, "notBreaching",
                  "the repository size left its usual band (mass deletion or runaway growth)", anomaly=True),
    ]


def lifecycle_shape_errors(rules: list[dict]) -> list[str]:
    """AWS's own constraints on lifecycle rules, which moto does not enforce.

    :returns: one message per broken constraint (empty when S3 would accept the rules)
    """
    errors = []
    ids = [r.get("ID", "") for r in rules]
    if len(set(ids)) != len(ids):
        errors.append("lifecycle rule IDs must be unique")
    for rule in rules:
        rid = rule.get("ID", "")
        tagged = "And" in (rule.get("Filter") or {}) and (rule["Filter"]["And"].get("Tags"))
        expiration = rule.get("Expiration") or {}
        if not rid or len(rid) > 255:
            errors.append(f"rule {rid!r}: an ID of 1 to 255 characters is required")
        if "ExpiredObjectDeleteMarker" in expiration and ("Days" in expiration or "Date" in expiration):
            errors.append(f"rule {rid}: ExpiredObjectDeleteMarker cannot be combined with Days or Date")
        if tagged and ("ExpiredObjectDeleteMarker" in expiration or "AbortIncompleteMultipartUpload" in rule):
            errors.append(f"rule {rid}: delete-marker cleanup and multipart aborts cannot use a tag filter")
        for step in rule.get("Transitions") or []:
            if step.get("StorageClass") in ("STANDARD_IA", "ONEZONE_IA") and step.get("Days", 0) < 30:
                errors.append(f"rule {rid}: {step['StorageClass']} transitions need at least 30 days")
        if rule.get("Status") not in ("Enabled", "Disabled"):
            errors.append(f"rule {rid}: Status must be Enabled or Disabled")
    return errors
