"""Scratch clusters, as pure data: where they live, how they start, which port.

A restore that does not replace production lands in a scratch cluster:
``<scratch_dir>/<name>/`` holds the data directory, tablespaces, a socket, a
log and the configuration below.  The scratch configuration includes the
restored ``postgresql.conf`` when there is one, then overrides everything
that could reach production: its own port and socket, loopback only,
``archive_mode = off`` and an empty ``archive_command`` (never archive into
the production repository), its own HBA file.  The same overrides are
passed on the command line, where they beat ``postgresql.auto.conf`` too.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime

from ops.errors import UsageError
from ops.schema import StackConfig

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
        return f"{self.root}/data"

    @property
    def tablespaces(self) -> str:
        return f"{self.root}/tablespaces"

    @property
    def config(self) -> str:
        return f"{self.root}/{MARKER}"

    @property
    def hba(self) -> str:
        return f"{self.root}/pg_hba.conf"

    @property
    def log(self) -> str:
        return f"{self.root}/postgresql.log"


def scratch_name(name: str | None, now: datetime) -> str:
    """The scratch cluster's name: given, or ``restore-<UTC timestamp>``.

    :raises UsageError: for a name with other than lowercase letters, digits, '-' and '_'
    """
    if name is None:
        return "restore-" + now.strftime("%Y%m%d-%H%M%S")
    if not _NAME.match(name):
        raise UsageError(f"scratch name {name!r} is not valid", "use lowercase letters, digits, '-' and '_' (max 40)")
    return name


def scratch_for(cfg: StackConfig, name: str, port: int) -> Scratch:
    """The scratch cluster ``name`` of this stack on ``port``."""
    return Scratch(name, f"{cfg.postgres.scratch_dir}/{name}", port)


def listening_ports(proc_net: str) -> set[int]:
    """TCP ports in LISTEN state from the text of ``/proc/net/tcp`` and ``tcp6``."""
    ports = set()
    for line in proc_net.splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[3] == "0A" and ":" in fields[1]:
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def pick_port(busy: set[int], rng: random.Random, low: int = 20000, high: int = 40000) -> int:
    """A port in ``[low, high)`` not in ``busy``, scanning from a random start."""
    start = rng.randrange(low, high)
    for offset in range(high - low):
        port = low + (start - low + offset) % (high - low)
        if port not in busy:
            return port
    raise UsageError("no free port found for the scratch cluster", "free some ports on the host")


def server_options(scratch: Scratch) -> list[str]:
    """``postgres`` options for ``pg_ctl -o``: they override every config file."""
    return [
        "-c", f"config_file={scratch.config}",
        "-p", str(scratch.port),
        "-c", "listen_addresses=127.0.0.1",
        "-c", f"unix_socket_directories={scratch.root}",
        "-c", "archive_mode=off",
        "-c", "archive_command=",
    ]


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
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{scratch.root}'",
        "archive_mode = off",
        "archive_command = ''",
        "hot_standby = off",
        "external_pid_file = ''",
        f"cluster_name = 'pgvault-{scratch.name}'",
        "logging_collector = off",
        "",
    ])


def hba_lines(banner: str) -> str:
    """Who may connect to a scratch cluster: the OS user locally, passwords on loopback."""
    return "\n".join([
        banner,
        "local   all  all                peer",
        "host    all  all  127.0.0.1/32  scram-sha-256",
        "",
    ])
