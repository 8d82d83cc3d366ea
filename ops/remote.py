"""EDGE: everything that talks to a DB host over SSH (Fabric).

The rest of pgvault builds argv lists and desired files; this module runs
them.  Rules it keeps:

* commands are argv lists joined with ``shlex.join``: nothing a user typed
  reaches a shell unquoted;
* SQL and other input go through stdin, never the command line;
* files are uploaded over SFTP into a private ``mktemp -d`` folder, then
  installed with owner and mode next to the target and renamed into place
  (atomic, and no content in ``ps``; STYLE.md anti-pattern 6);
* commands for another user go through ``sudo -n -u`` (never a password
  prompt), from ``/`` so that the target user can read its working directory.
"""

from __future__ import annotations

import io
import json
import shlex
import socket
from typing import Iterable, Optional, Sequence

import paramiko
from fabric import Connection
from invoke import Context
from invoke.exceptions import ThreadException
from invoke.runners import Result

from ops.errors import ExitCode, PgvaultError
from ops.plan import DesiredDir, DesiredFile, PathFact
from ops.postgres import psql_argv
from ops.schema import HostConfig, StackConfig


class RemoteError(PgvaultError):
    """A command on a host failed; carries its output for summaries."""

    def __init__(self, message: str, fix: str = "", code: ExitCode = ExitCode.FAILED, output: str = ""):
        super().__init__(message, fix, code)
        self.output = output


def connections(c: Context, cfg: StackConfig, host: Optional[str] = None) -> list[tuple[HostConfig, Connection]]:
    """Open an SSH connection to each DB host of the stack (or to ``fab -H``).

    :param c: the task's context; a Fabric ``Connection`` when ``-H`` was given
    :param host: only the configured host of this name
    :raises PgvaultError: for an unknown host name or an unreachable host
    """
    if isinstance(c, Connection):
        match = next((h for h in cfg.hosts if h.address == c.host), None)
        entry = match or HostConfig(name=c.host.replace(".", "-")[:63] or "host", address=c.host, ssh_port=c.port)
        _open(entry, c)
        return [(entry, c)]
    hosts = cfg.hosts
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
        opened.append((entry, conn))
    return opened


def _open(entry: HostConfig, conn: Connection) -> None:
    try:
        conn.open()
    except (OSError, socket.timeout, paramiko.SSHException) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise PgvaultError(
            f"cannot reach host {entry.name} ({entry.address}:{entry.ssh_port}) over SSH: {reason}",
            "check that the host is up, and its address, ssh_port and key in the stack file",
            ExitCode.UNREACHABLE,
        ) from None


def as_user(conn: Connection, user: str) -> list[str]:
    """argv prefix that runs a command as ``user`` from ``/``."""
    if user == conn.user:
        return ["env", "-C", "/"]
    return ["sudo", "-n", "-u", user, "--", "env", "-C", "/"]


def as_root(conn: Connection) -> list[str]:
    """argv prefix that runs a command as root (``sudo -n`` unless already root)."""
    return [] if conn.user == "root" else ["sudo", "-n", "--"]


def run(conn: Connection, argv: Sequence[str], *, user: Optional[str] = None, stdin: Optional[str] = None,
        stream=None, warn: bool = False, timeout: Optional[int] = None) -> Result:
    """Run ``argv`` on the host, as ``user`` if given.

    :param stdin: text fed to the command's standard input
    :param stream: a writable object receiving stdout and stderr as they arrive
    :param warn: return a failed result instead of raising :class:`RemoteError`
    """
    full = (as_user(conn, user) if user else []) + list(argv)
    kwargs = {
        "hide": stream is None,
        "warn": True,
        "in_stream": io.StringIO(stdin) if stdin is not None else False,
        "timeout": timeout,
    }
    if stream is not None:
        kwargs.update(out_stream=stream, err_stream=stream)
    try:
        result = conn.run(shlex.join(full), **kwargs)
    except ThreadException:
        # the command exited before reading all of its stdin: it failed early
        raise RemoteError(f"{argv[0]} on {conn.host} stopped before reading its input") from None
    if not result.ok and not warn:
        output = (result.stdout or "") + (result.stderr or "")
        tail = " ".join(output.strip().splitlines()[-1:])[:300] if output.strip() else "no output"
        raise RemoteError(f"{argv[0]} failed on {conn.host} (exit {result.exited}): {tail}", output=output)
    return result


