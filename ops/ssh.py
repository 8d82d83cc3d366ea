"""Open SSH connections (Fabric) to the stack's DB hosts, or to ``fab -H``.

Only the control side imports this module; ``pgvault-job`` on the host uses
``pgvault.edges.execute.LocalHost`` and needs neither Fabric nor paramiko.
"""

from __future__ import annotations

import paramiko
from fabric import Connection
from invoke import Context

from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.schema import HostConfig, Role, StackConfig


def connections(c: Context, cfg: StackConfig, host: str | None = None,
                roles: tuple[Role, ...] = ("primary",)) -> list[tuple[HostConfig, Connection, StackConfig]]:
    """Open an SSH connection to each stack host of ``roles`` (or the ``--host`` named, or ``fab -H``).

    Each comes with the stack as that host sees it (:meth:`StackConfig.on`), in the order work across hosts
    takes them (primary, standby, staging).

    :param c: the task's context; a Fabric ``Connection`` when ``-H`` was given
    :param host: only the configured host of this name, whatever its role
    :raises PgvaultError: for an unknown host name or an unreachable host
    """
    if isinstance(c, Connection):
        match = next((h for h in cfg.hosts if h.address == c.host and h.ssh_port == c.port), None)
        if match is not None:
            _open(match, c)
            return [(match, c, cfg.on(match.name))]
        entry = HostConfig(name=c.host.replace(".", "-")[:63] or "host", address=c.host, ssh_port=c.port)
        _open(entry, c)
        return [(entry, c, cfg)]
    hosts = tuple(h for h in cfg.ordered_hosts() if h.role in roles)
    if host is not None:
        hosts = tuple(h for h in cfg.hosts if h.name == host)
        if not hosts:
            known = ", ".join(h.name for h in cfg.hosts)
            raise PgvaultError(f"unknown host {host!r}", f"use one of: {known}", ExitCode.USAGE)
    opened = []
    for entry in hosts:
        kwargs = {"key_filename": [entry.identity_file]} if entry.identity_file else {}
        conn = Connection(
            entry.address, user=entry.ssh_user, port=entry.ssh_port, config=c.config,
            connect_timeout=15, connect_kwargs=kwargs,
        )
        _open(entry, conn)
        opened.append((entry, conn, cfg.on(entry.name)))
    return opened


def _open(entry: HostConfig, conn: Connection) -> None:
    try:
        conn.open()
    except (TimeoutError, OSError, paramiko.SSHException) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise PgvaultError(
            f"cannot reach host {entry.name} ({entry.address}:{entry.ssh_port}) over SSH: {reason}",
            "check that the host is up, and its address, ssh_port and key in the stack file",
            ExitCode.UNREACHABLE,
        ) from None
