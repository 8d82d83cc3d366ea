"""Physical backups: run pgBackRest on the host and read its answers.

Backups run as the PostgreSQL OS user with pgBackRest's detail log streamed
back for progress; a failure becomes one line with pgBackRest's numbered error
and a hint.  ``info`` and the primary's state feed ``backup.list``, the
recoverable window and the restore checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from pgvault.core import catalog, hourly, pgbackrest, walarchive
from pgvault.core.drill import sort_out
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.pgbackrest import BackupSet, StanzaInfo, failure
from pgvault.core.progress import LineSink, Progress
from pgvault.core.schema import StackConfig
from pgvault.core.wal import parse_lsn
from pgvault.edges import bucket, remote
from pgvault.edges.cloud import s3_client
from pgvault.edges.execute import Conn
from pgvault.edges.waiting import within

#: what a repository listing is read into
T = TypeVar("T")

_LABEL = re.compile(r"new backup label = (\S+)")


def stream_pgbackrest(conn: Conn, cfg: StackConfig, argv: list[str], label: str,
                      say: Callable[[str], None]) -> tuple[bool, str]:
    """Run a pgBackRest command with detail logging, printing progress; return (ok, output)."""
    progress = Progress(label)

    def on_line(line: str) -> None:
        message = progress.feed(line)
        if message:
            say(message)

    sink = LineSink(on_line)
    result = remote.run(conn, argv, user=cfg.postgres.os_user, stream=sink, warn=True)
    return result.ok, sink.text


def run_backup(conn: Conn, cfg: StackConfig, kind: str, say: Callable[[str], None],
               annotations: dict[str, str] | None = None) -> BackupSet:
    """Take a backup of ``kind`` (full, diff, incr) and return the new set.

    :raises PgvaultError: with pgBackRest's error in one line
    """
    return backup_with_source(conn, cfg, kind, say, annotations)[0]


def backup_with_source(conn: Conn, cfg: StackConfig, kind: str, say: Callable[[str], None],
                       annotations: dict[str, str] | None = None) -> tuple[BackupSet, dict]:
    """Take a backup; return the new set and where its data files were read (for the job record).

    With a standby (``backup-standby=y``) pgBackRest 2.45 needs both hosts; when the standby cannot be used
    the backup is taken again from the primary alone (``--no-backup-standby``, the ``pg2-*`` options reset) and
    the returned source says why (``standby_fallback``): the job record carries it and the monitor's
    ``backup-standby`` check warns.

    :raises PgvaultError: with pgBackRest's error in one line
    """
    options = [f"--type={kind}", "--log-level-console=detail"]
    options += [f"--annotation={k}={v}" for k, v in sorted((annotations or {}).items())]
    prefix = pgbackrest.priority_prefix(cfg.pgbackrest.backup_priority)
    argv = prefix + pgbackrest.command(cfg, "backup", *options)
    ok, output = stream_pgbackrest(conn, cfg, argv, f"{kind} backup", say)
    standby = pgbackrest.backup_standby(cfg)
    source = {"standby": standby} if standby else {}
    if not ok and standby and pgbackrest.standby_unavailable(output):
        why = pgbackrest.summarise_error(output)[1]
        source["standby_fallback"] = f"the standby {standby} could not be used ({why}); backed up from the primary"
        say(f"warning: {source['standby_fallback']}")
        # the standby left out altogether: with --no-backup-standby alone pgBackRest still starts its remote on
        # the standby, which a fenced host (pgbackrest stop) refuses
        argv = prefix + pgbackrest.command(cfg, "backup", *pgbackrest.primary_only(cfg, "backup"), *options)
        ok, output = stream_pgbackrest(conn, cfg, argv, f"{kind} backup", say)
    if not ok:
        raise failure(output, "see the pgBackRest log on the host; fab host.check shows configuration drift")
    match = _LABEL.search(output)
    found = info(conn, cfg)
    label = match.group(1) if match else found.backups[-1].label
    after_backup(conn, cfg, label)
    return next(b for b in found.backups if b.label == label), source


def after_backup(conn: Conn, cfg: StackConfig, label: str) -> None:
    """Mark a finished backup in the database: a named restore point and the table counts it holds."""
    remote.sql(conn, cfg, catalog.ENSURE_SQL)
    for database in cfg.postgres.databases:
        counts = remote.sql(conn, cfg, catalog.TABLE_COUNTS_SQL, database=database).strip() or "{}"
        remote.sql(conn, cfg, catalog.record_stats_sql(label, database, counts))
    remote.sql_json(conn, cfg, catalog.create_restore_point_sql(f"pgvault-{label}"))


def info(conn: Conn, cfg: StackConfig) -> StanzaInfo:
    """``pgbackrest info`` of the stack's stanza.

    :raises PgvaultError: when pgBackRest cannot read the repository
    """
    result = remote.run(conn, pgbackrest.command(cfg, "info", "--output=json"), user=cfg.postgres.os_user, warn=True)
    if not result.ok:
        raise failure(result.stdout + result.stderr, "check the repository settings and credentials (fab host.check)")
    try:
        parsed = pgbackrest.parse_info(result.stdout, cfg.pgbackrest.stanza)
    except ValueError:
        raise PgvaultError(f"stanza {cfg.pgbackrest.stanza} not found in the repository", "run fab host.setup",
                           ExitCode.FAILED) from None
    if parsed.status_code not in (0, 2):
        raise PgvaultError(f"stanza {parsed.name}: {parsed.status_message}", "run fab host.setup", ExitCode.FAILED)
    return parsed


def primary_state(conn: Conn, cfg: StackConfig) -> dict | None:
    """The primary's clock, WAL position and archiver state; ``None`` when it is down."""
    try:
        return remote.sql_json(conn, cfg, catalog.PRIMARY_STATE_SQL)
    except remote.RemoteError:
        return None


