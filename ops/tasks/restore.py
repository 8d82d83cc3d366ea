"""``fab restore.*``: bring data back, beside production (default) or in place."""

from __future__ import annotations

from ops import ssh
from ops.tasks.common import emit_json, pgvault_task, reporter, say
from pgvault.actions import logical, restore
from pgvault.core.errors import ExitCode, PgvaultError, UsageError
from pgvault.core.logical import check_restore_target, check_table
from pgvault.core.targets import Target, check_set_label, parse_target, with_timeline
from pgvault.edges.stackfile import load_stack

_RESTORE_HELP = {
    "name": "scratch cluster name (default restore-<UTC time>)",
    "in_place": "replace the production cluster (after a disaster); needs --force",
    "force": "confirm --in-place: PostgreSQL is stopped and its data directory rewritten",
    "set": "restore from this backup set (fab backup.list) instead of the one pgvault chooses",
    "target_timeline": "follow this timeline: latest (default), current (the set's own) or a number",
    "no_backup": "with --in-place: skip the full backup on the new timeline (take one soon)",
}


def _restore(c, target: Target, stack, host, name, in_place, force, json_, set_=None, no_backup=False,
             accept_short=False) -> None:
    if in_place and accept_short:
        raise UsageError("--accept-short keeps a short copy beside production; an in-place restore never does "
                         "(PostgreSQL is stopped when recovery ends short)",
                         "drop --accept-short, or restore beside production without --in-place")
    if in_place and not force:
        raise PgvaultError("--in-place replaces the production data directory",
                           "add --force if that is what you mean; without --in-place the restore goes beside it",
                           ExitCode.REFUSED)
    set_label = check_set_label(set_) if set_ else None
    cfg = load_stack(stack)
    progress = reporter(json_)
    for entry, conn, view in ssh.connections(c, cfg, host):
        progress(f"restoring {target.describe()} on {entry.name}{' IN PLACE' if in_place else ''}")
        if in_place:
            result = restore.in_place(conn, view, target, progress, set_label, full_backup=not no_backup)
        else:
            result = restore.to_scratch(conn, entry, view, target, name, progress, set_label,
                                        accept_short=accept_short)
        if json_:
            emit_json(result)
        else:
            _report(result, entry.name, in_place)


def _report(result: dict, host_name: str, in_place: bool) -> None:
    """The restore's outcome in words; a scratch cluster's address only as its own socket folder."""
    say(f"restored backup set {result['backup_set']} to {result['target']} in {result['seconds']['total']}s")
    if in_place:
        say(f"  cluster: production on {host_name}, data directory {result['data_dir']}")
    else:
        say(f"  cluster: scratch {result['name']} on {host_name}, data directory {result['data_dir']} "
            "(Unix socket only, no TCP)")
        say(f"  connect on {host_name} as {result['os_user']}: {result['psql']}")
    say(f"  recovered to: {result['recovered_to']}")
    if result.get("short_recovery"):
        say(f"  SHORT: {result['short_recovery']}")
    if result.get("new_full"):
        say(f"  full backup on the new timeline: {result['new_full']}")
    if not in_place:
        say(f"  remove it with: fab restore.drop --name {result['name']}")


@pgvault_task(help={
    **_RESTORE_HELP,
    "accept_short": "keep a copy whose recovery ended before the newest archived WAL (warning, exit 0); "
                    "never with --in-place",
})
def full(c, stack=None, host=None, name=None, in_place=False, force=False, json_=False, set_=None,
         target_timeline=None, no_backup=False, accept_short=False):
    """Restore the latest backup into a new scratch cluster."""
    _restore(c, with_timeline(parse_target(), target_timeline), stack, host, name, in_place, force, json_, set_,
             no_backup, accept_short)


@pgvault_task(help={
    **_RESTORE_HELP,
    "target": "recover to this time; must name its zone, e.g. '2026-11-26 14:05:00+00:00'",
    "target_name": "recover to this restore point (fab backup.mark)",
    "target_lsn": "recover to this WAL position, e.g. 0/3000060",
    "target_xid": "recover up to this transaction id",
})
def pitr(c, target=None, target_name=None, target_lsn=None, target_xid=None, stack=None, host=None, name=None,
         in_place=False, force=False, json_=False, set_=None, target_timeline=None, no_backup=False):
    """Restore to a point in time, restore point, LSN or xid."""
    chosen = with_timeline(parse_target(time=target, name=target_name, lsn=target_lsn, xid=target_xid),
                           target_timeline)
    if chosen.kind == "latest":
        raise PgvaultError("no target given", "add --target, --target-name, --target-lsn or --target-xid "
                           "(or use fab restore.full for the latest)", ExitCode.USAGE)
    _restore(c, chosen, stack, host, name, in_place, force, json_, set_, no_backup)


@pgvault_task(help={"name": "the scratch cluster to stop and delete"})
def drop(c, name, stack=None, host=None):
    """Stop and delete a scratch cluster made by a restore."""
    cfg = load_stack(stack)
    for entry, conn, view in ssh.connections(c, cfg, host):
        restore.drop(conn, view, name)
        say(f"scratch cluster {name} on {entry.name} stopped and removed")


@pgvault_task(name="list")
def list_(c, stack=None, host=None, json_=False):
    """List the scratch clusters restores have made."""
    cfg = load_stack(stack)
    for entry, conn, view in ssh.connections(c, cfg, host):
        found = restore.list_scratch(conn, view)
        if json_:
            emit_json({"host": entry.name, "scratch": found})
            continue
        say(f"{len(found)} scratch cluster(s) on {entry.name} (connect there as {view.postgres.os_user})")
        for item in found:
            say(f"  {item['name']:28} {'running' if item['running'] else 'stopped':8} {item['data_dir']}")
            say(f"  {'':28} {item['psql']}")


@pgvault_task(name="logical", help={
    "dump": "a dump key (fab backup.logical-list) or a date YYYY-MM-DD (the newest dump that day)",
    "into": "a new database to restore into (created); never a production database",
    "table": "restore only this table (name or schema.name), with its indexes, constraints, triggers and grants",
    "database": "source database of the dump when --dump is a date (default: any)",
    "force": "restore over an existing, non-empty (non-production) database: its objects are dropped first",
})
def logical_(c, dump, into, table=None, database=None, stack=None, host=None, force=False, json_=False):
    """Restore a logical dump (or one table) into a new database beside production."""
    chosen_table = check_table(table) if table else None
    cfg = load_stack(stack)
    target_db = check_restore_target(cfg, into)
    progress = reporter(json_)
    for entry, conn, view in ssh.connections(c, cfg, host):
        progress(f"restoring logical dump {dump} into {target_db} on {entry.name}")
        result = logical.restore(conn, view, dump, target_db, chosen_table, database, force, progress)
        if json_:
            emit_json(result)
            continue
        if result["table"]:
            parts = ", ".join(f"{n} {kind}" for kind, n in sorted(result["parts"].items())) or "nothing else"
            say(f"restored table {result['table']} of {result['dump']} into {target_db}, with: {parts}")
            for line in result["skipped"]:
                say(f"  not restored: {line}")
        else:
            say(f"restored {result['dump']} into {target_db}")
        for name, rows in sorted(result["rows"].items()):
            say(f"  {name:30} {rows:>10,} rows")
