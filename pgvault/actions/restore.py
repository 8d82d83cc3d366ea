"""Restores: into a scratch cluster beside production, or in place.

Order of work, so that bad input changes nothing: read the repository and the
primary, validate the target and choose the backup set (pure:
``pgvault.core.restore``), check the archive for holes and the destination;
only then create directories and run ``pgbackrest restore``.  A scratch restore never archives (``--archive-mode=off``
plus overrides in its configuration) and never touches the production data
directory; an in-place restore needs ``--force``.
"""

from __future__ import annotations

import dataclasses
import shlex
import time
from collections.abc import Callable

from pgvault.actions import backup, walproof
from pgvault.core import catalog, pgbackrest, render, roles, scratch, standby
from pgvault.core.errors import ExitCode, PgvaultError, UsageError
from pgvault.core.pgbackrest import REPOSITORY_DAMAGE, BackupSet, failure, summarise_error
from pgvault.core.plan import DesiredDir, DesiredFile
from pgvault.core.restore import (
    MAX_FALLBACKS,
    RestoreFacts,
    RestorePlan,
    choose,
    descends,
    expected_end,
    fallbacks,
    gap_warning,
    recovery_failure,
    short_recovery,
    untouched,
)
from pgvault.core.schema import HostConfig, StackConfig
from pgvault.core.secrets import restore_secrets_file
from pgvault.core.targets import Target
from pgvault.core.wal import history_switch_lsn, parse_history, position
from pgvault.core.walarchive import gaps
from pgvault.core.walproof import break_warning
from pgvault.edges import bucket, remote, service
from pgvault.edges.cloud import s3_client
from pgvault.edges.execute import Conn
from pgvault.edges.waiting import within

#: where production's own facts are read (the primary's archiver, restore points, canaries): a connection and
#: the stack as seen from there; the restore host itself when it is the primary
Source = tuple[Conn, StackConfig]


def local_source(conn: Conn, cfg: StackConfig) -> Source:
    """Production as ``cfg.hosts[0]`` reaches it on its own (:func:`pgvault.core.roles.production_view`)."""
    return conn, roles.production_view(cfg)


def facts(conn: Conn, cfg: StackConfig, target: Target, source: Source | None = None) -> RestoreFacts:
    """Read what choosing a set for ``target`` needs: the repository, the primary, the clock, a restore point,
    and the timeline recovery will follow with its history (from the archive).

    :param source: where production's facts are read (default: through ``conn`` as the host reaches it)
    """
    pconn, pcfg = source or local_source(conn, cfg)
    stanza = backup.info(conn, cfg)
    primary = backup.primary_state(pconn, pcfg)
    point, known = None, ()
    if target.kind == "name" and primary:
        point = remote.sql_json(pconn, pcfg, catalog.restore_point_sql(target.value))
        if point is None:
            known = tuple(remote.sql_json(pconn, pcfg, catalog.RESTORE_POINT_NAMES_SQL) or ())
    timeline, history = _timeline(conn, cfg, target)
    return RestoreFacts(stanza, primary, backup.host_now(conn), point, timeline, history, known)


def _timeline(conn: Conn, cfg: StackConfig, target: Target) -> tuple[int | None, tuple[tuple[int, int], ...]]:
    """The timeline a restore to ``target`` follows (``None``: each set's own) and that timeline's history.

    :raises UsageError: for a timeline the archive has no history file for
    """
    if target.timeline == "current":
        return None, ()
    client = s3_client(cfg)
    known = bucket.timelines(client, cfg)
    wanted = int(target.timeline) if target.timeline not in (None, "latest") else max(known, default=1)
    if wanted == 1:
        return 1, ()
    if wanted not in known:
        raise UsageError(f"timeline {wanted} has no history file in the archive (timelines: 1"
                         f"{''.join(f', {t}' for t in known)})", "choose one of them, or --target-timeline current")
    name = f"{bucket.current_archive(client, cfg).removeprefix(cfg.repository.repo_prefix)}{wanted:08X}.history"
    text = remote.run(conn, pgbackrest.command(cfg, "repo-get", params=(name,)), user=cfg.postgres.os_user).stdout
    return wanted, parse_history(text)


