"""The scheduled jobs, declared once: name, schedule, description, lock, runbook section (pure).

Cron's file (``pgvault.core.cron``), the runner (``pgvault-job``), the job
locks and records (``pgvault.edges.jobstate``) and the failure alerts
(``pgvault.core.monitoring.alerts``) all read this registry, so a job cannot
be scheduled without a runner, locked in the wrong group, or alerted without
a runbook section.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pgvault.core.errors import ExitCode

#: pauses (seconds) before each new attempt of a job that pgBackRest's own lock refused (a manual backup
#: running): about 18 minutes in all, well inside the hour between incrementals
LOCKED_RETRY_PAUSES = (60, 120, 300, 600)


@dataclass(frozen=True)
class Job:
    """One job ``pgvault-job`` can run."""

    name: str
    #: what it does, in words (the cron file's comment, ``schedule.show``)
    description: str
    #: the ``pgvault:schedule`` key that times it; ``None`` for a job cron never runs
    schedule: str | None
    #: jobs of one lock group never overlap (backups and expire share ``backup``)
    lock: str
    #: section of the alarms runbook that explains its failure
    runbook_section: str


JOBS = (
    Job("full", "full backup", "full", "backup", "backup-failed"),
    Job("incr", "hourly: incremental backup, or a proven restore point (schedule.incremental_rule)", "incremental",
        "backup", "backup-failed"),
    Job("diff", "differential backup", None, "backup", "backup-failed"),
    Job("logical", "logical dumps to S3", "logical", "logical", "logical-dump-failed"),
    Job("expire", "retention: expire backup sets beyond the tiers", "expire", "backup", "expire-failed"),
    # in the backup lock group: a backup or expire changing the repository mid-check would look like damage
    Job("verify", "repository check: every listed backup set has its files, and the new WAL chains", "verify",
        "backup",
        "verify-failed"),
    Job("monitor", "monitoring: status, CloudWatch metrics, textfile, dashboard", "monitor", "monitor",
        "monitor-failed"),
    Job("report", "daily status e-mail", "report", "report", "monitor-failed"),
    Job("canary", "canary row for drills and the WAL lag", "canary", "canary", "canary-failed"),
    Job("drill", "restore drill: latest, a random point, the oldest set, in turn", "drill", "drill", "drill-failed"),
)

BY_NAME = {job.name: job for job in JOBS}


def scheduled() -> list[Job]:
    """The jobs cron runs, in cron-file order."""
    return [job for job in JOBS if job.schedule is not None]


def lock_name(name: str) -> str:
    """The lock group of job ``name``."""
    return BY_NAME[name].lock


def outcome(exit_code: int) -> str:
    """How a run is recorded: ``ok``; ``skipped`` when a lock refused it (another run holds it, not a
    failure, no alert); otherwise ``failed``."""
    if exit_code == ExitCode.OK:
        return "ok"
    return "skipped" if exit_code == ExitCode.LOCKED else "failed"


@dataclass(frozen=True)
class JobRecord:
    """One run of a job, as ``jobs.json`` keeps it."""

    job: str
    host: str
    started: str
    ended: str
    seconds: float
    exit_code: int
    outcome: str  # "ok", "failed" or "skipped"
    message: str = ""
    sizes: dict = field(default_factory=dict)
