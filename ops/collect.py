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
import re
from datetime import datetime
from typing import Optional

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ops import backups, expiry, remote, status
from ops.cloud import s3_client
from ops.errors import PgvaultError
from ops.execute import Conn
from ops.pgbackrest import StanzaInfo
from ops.schema import StackConfig

_SEGMENT = re.compile(r"^([0-9A-F]{24})-[0-9a-f]{40}")
_QUICK = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})


def facts(conn: Conn, host_name: str, cfg: StackConfig) -> tuple[status.Facts, list[str]]:
    """Read everything the status document needs; return the facts and any problems met on the way."""
    problems: list[str] = []
    now = backups.host_now(conn)
    primary = backups.primary_state(conn, cfg)
    if primary is None:
        problems.append(f"PostgreSQL on {host_name} does not answer")
    jobs = _jobs(conn, cfg)
    client = s3_client(cfg)
    empty = StanzaInfo(cfg.pgbackrest.stanza, 99, "repository unreachable", (), None, None)
    if not _reachable(cfg):
        problems.append(f"the bucket {cfg.repository.bucket} at {cfg.repository.endpoint_url} cannot be reached")
        fallback = None
        if primary and primary.get("last_archived_time"):
            fallback = (primary["last_archived_wal"], datetime.fromisoformat(primary["last_archived_time"]))
        return status.Facts(host_name, now, empty, primary, jobs, fallback, None, {}), problems
    try:
        stanza = backups.info(conn, cfg)
    except PgvaultError as exc:
        problems.append(exc.message)
        stanza = empty
    return status.Facts(host_name, now, stanza, primary, jobs, newest_wal(client, cfg), newest_logical(client, cfg),
                        usage(client, cfg), latest_drills(client, cfg)), problems


def _reachable(cfg: StackConfig) -> bool:
    try:
        s3_client(cfg, config=_QUICK).head_bucket(Bucket=cfg.repository.bucket)
        return True
    except (ClientError, BotoCoreError):
        return False


def _jobs(conn: Conn, cfg: StackConfig) -> dict:
    found = remote.run(conn, ["cat", "--", f"{cfg.jobs.state_dir}/jobs.json"], user=cfg.postgres.os_user, warn=True)
    try:
        return json.loads(found.stdout) if found.ok else {}
    except ValueError:
        return {}


def _prefixes(client, bucket: str, prefix: str) -> list[str]:
    answer = client.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/")
    return sorted(p["Prefix"] for p in answer.get("CommonPrefixes", []))


def newest_wal(client, cfg: StackConfig) -> Optional[tuple[str, datetime]]:
    """The newest WAL segment object in the repository: (segment name, when it landed)."""
    bucket = cfg.repository.bucket
    root = f"{cfg.repository.repo_prefix}archive/{cfg.pgbackrest.stanza}/"
    archive_ids = sorted(_prefixes(client, bucket, root), key=lambda p: int(p.rstrip("/").rsplit("-", 1)[-1]))
    for archive_id in reversed(archive_ids):
        for folder in reversed(_prefixes(client, bucket, archive_id)):
            segments = []
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
                for item in page.get("Contents", []):
                    match = _SEGMENT.match(item["Key"].rsplit("/", 1)[-1])
                    if match:
                        segments.append((match.group(1), item["LastModified"]))
            if segments:
                return max(segments)
    return None


def newest_logical(client, cfg: StackConfig) -> Optional[datetime]:
    """When the newest logical dump landed."""
    newest = None
    prefix = f"{cfg.repository.logical_prefix}/{cfg.pgbackrest.stanza}/"
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=cfg.repository.bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".dump") and (newest is None or item["LastModified"] > newest):
                newest = item["LastModified"]
    return newest


def usage(client, cfg: StackConfig) -> dict[str, int]:
    """Bytes stored by category: backups, WAL, logical dumps, drill results, noncurrent versions."""
    repo = cfg.repository
    categories = {f"{repo.repo_prefix}backup/": "backups", f"{repo.repo_prefix}archive/": "wal",
                  f"{repo.logical_prefix}/": "logical", f"{repo.drills_prefix}/": "drills"}
    totals = {name: 0 for name in categories.values()} | {"other": 0}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=repo.bucket):
        for item in page.get("Contents", []):
            name = next((n for p, n in categories.items() if item["Key"].startswith(p)), "other")
            totals[name] += item["Size"]
    try:
        noncurrent = 0
        for page in client.get_paginator("list_object_versions").paginate(Bucket=repo.bucket):
            noncurrent += sum(v["Size"] for v in page.get("Versions", []) if not v.get("IsLatest"))
        totals["noncurrent"] = noncurrent
    except (ClientError, BotoCoreError):
        pass  # an S3 implementation without versioning: no noncurrent figure
    return totals


def latest_drills(client, cfg: StackConfig, limit: int = 20) -> list[dict]:
    """The newest drill results stored beside the backups, newest first."""
    prefix = f"{cfg.repository.drills_prefix}/{cfg.pgbackrest.stanza}/"
    keys = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=cfg.repository.bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", []) if item["Key"].endswith(".json")]
    return [json.loads(client.get_object(Bucket=cfg.repository.bucket, Key=key)["Body"].read())
            for key in sorted(keys, reverse=True)[:limit]]


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
