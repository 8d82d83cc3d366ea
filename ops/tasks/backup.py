"""``fab backup.*``: take, list, verify and mark physical backups (pgBackRest)."""

from __future__ import annotations

from ops import ssh
from ops.tasks.common import emit_json, pgvault_task, say
from pgvault.actions import backup, logical, repocheck, retention
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.targets import parse_target, recoverable_window
from pgvault.core.units import human_bytes
from pgvault.edges.execute import LocalHost
from pgvault.edges.stackfile import load_stack


def _backup(c, kind: str, stack, host) -> None:
    cfg = load_stack(stack)
    for entry, conn, view in ssh.connections(c, cfg, host):
        say(f"{kind} backup of {entry.name} (stanza {view.pgbackrest.stanza}) to s3://{view.repository.bucket}"
            f"{view.repository.path}")
        done = backup.run_backup(conn, view, kind, say)
        seconds = (done.stop - done.start).total_seconds()
        say(f"backup {done.label}: {human_bytes(done.size)} database, {human_bytes(done.repo_delta)} stored, "
            f"{seconds:.0f}s")


@pgvault_task()
def full(c, stack=None, host=None):
    """Take a full backup now."""
    _backup(c, "full", stack, host)


@pgvault_task()
def incr(c, stack=None, host=None):
    """Take an incremental backup now."""
    _backup(c, "incr", stack, host)


@pgvault_task()
def diff(c, stack=None, host=None):
    """Take a differential backup now."""
    _backup(c, "diff", stack, host)


@pgvault_task(name="list")
def list_(c, stack=None, host=None, json_=False):
    """List backup sets and the recoverable window."""
    cfg = load_stack(stack)
    for entry, conn, view in ssh.connections(c, cfg, host):
        stanza = backup.info(conn, view)
        win = recoverable_window(stanza, backup.primary_state(conn, view))
        if json_:
            emit_json({
                "host": entry.name,
                "stanza": stanza.name,
                "backups": [b.as_dict() for b in stanza.backups],
                "window": {"earliest": win.earliest, "latest": win.latest},
                "archive": {"min": stanza.archive_min, "max": stanza.archive_max},
            })
            continue
        say(f"stanza {stanza.name} on {entry.name}: {len(stanza.backups)} backup set(s)")
        say(f"  {'label':34} {'type':5} {'start (UTC)':20} {'secs':>5} {'database':>10} {'stored':>10}  WAL")
        for b in stanza.backups:
            flag = " ERROR" if b.error else ""
            say(f"  {b.label:34} {b.type:5} {b.start:%Y-%m-%d %H:%M:%S} {(b.stop - b.start).total_seconds():5.0f} "
                f"{human_bytes(b.size):>10} {human_bytes(b.repo_delta):>10}  {b.wal_start}..{b.wal_stop}{flag}")
        say(f"recoverable window: {win.describe()}")


@pgvault_task(help={"all_wal": "prove all kept WAL again, not only what arrived since the last proof"})
def verify(c, stack=None, host=None, all_wal=False):
    """Verify the repository: every set's files present, WAL records chaining, every file read and checked."""
    cfg = load_stack(stack)
    for _, conn, view in ssh.connections(c, cfg, host):
        say(f"verifying the repository of stanza {view.pgbackrest.stanza} (this reads every file)...")
        clean, problems = repocheck.verify(conn, view, say, all_wal=all_wal)
        for line in problems:
            say(f"  problem: {line}")
        if not clean:
            raise PgvaultError(f"pgbackrest verify found {len(problems) or 'unreported'} problem(s) in the repository",
                               "restore from another backup set, take a new full backup (fab backup.full)",
                               ExitCode.VERIFY)
        say("verify: every backup and WAL file checked is valid")


@pgvault_task(help={"name": "restore point name: letters, digits, '.', '_', ':' and '-'"})
def mark(c, name, stack=None, host=None):
    """Create a named restore point to recover to later."""
    target = parse_target(name=name)
    cfg = load_stack(stack)
    for entry, conn, view in ssh.connections(c, cfg, host):
        point = backup.mark(conn, view, target.value)
        say(f"restore point {point['name']} at {point['time']} (LSN {point['lsn']}) on {entry.name}")


@pgvault_task()
def expire(c, stack=None, host=None, dry_run=False):
    """Expire backup sets beyond the daily/weekly/monthly tiers."""
    cfg = load_stack(stack)
    for entry, conn, view in ssh.connections(c, cfg, host):
        say(f"retention on {entry.name}: {view.retention.daily_days} d daily (PITR), {view.retention.weekly_days} d "
            f"weekly, {view.retention.monthly_days} d monthly, incrementals {view.retention.incremental_days} d")
        retention.expire(conn, view, say, dry_run)


@pgvault_task(name="logical",
              help={"from_dsn": f"dump from ${logical.DSN_VARIABLE} (a libpq URI) on this machine, "
                                "without host access"})
def logical_(c, stack=None, host=None, from_dsn=False):
    """Dump each configured database to S3 (pg_dump -Fc)."""
    cfg = load_stack(stack)
    if from_dsn:
        env = logical.dsn_environment()
        if env is None:
            raise PgvaultError(f"--from-dsn needs ${logical.DSN_VARIABLE}",
                               f"export {logical.DSN_VARIABLE}=postgresql://...", ExitCode.USAGE)
        written = logical.dump_all(LocalHost(), cfg, say, env)
    else:
        written = [d for _, conn, view in ssh.connections(c, cfg, host) for d in logical.dump_all(conn, view, say)]
    say(f"logical: {len(written)} dump(s), {human_bytes(sum(d['bytes'] for d in written))}")


@pgvault_task(help={"database": "only dumps of this database"})
def logical_list(c, stack=None, database=None, json_=False):
    """List the logical dumps in the bucket."""
    cfg = load_stack(stack)
    found = [m for m in logical.list_dumps(cfg) if database in (None, m["database"])]
    if json_:
        emit_json({"dumps": found})
        return
    say(f"{len(found)} logical dump(s) in s3://{cfg.repository.bucket}/{cfg.repository.logical_prefix}/")
    for m in found:
        say(f"  {m['started'][:19]}  {m['database']:12} {m['tier']:8} {human_bytes(m['bytes']):>10}  {m['key']}")