def prepare(conn: Conn, cfg: StackConfig, target: Target, say: Callable[[str], None],
            set_label: str | None = None, in_place: bool = False, source: Source | None = None) -> RestorePlan:
    """Validate ``target``, choose the backup set (or check the one ``set_label`` names) and check the archive
    for holes on the way to it.

    :raises UsageError: for a target outside the window (naming it), a set that cannot reach it, or a target
        beyond a hole in the archive
    """
    source = source or local_source(conn, cfg)
    read = facts(conn, cfg, target, source)
    plan = choose(target, read, set_label)
    for note in plan.notes:
        say(f"  {note}")
    client = s3_client(cfg)
    newest = bucket.newest_wal(client, cfg) if target.kind == "latest" else None
    holes = gaps(bucket.archive_segments(client, cfg))
    usable = [b for b in read.stanza.backups if read.timeline is None or descends(b, read.timeline, read.history)]
    end = expected_end(target, newest[0] if newest else None, read.primary, read.timeline, read.history)
    plan = dataclasses.replace(plan, expected_end=end,
                               fallbacks=() if set_label else fallbacks(target, usable, plan.backup_set, holes))
    proof = walproof.read_state(*source)
    followed = None if read.timeline is None else {read.timeline, *(t for t, _ in read.history)}
    warning = gap_warning(target, plan.backup_set, holes) or break_warning(
        proof.broken if proof else None, target, plan.backup_set, followed)
    if warning and in_place:
        raise UsageError(f"{warning.removeprefix('warning: ')}: an in-place restore would replace production with a "
                         "copy that stops there", "repair the archive first (fab repo.history, fab repo.undo), or "
                         "restore beside production (without --in-place) to see what it holds, or give a target before "
                         "the break (--target-lsn below the LSN named)")
    if warning:
        say(f"  {warning}")
    say(f"  {plan.describe()}")
    return plan


def _require_empty(conn: Conn, cfg: StackConfig, path: str, name: str) -> None:
    empty = ["sh", "-c", 'test ! -e "$1" || test -z "$(ls -A "$1")"', "sh", path]
    if not remote.run(conn, empty, user=cfg.postgres.os_user, warn=True).ok:
        raise UsageError(f"scratch directory {path} exists and is not empty",
                         f"choose another --name, or remove it with fab restore.drop --name {name}")


def read_only_config(conn: Conn, cfg: StackConfig) -> tuple[str, bool]:
    """The pgBackRest configuration restores use: the read-only one when host.setup wrote it."""
    path = pgbackrest.restore_config_path(cfg)
    present = remote.run(conn, ["test", "-f", restore_secrets_file(cfg)], user=cfg.postgres.os_user,
                         warn=True).ok
    return (path, True) if present else (cfg.pgbackrest.config_path, False)



def _restore_steps(conn: Conn, owner: str, place, target: Target):
    """pgBackRest's restore options for one backup set into ``place`` (a scratch or the staging cluster, never
    archiving), and how to empty its folders before the next set is tried."""

    def options(candidate: BackupSet) -> list[str]:
        return [f"--pg1-path={place.data_dir}", f"--set={candidate.label}", "--archive-mode=off",
                f"--tablespace-map-all={place.tablespaces}", "--log-level-console=detail",
                *scratch.pgbackrest_options(place), *target.pgbackrest_options()]

    def reset() -> None:
        for folder in (place.data_dir, place.tablespaces):
            remote.run(conn, ["find", folder, "-mindepth", "1", "-delete"], user=owner)

    return options, reset

