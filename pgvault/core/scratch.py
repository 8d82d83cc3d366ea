"""Scratch clusters, as pure data: where they live, how they start, which port.

A restore that does not replace production lands in a scratch cluster:
``<scratch_dir>/<name>/`` holds the data directory, tablespaces, a socket, a
log and the configuration below.  The scratch configuration includes the
restored ``postgresql.conf`` when there is one, then overrides everything
that could reach production: no TCP at all, only a Unix socket in its own
folder (so it can keep production's port number: its address is
``host=<scratch_dir>/<name> port=<port>``, known from its name alone, which
makes runbook commands pasteable; :func:`connection` is the one place that
spells it, so no output ever pairs a TCP host with that port, which would be
production's), ``archive_mode = off`` and an empty
``archive_command`` (never archive into the production repository), its own
HBA file.  The same overrides are passed on the command line, where they
beat ``postgresql.auto.conf`` too.

pgBackRest, too, works in the scratch folder: the restore and the scratch
cluster's ``archive-get`` get their own spool, lock and log folders
(``pgbackrest_options``), so they never empty production's async-archive
spool, wait on production's locks or write into its logs.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime

from pgvault.core.errors import UsageError
from pgvault.core.schema import StackConfig

MARKER = "pgvault-scratch.conf"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class Scratch:
    """The paths and port of one scratch cluster."""

    name: str
    root: str
    port: int

    @property
    def data_dir(self) -> str:
        """The restored data directory."""
        return f"{self.root}/data"

    @property
    def tablespaces(self) -> str:
        """Where the backup's tablespaces are mapped (never production's)."""
        return f"{self.root}/tablespaces"

    @property
    def config(self) -> str:
        """The scratch configuration file, which also marks the folder as pgvault's."""
        return f"{self.root}/{MARKER}"

    @property
    def hba(self) -> str:
        """The scratch cluster's own HBA file (socket only)."""
        return f"{self.root}/pg_hba.conf"

    @property
    def log(self) -> str:
        """The server log of the scratch cluster."""
        return f"{self.root}/postgresql.log"

    @property
    def pgbackrest_root(self) -> str:
        """The folder holding pgBackRest's own folders for this scratch cluster."""
        return f"{self.root}/pgbackrest"

    @property
    def pgbackrest_dirs(self) -> dict[str, str]:
        """pgBackRest's spool, lock and log folders of this scratch cluster (option name -> path)."""
        return {option: f"{self.pgbackrest_root}/{folder}"
                for option, folder in (("spool-path", "spool"), ("lock-path", "lock"), ("log-path", "log"))}


def pgbackrest_options(scratch: Scratch) -> list[str]:
    """Options that keep a scratch restore, and the ``archive-get`` it writes into its
    ``restore_command``, out of production's spool, lock and log folders."""
    return [f"--{option}={path}" for option, path in scratch.pgbackrest_dirs.items()]


def scratch_name(name: str | None, now: datetime) -> str:
    """The scratch cluster's name: given, or ``restore-<UTC timestamp>``.

    :raises UsageError: for a name with other than lowercase letters, digits, '-' and '_'
    """
    if name is None:
        return "restore-" + now.strftime("%Y%m%d-%H%M%S")
    if not _NAME.match(name):
        raise UsageError(f"scratch name {name!r} is not valid", "use lowercase letters, digits, '-' and '_' (max 40)")
    return name


def scratch_for(cfg: StackConfig, name: str) -> Scratch:
    """The scratch cluster ``name`` of this stack (production's port, its own socket folder)."""
    return Scratch(name, f"{cfg.postgres.scratch_dir}/{name}", cfg.postgres.port)


