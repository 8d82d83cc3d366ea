"""Monitoring: collect the status facts, build the document, publish it, alert on changes, report.

The facts come from the DB host (pgBackRest's info, ``jobs.json``,
``pg_stat_archiver``, the volumes under pg_wal and the spool) and from the
bucket itself: the WAL figure is the newest segment object under the
repository's archive path, not only what PostgreSQL believes it archived
(with asynchronous archiving the two differ, and a stuck queue could
otherwise look healthy).  What cannot be read is carried in the facts as a
problem; the pure ``pgvault.core.monitoring.status`` turns the facts into the
document, and ``pgvault.core.monitoring.alerts`` decides when to alert.
Shared by ``fab monitor.*`` and ``pgvault-job``; files go to the DB host
(where node_exporter and an admin panel read them), metrics to CloudWatch,
messages to the alert topic and SMTP.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from botocore.config import Config

from pgvault.actions import backup, walproof
from pgvault.core import forecast
from pgvault.core.errors import PgvaultError
from pgvault.core.monitoring import alerts, dashboard, status
from pgvault.core.pgbackrest import StanzaInfo
from pgvault.core.plan import DesiredFile
from pgvault.core.retention import clock_for
from pgvault.core.schema import StackConfig
from pgvault.core.walproof import MONITOR_SEGMENTS
from pgvault.edges import bucket, notify, remote
from pgvault.edges.cloud import s3_client
from pgvault.edges.execute import Conn

_QUICK = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})
#: pgBackRest's info when the repository could not be read
_UNREAD = "repository unreachable"


def facts(conn: Conn, host_name: str, cfg: StackConfig) -> status.Facts:
    """Read everything the status document needs, and say what could not be read.

    When the bucket or pgBackRest's info cannot be read, the last status document the monitor wrote on
    the host (``status.json``) goes into the facts: its figures stand in as the last known values.
    """
    problems: list[str] = []
    now = backup.host_now(conn)
    primary = backup.primary_state(conn, cfg)
    if primary is None:
        problems.append(f"PostgreSQL on {host_name} does not answer")
    jobs = _jobs(conn, cfg)
    volumes = _volumes(conn, cfg)
    waiting = _waiting(conn, cfg)
    empty = StanzaInfo(cfg.pgbackrest.stanza, 99, _UNREAD, (), None, None)
    if not bucket.reachable(s3_client(cfg, config=_QUICK), cfg):
        problems.append(f"the bucket {cfg.repository.bucket} at {cfg.repository.endpoint_url} cannot be reached")
        fallback = None
        if primary and primary.get("last_archived_time"):
            fallback = (primary["last_archived_wal"], datetime.fromisoformat(primary["last_archived_time"]))
        return status.Facts(host_name, now, empty, primary, jobs, fallback, None, {}, [], volumes, problems,
                            waiting, frozenset({"bucket"}), _previous(conn, cfg), walproof.read_state(conn, cfg))
    unread, previous = frozenset(), None
    try:
        stanza = backup.info(conn, cfg)
    except PgvaultError as exc:
        problems.append(exc.message)
        stanza, unread, previous = empty, frozenset({"repository"}), _previous(conn, cfg)
    try:
        proof = walproof.prove(conn, cfg, lambda _line: None, limit=MONITOR_SEGMENTS)
    except PgvaultError as exc:
        problems.append(f"the WAL proof could not run: {exc.message}")
        proof = walproof.read_state(conn, cfg)
    client = s3_client(cfg)
    objects = bucket.listing(client, cfg)
    return status.Facts(host_name, now, stanza, primary, jobs, bucket.newest_wal(client, cfg),
                        bucket.newest_logical(client, cfg), bucket.usage(client, cfg, objects),
                        bucket.latest_drills(client, cfg), volumes, problems, waiting, unread, previous, proof,
                        cohorts=forecast.cohorts(cfg, objects, now))


def _previous(conn: Conn, cfg: StackConfig) -> dict | None:
    """The last status document the monitor wrote on the host, ``None`` when there is none."""
    return _read_json(conn, cfg, status.state_path(cfg, "status.json"))


def _waiting(conn: Conn, cfg: StackConfig) -> list[tuple[str, datetime]]:
    """The finished WAL segments PostgreSQL still waits to archive (``.ready`` files), with when each finished."""
    folder = f"{cfg.postgres.data_dir}/pg_wal/archive_status"
    found = remote.run(conn, ["find", folder, "-maxdepth", "1", "-name", "*.ready", "-printf", "%T@ %f\\n"],
                       user=cfg.postgres.os_user, warn=True)
    return [(name.removesuffix(".ready"), datetime.fromtimestamp(float(stamp), UTC))
            for stamp, name in (line.split(" ", 1) for line in found.stdout.splitlines() if " " in line)]


def _volumes(conn: Conn, cfg: StackConfig) -> dict[str, tuple[int, int]]:
    """Percent used and bytes free of the file systems holding pg_wal and the archive spool."""
    paths = {"pg_wal": f"{cfg.postgres.data_dir}/pg_wal", "spool": cfg.pgbackrest.spool_path}
    found = {}
    for name, path in paths.items():
        result = remote.run(conn, ["df", "-P", "-B1", "--", path], user=cfg.postgres.os_user, warn=True)
        lines = result.stdout.strip().splitlines()
        if result.ok and len(lines) >= 2:
            fields = lines[-1].split()
            found[name] = (int(fields[4].rstrip("%")), int(fields[3]))
    return found


def _jobs(conn: Conn, cfg: StackConfig) -> dict:
    return _read_json(conn, cfg, f"{cfg.jobs.state_dir}/jobs.json") or {}


def _read_json(conn: Conn, cfg: StackConfig, path: str) -> dict | None:
    """A JSON file on the host, ``None`` when it is missing, empty or not JSON."""
    found = _read(conn, cfg, path)
    try:
        return json.loads(found) if found and found.strip() else None
    except ValueError:
        return None


def _read(conn: Conn, cfg: StackConfig, path: str) -> str | None:
    """The text of a file on the host read as the PostgreSQL OS user, ``None`` when it is not there."""
    found = remote.run(conn, ["cat", "--", path], user=cfg.postgres.os_user, warn=True)
    return found.stdout if found.ok else None


def document(conn: Conn, host_name: str, cfg: StackConfig) -> dict:
    """The status document of one host (``status.build`` over :func:`facts`)."""
    return status.build(cfg, facts(conn, host_name, cfg), clock_for(cfg))


def publish(conn: Conn, cfg: StackConfig, doc: dict) -> list[str]:
    """Send the document's metrics to CloudWatch, write the host's files, alert on a change; return problems."""
    owner = cfg.postgres.os_user
    files = [DesiredFile(status.textfile_path(cfg), status.prometheus(doc), owner, 0o644),
             DesiredFile(status.state_path(cfg, "status.json"), json.dumps(doc, indent=2, sort_keys=True), owner,
                         0o640),
             DesiredFile(status.state_path(cfg, "dashboard.html"), dashboard.render(doc), owner, 0o640)]
    for item in files:
        remote.put_file(conn, item)
    problems = [p for p in [notify.put_metrics(cfg, status.metric_values(doc))] if p]
    return problems + _alert_on_change(conn, cfg, doc)


def _alert_on_change(conn: Conn, cfg: StackConfig, doc: dict) -> list[str]:
    """Alert when checks turn critical, and when none is critical any more (alarms without CloudWatch)."""
    path = status.state_path(cfg, "alert-state")
    before = set((_read(conn, cfg, path) or "").split())
    change = alerts.transition(before, alerts.critical_keys(doc))
    if not change.changed:
        return []
    remote.put_file(conn, DesiredFile(path, "".join(f"{k}\n" for k in change.remember), cfg.postgres.os_user, 0o640))
    if change.alert:
        return notify.send(cfg, *alerts.state_change(cfg, doc, list(change.newly_critical)))
    return []


def report(conn: Conn, cfg: StackConfig, doc: dict) -> tuple[str, list[str]]:
    """Send the daily report; remember this document to show size changes next time."""
    previous_path = status.state_path(cfg, "last-report.json")
    previous = _read_json(conn, cfg, previous_path)
    subject, body = alerts.report(cfg, doc, previous)
    problems = notify.send(cfg, subject, body)
    remote.put_file(conn, DesiredFile(previous_path, json.dumps(doc), cfg.postgres.os_user, 0o640))
    return subject, problems
