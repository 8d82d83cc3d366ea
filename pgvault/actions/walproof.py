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
trap 'exit 1' HUP INT TERM
fetch() {{
  {get} "$1" "$d/$2" >"$d/.out" 2>&1 || {{ echo "{mark}$1 $(tail -n 1 "$d/.out")" >&2; exit {unreadable}; }}
}}
{fetches}
cd "$d" && {waldump}
"""
#: seconds one read (fetch and pg_waldump of a batch) may take before the proof gives up
_READ_TIMEOUT = 1800


def state_path(cfg: StackConfig) -> str:
    """Where the proof's state lives on the DB host."""
    return f"{cfg.jobs.state_dir}/{walproof.STATE_FILE}"


def read_state(conn: Conn, cfg: StackConfig) -> walproof.Proof | None:
    """The last proof's state, ``None`` when no proof ran on this host yet."""
    found = remote.run(conn, ["cat", "--", state_path(cfg)], user=cfg.postgres.os_user, warn=True)
    return walproof.Proof.from_json(found.stdout) if found.ok else None


def _write_state(conn: Conn, cfg: StackConfig, proof: walproof.Proof) -> None:
    """Replace the state file whole, through a temporary file of this run's own (runs may overlap)."""
    script = 't=$(mktemp "$1.XXXXXX") && cat > "$t" && mv -f "$t" "$1"'
    remote.run(conn, ["sh", "-c", script, "sh", state_path(cfg)], user=cfg.postgres.os_user, stdin=proof.to_json())


def _timeline(conn: Conn, cfg: StackConfig) -> int | None:
    """The timeline production writes on, ``None`` when PostgreSQL does not answer."""
    try:
        text = remote.sql(conn, cfg, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8);").strip()
        return int(text, 16)
    except (PgvaultError, ValueError):
        return None


def _history(conn: Conn, cfg: StackConfig, archive: walproof.Archive, timeline: int) -> tuple[tuple[int, int], ...]:
    """The followed timeline's history (empty on timeline 1).

    :raises PgvaultError: when the history file cannot be read or parsed
    """
    name = archive.histories.get(timeline)
    if name is None:
        return ()
    argv = pgbackrest.command(cfg, "repo-get", params=(f"archive/{cfg.pgbackrest.stanza}/{name}",))
    text = remote.run(conn, argv, user=cfg.postgres.os_user).stdout
    try:
        return parse_history(text)
    except (ValueError, IndexError):
        raise PgvaultError(f"the archive's history file {name} cannot be parsed",
                           "fab repo.history lists its versions; bring a good one back with fab repo.undo",
                           ExitCode.VERIFY) from None


def _read(conn: Conn, cfg: StackConfig, read: walproof.Read) -> walproof.Outcome:
    """Fetch the read's segments into a temporary folder on the host and follow their records.

    :raises PgvaultError: when the read says nothing about the WAL: a segment pgBackRest cannot fetch, no
        scratch folder, no ``pg_waldump``, a run that was killed (none of these is recorded as a break)
    """
    get = shlex.join(pgbackrest.command(cfg, "archive-get", "--no-archive-async", "--log-level-console=warn"))
    waldump = shlex.join(walproof.waldump_argv(cfg.postgres.bin_dir, ".", read))
    script = _READ_SCRIPT.format(scratch=shlex.quote(cfg.postgres.scratch_dir), no_scratch=_NO_SCRATCH, get=get,
                                 mark=_MARK, unreadable=_UNREADABLE, waldump=waldump,
                                 fetches="\n".join(f"fetch {name} {stored}" for name, stored in read.files))
    result = remote.run(conn, ["sh", "-c", script], user=cfg.postgres.os_user, warn=True, timeout=_READ_TIMEOUT)
    if result.exited == _NO_SCRATCH:
        raise PgvaultError(f"cannot make a folder for the WAL proof in {cfg.postgres.scratch_dir}",
                           "give the PostgreSQL OS user write access to it (fab host.setup sets it)", ExitCode.FAILED)
    if result.exited == _UNREADABLE:
        line = next(ln for ln in result.stderr.splitlines() if ln.startswith(_MARK)).removeprefix(_MARK)
        segment, _, why = line.partition(" ")
        raise PgvaultError(f"pgBackRest cannot fetch WAL segment {segment} for the proof: {why.strip()}",
                           "run fab backup.verify (it reads every file); fab repo.history shows the object's "
                           "versions", ExitCode.VERIFY)
    if not walproof.judged(result.exited, result.stderr):
        tail = " ".join(result.stderr.strip().splitlines()[-1:])[:200] or f"exit status {result.exited}"
        raise PgvaultError(f"pg_waldump could not read {read.describe()}: {tail}",
                           f"check {cfg.postgres.bin_dir}/pg_waldump and the space in {cfg.postgres.scratch_dir}",
                           ExitCode.FAILED)
    return walproof.outcome(read, result.exited, result.stderr)


def prove(conn: Conn, cfg: StackConfig, say: Callable[[str], None], again: bool = False,
          limit: int | None = None) -> walproof.Proof:
    """Prove the kept WAL chains, reading only what earlier proofs did not (all of it with ``again``).

    :param limit: the most segments to read in this run (the monitor's cap); the rest is left pending
    :returns: the new state, also written to the host
    :raises PgvaultError: when the archive cannot be listed or read at all
    """
    previous = (None if again else read_state(conn, cfg)) or walproof.Proof()
    archive = backup.repo_listing(conn, cfg, f"archive/{cfg.pgbackrest.stanza}", walproof.archive_listing)
    now = backup.host_now(conn)
    if archive is None:
        proof = walproof.Proof(checked=now.isoformat())
        _write_state(conn, cfg, proof)
        return proof
    sets, kept_from = retention.wal_kept_from(conn, cfg)
    proven = previous.proven if previous.archive_id == archive.archive_id else {}
    timeline = _timeline(conn, cfg) or archive.newest_timeline
    found = walproof.plan(archive, _history(conn, cfg, archive, timeline), sets, kept_from, proven,
                          timeline=timeline, limit=limit)
    outcomes, queue = [], list(found.reads)
    while queue:
        read = queue.pop(0)
        if len(found.reads) > 1 or len(read.segments) > 2:
            say(f"  WAL proof: reading {read.describe()} ({len(found.reads) - len(queue)}/{len(found.reads)})")
        result = _read(conn, cfg, read)
        outcomes.append(result)
        rest = walproof.resume(read, result.broken) if result.broken else None
        if rest is not None:
            queue.insert(0, rest)
    proof = walproof.advance(previous, archive, found, outcomes, now)
    _write_state(conn, cfg, proof)
    return proof