def to_scratch(conn: Conn, entry: HostConfig, cfg: StackConfig, target: Target, name: str | None,
               say: Callable[[str], None], set_label: str | None = None, fall_back: bool = True,
               accept_short: bool = False, source: Source | None = None) -> dict:
    """Restore ``target`` into a new scratch cluster (from ``set_label`` when given), start it, describe it.

    ``fall_back`` off (drills: they prove the set pgvault would choose) makes a damaged set fail the restore.
    A restore to latest whose recovery ends before the newest archived WAL fails, keeping the cluster for
    inspection; ``accept_short`` keeps it as the result instead, with a warning (and ``short_recovery`` in
    the description).  On a staging host (``cfg`` its view) the restore reads the repository with the
    read-only keys only and production's facts from ``source``.
    """
    plan = prepare(conn, cfg, target, say, set_label, source=source)
    if not fall_back:
        plan = dataclasses.replace(plan, fallbacks=())
    chosen = plan.backup_set
    place = scratch.scratch_for(cfg, scratch.scratch_name(name, backup.host_now(conn)))
    _require_empty(conn, cfg, place.root, place.name)
    owner = cfg.postgres.os_user
    for folder in (place.root, place.data_dir, place.tablespaces, place.pgbackrest_root,
                   *place.pgbackrest_dirs.values()):
        remote.ensure_dir(conn, DesiredDir(folder, owner, 0o700))
    _write_scratch_files(conn, cfg, place, chosen.label)
    started = time.monotonic()
    config_path, read_only = read_only_config(conn, cfg)

    options, reset = _restore_steps(conn, owner, place, target)

    chosen, damaged = _restore_from(conn, cfg, plan, options, say, reset, config_path,
                                    f"the scratch directory {place.root} is left for inspection; "
                                    f"fab restore.drop --name {place.name} removes it")
    if damaged:
        _write_scratch_files(conn, cfg, place, chosen.label)
    fetched = time.monotonic()
    say(f"  starting scratch cluster {place.name} on {place.root} port {place.port} (replaying WAL to "
        f"{target.describe()})")
    _start_scratch(conn, cfg, place)
    cleanup = f"the scratch cluster {place.name} is kept for inspection (fab restore.drop --name {place.name})"
    reached = wait_promoted(conn, cfg, place.data_dir, place.log, cleanup, port=place.port, socket_dir=place.root)
    short = _shortfall(conn, cfg, plan, f"{cleanup}; fab restore.full --accept-short keeps such a copy as the "
                       "result", port=place.port, socket_dir=place.root)
    if short and not accept_short:
        raise short
    if short:
        say(f"  warning: {short.message} (kept as asked with --accept-short: do not copy it over production as "
            "complete)")
    ready = time.monotonic()
    return {
        "host_name": entry.name,
        **scratch.connection(cfg, place),
        "port": place.port,
        "socket_dir": place.root,
        "os_user": cfg.postgres.os_user,
        "data_dir": place.data_dir,
        "name": place.name,
        "backup_set": chosen.label,
        "damaged_sets": damaged,
        "target": target.describe(),
        "read_only_credentials": read_only,
        "recovered_to": reached.get("last_replay"),
        "in_recovery": reached.get("in_recovery"),
        "short_recovery": short.message if short else None,
        "seconds": {"fetch": round(fetched - started, 1), "replay_and_start": round(ready - fetched, 1),
                    "total": round(ready - started, 1)},
    }


#: what a restored cluster says about itself once it accepts connections
RECOVERED_SQL = (
    "SELECT json_build_object('in_recovery', pg_is_in_recovery(), "
    "'last_replay', pg_last_xact_replay_timestamp(), 'lsn', pg_current_wal_lsn()::text);"
)


def wait_promoted(conn: Conn, cfg: StackConfig, data_dir: str, log: str, cleanup: str, **where) -> dict:
    """Wait until a restored cluster leaves recovery; fail at once, with PostgreSQL's reason, if it dies.

    :raises PgvaultError: when it stopped (e.g. the target is beyond the archived WAL) or the RTO target passed
    """
    def probe() -> dict | None:
        try:
            state = remote.sql_json(conn, cfg, RECOVERED_SQL, **where)
        except remote.RemoteError:
            state = None
        if state and not state["in_recovery"]:
            return state
        if not remote.run(conn, ["test", "-f", f"{data_dir}/postmaster.pid"], user=cfg.postgres.os_user,
                          warn=True).ok:
            _died(conn, cfg, log, cleanup)
        return None

    reached = within(cfg.targets.rto_seconds, probe, interval=0.5)
    if reached is None:
        raise PgvaultError(f"the restored cluster is still in recovery after {cfg.targets.rto_seconds} s (the RTO "
                           "target)", f"read {log}; {cleanup}", ExitCode.FAILED)
    return reached


def _write_scratch_files(conn: Conn, cfg: StackConfig, place: scratch.Scratch, label: str) -> None:
    """The scratch cluster's configuration (which also marks the folder as pgvault's), HBA and ident files."""
    owner = cfg.postgres.os_user
    banner = render.banner(cfg, "fab restore.drop to remove this scratch cluster")
    files = {place.config: scratch.config_lines(place, label, banner),
             place.hba: scratch.hba_lines(banner, owner),
             f"{place.root}/pg_ident.conf": banner + "\n"}
    for path, text in files.items():
        remote.put_file(conn, DesiredFile(path, text, owner, 0o600))


