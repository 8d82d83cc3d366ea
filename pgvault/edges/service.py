"""Start, stop and restart the production PostgreSQL the way its host does; tell whether pgBackRest is stopped.

``postgres.control`` says how: ``pg_ctlcluster`` (Debian without systemd),
``systemd``, or plain ``pg_ctl`` (the sandbox).  Reloads never need this:
``SELECT pg_reload_conf()`` works everywhere.  A host whose pgBackRest is
stopped (``pgbackrest stop``: the fence of an old primary) must not become
production by accident: the standby build and the in-place restore ask
:func:`pgbackrest_stopped` before they change anything.
"""

from __future__ import annotations

from pgvault.core import pgbackrest
from pgvault.core.plan import DesiredDir
from pgvault.core.schema import StackConfig
from pgvault.edges import remote
from pgvault.edges.execute import Conn


def control(conn: Conn, cfg: StackConfig, action: str) -> None:
    """Run ``action`` (start, stop, restart) on the stack's cluster, waiting for it."""
    pg = cfg.postgres
    if pg.control == "pg_ctl":
        argv = [f"{pg.bin_dir}/pg_ctl", "-D", pg.data_dir, "-w", "-t", "300"]
        if action != "stop":
            argv += ["-l", pg.log_file]
        if action != "start":
            argv += ["-m", "fast"]
        remote.run(conn, argv + [action], user=pg.os_user)
    elif pg.control == "pg_ctlcluster":
        remote.run(conn, remote.as_root(conn) + ["pg_ctlcluster", str(pg.version), pg.cluster, action])
    else:
        remote.run(conn, remote.as_root(conn) + ["systemctl", action, f"postgresql@{pg.version}-{pg.cluster}"])


def is_running(conn: Conn, cfg: StackConfig) -> bool:
    """True when the cluster accepts connections on its socket."""
    pg = cfg.postgres
    argv = [f"{pg.bin_dir}/pg_isready", "-q", "-h", pg.socket_dir, "-p", str(pg.port)]
    return remote.run(conn, argv, warn=True).ok


def ensure_dirs(conn: Conn, cfg: StackConfig) -> None:
    """The folders a start needs on a host whose cluster never ran there (a standby built, a staging host
    promoted): the socket folder and, under ``pg_ctl``, the server log's, which it writes as the OS user."""
    pg = cfg.postgres
    if not remote.run(conn, ["test", "-d", pg.socket_dir], warn=True).ok:
        remote.ensure_dir(conn, DesiredDir(pg.socket_dir, pg.os_user, 0o755))
    if pg.control == "pg_ctl" and pg.log_file:
        remote.ensure_dir(conn, DesiredDir(pg.log_file.rsplit("/", 1)[0], pg.os_user, 0o755))


def pgbackrest_stopped(conn: Conn, cfg: StackConfig) -> bool:
    """True when pgBackRest is stopped on the host, for the stanza or for all (:func:`pgbackrest.stop_files`)."""
    first, *rest = pgbackrest.stop_files(cfg)
    argv = ["test", "-e", first] + [word for path in rest for word in ("-o", "-e", path)]
    return remote.run(conn, argv, warn=True).ok
