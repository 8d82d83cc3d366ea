"""EDGE: run one command over a Fabric connection's SSH transport.

Fabric's ``Connection.run`` feeds standard input one byte per 10 ms poll when
the input is not a terminal (Invoke's ``Runner.handle_stdin``), so a 300-byte
SQL script takes three seconds, and each call carries about 130 ms of polling.
pgvault sends SQL through stdin on purpose (never on a command line), so it
executes commands on the connection's own paramiko transport instead: open a
session channel, send stdin at once, read stdout and stderr as they arrive.
Fabric still owns the connection, its configuration and SFTP.
"""

from __future__ import annotations

import codecs
import time
from dataclasses import dataclass
from typing import Optional

from fabric import Connection

_CHUNK = 65536


@dataclass(frozen=True)
class Completed:
    """What a finished remote command left behind."""

    exited: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.exited == 0


class CommandTimeout(Exception):
    """The command did not finish within its timeout."""


def execute(conn: Connection, command: str, stdin: Optional[str] = None, sink=None,
            timeout: Optional[float] = None) -> Completed:
    """Run ``command`` (a shell string) and wait for it.

    :param stdin: text written to the command's standard input, then EOF
    :param sink: object with ``write(str)`` receiving stdout and stderr as they arrive
    :param timeout: seconds before the channel is closed and :class:`CommandTimeout` raised
    """
    conn.open()
    channel = conn.client.get_transport().open_session()
    try:
        channel.exec_command(command)
        if stdin:
            channel.sendall(stdin.encode())
        channel.shutdown_write()
        return _collect(channel, sink, timeout)
    finally:
        channel.close()


def _collect(channel, sink, timeout: Optional[float]) -> Completed:
    decoders = {name: codecs.getincrementaldecoder("utf-8")("replace") for name in ("out", "err")}
    parts: dict[str, list[str]] = {"out": [], "err": []}
    deadline = time.monotonic() + timeout if timeout else None
    channel.settimeout(0.1)

    def take(name: str, data: bytes) -> None:
        text = decoders[name].decode(data)
        parts[name].append(text)
        if sink is not None and text:
            sink.write(text)

    while True:
        got = False
        if channel.recv_ready():
            take("out", channel.recv(_CHUNK))
            got = True
        if channel.recv_stderr_ready():
            take("err", channel.recv_stderr(_CHUNK))
            got = True
        if not got:
            if channel.exit_status_ready() and not channel.recv_ready() and not channel.recv_stderr_ready():
                break
            if deadline and time.monotonic() > deadline:
                raise CommandTimeout(f"no exit after {timeout}s")
            channel.status_event.wait(0.02)
    for name in ("out", "err"):
        take(name, b"")
        parts[name].append(decoders[name].decode(b"", final=True))
    return Completed(channel.recv_exit_status(), "".join(parts["out"]), "".join(parts["err"]))