def _restore_from(conn: Conn, cfg: StackConfig, plan: RestorePlan, options: Callable[[BackupSet], list[str]],
                  say: Callable[[str], None], reset: Callable[[], None], config_path: str | None,
                  fix: str) -> tuple[BackupSet, list[str]]:
    """``pgbackrest restore`` from the plan's set; when pgBackRest finds it damaged, from each fallback in turn.

    :returns: the set restored and the labels of the damaged sets passed over
    :raises PgvaultError: for any other failure, or when every candidate is damaged
    """
    damaged: list[str] = []
    candidate, remaining = plan.backup_set, list(plan.fallbacks)
    while True:
        ok, output = backup.stream_pgbackrest(
            conn, cfg, pgbackrest.command(cfg, "restore", *options(candidate), config_path=config_path), "restore",
            say)
        if ok:
            return candidate, damaged
        code, _ = summarise_error(output)
        if code not in REPOSITORY_DAMAGE:
            raise failure(output, fix)
        damaged.append(candidate.label)
        remaining = untouched(remaining, candidate, output)
        if not remaining or len(damaged) > MAX_FALLBACKS:
            raise failure(output, f"no usable set left ({', '.join(damaged)} damaged): run fab backup.verify; {fix}")
        say(f"  backup set {candidate.label} is damaged: falling back to the older set {remaining[0].label}")
        reset()
        candidate, remaining = remaining[0], remaining[1:]


def _shortfall(conn: Conn, cfg: StackConfig, plan: RestorePlan, cleanup: str, **where) -> PgvaultError | None:
    """The error for a restore to "latest" whose recovery ended before the newest archived WAL (rows would be
    lost), naming the segment recovery could not replay; ``None`` when it got there (or for other targets)."""
    if plan.expected_end is None:
        return None
    history = remote.sql_json(conn, cfg, catalog.NEWEST_HISTORY_SQL, **where)["history"]
    return short_recovery(plan.expected_end, history_switch_lsn(history) if history else None, cleanup)


def _died(conn: Conn, cfg: StackConfig, log: str, cleanup: str) -> None:
    tail = remote.run(conn, ["tail", "-n", "60", log], user=cfg.postgres.os_user, warn=True).stdout
    raise recovery_failure(tail, log, cleanup)


def _start_scratch(conn: Conn, cfg: StackConfig, place: scratch.Scratch) -> None:
    pg = cfg.postgres
    argv = [f"{pg.bin_dir}/pg_ctl", "-D", place.data_dir, "-l", place.log, "-w", "-t", str(cfg.targets.rto_seconds),
            "-o", shlex.join(scratch.server_options(place)), "start"]
    if not remote.run(conn, argv, user=pg.os_user, warn=True).ok:
        _died(conn, cfg, place.log, f"fab restore.drop --name {place.name} removes it")


def drop(conn: Conn, cfg: StackConfig, name: str) -> None:
    """Stop and delete the scratch cluster ``name`` (only pgvault scratch directories)."""
    place = scratch.scratch_for(cfg, scratch.scratch_name(name, backup.host_now(conn)))
    owner = cfg.postgres.os_user
    if not remote.run(conn, remote.as_user(conn, owner) + ["test", "-f", place.config], warn=True).ok:
        raise UsageError(f"no pgvault scratch cluster {name!r} in {cfg.postgres.scratch_dir}",
                         "fab restore.list shows the scratch clusters")
    remote.run(conn, [f"{cfg.postgres.bin_dir}/pg_ctl", "-D", place.data_dir, "-m", "fast", "-w", "stop"],
               user=owner, warn=True)
    remote.run(conn, remote.as_user(conn, owner) + ["rm", "-rf", "--", place.root])


