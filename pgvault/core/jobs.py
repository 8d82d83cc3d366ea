"""The scheduled jobs, declared once: name, schedule, description, lock, runbook section (pure).

Cron's file (``pgvault.core.cron``), the runner (``pgvault-job``), the job
locks and records (``pgvault.edges.jobstate``) and the failure alerts
(``pgvault.core.monitoring.alerts``) all read this registry, so a job cannot
be scheduled without a runner, locked in the wrong group, or alerted without
a runbook section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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


def add_record(data: dict, entry: dict, keep: int) -> dict:
    """``jobs.json`` after one more run: the last run of each job, the last *decided* run of each, and the
    newest ``keep`` runs.

    A skipped run (a lock refused it) is in ``last`` and the history but decides nothing: it must not hide
    an earlier failure from alerting (:func:`decided`).

    :param data: ``{"last": {...}, "decided": {...}, "history": [...]}`` as read (keys may be missing)
    :param entry: the run, as :class:`JobRecord` fields
    :returns: a new mapping; ``data`` is left as it was
    """
    out = {"last": {**data.get("last", {}), entry["job"]: entry}, "decided": dict(data.get("decided", {})),
           "history": (list(data.get("history", [])) + [entry])[-keep:]}
    if entry["outcome"] != "skipped":
        out["decided"][entry["job"]] = entry
    return out


def decided(data: dict) -> dict[str, dict]:
    """Each job's last run that succeeded or failed: what alerting judges (a skipped run decides nothing).

    Files written before ``decided`` existed fall back on ``last`` and the history.
    """
    runs = [(run.get("job"), run) for run in data.get("history", [])] + list(data.get("last", {}).items())
    found = {job: run for job, run in runs if job and run.get("outcome") != "skipped"}
    found.update(data.get("decided", {}))
    return found


#: which kinds of backup set prove that a failed backup job of each kind works again
_PROVES = {"full": {"full"}, "diff": {"full", "diff"}, "incr": {"full", "diff", "incr"}}


def retried(job: str, failed_at: str | None, backups: list[dict], logical_at: str | None,
            drills_at: list[str]) -> bool:
    """True when the bucket holds proof that ``job`` succeeded after the failure at ``failed_at``.

    A failed job is usually retried by hand (``fab backup.incr``), which records nothing in
    ``jobs.json``; what it made is in the bucket: a later backup set of the same kind (or a fuller one),
    a later logical dump, a later drill result.  Other jobs are cleared by their next recorded run.

    :param backups: backup sets as ``BackupSet.as_dict`` gives them (``type``, ``stop``, ``error``)
    :param logical_at: when the newest logical dump was written (ISO 8601), if any
    :param drills_at: when each known drill finished (ISO 8601)
    """
    if failed_at is None:
        return False
    after = datetime.fromisoformat(failed_at)
    if job in _PROVES:
        return any(not b.get("error") and b["type"] in _PROVES[job] and datetime.fromisoformat(b["stop"]) > after
                   for b in backups)
    if job == "logical":
        return logical_at is not None and datetime.fromisoformat(logical_at) > after
    if job == "drill":
        return any(datetime.fromisoformat(at) > after for at in drills_at)
    return False