def repo_listing(conn: Conn, cfg: StackConfig, folder: str, parse: Callable[[str], T]) -> T:
    """``pgbackrest repo-ls --recurse --output=json`` of ``folder`` in the repository, read by ``parse``.

    :raises PgvaultError: when pgBackRest cannot list it, or the listing is not whole JSON
    """
    argv = pgbackrest.command(cfg, "repo-ls", "--recurse", "--output=json", params=(folder,))
    listing = remote.run(conn, argv, user=cfg.postgres.os_user, warn=True)
    if not listing.ok:
        raise failure(listing.stdout + listing.stderr, "check the repository settings and credentials (fab host.check)")
    try:
        return parse(listing.stdout)
    except ValueError as exc:
        raise PgvaultError(f"pgbackrest repo-ls gave no whole listing of {folder} ({exc}, {len(listing.stdout)} "
                           "characters)", "run fab backup.verify again; if it persists, report it",
                           ExitCode.FAILED) from None


def host_now(conn: Conn) -> datetime:
    """The DB host's clock in UTC (targets are checked against the host, not this machine)."""
    text = remote.run(conn, ["date", "-u", "+%Y-%m-%dT%H:%M:%S.%N+00:00"]).stdout.strip()
    return datetime.fromisoformat(text[:26] + "+00:00")


def verify(conn: Conn, cfg: StackConfig, sets: Sequence[BackupSet] = (),
           kept_from: BackupSet | None = None) -> tuple[bool, list[str]]:
    """Run ``pgbackrest verify``; return (clean, problem lines).

    ``sets`` and ``kept_from`` (``pgvault.actions.retention.wal_kept_from``) let the holes
    that archive retention leaves before the anchor full pass as intended.
    """
    result = remote.run(conn, pgbackrest.command(cfg, "verify", "--log-level-console=detail"),
                        user=cfg.postgres.os_user, warn=True)
    output = result.stdout + result.stderr
    problems = pgbackrest.verify_problems(output) + walarchive.verify_gaps(output, sets, kept_from)
    return result.ok and not problems, problems