def list_scratch(conn: Conn, cfg: StackConfig) -> list[dict]:
    """The scratch clusters on the host: name, port (from their config), how to connect, whether they run."""
    owner = cfg.postgres.os_user
    found = remote.run(conn, remote.as_user(conn, owner) + ["find", cfg.postgres.scratch_dir, "-mindepth", "2",
                                                             "-maxdepth", "2", "-name", scratch.MARKER], warn=True)
    out = []
    for path in sorted(found.stdout.split()):
        root = path.rsplit("/", 1)[0]
        text = remote.run(conn, ["cat", path], user=owner).stdout
        port = next((int(line.split("=")[1]) for line in text.splitlines() if line.startswith("port =")), 0)
        running = remote.run(conn, ["test", "-f", f"{root}/data/postmaster.pid"], user=owner, warn=True).ok
        place = scratch.Scratch(root.rsplit("/", 1)[1], root, port)
        out.append({"name": place.name, "port": port, "socket_dir": root, "data_dir": place.data_dir,
                    "running": running, **scratch.connection(cfg, place)})
    return out


def in_place(conn: Conn, cfg: StackConfig, target: Target, say: Callable[[str], None],
             set_label: str | None = None, full_backup: bool = True) -> dict:
    """Replace the production cluster with ``target`` (after a disaster); needs ``--force`` upstream.

    The cluster comes back on a new timeline: a checkpoint follows at once
    (``archive_timeout`` does not switch segments until one has run), then,
    unless ``full_backup`` is off, a full backup, so the next restore starts
    on the new timeline.

    :raises PgvaultError: before anything changes when pgBackRest is stopped on
        the host (the fence of an old primary: the stack file still names it)
    """
    if service.pgbackrest_stopped(conn, cfg):
        name = cfg.hosts[0].name
        raise PgvaultError(f"{name} is fenced (pgBackRest stopped there): an in-place restore would make the old "
                           "primary production again beside the new one",
                           f"swap the roles in {cfg.file} to name the new primary (the failover or disaster recovery "
                           f"runbook); only if {name} really is to be production, lift its fence first "
                           f"(pgbackrest start there)", ExitCode.REFUSED)
    plan = prepare(conn, cfg, target, say, set_label, in_place=True)
    if service.is_running(conn, cfg):
        say("  stopping PostgreSQL")
        service.control(conn, cfg, "stop")
    service.ensure_dirs(conn, cfg)  # a promoted staging host, a new machine: its cluster never ran there
    remote.ensure_dir(conn, DesiredDir(cfg.postgres.data_dir, cfg.postgres.os_user, 0o700))
    started = time.monotonic()
    chosen, damaged = _restore_from(
        conn, cfg, plan,
        lambda candidate: ["--delta", f"--set={candidate.label}", "--log-level-console=detail",
                           *target.pgbackrest_options(), *standby.own_address_options(cfg)],
        say, lambda: None, None, "PostgreSQL is stopped; fix the cause and run the restore again")
    say("  starting PostgreSQL")
    service.control(conn, cfg, "start")
    reached = wait_promoted(conn, cfg, cfg.postgres.data_dir, cfg.postgres.log_file or f"{cfg.postgres.data_dir}/log",
                            "fix the cause and run the restore again")
    followed = position(plan.expected_end)[0] if plan.expected_end else None
    short = _shortfall(conn, cfg, plan, "PostgreSQL was stopped before it archives more of the short copy; "
                       f"repair the archive (fab repo.history), then restore again with --target-timeline {followed}")
    if short:
        service.control(conn, cfg, "stop")
        raise short
    remote.sql(conn, cfg, "CHECKPOINT;")
    new_full = None
    if full_backup:
        say("  taking a full backup on the new timeline")
        try:
            new_full = backup.run_backup(conn, cfg, "full", say).label
        except PgvaultError as exc:  # the restore itself succeeded: say so, and what is still to do
            say(f"  warning: the full backup on the new timeline failed: {exc.one_line()}; run fab host.setup, "
                "then fab backup.full")
    else:
        say("  no full backup taken (--no-backup): take one soon with fab backup.full")
    return {"host": conn.host, "port": cfg.postgres.port, "data_dir": cfg.postgres.data_dir,
            "backup_set": chosen.label, "damaged_sets": damaged, "target": target.describe(),
            "recovered_to": reached.get("last_replay"), "new_full": new_full,
            "seconds": {"total": round(time.monotonic() - started, 1)}}



# ---------------------------------------------------------------- the staging host's own cluster


