"""The standby on the control side: build it from the repository, promote it, fence the old primary.

What is decided is pure (``pgvault.core.standby``); this module reaches the two hosts over SSH and does it.
A standby is built once (``fab host.standby``), then kept by ``host.setup`` like any host; after a failover
the fenced old primary is rebuilt the same way (``--force``) and its fence lifted once it streams.  Failover
(``fab host.promote``) fences the old primary first (PostgreSQL stopped, ``pgbackrest stop``: pgBackRest
refuses archive-push and backup on that host while its stop file exists), waits until the standby has
replayed everything the old primary wrote, promotes it and proves it archives on its new timeline.  The
stack file's roles are then swapped by the operator: pgvault never edits it.
"""

from __future__ import annotations

from ops import ssh
from pgvault.actions import backup
from pgvault.core import pgbackrest, standby
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.plan import DesiredDir
from pgvault.core.schema import StackConfig
from pgvault.core.wal import parse_lsn
from pgvault.edges import remote, service
from pgvault.edges.execute import Conn
from pgvault.edges.waiting import within


def role_state(conn: Conn, cfg: StackConfig) -> dict | None:
    """Recovery, timeline, replay position and streaming of the host's PostgreSQL; ``None`` when it is down."""
    if not service.is_running(conn, cfg):
        return None
    try:
        return remote.sql_json(conn, cfg, standby.ROLE_STATE_SQL)
    except remote.RemoteError:
        return None


def fence(conn: Conn, cfg: StackConfig, say, dry_run: bool = False) -> list[str]:
    """Stop the host's PostgreSQL (fast: its standby receives everything first) and pgBackRest (``stop``).

    :returns: the steps taken (or that would be)
    """
    steps = []
    if service.is_running(conn, cfg):
        steps.append(f"stop PostgreSQL on {cfg.hosts[0].name}")
        if not dry_run:
            service.control(conn, cfg, "stop")
    if not service.pgbackrest_stopped(conn, cfg):
        steps.append(f"pgbackrest stop on {cfg.hosts[0].name} (archive-push and backup refused there)")
        if not dry_run:
            remote.run(conn, pgbackrest.command(cfg, "stop"), user=cfg.postgres.os_user)
    for step in steps:
        say(f"  {'would ' if dry_run else ''}{step}")
    return steps


def unfence(conn: Conn, cfg: StackConfig, say, dry_run: bool = False) -> bool:
    """Lift the fence (``pgbackrest start``) on a host that now runs as a streaming standby; True if lifted.

    Only :func:`build` calls it, once the host is proved in recovery and streaming: a standby archives
    nothing, and the fence would refuse the pgBackRest remote a backup from the standby starts there.
    """
    if not service.pgbackrest_stopped(conn, cfg):
        return False
    name = cfg.hosts[0].name
    say(f"  {'would ' if dry_run else ''}pgbackrest start on {name} (lift the fence: a standby in recovery archives "
        "nothing, and backups read it again)")
    if not dry_run:
        remote.run(conn, pgbackrest.command(cfg, "start"), user=cfg.postgres.os_user)
    return True


def build(conn: Conn, view: StackConfig, primary_conn: Conn, primary: StackConfig, force: bool, dry_run: bool,
          say) -> str:
    """Build the standby ``view`` from the repository as a streaming standby of ``primary``.

    A host fenced after a failover (the old primary, rebuilt as the new standby) has its fence lifted once it
    streams.

    :returns: what changed (``"dry run"`` when something would), ``""`` for nothing
    :raises PgvaultError: before anything changes, even with ``force``, when the host runs as a primary or holds
        a newer timeline than the stack's primary, or that primary is not a running, unfenced primary
        (:func:`standby.build_refusal`); then, unless ``force``, when its data directory holds a cluster that is
        not a streaming standby; or when the restore fails
    """
    name, pg = view.hosts[0].name, view.postgres
    state = role_state(conn, view)
    exists = remote.run(conn, ["test", "-e", f"{pg.data_dir}/PG_VERSION"], warn=True).ok
    timeline = state.get("timeline") if state is not None else (_timeline(conn, view) if exists else None)
    refusal = standby.build_refusal(view, primary, state, role_state(primary_conn, primary),
                                    service.pgbackrest_stopped(primary_conn, primary), timeline)
    if refusal is not None:
        raise refusal
    if state is not None and state.get("in_recovery") and not force:
        say(f"  {name} is already a standby (streaming: {'yes' if state.get('streaming') else 'no'})")
        lifted = state.get("streaming") and unfence(conn, view, say, dry_run)
        return ("dry run" if dry_run else "fence lifted") if lifted else ""
    if exists and not force:  # only now: the refusals above keep this --force from ever naming production
        raise PgvaultError(f"{pg.data_dir} on {name} already holds a cluster that is not a standby",
                           f"move it away, or rebuild over it with fab host.standby --host {name} --force",
                           ExitCode.USAGE)
    argv = pgbackrest.command(view, "restore", *standby.restore_options(view, primary, delta=exists))
    say(f"  {'would ' if dry_run else ''}restore {name} from the repository as a standby of {primary.hosts[0].name}"
        f"{' over its data directory (--delta)' if exists else ''}")
    if dry_run:
        if service.pgbackrest_stopped(conn, view):
            say(f"  would pgbackrest start on {name} once it streams (lift the fence)")
        return "dry run"
    if state is not None:
        service.control(conn, view, "stop")
    owner = pg.os_user
    service.ensure_dirs(conn, view)
    remote.ensure_dir(conn, DesiredDir(pg.data_dir, owner, 0o700))
    result = remote.run(conn, argv, user=owner, warn=True)
    if not result.ok:
        raise pgbackrest.failure(result.stdout + result.stderr, "take a backup first (fab backup.full), then retry")
    service.control(conn, view, "start")
    if not within(120, lambda: (role_state(conn, view) or {}).get("streaming"), interval=0.5):
        raise PgvaultError(f"{name} started but does not stream from {primary.hosts[0].name}",
                           "see its PostgreSQL log (primary_conninfo, pg_hba.conf on the primary)", ExitCode.FAILED)
    say(f"  {name} streams from {primary.hosts[0].name}")
    unfence(conn, view, say)
    return "built and streaming"


