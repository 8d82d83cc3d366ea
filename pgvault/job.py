"""``pgvault-job``: the one entry point cron runs on the DB host for every scheduled job.

It makes cron's minimal environment usable (PATH with PostgreSQL's binaries,
HOME, a UTF-8 locale), takes the job's lock so a job never overlaps itself (or,
for backups, another backup), runs the job with the same functions ``fab``
uses, records start, end, exit code, duration and sizes in ``jobs.json``, logs
to a rotating file instead of cron mail, and exits with the job's code
(6 when refused by the lock, which is not a failure).
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import os
import pwd
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pgvault.actions import backup, drill, logical, monitoring, repocheck, retention
from pgvault.core import catalog, jobs, metrics
from pgvault.core import drill as verdicts
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.jobs import JobRecord
from pgvault.core.monitoring import alerts
from pgvault.core.policy import canary_keep_days, cron_interval_seconds
from pgvault.core.schema import StackConfig
from pgvault.edges import jobstate, notify, remote
from pgvault.edges.build import build_id
from pgvault.edges.execute import LocalHost
from pgvault.edges.stackfile import load_stack

log = logging.getLogger("pgvault.job")


def _backup(kind: str) -> Callable[[StackConfig], dict]:
    def run(cfg: StackConfig) -> dict:
        done, source = backup.backup_with_source(LocalHost(), cfg, kind, log.info)
        return {"label": done.label, "database_bytes": done.size, "stored_bytes": done.repo_delta, **source}
    return run


def _hourly(cfg: StackConfig) -> dict:
    return backup.run_hourly(LocalHost(), cfg, log.info, datetime.now(UTC))


def _logical(cfg: StackConfig) -> dict:
    written = logical.dump_all(LocalHost(), cfg, log.info)
    return {"dumps": len(written), "bytes": sum(d["bytes"] for d in written)}


def _monitor(cfg: StackConfig) -> dict:
    doc = monitoring.document(LocalHost(), socket.gethostname(), cfg)
    problems = monitoring.publish(LocalHost(), cfg, doc)
    if problems:
        raise PgvaultError(f"publishing failed: {'; '.join(problems)}", "check the AWS endpoint and credentials",
                           ExitCode.UNREACHABLE)
    return {"state": doc["state"]}


def _report(cfg: StackConfig) -> dict:
    subject, problems = monitoring.report(LocalHost(), cfg,
                                          monitoring.document(LocalHost(), socket.gethostname(), cfg))
    if problems:
        raise PgvaultError(f"the report was not delivered: {'; '.join(problems)}", "check SNS and SMTP",
                           ExitCode.UNREACHABLE)
    return {"subject": subject}


def _canary(cfg: StackConfig) -> dict:
    row = remote.sql_json(LocalHost(), cfg, catalog.canary_sql(canary_keep_days(cfg)))
    return {"seq": row["seq"]}


def _verify(cfg: StackConfig) -> dict:
    """The daily check reads listings, manifests and the new WAL; ``fab backup.verify`` also reads every file."""
    problems = repocheck.daily(LocalHost(), cfg, log.info)
    if problems:
        raise PgvaultError(f"repository check found {len(problems)} problem(s): {problems[0]}",
                           "run fab backup.verify", ExitCode.VERIFY)
    return {}


def _drill(cfg: StackConfig) -> dict:
    kind = verdicts.scheduled_kind(datetime.now(UTC), cron_interval_seconds(cfg.schedule.drill))
    result = drill.run(LocalHost(), cfg.hosts[0], cfg, kind, log.info)
    drill.settle(result, cfg.repository.bucket)  # exit 7 on a failed check, else 1 or 5 when the bucket refused it
    return {"rto_seconds": result["seconds"].get("rto"), "key": result["key"]}


def _expire(cfg: StackConfig) -> dict:
    removed = retention.expire(LocalHost(), cfg, log.info, dry_run=False)
    return {"expired_sets": len(removed)}


#: job name (``pgvault.core.jobs``) -> what it runs; ``tests/unit/test_jobs.py`` checks both name the same jobs
RUNNERS: dict[str, Callable[[StackConfig], dict]] = {
    "full": _backup("full"),
    "incr": _hourly,
    "diff": _backup("diff"),
    "logical": _logical,
    "expire": _expire,
    "verify": _verify,
    "monitor": _monitor,
    "report": _report,
    "canary": _canary,
    "drill": _drill,
}


def check_host_name(cfg: StackConfig, name: str) -> str:
    """``name`` when the stack has a host of that name; else one line naming the stack's hosts."""
    if all(h.name != name for h in cfg.hosts):
        raise PgvaultError(f"the stack has no host {name!r}", f"use one of: {', '.join(h.name for h in cfg.hosts)} "
                           "(fab host.setup writes the cron lines)", ExitCode.USAGE)
    return name