def _conninfo_value(value: str) -> str:
    """``value`` as a libpq conninfo value: single-quoted (backslash escapes) when it is empty or has a space,
    a quote or a backslash."""
    if value and not re.search(r"[\s'\\]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def connection(cfg: StackConfig, scratch: Scratch, database: str | None = None) -> dict[str, str]:
    """How to reach the scratch cluster, and only it, from the DB host as the PostgreSQL OS user.

    ``dsn`` is a libpq conninfo whose ``host`` is the scratch cluster's own
    socket folder (a stopped or dropped cluster makes it fail, never fall
    through to production); ``psql`` is the same as a ready-to-paste line.

    :param database: the database to connect to (default: the stack's first one)
    """
    parts = {"host": scratch.root, "port": str(scratch.port), "dbname": database or cfg.postgres.databases[0]}
    dsn = " ".join(f"{key}={_conninfo_value(value)}" for key, value in parts.items())
    return {"dsn": dsn, "psql": shlex.join([f"{cfg.postgres.bin_dir}/psql", "-X", dsn])}


def server_options(scratch: Scratch) -> list[str]:
    """``postgres`` options for ``pg_ctl -o``: they override every config file (Unix socket only)."""
    return _never_archiving(scratch.config, scratch.port, "", scratch.root)


def _never_archiving(config: str, port: int, listen: str, socket_dir: str) -> list[str]:
    """``pg_ctl -o`` options of a restored cluster: its config file, port and addresses, and no archiving."""
    return ["-c", f"config_file={config}", "-p", str(port), "-c", f"listen_addresses={listen}",
            "-c", f"unix_socket_directories={socket_dir}", "-c", "archive_mode=off", "-c", "archive_command="]


def config_lines(scratch: Scratch, label: str, banner: str) -> str:
    """The scratch cluster's configuration file."""
    return "\n".join([
        banner,
        f"# Scratch cluster {scratch.name}, restored from backup set {label}. It never archives.",
        f"include_if_exists = '{scratch.data_dir}/postgresql.conf'",
        f"data_directory = '{scratch.data_dir}'",
        f"hba_file = '{scratch.hba}'",
        f"ident_file = '{scratch.root}/pg_ident.conf'",
        f"port = {scratch.port}",
        "listen_addresses = ''",
        f"unix_socket_directories = '{scratch.root}'",
        "archive_mode = off",
        "archive_command = ''",
        "hot_standby = off",
        "external_pid_file = ''",
        f"cluster_name = 'pgvault-{scratch.name}'",
        "logging_collector = off",
        "",
    ])


def hba_lines(banner: str, os_user: str) -> str:
    """Who may connect to a scratch cluster (socket only): the OS user by peer, others with a password."""
    return "\n".join([
        banner,
        f"local   all  {os_user}  peer",
        "local   all  all  scram-sha-256",
        "",
    ])


# ---------------------------------------------------------------- the staging host's own cluster


@dataclass(frozen=True)
class StagingCluster(Scratch):
    """The staging host's own cluster, restored for the CRM's staging app: its configured data directory, socket
    folder and port, TCP on the host's own address only; pgvault's files for it beside the data directory."""

    data: str = ""
    socket_dir: str = ""
    listen: str = ""

    @property
    def data_dir(self) -> str:
        """The staging host's configured data directory."""
        return self.data


def staging_cluster(cfg: StackConfig) -> StagingCluster:
    """The staging cluster of ``cfg.hosts[0]`` (a staging host's view of the stack).

    :raises UsageError: on any other host: only a staging host's data directory may be replaced this way
    """
    host, pg = cfg.hosts[0], cfg.postgres
    if host.role != "staging":
        raise UsageError(f"host {host.name} is the {host.role}, not a staging host: --as-staging would replace its "
                         "data directory", "give --host the staging host, or leave out --as-staging")
    root = pg.data_dir.rstrip("/").rsplit("/", 1)[0] + "/pgvault-staging"
    return StagingCluster("staging", root, pg.port, pg.data_dir, pg.socket_dir, host.address)


def staging_server_options(place: StagingCluster) -> list[str]:
    """``postgres`` options for ``pg_ctl -o`` of the staging cluster: its port and address, never archiving."""
    return _never_archiving(place.config, place.port, place.listen, place.socket_dir)


def staging_config_lines(place: StagingCluster, label: str, banner: str) -> str:
    """The staging cluster's configuration file (the restored ``postgresql.conf``, then what makes it staging's)."""
    return "\n".join([
        banner,
        f"# The staging cluster, restored from backup set {label}: its own port and address. It never archives.",
        f"include_if_exists = '{place.data_dir}/postgresql.conf'",
        f"data_directory = '{place.data_dir}'",
        f"hba_file = '{place.hba}'",
        f"ident_file = '{place.root}/pg_ident.conf'",
        f"port = {place.port}",
        f"listen_addresses = '{place.listen}'",
        f"unix_socket_directories = '{place.socket_dir}'",
        "archive_mode = off",
        "archive_command = ''",
        "external_pid_file = ''",
        "cluster_name = 'pgvault-staging'",
        "logging_collector = off",
        "",
    ])


def staging_hba_lines(banner: str, os_user: str, sandbox: bool) -> str:
    """Who may connect to the staging cluster: the OS user by peer, others with a password over the socket or
    TCP from this machine (``samehost``; the sandbox) or its network (``samenet``)."""
    return "\n".join([
        banner,
        f"local   all  {os_user}  peer",
        "local   all  all  scram-sha-256",
        f"host    all  all  {'samehost' if sandbox else 'samenet'}  scram-sha-256",
        "",
    ])


def staging_connection(cfg: StackConfig, place: StagingCluster, database: str | None = None) -> dict[str, str]:
    """How to reach the staging cluster: its socket on the staging host, and its TCP address for the app,
    always named with the staging host (never a bare address that could be production's)."""
    db = database or cfg.postgres.databases[0]
    parts = {"host": place.socket_dir, "port": str(place.port), "dbname": db}
    dsn = " ".join(f"{key}={_conninfo_value(value)}" for key, value in parts.items())
    return {"dsn": dsn, "psql": shlex.join([f"{cfg.postgres.bin_dir}/psql", "-X", dsn]),
            "app_address": f"{place.listen}:{place.port}", "app_host": cfg.hosts[0].name}
