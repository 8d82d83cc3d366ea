"""What the bucket itself holds: WAL segments, logical dumps, storage by prefix, drill results.

Listings, not pgBackRest's word for it: the monitoring measures WAL lag from
the newest segment object, and restores look for holes in the archive before
replaying across one.

Every request stays below pgvault's own prefixes: the DB host's policy lets
it list nothing else (``infra.documents``), so neither ``HeadBucket`` nor a
listing of the whole bucket is ever sent.
"""

from __future__ import annotations

import json
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from pgvault.core import repair, walarchive
from pgvault.core.bucket import archive_root, drills_prefix, usage_categories
from pgvault.core.logical import stanza_prefix
from pgvault.core.schema import StackConfig


def _prefixes(client, bucket: str, prefix: str) -> list[str]:
    answer = client.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/")
    return sorted(p["Prefix"] for p in answer.get("CommonPrefixes", []))


def _archive_ids(client, cfg: StackConfig) -> list[str]:
    return sorted(_prefixes(client, cfg.repository.bucket, archive_root(cfg)),
                  key=lambda p: int(p.rstrip("/").rsplit("-", 1)[-1]))


def _segments(client, bucket: str, prefix: str) -> list[tuple[str, datetime]]:
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            name = walarchive.segment_name(item["Key"])
            if name:
                found.append((name, item["LastModified"]))
    return found


def newest_wal(client, cfg: StackConfig) -> tuple[str, datetime] | None:
    """The newest WAL segment object in the repository: (segment name, when it landed)."""
    for archive_id in reversed(_archive_ids(client, cfg)):
        for folder in reversed(_prefixes(client, cfg.repository.bucket, archive_id)):
            segments = _segments(client, cfg.repository.bucket, folder)
            if segments:
                return max(segments)
    return None


def current_archive(client, cfg: StackConfig) -> str | None:
    """The key prefix of the current archive id (the database system the stanza backs up now)."""
    ids = _archive_ids(client, cfg)
    return ids[-1] if ids else None


def timelines(client, cfg: StackConfig) -> list[int]:
    """The timelines whose history files the current archive id holds (a timeline above 1 has one)."""
    prefix = current_archive(client, cfg)
    if prefix is None:
        return []
    names = [item["Key"].rsplit("/", 1)[-1]
             for page in client.get_paginator("list_objects_v2").paginate(Bucket=cfg.repository.bucket, Prefix=prefix,
                                                                          Delimiter="/")
             for item in page.get("Contents", [])]
    return sorted(int(name.split(".")[0], 16) for name in names if name.endswith(".history"))


def archive_segments(client, cfg: StackConfig) -> list[tuple[str, datetime]]:
    """Every WAL segment of the current archive id."""
    prefix = current_archive(client, cfg)
    return _segments(client, cfg.repository.bucket, prefix) if prefix else []


def newest_logical(client, cfg: StackConfig) -> datetime | None:
    """When the newest logical dump landed."""
    newest = None
    prefix = stanza_prefix(cfg)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=cfg.repository.bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"].endswith(".dump") and (newest is None or item["LastModified"] > newest):
                newest = item["LastModified"]
    return newest


def reachable(client, cfg: StackConfig) -> bool:
    """True when the repository prefix can be listed (the host's proof that the bucket answers)."""
    try:
        client.list_objects_v2(Bucket=cfg.repository.bucket, Prefix=cfg.repository.repo_prefix, MaxKeys=1)
        return True
    except (ClientError, BotoCoreError):
        return False


def listing(client, cfg: StackConfig) -> list[tuple[str, int, datetime, str]]:
    """Every current object under pgvault's prefixes: ``(key, size, last modified, storage class)``."""
    return [(item["Key"], item["Size"], item["LastModified"], item.get("StorageClass") or "STANDARD")
            for prefix in usage_categories(cfg)
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=cfg.repository.bucket, Prefix=prefix)
            for item in page.get("Contents", [])]


def usage(client, cfg: StackConfig, objects: list[tuple[str, int, datetime, str]] | None = None) -> dict[str, int]:
    """Bytes stored by category (backups, WAL, logical dumps, drill results) and in noncurrent versions.

    Each category is listed under its own prefix; objects outside pgvault's
    prefixes are not the host's to see.

    :param objects: :func:`listing`, when the caller already has it
    """
    bucket = cfg.repository.bucket
    objects = listing(client, cfg) if objects is None else objects
    totals = {name: sum(size for key, size, _, _ in objects if key.startswith(prefix))
              for prefix, name in usage_categories(cfg).items()}
    try:
        totals["noncurrent"] = sum(
            version["Size"] for prefix in usage_categories(cfg)
            for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
            for version in page.get("Versions", []) if not version.get("IsLatest"))
    except (ClientError, BotoCoreError):
        pass  # an S3 implementation without versioning: no noncurrent figure
    return totals


def latest_drills(client, cfg: StackConfig, limit: int = 20) -> list[dict]:
    """The newest drill results stored beside the backups, newest first by the bucket's time, with its facts.

    Each is the stored body with ``stored`` set from the bucket, never from the body: ``key``, ``at`` (the
    object's ``LastModified``), ``versions`` (how many times the key was written; ``None`` where versions cannot
    be listed) and ``invalid`` when the body is not a JSON object.  Whether to believe it is
    ``pgvault.core.drill.sort_out``'s call.
    """
    prefix, name = drills_prefix(cfg), cfg.repository.bucket
    objects = [item for page in client.get_paginator("list_objects_v2").paginate(Bucket=name, Prefix=prefix)
               for item in page.get("Contents", []) if item["Key"].endswith(".json")]
    objects.sort(key=lambda item: (item["LastModified"], item["Key"]), reverse=True)
    written = _times_written(client, name, prefix)
    found = []
    for item in objects[:limit]:
        try:
            body = json.loads(client.get_object(Bucket=name, Key=item["Key"])["Body"].read())
        except ValueError:
            body = None
        stored = {"key": item["Key"], "at": item["LastModified"].isoformat(),
                  "versions": None if written is None else written.get(item["Key"], 1)}
        if not isinstance(body, dict):
            body, stored["invalid"] = {}, "the body is not a JSON object"
        found.append({**body, "stored": stored})
    return found


def _times_written(client, bucket: str, prefix: str) -> dict[str, int] | None:
    """How many versions each key below ``prefix`` has; ``None`` when the keys in use cannot list versions."""
    counts: dict[str, int] = {}
    try:
        for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            for version in page.get("Versions", []):
                counts[version["Key"]] = counts.get(version["Key"], 0) + 1
    except (ClientError, BotoCoreError):
        return None
    return counts


def versions(client, cfg: StackConfig, prefix: str) -> list[repair.Version]:
    """Every version and delete marker below ``prefix`` (a repository path), newest state included."""
    found = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=cfg.repository.bucket, Prefix=prefix):
        found += [repair.Version(v["Key"], v["VersionId"], v["LastModified"], v["Size"], v["IsLatest"])
                  for v in page.get("Versions", [])]
        found += [repair.Version(m["Key"], m["VersionId"], m["LastModified"], 0, m["IsLatest"], deleted=True)
                  for m in page.get("DeleteMarkers", [])]
    return found


def bring_back(client, cfg: StackConfig, version: repair.Version) -> str:
    """Copy ``version`` over its key as the new current version (the replaced one stays noncurrent); its id."""
    answer = client.copy_object(Bucket=cfg.repository.bucket, Key=version.key, ChecksumAlgorithm="SHA256",
                                CopySource={"Bucket": cfg.repository.bucket, "Key": version.key,
                                            "VersionId": version.version_id})
    return answer.get("VersionId", "")
