"""Prove the archived WAL chains (``pgvault.core.walproof``) on the DB host, and keep the proof's state there.

pgBackRest lists the archive (``repo-ls``), reads the followed timeline's
history file (``repo-get``) and fetches each segment to read
(``archive-get --no-archive-async``: production's asynchronous queue in the
spool is left alone) into a temporary folder below ``postgres.scratch_dir``;
PostgreSQL's own ``pg_waldump`` then follows the records.  The state file
(``<jobs.state_dir>/walproof.json``) is replaced whole, so two runs that
overlap (the monitor and the daily verify) can only redo work, not lose it.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from pgvault.actions import backup, retention
from pgvault.core import pgbackrest, walproof
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.pgbackrest import failure
from pgvault.core.schema import StackConfig
from pgvault.core.wal import parse_history
from pgvault.edges import remote
from pgvault.edges.execute import Conn

#: exit status of the read script when a segment cannot be fetched, and when no scratch folder can be made
_UNREADABLE, _NO_SCRATCH = 90, 91
_MARK = "pgvault-unreadable "

_READ_SCRIPT = """\
d=$(mktemp -d {scratch}/walproof.XXXXXX) || exit {no_scratch}
trap 'rm -rf "$d"' EXIT
for s in {segments}; do
  {get} "$s" "$d/$s" >"$d/.out" 2>&1 || {{ echo "{mark}$s $(tail -n 1 "$d/.out")" >&2; exit {unreadable}; }}
done
cd "$d" && {waldump}
"""


def state_path(cfg: StackConfig) -> str:
    """Where the proof's state lives on the DB host."""
    return f"{cfg.jobs.state_dir}/{walproof.STATE_FILE}"


def read_state(conn: Conn, cfg: StackConfig) -> walproof.Proof | None:
    """The last proof's state, ``None`` when no proof ran on this host yet."""
    found = remote.run(conn, ["cat", "--", state_path(cfg)], user=cfg.postgres.os_user, warn=True)
    return walproof.Proof.from_json(found.stdout) if found.ok else None


def _write_state(conn: Conn, cfg: StackConfig, proof: walproof.Proof) -> None:
    path = state_path(cfg)
    remote.run(conn, ["sh", "-c", 'cat > "$1.tmp" && mv -f "$1.tmp" "$1"', "sh", path], user=cfg.postgres.os_user,
               stdin=proof.to_json())


def _archive(conn: Conn, cfg: StackConfig) -> walproof.Archive | None:
    """The archive's listing, from ``pgbackrest repo-ls``.

    :raises PgvaultError: when pgBackRest cannot list it
    """
    argv = pgbackrest.command(cfg, "repo-ls", "--recurse", "--output=json",
                              params=(f"archive/{cfg.pgbackrest.stanza}",))
    listing = remote.run(conn, argv, user=cfg.postgres.os_user, warn=True)
    if not listing.ok:
        raise failure(listing.stdout + listing.stderr, "check the repository settings and credentials (fab host.check)")
    try:
        return walproof.archive_listing(listing.stdout)
    except ValueError as exc:
        raise PgvaultError(f"pgbackrest repo-ls gave no whole listing of the archive ({exc})",
                           "run the proof again (fab backup.verify); if it persists, report it",
                           ExitCode.FAILED) from None


def _history(conn: Conn, cfg: StackConfig, archive: walproof.Archive) -> tuple[tuple[int, int], ...]:
    """The newest timeline's history (empty on timeline 1)."""
    name = archive.histories.get(archive.newest_timeline)
    if name is None:
        return ()
    argv = pgbackrest.command(cfg, "repo-get", params=(f"archive/{cfg.pgbackrest.stanza}/{name}",))
    return parse_history(remote.run(conn, argv, user=cfg.postgres.os_user).stdout)


def _read(conn: Conn, cfg: StackConfig, read: walproof.Read) -> walproof.Outcome:
    """Fetch the read's segments into a temporary folder on the host and follow their records."""
    get = shlex.join(pgbackrest.command(cfg, "archive-get", "--no-archive-async", "--log-level-console=warn"))
    waldump = shlex.join(walproof.waldump_argv(cfg.postgres.bin_dir, ".", read))
    script = _READ_SCRIPT.format(scratch=shlex.quote(cfg.postgres.scratch_dir), no_scratch=_NO_SCRATCH,
                                 segments=" ".join(read.segments), get=get, mark=_MARK, unreadable=_UNREADABLE,
                                 waldump=waldump)
    result = remote.run(conn, ["sh", "-c", script], user=cfg.postgres.os_user, warn=True)
    if result.exited == _NO_SCRATCH:
        raise PgvaultError(f"cannot make a folder for the WAL proof in {cfg.postgres.scratch_dir}",
                           "give the PostgreSQL OS user write access to it (fab host.setup sets it)", ExitCode.FAILED)
    if result.exited == _UNREADABLE:
        line = next(ln for ln in result.stderr.splitlines() if ln.startswith(_MARK)).removeprefix(_MARK)
        segment, _, why = line.partition(" ")
        return walproof.Outcome((), walproof.Break(segment, None, f"pgBackRest cannot read it: {why.strip()}"))
    return walproof.outcome(read, result.exited, result.stderr)


def prove(conn: Conn, cfg: StackConfig, say: Callable[[str], None], again: bool = False) -> walproof.Proof:
    """Prove the kept WAL chains, reading only what earlier proofs did not (all of it with ``again``).

    :returns: the new state, also written to the host
    :raises PgvaultError: when the archive cannot be listed or read at all
    """
    previous = (None if again else read_state(conn, cfg)) or walproof.Proof()
    archive = _archive(conn, cfg)
    now = backup.host_now(conn)
    if archive is None:
        proof = walproof.Proof(checked=now.isoformat())
        _write_state(conn, cfg, proof)
        return proof
    sets, kept_from = retention.wal_kept_from(conn, cfg)
    proven = previous.proven if previous.archive_id == archive.archive_id else {}
    found = walproof.plan(archive, _history(conn, cfg, archive), sets, kept_from, proven)
    outcomes = []
    for number, read in enumerate(found.reads, 1):
        if len(found.reads) > 1 or len(read.segments) > 2:
            say(f"  WAL proof: reading {read.describe()} ({number}/{len(found.reads)})")
        outcomes.append(_read(conn, cfg, read))
    proof = walproof.advance(previous, archive, found, outcomes, now)
    _write_state(conn, cfg, proof)
    return proof
