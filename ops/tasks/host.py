"""``fab host.*``: make a DB host match the stack, or say how it differs."""

from __future__ import annotations

from ops import hostsetup, remote, ssh
from ops.config import load_stack
from ops.errors import ExitCode, PgvaultError
from ops.plan import describe, diff, summary
from ops.tasks.common import emit_json, pgvault_task, say

ARCHIVER_SQL = (
    "SELECT row_to_json(a) FROM (SELECT archived_count, last_archived_wal, last_archived_time, failed_count, "
    "last_failed_wal, last_failed_time FROM pg_stat_archiver) a;"
)


@pgvault_task()
def setup(c, stack=None, host=None, dry_run=False):
    """Configure pgBackRest and WAL archiving on the DB host."""
    cfg = load_stack(stack)
    for entry, conn in ssh.connections(c, cfg, host):
        targets, _, host_plan = hostsetup.survey(conn, cfg)
        for change in host_plan.changes:
            say(f"  {describe(change)}")
            if dry_run and diff(change):
                say(diff(change).rstrip("\n"))
        for step in host_plan.steps():
            say(f"  {'would ' if dry_run else ''}{step}")
        for note in host_plan.notes:
            say(f"  note: {note}")
        if not host_plan.empty and not dry_run:
            hostsetup.preflight(conn, cfg, targets, host_plan)
            hostsetup.apply(conn, cfg, host_plan, say)
            again = hostsetup.plan(cfg, targets, hostsetup.gather(conn, cfg, targets))
            if again.changes or again.server_action or again.job_install:
                raise PgvaultError(f"host {entry.name} still differs after setup",
                                   "run fab host.check to see how", ExitCode.DRIFT)
        say(summary(f"host.setup {entry.name}", host_plan.changes, host_plan.steps(), dry_run))


@pgvault_task()
def check(c, stack=None, host=None, json_=False):
    """List how the DB host differs from the stack."""
    cfg = load_stack(stack)
    report = {}
    for entry, conn in ssh.connections(c, cfg, host):
        _, facts, host_plan = hostsetup.survey(conn, cfg)
        archiver = (remote.sql_json(conn, cfg, ARCHIVER_SQL) or {}) if facts.postgres_up else {}
        report[entry.name] = hostsetup.drifts(cfg, host_plan, facts, archiver)
    if json_:
        emit_json({"drifts": report, "ok": not any(report.values())})
    else:
        for name, lines in report.items():
            say(f"host {name}: " + ("matches the stack" if not lines else f"{len(lines)} drift(s)"))
            for line in lines:
                say(f"  - {line}")
    if any(report.values()):
        raise PgvaultError("the host differs from the stack", "run fab host.setup", ExitCode.DRIFT)
