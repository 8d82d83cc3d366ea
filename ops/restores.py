"""EDGE glue for restores: into a scratch cluster beside production, or in place.

Order of work, so that bad input changes nothing: read the repository and the
primary, validate the target against the recoverable window, choose the
backup set, check the destination; only then create directories and run
``pgbackrest restore``.  A scratch restore never archives (``--archive-mode=off``
plus overrides in its configuration) and never touches the production data
directory; an in-place restore needs ``--force``.
"""

from __future__ import annotations

import shlex
import time
from typing import Callable, Optional


from ops import backups, bucket, catalog, pgbackrest, remote, render, scratch, secrets, service, walarchive
from ops.cloud import s3_client
from ops.execute import Conn
from ops.errors import ExitCode, PgvaultError, UsageError
from ops.plan import DesiredDir, DesiredFile
from ops.schema import HostConfig, StackConfig
from ops.targets import Target, choose_set, parse_lsn, validate
from ops.waiting import within


def prepare(conn: Conn, cfg: StackConfig, target: Target, say: Callable[[str], None]):
    """Validate ``target`` against the repository and the primary; return the backup set to use.

    :raises UsageError: for a target outside the window, naming the window
    """
    stanza = backups.info(conn, cfg)
    state = backups.primary_state(conn, cfg)
    win = backups.recoverable_window(stanza, state)
    valid = stanza.valid_backups
    oldest_lsn = parse_lsn(valid[0].lsn_stop) if valid and valid[0].lsn_stop else None
    current_lsn = parse_lsn(state["lsn"]) if state else None
    validate(target, win, backups.host_now(conn), current_lsn, oldest_lsn)
    point_lsn = None
    if target.kind == "xid" and state and int(target.value) >= int(state["next_xid"]):
        raise UsageError(f"target xid {target.value} has not been assigned yet (next is {state['next_xid']})",
                         "choose an xid of a committed transaction")
    if target.kind == "name" and state:
        row = remote.sql_json(conn, cfg, catalog.restore_point_sql(target.value))
        if row:
            point_lsn = parse_lsn(row["lsn"])
        else:
            say(f"  restore point {target.value!r} is not in pgvault's registry: replaying from the oldest set")
    chosen = choose_set(target, stanza.backups, point_lsn)
    _refuse_gaps(cfg, target, chosen, say)
    say(f"  backup set {chosen.label} ({chosen.type}, ended {chosen.stop.isoformat(sep=' ', timespec='seconds')}); "
        f"window {win.describe()}")
    return chosen, win


def _refuse_gaps(cfg: StackConfig, target: Target, chosen, say: Callable[[str], None]) -> None:
    """Refuse a target past a hole in the archived WAL (PostgreSQL would stop at the hole, short of it)."""
    gap = walarchive.crossing(target, chosen, walarchive.gaps(bucket.archive_segments(s3_client(cfg), cfg)))
    if gap is None:
        return
    until = gap.last_before_at.isoformat(sep=" ", timespec="seconds") if gap.last_before_at else "the gap"
    what = f"WAL segment(s) {gap.missing} are missing from the archive: recovery from {chosen.label} stops about {until}"
    if target.kind in ("latest", "name", "xid"):
        say(f"  warning: {what}")
        return
    raise UsageError(f"{what}, before target {target.describe()}",
                     "choose a target before the gap, or restore a backup set taken after it; run fab backup.verify")


def _require_empty(conn: Conn, cfg: StackConfig, path: str, name: str) -> None:
    empty = ["sh", "-c", 'test ! -e "$1" || test -z "$(ls -A "$1")"', "sh", path]
    if not remote.run(conn, empty, user=cfg.postgres.os_user, warn=True).ok:
        raise UsageError(f"scratch directory {path} exists and is not empty",
                         f"choose another --name, or remove it with fab restore.drop --name {name}")


def read_only_config(conn: Conn, cfg: StackConfig) -> tuple[str, bool]:
    """The pgBackRest configuration restores use: the read-only one when host.setup wrote it."""
    path = pgbackrest.restore_config_path(cfg)
    present = remote.run(conn, ["test", "-f", secrets.restore_secrets_file(cfg)], user=cfg.postgres.os_user,
                         warn=True).ok
    return (path, True) if present else (cfg.pgbackrest.config_path, False)


