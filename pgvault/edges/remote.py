"""Everything that runs on a DB host, over SSH (``fab``) or locally (``pgvault-job``).

The rest of pgvault builds argv lists and desired files; this module runs
them through a connection (``ops.ssh.connections`` or ``pgvault.edges.execute.LocalHost``).
Rules it keeps:

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
from collections.abc import Iterable, Sequence
from typing import IO

from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.plan import DesiredDir, DesiredFile, PathFact
from pgvault.core.postgres import psql_argv
from pgvault.core.schema import StackConfig
from pgvault.edges.execute import CommandTimeout, Completed, ConnectionLost, execute


class RemoteError(PgvaultError):
    """A command on a host failed; carries its output for summaries."""

    def __init__(self, message: str, fix: str = "", code: ExitCode = ExitCode.FAILED, output: str = ""):
        super().__init__(message, fix, code)
        self.output = output


def as_user(conn, user: str) -> list[str]:
    """argv prefix that runs a command as ``user`` from ``/``."""
    if user == conn.user:
        return ["env", "-C", "/"]
    return ["sudo", "-n", "-u", user, "--", "env", "-C", "/"]


def as_root(conn) -> list[str]:
    """argv prefix that runs a command as root (``sudo -n`` unless already root)."""
    return [] if conn.user == "root" else ["sudo", "-n", "--"]


def run(conn, argv: Sequence[str], *, user: str | None = None, stdin: str | None = None,
        stream=None, warn: bool = False, timeout: float | None = None) -> Completed:
    """Run ``argv`` on the host, as ``user`` if given.

    :param stdin: text fed to the command's standard input
    :param stream: a writable object receiving stdout and stderr as they arrive
    :param warn: return a failed result instead of raising :class:`RemoteError`
    :param timeout: seconds to wait before giving up
    """
    full = (as_user(conn, user) if user else []) + list(argv)
    try:
        result = execute(conn, shlex.join(full), stdin=stdin, sink=stream, timeout=timeout)
    except CommandTimeout:
        raise RemoteError(f"{argv[0]} on {conn.host} did not finish within {timeout}s",
                          "check the host's load and the service it waits for") from None
    except ConnectionLost as exc:
        raise RemoteError(f"lost the SSH connection to {conn.host}: {exc}", "check the host and the network",
                          ExitCode.UNREACHABLE) from None
    if not result.ok and not warn:
        output = (result.stdout or "") + (result.stderr or "")
        tail = " ".join(output.strip().splitlines()[-1:])[:300] if output.strip() else "no output"
        raise RemoteError(f"{argv[0]} failed on {conn.host} (exit {result.exited}): {tail}", output=output)
    return result


def sql(conn, cfg: StackConfig, text: str, *, database: str = "postgres",
        port: int | None = None, socket_dir: str | None = None) -> str:
    """Run SQL through ``psql`` on the host as the PostgreSQL OS user; return stdout."""
    return run(conn, psql_argv(cfg, database, port, socket_dir), user=cfg.postgres.os_user, stdin=text).stdout


def sql_json(conn, cfg: StackConfig, text: str, **kwargs):
    """Run SQL that returns a single JSON value and decode it."""
    out = sql(conn, cfg, text, **kwargs).strip()
    return json.loads(out) if out else None


_FACTS_SCRIPT = r"""
for p do
  if [ -e "$p" ]; then
    s=$(stat -c '%U|%a|%F' -- "$p")
    if [ -f "$p" ]; then h=$(sha256sum -- "$p" | cut -d' ' -f1); else h=-; fi
    printf '%s\t%s\t%s\n' "$p" "$s" "$h"
  else
    printf '%s\tMISSING\t-\n' "$p"
  fi
done
"""


def path_facts(conn, targets: Iterable[DesiredFile | DesiredDir]) -> dict[str, PathFact]:
    """Read owner, mode and digest of every target in one round trip.

    Runs as root (or as the owner) so that 0600 files can be hashed.  The old
    content of a non-secret file is fetched only when its digest differs (it
    is needed for the diff); a secret file's content is never read.
    """
    targets = list(targets)
    if not targets:
        return {}
    owners = {t.owner for t in targets}
    prefix = [] if owners == {conn.user} else as_root(conn)
    out = run(conn, prefix + ["sh", "-c", _FACTS_SCRIPT, "sh", *[t.path for t in targets]]).stdout
    rows = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    facts = {}
    for target in targets:
        stat_text, _, digest = rows.get(target.path, "MISSING\t-").partition("\t")
        if stat_text == "MISSING":
            facts[target.path] = PathFact(target.path, False)
            continue
        owner, mode, kind = stat_text.split("|", 2)
        is_file = isinstance(target, DesiredFile)
        if is_file != kind.startswith("regular"):
            facts[target.path] = PathFact(target.path, True, owner, None)
            continue
        content = None
        if is_file and not target.secret and digest != target.sha256:
            content = run(conn, prefix + ["cat", "--", target.path]).stdout
        facts[target.path] = PathFact(target.path, True, owner, int(mode, 8), digest if is_file else None, content)
    return facts


def ensure_dir(conn, target: DesiredDir) -> None:
    """Create a directory (and parents) with owner and mode."""
    argv = ["install", "-d", "-m", f"{target.mode:04o}"]
    if conn.user != target.owner:
        argv += ["-o", target.owner, "-g", target.owner]
    run(conn, _privileged(conn, target.owner) + argv + ["--", target.path])


def put_file(conn, target: DesiredFile) -> None:
    """Upload ``target`` and move it into place atomically with owner and mode."""
    install_stream(conn, io.BytesIO(target.content.encode()), target.path, target.owner, target.mode)


def install_stream(conn, source: IO[bytes], path: str, owner: str, mode: int) -> None:
    """Upload ``source`` into a private temporary folder, then install it at ``path`` atomically."""
    tmpdir = run(conn, ["mktemp", "-d", "/tmp/pgvault.XXXXXXXX"]).stdout.strip()
    try:
        staged = f"{tmpdir}/content"
        conn.put(source, staged)
        new = f"{path}.pgvault-new"
        install = ["install", "-m", f"{mode:04o}"]
        if conn.user != owner:
            install += ["-o", owner, "-g", owner]
        prefix = _privileged(conn, owner)
        run(conn, prefix + install + ["--", staged, new])
        run(conn, prefix + ["mv", "-f", "--", new, path])
    finally:
        run(conn, ["rm", "-rf", "--", tmpdir], warn=True)


def _privileged(conn, owner: str) -> list[str]:
    """Prefix for writing something owned by ``owner``: none when we are that user."""
    return [] if conn.user == owner else as_root(conn)


def command_exists(conn, name: str) -> bool:
    """True when ``name`` is on the host's PATH."""
    return run(conn, ["sh", "-c", 'command -v "$1" >/dev/null', "sh", name], warn=True).ok
