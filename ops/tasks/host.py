"""``fab host.*``: make a DB host match the stack, or say how it differs."""

from __future__ import annotations

from ops import ssh
from ops import standby as standby_ops
from ops.host import converge, peer_keys, survey
from ops.tasks.common import emit_json, pgvault_task, say
from pgvault.core import catalog
from pgvault.core import standby as standby_core
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.host import drifts
from pgvault.core.plan import describe, diff, summary
from pgvault.core.schema import ROLE_ORDER
from pgvault.edges import remote, service
from pgvault.edges.build import build_id
from pgvault.edges.stackfile import load_stack


@pgvault_task()
def setup(c, stack=None, host=None, dry_run=False):
    """Configure pgBackRest and WAL archiving on every host of the stack (primary, standby, staging, in order)."""
    cfg = load_stack(stack)
    opened = ssh.connections(c, cfg, host, roles=ROLE_ORDER)
    keys = peer_keys(c, cfg, opened, generate=not dry_run, say=say)
    for entry, conn, view in opened:
        targets, _, host_plan = survey(conn, view, keys)
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
    opened = ssh.connections(c, cfg, host, roles=ROLE_ORDER)
    keys = peer_keys(c, cfg, opened, generate=False, say=say)
    for entry, conn, view in opened:
        _, facts, host_plan = survey(conn, view, keys)
        state = standby_ops.role_state(conn, view) if facts.postgres_up else None
        primary_archiver = facts.postgres_up and not (state or {}).get("in_recovery")
        archiver = (remote.sql_json(conn, view, catalog.ARCHIVER_SQL) or {}) if primary_archiver else {}
        report[entry.name] = drifts(view, host_plan, facts, archiver, build_id())
        if entry.role != "staging":
            report[entry.name] += standby_core.role_drifts(view, state, service.pgbackrest_stopped(conn, view))
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


@pgvault_task()
def standby(c, stack=None, host=None, force=False, dry_run=False):
    """Build the stack's standby from the repository (pgbackrest restore --type=standby) and start it streaming.

    Needs a backup in the repository, host.setup run first and the stack's primary running and not fenced.
    Refused even with --force, before anything changes: a host running out of recovery (a primary), a host
    whose cluster is on a newer timeline than the stack's primary (promoted: swap the roles first), a fenced
    or stopped stack primary. Then a data directory that already holds a cluster is refused unless --force
    (then it is stopped and rebuilt with --delta); a running standby is left alone ("no changes"). A fenced
    host (the old primary after a failover) has its fence lifted (pgbackrest start) once it streams. Run
    fab host.setup afterwards: it writes the standby's own files.
    """
    cfg = load_stack(stack)
    target = cfg.with_role("standby") if host is None else next((h for h in cfg.hosts if h.name == host), None)
    if target is None or target.role != "standby":
        if target is not None and target.role == "primary":
            raise PgvaultError(f"{host} is not the stack's standby but its primary",
                               f"after a failover, swap the roles in {cfg.file} first (the failover runbook, step 2)",
                               ExitCode.USAGE)
        raise PgvaultError("the stack has no standby host" if host is None else f"{host} is not the stack's standby",
                           "give a host role: standby in the stack file", ExitCode.USAGE)
    (_, conn, view), = ssh.connections(c, cfg, target.name)
    (_, primary_conn, primary_view), = ssh.connections(c, cfg, cfg.primary.name)
    done = standby_ops.build(conn, view, primary_conn, primary_view, force, dry_run, say)
    say(f"host.standby {target.name}: " + (done or "no changes"))


@pgvault_task()
def promote(c, stack=None, host=None, primary_lost=False, dry_run=False, json_=False):
    """Fail over: fence the primary (stop it, pgbackrest stop), promote the standby, prove it archives.

    --primary-lost promotes when the primary cannot be reached (fence it before it ever rejoins: fab
    host.fence). Then swap the roles in the stack file and run fab host.setup; the failover runbook has it all.
    """
    cfg = load_stack(stack)
    name = host or (cfg.with_role("standby").name if cfg.with_role("standby") else None)
    if name is None:
        raise PgvaultError("the stack has no standby to promote", "add one (role: standby) first", ExitCode.USAGE)
    done = standby_ops.promote(c, cfg, name, primary_lost, dry_run, say)
    if json_:
        emit_json(done)


@pgvault_task()
def fence(c, stack=None, host=None, dry_run=False):
    """Fence a host that must not archive into the stanza: stop its PostgreSQL and pgBackRest (pgbackrest stop).

    For an old primary after a failover; pgbackrest start on that host undoes it.
    """
    cfg = load_stack(stack)
    if host is None:
        raise PgvaultError("host.fence needs --host", "name the old primary: --host <name>", ExitCode.USAGE)
    (entry, conn, view), = ssh.connections(c, cfg, host)
    steps = standby_ops.fence(conn, view, say, dry_run)
    say(f"host.fence {entry.name}: " + ("no changes" if not steps else ("dry run" if dry_run else "fenced")))