def _control(conn: Conn, cfg: StackConfig) -> dict[str, str]:
    """``pg_controldata`` of the host's cluster (running or stopped); empty when there is none."""
    out = remote.run(conn, [f"{cfg.postgres.bin_dir}/pg_controldata", "-D", cfg.postgres.data_dir],
                     user=cfg.postgres.os_user, warn=True).stdout
    return standby.control_fields(out)


def _timeline(conn: Conn, cfg: StackConfig) -> int | None:
    """The timeline of the host's (stopped) cluster: its latest checkpoint's."""
    value = _control(conn, cfg).get(standby.CONTROL_TIMELINE, "")
    return int(value) if value.isdigit() else None


def _checkpoint_lsn(conn: Conn, cfg: StackConfig) -> int | None:
    """The stopped cluster's latest checkpoint (its shutdown checkpoint), from ``pg_controldata``."""
    value = _control(conn, cfg).get("Latest checkpoint location")
    return parse_lsn(value) if value else None


def promote(c, cfg: StackConfig, name: str, primary_lost: bool, dry_run: bool, say) -> dict:
    """Fence the primary, wait for the standby ``name`` to replay all it wrote, promote it, prove it archives.

    :param primary_lost: the operator says the old primary is gone (unreachable): promote without fencing it
    :returns: what happened, for ``--json``
    """
    (entry, conn, view), = ssh.connections(c, cfg, name)
    if entry.role != "standby":
        raise PgvaultError(f"host {name} is the stack's {entry.role}, not its standby",
                           "name the standby with --host", ExitCode.USAGE)
    state = role_state(conn, view)
    if state is None or not state.get("in_recovery"):
        raise PgvaultError(f"{name} is not a running standby ({'down' if state is None else 'already promoted'})",
                           "see fab host.check; swap the roles in the stack file if it was promoted", ExitCode.USAGE)
    old = cfg.primary
    fenced_at = None
    try:
        (_, old_conn, old_view), = ssh.connections(c, cfg, old.name)
    except PgvaultError:
        if not primary_lost:
            raise PgvaultError(f"cannot reach the primary {old.name} to fence it",
                               f"if it is down for good, rerun with --primary-lost and keep it from starting "
                               f"(fence it with fab host.fence --host {old.name} before it rejoins)",
                               ExitCode.UNREACHABLE) from None
        say(f"  {old.name} cannot be reached: promoting without fencing it (--primary-lost)")
    else:
        fence(old_conn, old_view, say, dry_run)
        fenced_at = None if dry_run else _checkpoint_lsn(old_conn, old_view)
    say(f"  {'would ' if dry_run else ''}promote {name}")
    if dry_run:
        return {"promoted": None, "dry_run": True}
    if fenced_at is not None:
        caught_up = within(120, lambda: parse_lsn((role_state(conn, view) or {}).get("replay_lsn") or "0/0")
                           >= fenced_at, interval=0.5)
        if not caught_up:
            raise PgvaultError(f"{name} did not replay the old primary's last checkpoint within 120 s",
                               "see the standby's log; promote only with --primary-lost if that WAL is lost",
                               ExitCode.FAILED)
    remote.sql(conn, view, "SELECT pg_promote(true, 120);")
    if not within(60, lambda: not (role_state(conn, view) or {"in_recovery": True})["in_recovery"], interval=0.5):
        raise PgvaultError(f"{name} did not leave recovery", "see its PostgreSQL log", ExitCode.FAILED)
    # the checkpoint promotion requests is a spread one (minutes under a long checkpoint_timeout); until it ends
    # pg_control keeps the old timeline and pgBackRest refuses a backup ("WAL timeline 2 does not match
    # pg_control timeline 1"), so the runbook's next backup would fail
    remote.sql(conn, view, "CHECKPOINT;")
    segment = backup.flush_wal(conn, view)
    timeline = int(segment[:8], 16)
    say(f"  {name} is the primary on timeline {timeline}; it archived {segment}")
    say(f"next: swap the roles in {cfg.file} ({name}: role primary; {old.name}: role standby, or remove it), "
        f"then fab host.setup and fab backup.full; later rebuild {old.name} as the standby: fab host.standby "
        f"--host {old.name} --force (the failover runbook)")
    return {"promoted": name, "timeline": timeline, "archived": segment, "fenced": old.name if fenced_at else None}