def to_scratch(conn: Conn, entry: HostConfig, cfg: StackConfig, target: Target, name: Optional[str],
               say: Callable[[str], None]) -> dict:
    """Restore ``target`` into a new scratch cluster, start it, and describe it."""
    chosen, _ = prepare(conn, cfg, target, say)
    place = scratch.scratch_for(cfg, scratch.scratch_name(name, backups.host_now(conn)))
    _require_empty(conn, cfg, place.root, place.name)
    owner = cfg.postgres.os_user
    for folder in (place.root, place.data_dir, place.tablespaces):
        remote.ensure_dir(conn, DesiredDir(folder, owner, 0o700))
    banner = render.banner(cfg, "fab restore.drop to remove this scratch cluster")
    files = {place.config: scratch.config_lines(place, chosen.label, banner), place.hba: scratch.hba_lines(banner, owner),
             f"{place.root}/pg_ident.conf": banner + "\n"}
    for path, text in files.items():
        remote.put_file(conn, DesiredFile(path, text, owner, 0o600))
    started = time.monotonic()
    options = [f"--pg1-path={place.data_dir}", f"--set={chosen.label}", "--archive-mode=off",
               f"--tablespace-map-all={place.tablespaces}", "--log-level-console=detail",
               *target.pgbackrest_options()]
    config_path, read_only = read_only_config(conn, cfg)
    ok, output = backups.stream_pgbackrest(conn, cfg, pgbackrest.command(cfg, "restore", *options,
                                                                         config_path=config_path), "restore", say)
    if not ok:
        raise backups.failure(output, f"the scratch directory {place.root} is left for inspection; "
                                      f"fab restore.drop --name {place.name} removes it")
    fetched = time.monotonic()
    say(f"  starting scratch cluster {place.name} on {place.root} port {place.port} (replaying WAL to "
        f"{target.describe()})")
    _start_scratch(conn, cfg, place)
    reached = wait_promoted(conn, cfg, place.data_dir, place.log, f"fab restore.drop --name {place.name} removes it",
                            port=place.port, socket_dir=place.root)
    ready = time.monotonic()
    return {
        "host": entry.address,
        "host_name": entry.name,
        "port": place.port,
        "socket_dir": place.root,
        "data_dir": place.data_dir,
        "name": place.name,
        "backup_set": chosen.label,
        "target": target.describe(),
        "read_only_credentials": read_only,
        "recovered_to": reached.get("last_replay"),
        "in_recovery": reached.get("in_recovery"),
        "seconds": {"fetch": round(fetched - started, 1), "replay_and_start": round(ready - fetched, 1),
                    "total": round(ready - started, 1)},
    }


#: what a restored cluster says about itself once it accepts connections
RECOVERED_SQL = (
    "SELECT json_build_object('in_recovery', pg_is_in_recovery(), "
    "'last_replay', pg_last_xact_replay_timestamp(), 'lsn', pg_current_wal_lsn()::text);"
)


#: PostgreSQL's words when the archive ends before a commit past the target -> what it means
_NOT_REACHED = "recovery ended before configured recovery target was reached"


def wait_promoted(conn: Conn, cfg: StackConfig, data_dir: str, log: str, cleanup: str, **where) -> dict:
    """Wait until a restored cluster leaves recovery; fail at once, with PostgreSQL's reason, if it dies.

    :raises PgvaultError: when it stopped (e.g. the target is beyond the archived WAL) or the RTO target passed
    """
    def probe() -> Optional[dict]:
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


def _died(conn: Conn, cfg: StackConfig, log: str, cleanup: str) -> None:
    tail = remote.run(conn, ["tail", "-n", "60", log], user=cfg.postgres.os_user, warn=True).stdout
    fatal = [line for line in tail.splitlines() if "FATAL" in line or "PANIC" in line]
    reason = fatal[-1].split("FATAL:")[-1].strip() if fatal else "see its log"
    fix = f"read {log}; {cleanup}"
    if _NOT_REACHED in reason:
        fix = ("the archived WAL holds no commit after the target yet: choose an earlier target, or wait for the "
               f"next WAL segment to be archived; {cleanup}")
    raise PgvaultError(f"the restored cluster stopped during recovery: {reason}", fix, ExitCode.FAILED)


