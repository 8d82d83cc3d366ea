"""PostgreSQL, as pure data: the settings pgvault owns, restart-or-reload, SQL quoting.

pgvault never edits the user's ``postgresql.conf``: it owns one include file
(``<include_dir>/pgvault.conf``) with exactly the settings below (Patroni
owns ``postgresql.base.conf`` the same way).  Whether a change needs a restart
is read from ``pg_settings.context``, never guessed: a ``postmaster`` setting
needs a restart, anything else a reload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from pgvault.core.features import UNKNOWN, Features
from pgvault.core.hourly import ASSUMED_REPLAY_BYTES_PER_SECOND
from pgvault.core.pgbackrest import archive_command
from pgvault.core.policy import archive_timeout_seconds
from pgvault.core.schema import StackConfig

DOC = "https://www.postgresql.org/docs/current/runtime-config-wal.html"

#: owned setting -> anchor in the PostgreSQL manual
_DOC_ANCHORS = {
    "archive_command": "GUC-ARCHIVE-COMMAND",
    "archive_mode": "GUC-ARCHIVE-MODE",
    "archive_timeout": "GUC-ARCHIVE-TIMEOUT",
    "checkpoint_timeout": "GUC-CHECKPOINT-TIMEOUT",
    "max_wal_size": "GUC-MAX-WAL-SIZE",
    "wal_compression": "GUC-WAL-COMPRESSION",
    "wal_level": "GUC-WAL-LEVEL",
}


#: the share of the RTO target a crash recovery may take (it replays at most about ``max_wal_size`` of WAL)
CRASH_RECOVERY_SHARE = 0.25
#: the default ``max_wal_size`` is at most this (MB): ``pg_wal`` may hold that much
MAX_WAL_SIZE_CAP_MB = 4096
#: and at least this (MB): PostgreSQL wants two segments, a little more keeps checkpoints apart
MAX_WAL_SIZE_FLOOR_MB = 64


def max_wal_size_mb(cfg: StackConfig) -> int:
    """``max_wal_size`` in MB: the stack's, or what replays within :data:`CRASH_RECOVERY_SHARE` of the RTO target at
    the replay rate the hourly rule assumes before a drill measured one, within the cap and floor."""
    if cfg.postgres.max_wal_size_mb is not None:
        return cfg.postgres.max_wal_size_mb
    fits = int(cfg.targets.rto_seconds * CRASH_RECOVERY_SHARE * ASSUMED_REPLAY_BYTES_PER_SECOND) // (1024 * 1024)
    return max(MAX_WAL_SIZE_FLOOR_MB, min(MAX_WAL_SIZE_CAP_MB, fits))


@dataclass(frozen=True)
class Setting:
    """One setting of the pgvault include file, written as pg_settings shows it."""

    name: str
    value: str

    @property
    def doc(self) -> str:
        """Link to the setting in the PostgreSQL manual."""
        return f"{DOC}#{_DOC_ANCHORS[self.name]}"

    @property
    def conf_value(self) -> str:
        """The value quoted for a PostgreSQL configuration file."""
        return "'" + self.value.replace("'", "''") + "'"


def include_file(cfg: StackConfig) -> str:
    """Path of the pgvault-owned PostgreSQL include file on the host."""
    return f"{cfg.postgres.include_dir}/pgvault.conf"


def owned_settings(cfg: StackConfig, features: Features = UNKNOWN) -> list[Setting]:
    """The settings pgvault owns, sorted by name, with values as ``pg_settings.setting`` shows them.

    :param features: the host's PostgreSQL: ``wal_compression`` is the best method it offers (it writes a
        fraction of the WAL that full-page images take, and WAL is most of what the archive stores)

    ``checkpoint_timeout`` (``postgres.checkpoint_timeout_seconds``, unless ``None``) spaces the checkpoints
    after which full-page images are written again; ``max_wal_size`` (:func:`max_wal_size_mb`) bounds the WAL a
    crash recovery replays.
    """
    values = {
        "archive_mode": "on",
        "archive_command": archive_command(cfg),
        "archive_timeout": str(archive_timeout_seconds(cfg.targets)),
        "wal_compression": features.wal_compression,
        "wal_level": "replica",
        "max_wal_size": str(max_wal_size_mb(cfg)),
    }
    if cfg.postgres.checkpoint_timeout_seconds is not None:
        values["checkpoint_timeout"] = str(cfg.postgres.checkpoint_timeout_seconds)
    return [Setting(k, v) for k, v in sorted(values.items())]


@dataclass(frozen=True)
class LiveSetting:
    """A row of ``pg_settings`` for one owned setting."""

    name: str
    setting: str
    context: str
    pending_restart: bool


def server_action(desired: list[Setting], live: Mapping[str, LiveSetting]) -> str | None:
    """Decide what the server needs once the include file is in place.

    :param desired: :func:`owned_settings`
    :param live: ``pg_settings`` rows by name, read before the change
    :returns: ``"restart"`` if a ``postmaster``-context setting differs or is
        pending a restart, ``"reload"`` if another setting differs, else ``None``
    """
    action = None
    for want in desired:
        row = live.get(want.name)
        if row is None:
            continue
        if row.pending_restart or (row.setting != want.value and row.context == "postmaster"):
            return "restart"
        if row.setting != want.value:
            action = "reload"
    return action


def settings_query(names: list[str]) -> str:
    """SQL returning the ``pg_settings`` rows of ``names`` as one JSON array."""
    wanted = ", ".join(sql_literal(n) for n in names)
    return (
        "SELECT coalesce(json_agg(json_build_object('name', name, 'setting', setting, "
        "'context', context, 'pending_restart', pending_restart, 'enumvals', enumvals) ORDER BY name), '[]') "
        f"FROM pg_settings WHERE name IN ({wanted});"
    )


def sql_literal(value: str) -> str:
    """Quote ``value`` as an SQL string literal (standard_conforming_strings on).

    :raises ValueError: for a NUL byte, which PostgreSQL cannot store
    """
    if "\x00" in value:
        raise ValueError("NUL byte in SQL literal")
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(value: str) -> str:
    """Quote ``value`` as an SQL identifier."""
    if "\x00" in value:
        raise ValueError("NUL byte in SQL identifier")
    return '"' + value.replace('"', '""') + '"'


def psql_argv(cfg: StackConfig, database: str = "postgres", port: int | None = None,
              socket_dir: str | None = None, *, script: bool = True) -> list[str]:
    """argv of ``psql`` on the stack's cluster (or a scratch cluster's socket), stopping at the first error.

    :param script: ``True`` for what pgvault runs: SQL from stdin (never the
        command line, so nothing a user typed can reach a shell), unaligned,
        tuples only, quiet, as the PostgreSQL OS user; ``False`` for a person
        following a runbook
    """
    pg = cfg.postgres
    argv = [f"{pg.bin_dir}/psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", socket_dir or pg.socket_dir,
            "-p", str(port or pg.port)]
    if script:
        return argv + ["-A", "-t", "-q", "-U", pg.os_user, "-d", database, "-f", "-"]
    return argv + ["-d", database]


def libpq_uri(user: str, host: str, port: int, database: str, passfile: str | None = None) -> str:
    """A libpq connection URI that ``psql "$uri"`` accepts, with no password in it."""
    uri = f"postgresql://{quote(user, safe='')}@{host}:{port}/{quote(database, safe='')}"
    return uri + (f"?passfile={quote(passfile, safe='/')}" if passfile else "")

