"""Restore drills (``drill.run``) and the measured data-loss window (``drill.rpo``).

A drill restores into a scratch cluster with the read-only configuration
(when ``host.setup`` wrote one) and archiving off, then checks that it accepts
connections, that ``pg_amcheck`` finds no corruption, that exactly the
canaries before the target are there, and that table counts are plausible.
It measures the RTO per phase, stores its result as JSON beside the backups
(``drills/<stanza>/``; on a staging host with its restore keys, whose one
write that is), removes the scratch cluster, and fails (exit 7) on
any failed check.  A drill that cannot even restore is recorded as failed too.
A result the bucket refuses is kept on the host (``<jobs.state_dir>/drills/``)
and :func:`settle` says so: exit 7 when the drill failed, else 1 for a
refusal (the grant it needs) and 5 only when the endpoint cannot be reached.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointUnreachable

from pgvault.actions import backup, restore
from pgvault.core import catalog, roles
from pgvault.core import drill as verdicts
from pgvault.core.bucket import drills_prefix
from pgvault.core.errors import ExitCode, PgvaultError, UsageError
from pgvault.core.plan import DesiredDir, DesiredFile
from pgvault.core.policy import CANARY_LSN_SLACK, archive_timeout_seconds
from pgvault.core.postgres import psql_argv
from pgvault.core.schema import HostConfig, StackConfig
from pgvault.core.targets import Target, Window, recoverable_window
from pgvault.core.wal import lsn_text, parse_lsn, segment_end_lsn
from pgvault.edges import remote, service
from pgvault.edges.cloud import s3_client
from pgvault.edges.execute import Conn

Say = Callable[[str], None]


def _canaries_around(conn: Conn, cfg: StackConfig, moment: datetime, minutes: int = 10, **where) -> list:
    since, until = (moment - timedelta(minutes=minutes)).isoformat(), (moment + timedelta(minutes=minutes)).isoformat()
    rows = remote.sql_json(conn, cfg, catalog.canaries_sql(since, until), **where) or []
    return [(seq, datetime.fromisoformat(at)) for seq, at in rows]


def _canaries_with_lsn(conn: Conn, cfg: StackConfig, since: datetime, until: datetime) -> list:
    rows = remote.sql_json(conn, cfg, catalog.canaries_with_lsn_sql(since.isoformat(), until.isoformat())) or []
    return [(s, datetime.fromisoformat(t), lsn) for s, t, lsn in rows]


def choose(conn: Conn, cfg: StackConfig, kind: str, archived_wal: str | None, seed: int | None = None,
           source: restore.Source | None = None) -> Target:
    """The drill target for ``--target kind``, placed between two archived canaries when random.

    A time target needs a commit after it in the archived WAL (else PostgreSQL
    stops: "recovery ended before configured recovery target was reached"),
    so only canaries in WAL already archived count.  Production's canaries are read from ``source``.
    """
    fixed = verdicts.fixed_target(kind)
    if fixed is not None:
        return fixed
    pconn, pcfg = source or restore.local_source(conn, cfg)
    stanza = backup.info(conn, cfg)
    win = recoverable_window(stanza, backup.primary_state(pconn, pcfg))
    end = lsn_text(segment_end_lsn(archived_wal)) if archived_wal else "0/0"
    newest = remote.sql_json(pconn, pcfg, catalog.newest_canary_before_sql(end))
    if newest:
        win = Window(win.earliest, min(win.latest, datetime.fromisoformat(newest))) if win.latest else win
    moment = verdicts.random_moment(win, backup.host_now(conn), cfg.retention.daily_days, random.Random(seed))
    snapped = verdicts.snap_between_canaries(moment, _bracket(pconn, pcfg, moment, end), win.earliest)
    return verdicts.fixed_target(snapped.isoformat())


def _bracket(conn: Conn, cfg: StackConfig, moment: datetime, end: str) -> list[datetime]:
    """Times of the archived canaries just before and just after ``moment`` (or the two nearest on one side)."""
    return [datetime.fromisoformat(t) for t in remote.sql_json(conn, cfg, catalog.bracket_sql(moment.isoformat(), end))
            or []]


def run(conn: Conn, entry: HostConfig, cfg: StackConfig, kind: str, say: Say, keep: bool = False,
        seed: int | None = None, source: restore.Source | None = None, store: StackConfig | None = None) -> dict:
    """Run one drill; store and return its result (``passed`` says whether every check held).

    :param source: where production's canaries and counts are read (default: as ``cfg.hosts[0]`` reaches
        production on its own; on a staging host, :func:`pgvault.core.roles.production_view`)
    :param store: the stack whose credentials store the result in the bucket (default ``cfg``: on a staging host its
        restore keys, whose one write is that put)
    :returns: the result; ``key`` is its bucket key, or ``None`` when the bucket refused it: then ``not_stored``
        says why and where on the host it is kept (:func:`settle` turns both into the exit code)
    """
    started = datetime.now(UTC)
    name = "drill-" + started.strftime("%Y%m%d-%H%M%S")
    source = source or restore.local_source(conn, cfg)
    archived_wal = (backup.primary_state(*source) or {}).get("last_archived_wal")
    target = choose(conn, cfg, kind, archived_wal, seed, source)
    say(f"drill {name}: restoring {target.describe()} into a scratch cluster")
    result = {"stack": cfg.name, "stanza": cfg.pgbackrest.stanza, "host": entry.name, "name": name,
              "started": started.isoformat(), "target": {"kind": target.kind, "value": target.value,
                                                         "requested": kind},
              "checks": [], "seconds": {}}
    restored = None
    try:
        restored = restore.to_scratch(conn, entry, cfg, target, name, say, fall_back=False, source=source)
        result.update(backup_set=restored["backup_set"], recovered_to=restored["recovered_to"],
                      read_only_credentials=restored["read_only_credentials"])
        result["seconds"].update(fetch=restored["seconds"]["fetch"], replay=restored["seconds"]["replay_and_start"],
                                 rto=restored["seconds"]["total"])
        result["wal_replayed_bytes"] = _replayed(conn, cfg, restored)
        result["checks"].append({"name": "accepts connections", "passed": not restored["in_recovery"],
                                 "detail": f"port {restored['port']}, out of recovery"})
        checks_started = time.monotonic()
        result["checks"] += _checks(conn, cfg, target, restored, started, archived_wal, source)
        result["seconds"]["checks"] = round(time.monotonic() - checks_started, 1)
        result["recovery_lag_seconds"] = _recovery_lag(conn, cfg, target, restored, started)
    except PgvaultError as exc:
        result["checks"].append({"name": "restore", "passed": False, "detail": exc.one_line()})
    finally:
        if restored and not keep:
            restore.drop(conn, cfg, restored["name"])
    result["finished"] = datetime.now(UTC).isoformat()
    result["passed"] = all(c["passed"] for c in result["checks"])
    result["key"] = _store(store or cfg, result, conn, cfg)
    return result


def settle(result: dict, bucket: str) -> None:
    """Raise what a drill's result means for cron and on-call; nothing when it passed and is in the bucket.

    :raises PgvaultError: exit 7 when a check failed (naming the checks, and where the result is when the bucket
        refused it); else the refusal's: exit 1 (the keys and the grant they need) or 5 (the endpoint is unreachable)
    """
    failed = [c["name"] for c in result["checks"] if not c["passed"]]
    refused = result.get("not_stored")
    if failed:
        where = (f"s3://{bucket}/{result['key']}" if refused is None else
                 f"none in the bucket, which refused it ({refused['error']}): {refused['kept']}")
        raise PgvaultError(f"drill {result['name']} failed: {', '.join(failed)}; its result is at {where}",
                           "open the drill runbook" + ("" if refused is None else f"; {refused['fix']}"),
                           ExitCode.VERIFY)
    if refused is not None:
        raise PgvaultError(f"drill {result['name']} passed but the bucket refused its result ({refused['error']}): "
                           f"{refused['kept']}", refused["fix"],
                           ExitCode(refused["code"]))


def _replayed(conn: Conn, cfg: StackConfig, restored: dict) -> int | None:
    """WAL bytes the restore replayed: from the set's end to where the promoted copy's WAL is now (the hourly
    job's replay rate is this over ``seconds.replay``)."""
    chosen = next((b for b in backup.info(conn, cfg).backups if b.label == restored["backup_set"]), None)
    found = remote.sql_json(conn, cfg, "SELECT to_json(pg_current_wal_lsn()::text);", port=restored["port"],
                            socket_dir=restored["socket_dir"])
    if chosen is None or not chosen.lsn_stop or not found:
        return None
    return max(0, parse_lsn(found) - parse_lsn(chosen.lsn_stop))


def _checks(conn: Conn, cfg: StackConfig, target: Target, restored: dict, started: datetime,
            archived_wal: str | None, source: restore.Source) -> list[dict]:
    where = {"port": restored["port"], "socket_dir": restored["socket_dir"]}
    pg = cfg.postgres
    amcheck = remote.run(conn, [f"{pg.bin_dir}/pg_amcheck", "-h", restored["socket_dir"], "-p", str(restored["port"]),
                                "-U", pg.os_user, "--all", "--install-missing", "-j", "2"], user=pg.os_user, warn=True)
    lines = [line for line in (amcheck.stdout + amcheck.stderr).splitlines() if line.strip()]
    checks = [{"name": "pg_amcheck", "passed": amcheck.ok,
               "detail": "no corruption found in any database" if amcheck.ok else "; ".join(lines[:3])}]
    checks.append(_canary_check(conn, cfg, target, restored, started, where, archived_wal, source))
    until = target.time.isoformat() if target.time else datetime.now(UTC).isoformat()
    recorded = remote.sql_json(conn, cfg, catalog.stats_before_sql(until), **where) or {}
    actual = {db: remote.sql_json(conn, cfg, catalog.EXACT_COUNTS_SQL, database=db, **where) or {} for db in recorded}
    later = remote.sql_json(*source, catalog.stats_after_sql(until)) or {}  # production's catalog
    passed, detail = verdicts.counts_verdict(recorded, actual, later)
    checks.append({"name": "row counts", "passed": passed, "detail": detail if recorded else
                   "no counts recorded at a backup before the target"})
    return checks


def _canary_check(conn, cfg, target: Target, restored: dict, started: datetime, where: dict,
                  archived_wal: str | None, source: restore.Source) -> dict:
    if backup.primary_state(*source) is None:
        return {"name": "canaries", "passed": True, "detail": "the primary is down: nothing to compare with"}
    if target.kind == "latest":
        if not archived_wal:
            return {"name": "canaries", "passed": True, "detail": "nothing archived yet to compare with"}
        end = segment_end_lsn(archived_wal)
        rows = remote.sql_json(*source, catalog.canaries_before_sql(lsn_text(end), limit=500)) or []
        expected = [(s, datetime.fromisoformat(t), lsn) for s, t, lsn in rows]
        if not expected:
            return {"name": "canaries", "passed": True, "detail": "no canary written yet: is the canary job scheduled?"}
        newest = max(t for _, t, _ in expected)
        present = {seq for seq, _ in _canaries_around(conn, cfg, newest, minutes=600, **where)}
        passed, detail = verdicts.canary_verdict(Target("lsn", lsn=end), expected, present,
                                                 (end - CANARY_LSN_SLACK, end))
        return {"name": "canaries", "passed": passed,
                "detail": detail.replace("before the target", f"in WAL archived by {archived_wal}")}
    boundary = None
    if target.kind == "immediate":
        chosen = next(b for b in backup.info(conn, cfg).backups if b.label == restored["backup_set"])
        boundary = verdicts.boundary_of(chosen)
        centre = chosen.stop
    else:
        centre = target.time or datetime.now(UTC)
    expected = _canaries_with_lsn(*source, centre - timedelta(minutes=10), centre + timedelta(minutes=10))
    present = {seq for seq, _ in _canaries_around(conn, cfg, centre, **where)}
    passed, detail = verdicts.canary_verdict(target, expected, present, boundary)
    return {"name": "canaries", "passed": passed, "detail": detail}


def _recovery_lag(conn, cfg, target: Target, restored: dict, started: datetime) -> float | None:
    """Seconds between what was asked for and the newest canary recovered (the data a restore would lose)."""
    newest = remote.sql_json(conn, cfg, catalog.NEWEST_CANARY_SQL, port=restored["port"],
                             socket_dir=restored["socket_dir"])
    return None if newest is None else verdicts.recovery_lag(target, started, newest["written_at"])


def _store(store: StackConfig, result: dict, conn: Conn, cfg: StackConfig) -> str | None:
    """Put the result beside the backups (``drills/<stanza>/``) with ``store``'s keys; its key, ``None`` if refused.

    On a staging host those are its restore keys ("restore keys, and put drill results"): their one write is a put
    below ``drills/<stanza>/`` (``infra.documents.restore_policy``), so the monitor reads the result there.  A put
    the bucket refuses (or cannot take) loses nothing: the result is kept on the host (:func:`_keep_on_host`) with
    ``not_stored`` saying why, for :func:`settle`.
    """
    key = verdicts.result_key(store, result)
    bucket = store.repository.bucket
    try:
        s3_client(store).put_object(Bucket=bucket, Key=key, Body=json.dumps(result, indent=2).encode(),
                                    ContentType="application/json")
        return key
    except (ClientError, BotoCoreError) as exc:
        unreachable = isinstance(exc, (EndpointUnreachable, HTTPClientError))
        denied = isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in ("AccessDenied", "403")
        keys = _keys_named(store)
        result["not_stored"] = {
            "error": f"s3://{bucket}/{key}: {' '.join(str(exc).split())[:200]}",
            "code": int(ExitCode.UNREACHABLE if unreachable else ExitCode.FAILED),
            "fix": (f"fix the endpoint or the network to {store.repository.endpoint or 'S3'}" if unreachable else
                    f"give {keys} s3:PutObject on {drills_prefix(store)}* (pulumi up writes it)" if denied else
                    f"check the bucket and {keys}") + ", then drill again",
        }
    result["not_stored"]["kept"] = _keep_on_host(conn, cfg, result)
    return None


def _keep_on_host(conn: Conn, cfg: StackConfig, result: dict) -> str:
    """Write a result the bucket refused to ``<jobs.state_dir>/drills/<name>.json`` (0640, the PostgreSQL OS user's);
    where it is kept, in words ("kept at <path> on <host>", or why not)."""
    path = f"{cfg.jobs.state_dir}/drills/{result['name']}.json"
    owner = cfg.postgres.os_user
    try:
        remote.ensure_dir(conn, DesiredDir(path.rsplit("/", 1)[0], owner, 0o750))
        remote.put_file(conn, DesiredFile(path, json.dumps({**result, "not_stored": {
            k: v for k, v in result["not_stored"].items() if k != "kept"}}, indent=2) + "\n", owner, 0o640))
    except PgvaultError as exc:
        return f"not kept on {result['host']} either ({path}: {exc.message})"
    return f"kept at {path} on {result['host']}"


def _keys_named(cfg: StackConfig) -> str:
    """Which of the host's keys ``cfg`` uses, in words: the backup keys, or a staging host's restore keys."""
    return "the backup keys" if roles.holds_backup_keys(cfg.hosts[0]) else "the restore keys"


# ---------------------------------------------------------------- drill.rpo

_CANARY_LINE = re.compile(r"^(\d+)\|(.+)$")


def measure_rpo(conn: Conn, entry: HostConfig, cfg: StackConfig, say: Say, seed: int | None = None) -> dict:
    """Kill the sandbox primary at a random moment, restore from the bucket alone, measure the loss.

    Canaries are written every 0.2 s; after a random wait of one to two
    ``archive_timeout`` periods PostgreSQL is killed with SIGKILL and its data
    directory set aside (the "lost" primary); the latest backup and archived
    WAL are restored onto a fresh scratch cluster; the loss is the time between
    the last canary acknowledged and the last one recovered.  Afterwards the
    data directory is put back and the sandbox primary restarted.
    """
    if not cfg.is_sandbox:
        raise UsageError("drill.rpo kills PostgreSQL and sets its data directory aside",
                         "run it on a sandbox stack only; use drill.run elsewhere")
    pg = cfg.postgres
    rng = random.Random(seed)
    writer_sql = catalog.canary_writer_sql(0.2)
    timeout = archive_timeout_seconds(cfg.targets)
    wait = timeout * (1 + rng.random())
    say(f"writing canaries every 0.2 s; killing PostgreSQL in {wait:.0f} s (archive_timeout {timeout} s)")
    remote.sql(conn, cfg, catalog.ENSURE_SQL)
    lost_dir = f"{pg.data_dir}.lost"
    try:
        acknowledged = _write_then_kill(conn, cfg, writer_sql, wait)
        remote.run(conn, ["mv", "--", pg.data_dir, lost_dir], user=pg.os_user)
        say(f"primary killed; its data directory is set aside; last canary acknowledged: seq {acknowledged[0]} at "
            f"{acknowledged[1].isoformat()}")
        restored = restore.to_scratch(conn, entry, cfg, Target("latest"), "rpo-" + datetime.now(
            UTC).strftime("%Y%m%d-%H%M%S"), say, fall_back=False)
        newest = remote.sql_json(conn, cfg, catalog.NEWEST_CANARY_SQL, port=restored["port"],
                                 socket_dir=restored["socket_dir"])
        restore.drop(conn, cfg, restored["name"])
    finally:
        if remote.run(conn, ["test", "-d", lost_dir], user=pg.os_user, warn=True).ok:
            remote.run(conn, ["mv", "--", lost_dir, pg.data_dir], user=pg.os_user)
        if not service.is_running(conn, cfg):
            say("restarting the sandbox primary from its own data directory")
            service.control(conn, cfg, "start")
    recovered_at = datetime.fromisoformat(newest["written_at"])
    lost = round((acknowledged[1] - recovered_at).total_seconds(), 1)
    return {"last_written": {"seq": acknowledged[0], "at": acknowledged[1].isoformat()},
            "last_recovered": {"seq": newest["seq"], "at": newest["written_at"]},
            "lost_seconds": max(0.0, lost), "archive_timeout_seconds": timeout,
            "rpo_target_seconds": cfg.targets.rpo_seconds, "within_rpo": lost <= cfg.targets.rpo_seconds,
            "restore_seconds": restored["seconds"]}


def _write_then_kill(conn: Conn, cfg: StackConfig, writer_sql: str, wait: float) -> tuple[int, datetime]:
    """Run the canary writer until PostgreSQL is killed after ``wait`` seconds; return the last row it saw."""
    seen: list[tuple[int, datetime]] = []

    class Sink:
        def write(self, text: str) -> None:
            for line in text.splitlines():
                match = _CANARY_LINE.match(line.strip())
                if match:
                    seen.append((int(match.group(1)), datetime.fromisoformat(match.group(2))))

    pg = cfg.postgres
    writer = threading.Thread(target=lambda: remote.run(conn, psql_argv(cfg), user=pg.os_user, stdin=writer_sql,
                                                        stream=Sink(), warn=True), daemon=True)
    writer.start()
    time.sleep(wait)
    pid = remote.run(conn, ["head", "-n", "1", f"{pg.data_dir}/postmaster.pid"], user=pg.os_user).stdout.strip()
    remote.run(conn, ["kill", "-KILL", pid], user=pg.os_user)
    writer.join(timeout=30)
    if not seen:
        raise PgvaultError("the canary writer wrote nothing", "check that PostgreSQL was up", ExitCode.FAILED)
    return seen[-1]