def _start_scratch(conn: Conn, cfg: StackConfig, place: scratch.Scratch) -> None:
    pg = cfg.postgres
    argv = [f"{pg.bin_dir}/pg_ctl", "-D", place.data_dir, "-l", place.log, "-w", "-t", str(cfg.targets.rto_seconds),
            "-o", shlex.join(scratch.server_options(place)), "start"]
    if not remote.run(conn, argv, user=pg.os_user, warn=True).ok:
        _died(conn, cfg, place.log, f"fab restore.drop --name {place.name} removes it")


def drop(conn: Conn, cfg: StackConfig, name: str) -> None:
    """Stop and delete the scratch cluster ``name`` (only pgvault scratch directories)."""
    place = scratch.scratch_for(cfg, scratch.scratch_name(name, backups.host_now(conn)))
    owner = cfg.postgres.os_user
    if not remote.run(conn, remote.as_user(conn, owner) + ["test", "-f", place.config], warn=True).ok:
        raise UsageError(f"no pgvault scratch cluster {name!r} in {cfg.postgres.scratch_dir}",
                         "fab restore.list shows the scratch clusters")
    remote.run(conn, [f"{cfg.postgres.bin_dir}/pg_ctl", "-D", place.data_dir, "-m", "fast", "-w", "stop"],
               user=owner, warn=True)
    remote.run(conn, remote.as_user(conn, owner) + ["rm", "-rf", "--", place.root])


def list_scratch(conn: Conn, cfg: StackConfig) -> list[dict]:
    """The scratch clusters on the host: name, port (from their config) and whether they run."""
    owner = cfg.postgres.os_user
    found = remote.run(conn, remote.as_user(conn, owner) + ["find", cfg.postgres.scratch_dir, "-mindepth", "2",
                                                             "-maxdepth", "2", "-name", scratch.MARKER], warn=True)
    out = []
    for path in sorted(found.stdout.split()):
        root = path.rsplit("/", 1)[0]
        text = remote.run(conn, ["cat", path], user=owner).stdout
        port = next((int(line.split("=")[1]) for line in text.splitlines() if line.startswith("port =")), 0)
        running = remote.run(conn, ["test", "-f", f"{root}/data/postmaster.pid"], user=owner, warn=True).ok
        out.append({"name": root.rsplit("/", 1)[1], "port": port, "data_dir": f"{root}/data", "running": running})
    return out


def in_place(conn: Conn, cfg: StackConfig, target: Target, say: Callable[[str], None]) -> dict:
    """Replace the production cluster with ``target`` (after a disaster); needs ``--force`` upstream."""
    chosen, _ = prepare(conn, cfg, target, say)
    if service.is_running(conn, cfg):
        say("  stopping PostgreSQL")
        service.control(conn, cfg, "stop")
    remote.ensure_dir(conn, DesiredDir(cfg.postgres.data_dir, cfg.postgres.os_user, 0o700))
    options = ["--delta", f"--set={chosen.label}", "--log-level-console=detail", *target.pgbackrest_options()]
    started = time.monotonic()
    ok, output = backups.stream_pgbackrest(conn, cfg, pgbackrest.command(cfg, "restore", *options), "restore", say)
    if not ok:
        raise backups.failure(output, "PostgreSQL is stopped; fix the cause and run the restore again")
    say("  starting PostgreSQL")
    service.control(conn, cfg, "start")
    reached = wait_promoted(conn, cfg, cfg.postgres.data_dir, cfg.postgres.log_file or f"{cfg.postgres.data_dir}/log",
                            "fix the cause and run the restore again")
    return {"host": conn.host, "port": cfg.postgres.port, "data_dir": cfg.postgres.data_dir,
            "backup_set": chosen.label, "target": target.describe(), "recovered_to": reached.get("last_replay"),
            "seconds": {"total": round(time.monotonic() - started, 1)}}

