"""EDGE: gather the raw facts of ``monitor.collect`` from the DB host and the bucket.

The WAL figure comes from the bucket itself (the newest segment object under
the repository's archive path), not only from what PostgreSQL believes it
archived: with asynchronous archiving the two differ, and a stuck queue could
otherwise look healthy.  When the bucket cannot be reached at all, the
document says so and the WAL lag falls back to PostgreSQL's own last archived
time, which stops advancing: either way the lag grows and the state turns red.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Optional

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ops import backups, bucket, expiry, remote, status
from ops.cloud import s3_client
from ops.errors import PgvaultError
from ops.execute import Conn
from ops.pgbackrest import StanzaInfo
from ops.schema import StackConfig

_QUICK = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})


def facts(conn: Conn, host_name: str, cfg: StackConfig) -> tuple[status.Facts, list[str]]:
    """Read everything the status document needs; return the facts and any problems met on the way."""
    problems: list[str] = []
    now = backups.host_now(conn)
    primary = backups.primary_state(conn, cfg)
    if primary is None:
        problems.append(f"PostgreSQL on {host_name} does not answer")
    jobs = _jobs(conn, cfg)
    volumes = _volumes(conn, cfg)
    client = s3_client(cfg)
    empty = StanzaInfo(cfg.pgbackrest.stanza, 99, "repository unreachable", (), None, None)
    if not _reachable(cfg):
        problems.append(f"the bucket {cfg.repository.bucket} at {cfg.repository.endpoint_url} cannot be reached")
        fallback = None
        if primary and primary.get("last_archived_time"):
            fallback = (primary["last_archived_wal"], datetime.fromisoformat(primary["last_archived_time"]))
        return status.Facts(host_name, now, empty, primary, jobs, fallback, None, {}, [], volumes), problems
    try:
        stanza = backups.info(conn, cfg)
    except PgvaultError as exc:
        problems.append(exc.message)
        stanza = empty
    return status.Facts(host_name, now, stanza, primary, jobs, bucket.newest_wal(client, cfg),
                        bucket.newest_logical(client, cfg), bucket.usage(client, cfg), bucket.latest_drills(client, cfg),
                        volumes), problems


def _reachable(cfg: StackConfig) -> bool:
    try:
        s3_client(cfg, config=_QUICK).head_bucket(Bucket=cfg.repository.bucket)
        return True
    except (ClientError, BotoCoreError):
        return False


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
    found = remote.run(conn, ["cat", "--", f"{cfg.jobs.state_dir}/jobs.json"], user=cfg.postgres.os_user, warn=True)
    try:
        return json.loads(found.stdout) if found.ok else {}
    except ValueError:
        return {}


def document(conn: Conn, host_name: str, cfg: StackConfig) -> dict:
    """The status document of one host (``ops.status.build`` over :func:`facts`)."""
    gathered, problems = facts(conn, host_name, cfg)
    doc = status.build(cfg, gathered, expiry.clock_for(cfg))
    for problem in problems:
        doc["checks"].insert(0, {"key": "collection", "state": status.CRITICAL, "value": None, "limit": None,
                                 "message": problem})
    if problems:
        doc["state"] = status.CRITICAL
    return doc