def to_staging(conn: Conn, entry: HostConfig, cfg: StackConfig, target: Target, say: Callable[[str], None],
               set_label: str | None = None, replace: bool = False, source: Source | None = None) -> dict:
    """Restore ``target`` as the staging host's own cluster (its data directory, port and address), start it.

    Like a scratch restore it reads the repository with the read-only keys and never archives
    (``--archive-mode=off``, ``archive_command`` empty on the command line and in its configuration).

    :param replace: stop and replace a staging cluster already there (refused without it, before anything
        changes)
    :raises UsageError: on a host that is not the staging host
    """
    place = scratch.staging_cluster(cfg)
    owner = cfg.postgres.os_user
    occupied = ["sh", "-c", 'test -e "$1" && test -n "$(ls -A "$1")"', "sh", place.data_dir]
    if remote.run(conn, occupied, user=owner, warn=True).ok and not replace:
        raise PgvaultError(f"staging host {entry.name} already has a cluster in {place.data_dir} (port "
                           f"{place.port})", "add --replace to stop it and restore over it", ExitCode.REFUSED)
    plan = prepare(conn, cfg, target, say, set_label, source=source)
    if replace:
        say(f"  stopping and replacing the staging cluster on {entry.name} ({place.data_dir})")
        remote.run(conn, [f"{cfg.postgres.bin_dir}/pg_ctl", "-D", place.data_dir, "-m", "fast", "-w", "stop"],
                   user=owner, warn=True)
        for folder in (place.data_dir, place.root):  # emptied, not removed: their parents may be root's
            remote.run(conn, ["find", folder, "-mindepth", "1", "-delete"], user=owner, warn=True)
    for folder in (place.root, place.data_dir, place.tablespaces, place.pgbackrest_root, place.socket_dir,
                   *place.pgbackrest_dirs.values()):
        remote.ensure_dir(conn, DesiredDir(folder, owner, 0o700 if folder != place.socket_dir else 0o755))
    _write_staging_files(conn, cfg, place, plan.backup_set.label)
    started = time.monotonic()
    config_path, read_only = read_only_config(conn, cfg)

    options, reset = _restore_steps(conn, owner, place, target)

    kept = f"the staging cluster's folder {place.data_dir} is left for inspection; --replace restores over it"
    chosen, damaged = _restore_from(conn, cfg, plan, options, say, reset, config_path, kept)
    if damaged:
        _write_staging_files(conn, cfg, place, chosen.label)
    fetched = time.monotonic()
    say(f"  starting the staging cluster on {entry.name} port {place.port} (replaying WAL to {target.describe()})")
    argv = [f"{cfg.postgres.bin_dir}/pg_ctl", "-D", place.data_dir, "-l", place.log, "-w", "-t",
            str(cfg.targets.rto_seconds), "-o", shlex.join(scratch.staging_server_options(place)), "start"]
    if not remote.run(conn, argv, user=owner, warn=True).ok:
        _died(conn, cfg, place.log, kept)
    reached = wait_promoted(conn, cfg, place.data_dir, place.log, kept, port=place.port, socket_dir=place.socket_dir)
    short = _shortfall(conn, cfg, plan, kept, port=place.port, socket_dir=place.socket_dir)
    if short:
        say(f"  warning: {short.message}")
    ready = time.monotonic()
    return {
        "host_name": entry.name, "staging": True,
        **scratch.staging_connection(cfg, place),
        "port": place.port, "socket_dir": place.socket_dir, "os_user": owner, "data_dir": place.data_dir,
        "name": place.name, "backup_set": chosen.label, "damaged_sets": damaged, "target": target.describe(),
        "read_only_credentials": read_only, "recovered_to": reached.get("last_replay"),
        "in_recovery": reached.get("in_recovery"), "short_recovery": short.message if short else None,
        "seconds": {"fetch": round(fetched - started, 1), "replay_and_start": round(ready - fetched, 1),
                    "total": round(ready - started, 1)},
    }


def _write_staging_files(conn: Conn, cfg: StackConfig, place: scratch.StagingCluster, label: str) -> None:
    """The staging cluster's configuration, HBA and ident files (beside its data directory)."""
    owner = cfg.postgres.os_user
    banner = render.banner(cfg, "fab restore.full --as-staging --replace restores it again")
    files = {place.config: scratch.staging_config_lines(place, label, banner),
             place.hba: scratch.staging_hba_lines(banner, owner, cfg.is_sandbox),
             f"{place.root}/pg_ident.conf": banner + "\n"}
    for path, text in files.items():
        remote.put_file(conn, DesiredFile(path, text, owner, 0o600))
