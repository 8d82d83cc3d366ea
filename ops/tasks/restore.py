"""``fab restore.*``: bring data back, beside production (default) or in place."""

from __future__ import annotations

from ops import ssh
from ops.tasks.common import emit_json, note, pgvault_task, reporter, say
from pgvault.actions import logical, restore
from pgvault.core import roles
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
    "as_staging": "restore as the staging host's own cluster (its data directory, port and address) for the "
                  "staging app, instead of a scratch cluster",
    "replace": "with --as-staging: stop and replace the staging cluster already there",
}


def restore_targets(c, cfg, host: str | None, in_place: bool) -> list:
    """The hosts a restore goes to, each with where production's facts are read from.

    By default a restore beside production goes to the staging host when the stack has one, else the primary;
    ``--in-place`` replaces production, so it goes to the primary.  A restore on a host other than the
    primary reads production's canaries, archiver and restore points over the primary's own SSH connection;
    when the primary cannot be reached (it is lost), from the bucket alone.
    """
    role = "primary" if in_place else roles.restore_host(cfg).role
    out = []
    for entry, conn, view in ssh.connections(c, cfg, host, roles=(role,)):
        source = None
        if entry.role != "primary":
            try:
                _, pconn, pview = ssh.connections(c, cfg, cfg.primary.name)[0]
                source = (pconn, pview)
            except PgvaultError as exc:
                note(f"note: production's facts cannot be read ({exc.message}): restoring from the bucket alone")
        out.append((entry, conn, view, source))
    return out


def _restore(c, target: Target, stack, host, name, in_place, force, json_, set_=None, no_backup=False,
             accept_short=False, as_staging=False, replace=False) -> None:
    if in_place and accept_short:
        raise UsageError("--accept-short keeps a short copy beside production; an in-place restore never does "
                         "(PostgreSQL is stopped when recovery ends short)",
                         "drop --accept-short, or restore beside production without --in-place")
    if in_place and not force:
        raise PgvaultError("--in-place replaces the production data directory",
                           "add --force if that is what you mean; without --in-place the restore goes beside it",
                           ExitCode.REFUSED)
    if as_staging and (in_place or name):
        raise UsageError("--as-staging restores the staging host's own cluster", "leave out --in-place and --name")
    if replace and not as_staging:
        raise UsageError("--replace replaces the staging cluster", "add --as-staging, or leave out --replace")
    set_label = check_set_label(set_) if set_ else None
    cfg = load_stack(stack)
    if as_staging and host is None and cfg.with_role("staging") is None:
        raise UsageError(f"stack {cfg.name} has no staging host", "add a host with role: staging to the stack file")
    progress = reporter(json_)
    for entry, conn, view, source in restore_targets(c, cfg, host, in_place):
        where = f"{entry.name} ({entry.role})"
        progress(f"restoring {target.describe()} on {where}{' IN PLACE' if in_place else ''}"
                 f"{' as its staging cluster' if as_staging else ''}")
        if in_place and entry.role == "staging":
            raise UsageError(f"{entry.name} is the staging host, not production",
                             "use --as-staging to replace its cluster")
        if in_place:
            result = restore.in_place(conn, view, target, progress, set_label, full_backup=not no_backup)
        elif as_staging:
            result = restore.to_staging(conn, entry, view, target, progress, set_label, replace, source)
        else:
            result = restore.to_scratch(conn, entry, view, target, name, progress, set_label,
                                        accept_short=accept_short, source=source)
        if json_:
            emit_json(result)
        else:
            _report(result, entry.name, in_place, cfg.primary.name)


def _report(result: dict, host_name: str, in_place: bool, primary_name: str = "") -> None:
    """The restore's outcome in words; a scratch cluster's address only as its own socket folder."""
    say(f"restored backup set {result['backup_set']} to {result['target']} in {result['seconds']['total']}s")
    if in_place:
        say(f"  cluster: production on {host_name}, data directory {result['data_dir']}")
    elif result.get("staging"):
        say(f"  cluster: the staging cluster on staging host {host_name}, data directory {result['data_dir']}, "
            f"port {result['port']} (never archives)")
        say(f"  connect on {host_name} as {result['os_user']}: {result['psql']}")
        say(f"  the staging app: {host_name} at {result['app_address']} (the restored roles and passwords)")
    else:
        say(f"  cluster: scratch {result['name']} on {host_name}, data directory {result['data_dir']} "
            "(Unix socket only, no TCP)")
        say(f"  connect on {host_name} as {result['os_user']}: {result['psql']}")
    say(f"  recovered to: {result['recovered_to']}")
    if result.get("short_recovery"):
        say(f"  SHORT: {result['short_recovery']}")
    if result.get("new_full"):
        say(f"  full backup on the new timeline: {result['new_full']}")
    if not in_place and not result.get("staging"):
        on = "" if host_name == primary_name else f" --host {host_name}"
        say(f"  remove it with: fab restore.drop --name {result['name']}{on}")


@pgvault_task(help={
    **_RESTORE_HELP,
    "accept_short": "keep a copy whose recovery ended before the newest archived WAL (warning, exit 0); "
                    "never with --in-place",
})
def full(c, stack=None, host=None, name=None, in_place=False, force=False, json_=False, set_=None,
         target_timeline=None, no_backup=False, accept_short=False, as_staging=False, replace=False):
    """Restore the latest backup into a new scratch cluster (on the staging host when the stack has one)."""
    _restore(c, with_timeline(parse_target(), target_timeline), stack, host, name, in_place, force, json_, set_,
             no_backup, accept_short, as_staging, replace)


@pgvault_task(help={
    **_RESTORE_HELP,
    "target": "recover to this time; must name its zone, e.g. '2026-11-26 14:05:00+00:00'",
    "target_name": "recover to this restore point (fab backup.mark)",
    "target_lsn": "recover to this WAL position, e.g. 0/3000060",
    "target_xid": "recover up to this transaction id",
})
def pitr(c, target=None, target_name=None, target_lsn=None, target_xid=None, stack=None, host=None, name=None,
         in_place=False, force=False, json_=False, set_=None, target_timeline=None, no_backup=False,
         as_staging=False, replace=False):
    """Restore to a point in time, restore point, LSN or xid (on the staging host when the stack has one)."""
    chosen = with_timeline(parse_target(time=target, name=target_name, lsn=target_lsn, xid=target_xid),
                           target_timeline)
    if chosen.kind == "latest":
        raise PgvaultError("no target given", "add --target, --target-name, --target-lsn or --target-xid "
                           "(or use fab restore.full for the latest)", ExitCode.USAGE)
    _restore(c, chosen, stack, host, name, in_place, force, json_, set_, no_backup, as_staging=as_staging,
             replace=replace)


@pgvault_task(help={"name": "the scratch cluster to stop and delete"})
def drop(c, name, stack=None, host=None):
    """Stop and delete a scratch cluster made by a restore (on the staging host when the stack has one)."""
    cfg = load_stack(stack)
    for entry, conn, view in ssh.connections(c, cfg, host, roles=(roles.restore_host(cfg).role,)):
        restore.drop(conn, view, name)
        say(f"scratch cluster {name} on {entry.name} stopped and removed")


@pgvault_task(name="list")
def list_(c, stack=None, host=None, json_=False):
    """List the scratch clusters restores have made (on the primary and the staging host)."""
    cfg = load_stack(stack)
    for entry, conn, view in ssh.connections(c, cfg, host, roles=("primary", "staging")):
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