def mark(conn: Conn, cfg: StackConfig, name: str) -> dict:
    """Create restore point ``name`` and record it in pgvault's registry."""
    remote.sql(conn, cfg, catalog.ENSURE_SQL)
    existing = remote.sql_json(conn, cfg, catalog.restore_point_sql(name))
    if existing:
        raise PgvaultError(f"restore point {name!r} already exists ({existing['time']})", "choose another name",
                           ExitCode.USAGE)
    return remote.sql_json(conn, cfg, catalog.create_restore_point_sql(name))


def flush_wal(conn: Conn, cfg: StackConfig, seconds: float = 120) -> str:
    """Switch to a new WAL segment and wait until the finished one is archived.

    :returns: the name of the segment that was archived
    :raises PgvaultError: when archiving does not catch up in time
    """
    segment = remote.sql(conn, cfg, "SELECT pg_walfile_name(pg_switch_wal());").strip()

    def archived() -> bool:
        state = primary_state(conn, cfg) or {}
        return (state.get("last_archived_wal") or "") >= segment

    if not within(seconds, archived, interval=0.5):
        raise PgvaultError(f"WAL segment {segment} was not archived within {seconds:.0f}s",
                           "fab host.check shows why archiving fails", ExitCode.FAILED)
    return segment


def hourly_facts(conn: Conn, cfg: StackConfig) -> tuple[int | None, float | None]:
    """WAL bytes written since the newest valid backup ended (``None``: no backup) and the drills' replay rate.

    The rate is ``None`` when no drill measured it or the drill results cannot be read: the rule then assumes one.
    """
    valid = info(conn, cfg).valid_backups
    state = primary_state(conn, cfg)
    if state is None:
        raise PgvaultError("PostgreSQL does not answer", "start PostgreSQL (fab host.check)", ExitCode.UNREACHABLE)
    newest = valid[-1] if valid else None
    wal = (max(0, parse_lsn(state["lsn"]) - parse_lsn(newest.lsn_stop))
           if newest is not None and newest.lsn_stop else None)
    return wal, measured_replay_rate(cfg)


def measured_replay_rate(cfg: StackConfig) -> float | None:
    """The WAL replay rate the recent drills measured (bytes/s); ``None`` when none did or they cannot be read.

    Only results the bucket's facts speak for count (``pgvault.core.drill.sort_out``): a body put with the restore
    keys must not talk the adaptive rule out of incrementals.
    """
    try:
        trusted, _ = sort_out(bucket.latest_drills(s3_client(cfg), cfg, limit=hourly.RATE_DRILLS * 2),
                              datetime.now(UTC))
        return hourly.replay_rate(trusted)
    except (BotoCoreError, ClientError, PgvaultError, ValueError):  # the results only refine the rule
        return None


def run_hourly(conn: Conn, cfg: StackConfig, say: Callable[[str], None], now: datetime) -> dict:
    """The hourly job: an incremental, or a named restore point whose WAL is proven in the bucket.

    :param now: the job's start, which names the restore point (``pgvault-hourly-<UTC time>``)
    :returns: the decision and what was done, for the job record
    """
    wal, rate = hourly_facts(conn, cfg)
    decision = hourly.decide(cfg.schedule.incremental_rule, wal, cfg.targets.rto_seconds, rate)
    say(f"hourly: {decision.action}: {decision.reason}")
    record = decision.as_dict()
    if decision.action == hourly.INCREMENTAL:
        done = run_backup(conn, cfg, "incr", say)
        return record | {"label": done.label, "database_bytes": done.size, "stored_bytes": done.repo_delta}
    point = mark(conn, cfg, f"pgvault-hourly-{now:%Y%m%dT%H%M%SZ}")
    segment = flush_wal(conn, cfg)
    say(f"hourly: restore point {point['name']} at LSN {point['lsn']}, archived with segment {segment}")
    return record | {"restore_point": point["name"], "lsn": point["lsn"], "archived_segment": segment}