def sql(conn: Connection, cfg: StackConfig, text: str, *, database: str = "postgres",
        port: Optional[int] = None, socket_dir: Optional[str] = None) -> str:
    """Run SQL through ``psql`` on the host as the PostgreSQL OS user; return stdout."""
    return run(conn, psql_argv(cfg, database, port, socket_dir), user=cfg.postgres.os_user, stdin=text).stdout


def sql_json(conn: Connection, cfg: StackConfig, text: str, **kwargs):
    """Run SQL that returns a single JSON value and decode it."""
    out = sql(conn, cfg, text, **kwargs).strip()
    return json.loads(out) if out else None


def path_facts(conn: Connection, targets: Iterable[DesiredFile | DesiredDir]) -> dict[str, PathFact]:
    """Read owner, mode, digest (and content of non-secret files) of each target.

    Reads run as root (or as the owner) so that 0600 files can be hashed; the
    content of a secret file is never read.
    """
    facts = {}
    for target in targets:
        prefix = _privileged(conn, target.owner)
        probe = run(conn, prefix + ["stat", "-c", "%U %a %F", "--", target.path], warn=True)
        if not probe.ok:
            facts[target.path] = PathFact(target.path, False)
            continue
        owner, mode, *kind = probe.stdout.split()
        is_file = isinstance(target, DesiredFile)
        if is_file != (" ".join(kind).startswith("regular")):
            facts[target.path] = PathFact(target.path, True, owner, None)
            continue
        digest = content = None
        if is_file:
            digest = run(conn, prefix + ["sha256sum", "--", target.path]).stdout.split()[0]
            if not target.secret:
                content = run(conn, prefix + ["cat", "--", target.path]).stdout
        facts[target.path] = PathFact(target.path, True, owner, int(mode, 8), digest, content)
    return facts


def ensure_dir(conn: Connection, target: DesiredDir) -> None:
    """Create a directory (and parents) with owner and mode."""
    argv = ["install", "-d", "-m", f"{target.mode:04o}"]
    if conn.user != target.owner:
        argv += ["-o", target.owner, "-g", target.owner]
    run(conn, _privileged(conn, target.owner) + argv + ["--", target.path])


def put_file(conn: Connection, target: DesiredFile) -> None:
    """Upload ``target`` and move it into place atomically with owner and mode."""
    tmpdir = run(conn, ["mktemp", "-d", "/tmp/pgvault.XXXXXXXX"]).stdout.strip()
    try:
        staged = f"{tmpdir}/content"
        conn.put(io.BytesIO(target.content.encode()), staged)
        new = f"{target.path}.pgvault-new"
        install = ["install", "-m", f"{target.mode:04o}"]
        if conn.user != target.owner:
            install += ["-o", target.owner, "-g", target.owner]
        prefix = _privileged(conn, target.owner)
        run(conn, prefix + install + ["--", staged, new])
        run(conn, prefix + ["mv", "-f", "--", new, target.path])
    finally:
        run(conn, ["rm", "-rf", "--", tmpdir], warn=True)


def _privileged(conn: Connection, owner: str) -> list[str]:
    """Prefix for writing something owned by ``owner``: none when we are that user."""
    return [] if conn.user == owner else as_root(conn)


def command_exists(conn: Connection, name: str) -> bool:
    """True when ``name`` is on the host's PATH."""
    return run(conn, ["sh", "-c", 'command -v "$1" >/dev/null', "sh", name], warn=True).ok
