"""Run one command on a host, over SSH or on this machine.

Every host operation goes through :func:`execute` with a *connection*: a Fabric
``Connection`` when ``fab`` drives a host over SSH, or :class:`LocalHost` when
``pgvault-job`` runs on the DB host itself from cron.  The rest of pgvault
does not care which.

Over SSH, commands run on the Fabric connection's own paramiko transport:
Fabric's ``Connection.run`` feeds standard input one byte per 10 ms poll when
the input is not a terminal (Invoke's ``Runner.handle_stdin``), so a 300-byte
SQL script took three seconds, and pgvault sends SQL through stdin on purpose
(never on a command line).  Fabric still owns the connection and SFTP.
"""

from __future__ import annotations

import codecs
import getpass
import os
import selectors
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Protocol

_CHUNK = 65536


@dataclass(frozen=True)
class Completed:
    """What a finished command left behind."""

    exited: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.exited == 0


class Conn(Protocol):
    """What pgvault needs of a connection: who it logs in as, where, and how to upload."""

    user: str
    host: str

    def put(self, source, remote: str):
        """Upload ``source`` (a binary file object) to the path ``remote`` on the host."""


class CommandTimeout(Exception):
    """The command did not finish within its timeout."""


class ConnectionLost(OSError):
    """The SSH connection failed while a command ran."""


@dataclass
class LocalHost:
    """This machine as the DB host: what ``pgvault-job`` uses when cron runs it there."""

    user: str = field(default_factory=getpass.getuser)
    host: str = "localhost"
    port: int = 0

    def open(self) -> None:
        """Nothing to open."""

    def put(self, source: IO[bytes], remote: str) -> None:
        """Write ``source`` to the path ``remote`` (created with mode 0600)."""
        fd = os.open(remote, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out)


def execute(conn, command: str, stdin: str | None = None, sink=None,
            timeout: float | None = None) -> Completed:
    """Run ``command`` (a shell string) and wait for it.

    :param conn: a Fabric ``Connection`` or a :class:`LocalHost`
    :param stdin: text written to the command's standard input, then EOF
    :param sink: object with ``write(str)`` receiving stdout and stderr as they arrive
    :param timeout: seconds before the command is abandoned and :class:`CommandTimeout` raised
    """
    if isinstance(conn, LocalHost):
        return _local(command, stdin, sink, timeout)
    return _ssh(conn, command, stdin, sink, timeout)


class _Text:
    """Incremental UTF-8 decoding of two streams into strings, forwarded to a sink."""

    def __init__(self, sink):
        self.sink = sink
        self.decoders = {n: codecs.getincrementaldecoder("utf-8")("replace") for n in ("out", "err")}
        self.parts: dict[str, list[str]] = {"out": [], "err": []}

    def take(self, name: str, data: bytes, final: bool = False) -> None:
        text = self.decoders[name].decode(data, final=final)
        self.parts[name].append(text)
        if self.sink is not None and text:
            self.sink.write(text)

    def done(self, code: int) -> Completed:
        for name in ("out", "err"):
            self.take(name, b"", final=True)
        return Completed(code, "".join(self.parts["out"]), "".join(self.parts["err"]))


def _ssh(conn, command, stdin, sink, timeout) -> Completed:
    import paramiko

    try:
        conn.open()
        channel = conn.client.get_transport().open_session()
    except (OSError, paramiko.SSHException) as exc:
        raise ConnectionLost(str(exc)) from None
    text = _Text(sink)
    deadline = time.monotonic() + timeout if timeout else None
    try:
        channel.exec_command(command)
        if stdin:
            channel.sendall(stdin.encode())
        channel.shutdown_write()
        channel.settimeout(0.1)
        while True:
            got = False
            if channel.recv_ready():
                text.take("out", channel.recv(_CHUNK))
                got = True
            if channel.recv_stderr_ready():
                text.take("err", channel.recv_stderr(_CHUNK))
                got = True
            if not got:
                # sshd may send the exit status before the last output: stop only at the end of the stream too
                finished = channel.exit_status_ready() and (channel.eof_received or channel.closed)
                if finished and not channel.recv_ready() and not channel.recv_stderr_ready():
                    break
                if deadline and time.monotonic() > deadline:
                    raise CommandTimeout(f"no exit after {timeout}s")
                channel.status_event.wait(0.02)
        return text.done(channel.recv_exit_status())
    except (OSError, paramiko.SSHException) as exc:
        raise ConnectionLost(str(exc)) from None
    finally:
        channel.close()


def _local(command, stdin, sink, timeout) -> Completed:
    proc = subprocess.Popen(["sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    if stdin:
        proc.stdin.write(stdin.encode())
    proc.stdin.close()
    text = _Text(sink)
    deadline = time.monotonic() + timeout if timeout else None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, "out")
        selector.register(proc.stderr, selectors.EVENT_READ, "err")
        while selector.get_map():
            for key, _ in selector.select(timeout=0.2):
                data = os.read(key.fileobj.fileno(), _CHUNK)
                if data:
                    text.take(key.data, data)
                else:
                    selector.unregister(key.fileobj)
            if deadline and time.monotonic() > deadline:
                proc.kill()
                raise CommandTimeout(f"no exit after {timeout}s")
    return text.done(proc.wait())


def stream_stdout(conn, command: str, env: dict | None = None) -> Iterator[bytes]:
    """Run ``command`` and yield its stdout in chunks as it is produced (for pg_dump).

    After the last chunk, the generator raises :class:`StreamFailed` if the
    command exited non-zero, carrying its stderr.

    :param env: extra environment for a local command (libpq's ``PG*`` variables)
    """
    if isinstance(conn, LocalHost):
        proc = subprocess.Popen(["sh", "-c", command], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
        while chunk := proc.stdout.read(_CHUNK):
            yield chunk
        err = proc.stderr.read().decode(errors="replace")
        if proc.wait():
            raise StreamFailed(proc.returncode, err)
        return
    conn.open()
    channel = conn.client.get_transport().open_session()
    try:
        channel.exec_command(command)
        channel.shutdown_write()
        while chunk := channel.recv(_CHUNK):
            yield chunk
        code = channel.recv_exit_status()
        err = b""
        while channel.recv_stderr_ready():
            err += channel.recv_stderr(_CHUNK)
        if code:
            raise StreamFailed(code, err.decode(errors="replace"))
    finally:
        channel.close()


class StreamFailed(Exception):
    """A streamed command exited non-zero."""

    def __init__(self, code: int, stderr: str):
        super().__init__(f"exit {code}: {stderr.strip()[-300:]}")
        self.code = code
        self.stderr = stderr
