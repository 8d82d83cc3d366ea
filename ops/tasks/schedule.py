"""``fab schedule.*``: the schedule installed on the DB host, in words."""

from __future__ import annotations

import json

from invoke import Exit

from ops import ssh
from ops.runbooks import in_words
from ops.tasks.common import emit_json, pgvault_task, say
from pgvault.actions import backup
from pgvault.core import cron, hourly, jobs, roles
from pgvault.core.errors import ExitCode, PgvaultError, UsageError, did_you_mean
from pgvault.core.schema import StackConfig
from pgvault.edges import remote
from pgvault.edges.stackfile import load_stack


def _installed(conn, name: str, view: StackConfig) -> tuple[str, dict[str, str], list[cron.CronLine]]:
    """The host's installed cron file: its path, variables and lines."""
    path = cron.cron_file(view)
    found = remote.run(conn, ["cat", "--", path], warn=True)
    if not found.ok:
        raise PgvaultError(f"no pgvault cron file {path} on {name}", "run fab host.setup", ExitCode.DRIFT)
    return (path, *cron.parse(found.stdout))


@pgvault_task()
def show(c, stack=None, host=None, json_=False):
    """Show the installed schedule in words, with next run times."""
    cfg = load_stack(stack)
    for entry, conn, view in ssh.connections(c, cfg, host):
        path, _, lines = _installed(conn, entry.name, view)
        now = backup.host_now(conn)
        rows = [{"job": line.job, "schedule": line.schedule, "words": in_words(line.schedule), "user": line.user,
                 "next_run": cron.next_run(line.schedule, now).isoformat(), "command": line.command} for line in lines]
        rule = hourly.explain(view.schedule.incremental_rule, view.targets.rto_seconds,
                              backup.measured_replay_rate(view))
        if json_:
            emit_json({"host": entry.name, "cron_file": path, "jobs": rows,
                       "incremental_rule": {"rule": view.schedule.incremental_rule, "explained": rule}})
            continue
        say(f"schedule on {entry.name} ({path}), host time {now:%Y-%m-%d %H:%M} UTC")
        for row in rows:
            say(f"  {row['job']:8} {row['words']:38} next {row['next_run'][:16].replace('T', ' ')}  "
                f"as {row['user']}")
        say(f"  incr: {rule}")


def _runs_on(cfg: StackConfig, job: str) -> str:
    """The host whose cron file runs ``job``."""
    return next((h.name for h in cfg.ordered_hosts() if any(j.name == job for j in roles.scheduled_jobs(
        cfg.on(h.name)))), cfg.primary.name)


@pgvault_task(help={"job": f"the scheduled job: {', '.join(j.name for j in jobs.scheduled())}"})
def run(c, job, stack=None, host=None):
    """Run a scheduled job now on its host exactly as cron would (recorded: a success clears job-failed).

    The installed cron line runs with the cron file's variables only, as its user; exits with the job's code.
    """
    names = [j.name for j in jobs.scheduled()]
    if job not in names:
        raise UsageError(f"{job!r} is not a scheduled job", f"{did_you_mean(job, names)}scheduled jobs: "
                         f"{', '.join(names)} (fab --list has the tasks for the others, e.g. backup.diff)")
    cfg = load_stack(stack)
    for entry, conn, view in ssh.connections(c, cfg, host or _runs_on(cfg, job)):
        _, env, lines = _installed(conn, entry.name, view)
        line = next((x for x in lines if x.job == job), None)
        if line is None:
            raise PgvaultError(f"the cron file on {entry.name} has no {job} line",
                               "run the job on the host whose schedule has it (fab schedule.show), "
                               "or fab host.setup if it should be here", ExitCode.DRIFT)
        say(f"running {job} on {entry.name} as cron would (as {line.user}: {line.command}) ...")
        argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), "/bin/sh", "-c", line.command]
        done = remote.run(conn, argv, user=line.user, warn=True)
        found = remote.run(conn, ["cat", "--", f"{view.jobs.state_dir}/jobs.json"], user=view.postgres.os_user,
                           warn=True)
        record = (json.loads(found.stdout or "{}") if found.ok else {}).get("last", {}).get(job, {})
        say(f"{job} on {entry.name}: {record.get('outcome', 'not recorded')} in {record.get('seconds', '?')}s"
            + (f": {record['message']}" if record.get("message") else ""))
        if done.exited:
            raise Exit((done.stderr or "").strip()[-400:] or None, code=done.exited)