def prepare_environment(cfg: StackConfig) -> None:
    """Give the job what cron's minimal environment lacks: PATH, HOME and a UTF-8 locale."""
    path = [cfg.postgres.bin_dir, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
    current = [p for p in os.environ.get("PATH", "").split(":") if p]
    os.environ["PATH"] = ":".join(dict.fromkeys(path + current))
    if not os.environ.get("HOME"):
        os.environ["HOME"] = pwd.getpwuid(os.getuid()).pw_dir
    if not os.environ.get("LC_ALL") and not os.environ.get("LANG"):
        os.environ["LC_ALL"] = "C.UTF-8"


def setup_logging(cfg: StackConfig) -> None:
    """Log to ``<log_dir>/pgvault-job.log``, rotated at 5 MB with 5 files kept."""
    Path(cfg.jobs.log_dir).mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(Path(cfg.jobs.log_dir) / "pgvault-job.log",
                                                   maxBytes=5 * 1024 * 1024, backupCount=5)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(process)d] %(message)s"))
    root = logging.getLogger("pgvault")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_job(cfg: StackConfig, job: str, pauses: tuple[float, ...] = jobs.LOCKED_RETRY_PAUSES) -> int:
    """Run ``job`` under its lock and record it; return its exit code.

    When pgBackRest's own lock refuses the job (a backup started by hand is
    running), it is tried again after each of ``pauses``; still refused, it is
    recorded as skipped, not failed, and raises no alert.
    """
    started, clock = _now(), time.monotonic()
    host = socket.gethostname()
    with jobstate.job_lock(cfg.jobs.state_dir, job) as holder:
        if holder is not None:
            message = f"{job} not started: {holder} holds the {jobs.lock_name(job)} lock"
            log.warning(message)
            jobstate.record(cfg.jobs.state_dir, JobRecord(
                job, host, started, _now(), 0.0, int(ExitCode.LOCKED), jobs.outcome(ExitCode.LOCKED), message))
            return int(ExitCode.LOCKED)
        log.info("%s started (%s)", job, build_id())
        code, message, sizes = _attempt(cfg, job)
        for pause in pauses:
            if code != ExitCode.LOCKED:
                break
            log.warning("%s refused by a lock (%s); trying again in %.0f s", job, message, pause)
            time.sleep(pause)
            code, message, sizes = _attempt(cfg, job)
        seconds = round(time.monotonic() - clock, 1)
        outcome = jobs.outcome(code)
        entry = JobRecord(job, host, started, _now(), seconds, code, outcome, message, sizes)
        jobstate.record(cfg.jobs.state_dir, entry)
        (log.error if outcome == "failed" else log.info)("%s %s in %.1fs %s", job, outcome, seconds,
                                                          message or sizes)
        _report_outcome(cfg, entry)
        return code


def _attempt(cfg: StackConfig, job: str) -> tuple[int, str, dict]:
    """Run the job once: (exit code, one-line message, sizes)."""
    try:
        done = RUNNERS[job](cfg)
        return int(ExitCode.OK), done.get("standby_fallback", ""), done
    except PgvaultError as exc:
        return int(exc.code), exc.one_line(), {}
    except Exception as exc:  # noqa: BLE001 - recorded and alerted as a failure, with the traceback in the log
        log.exception("%s crashed", job)
        return int(ExitCode.FAILED), f"{type(exc).__name__}: {exc}", {}


def _report_outcome(cfg: StackConfig, entry: JobRecord) -> None:
    """Publish the job's failure count, and alert at once when it failed (problems are only logged)."""
    try:
        problems = [notify.put_metrics(cfg, {metrics.JOB_FAILURES.name: float(entry.outcome == "failed")})]
        if entry.outcome == "failed":
            problems += notify.send(cfg, *alerts.failure_alert(cfg, entry))
    except PgvaultError as exc:  # e.g. no credentials for AWS on this host
        problems = [exc.one_line()]
    for problem in filter(None, problems):
        log.warning("could not deliver: %s", problem)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: ``pgvault-job [--stack S] [--host H] <job>``."""
    parser = argparse.ArgumentParser(prog="pgvault-job",
                                     description="Run one scheduled pgvault job (cron's entry point).")
    parser.add_argument("--stack", default=None, help="stack name (default: $PGVAULT_STACK or sandbox)")
    parser.add_argument("--host", default=None,
                        help="the stack's name of this host (cron passes it when the stack has several hosts)")
    parser.add_argument("--version", action="version", version=f"pgvault-job {build_id()}")
    parser.add_argument("job", choices=sorted(jobs.BY_NAME))
    args = parser.parse_args(argv)
    try:
        cfg = load_stack(args.stack)
        cfg = cfg.on(check_host_name(cfg, args.host)) if args.host else cfg
        prepare_environment(cfg)
        setup_logging(cfg)
        return run_job(cfg, args.job)
    except PgvaultError as exc:
        # before logging works (or the state folder is unusable): the one place cron mail is the last resort
        print(f"pgvault-job: error: {exc.one_line()}", file=sys.stderr)
        return int(exc.code)
    except OSError as exc:
        print(f"pgvault-job: error: {exc}; check the ownership of the jobs folders (fab host.check)", file=sys.stderr)
        return int(ExitCode.FAILED)


if __name__ == "__main__":
    sys.exit(main())
