"""``fab host.*``: make a DB host match the stack, or say how it differs."""

from __future__ import annotations

from ops import ssh
from ops.host import converge, survey
from ops.tasks.common import emit_json, pgvault_task, say
from pgvault.core import catalog
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.host import drifts
from pgvault.core.plan import describe, diff, summary
from pgvault.core.schema import ROLE_ORDER
from pgvault.edges import remote
from pgvault.edges.build import build_id
from pgvault.edges.stackfile import load_stack


@pgvault_task()
def setup(c, stack=None, host=None, dry_run=False):
    """Configure pgBackRest and WAL archiving on every host of the stack (primary, standby, staging, in order)."""
    cfg = load_stack(stack)
    for entry, conn, view in ssh.connections(c, cfg, host, roles=ROLE_ORDER):
        targets, _, host_plan = survey(conn, view)
        for change in host_plan.changes:
            say(f"  {describe(change)}")
            if dry_run and diff(change):
                say(diff(change).rstrip("\n"))
        for step in host_plan.steps():
            say(f"  {'would ' if dry_run else ''}{step}")
        for note in host_plan.notes:
            say(f"  note: {note}")
        if not host_plan.empty and not dry_run:
            converge(conn, view, entry.name, targets, host_plan, say)
        say(summary(f"host.setup {entry.name}", host_plan.changes, host_plan.steps(), dry_run))


@pgvault_task()
def check(c, stack=None, host=None, json_=False):
    """List how each host of the stack differs from it.

    Exits 4 when it differs, 5 when the repository cannot be read (then its cause comes first).
    """
    cfg = load_stack(stack)
    report, unreadable = {}, {}
    for entry, conn, view in ssh.connections(c, cfg, host, roles=ROLE_ORDER):
        _, facts, host_plan = survey(conn, view)
        archiver = (remote.sql_json(conn, view, catalog.ARCHIVER_SQL) or {}) if facts.postgres_up else {}
        report[entry.name] = drifts(view, host_plan, facts, archiver, build_id())
        if facts.repository_unreadable:
            unreadable[entry.name] = facts.repository_unreadable
    if json_:
        emit_json({"drifts": report, "ok": not any(report.values())})
    else:
        for name, lines in report.items():
            say(f"host {name}: " + ("matches the stack" if not lines else f"{len(lines)} drift(s)"))
            for line in lines:
                say(f"  - {line}")
    if unreadable:
        name, why = next(iter(unreadable.items()))
        raise PgvaultError(f"the repository cannot be read from {name}: {why}",
                           f"restore access to the bucket {cfg.repository.bucket} (endpoint, network, keys); "
                           "fab host.setup cannot fix this", ExitCode.UNREACHABLE)
    if any(report.values()):
        raise PgvaultError("the host differs from the stack", "run fab host.setup", ExitCode.DRIFT)
