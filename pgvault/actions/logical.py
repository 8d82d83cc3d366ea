"""Logical dumps to S3, listing them, and restoring one (a database or a table).

``pg_dump -Fc`` runs on the DB host (over SSH from ``fab``, locally from
``pgvault-job``) or, for a managed database without host access, on this
machine against ``$PGVAULT_LOGICAL_DSN``; its output is streamed into an S3
multipart upload while its SHA-256 is computed, so the dump is never staged
on disk.  A restore downloads the object, checks its SHA-256 against the
manifest before anything else, refuses a table the dump lacks, creates the
target database (refusing a non-empty one without ``--force``) and runs
``pg_restore`` there: for one table, with a list file of the table and what
belongs to it (``pgvault.core.dumptoc``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from pgvault.core import catalog, dumptoc, logical
from pgvault.core.errors import ExitCode, PgvaultError, UsageError
from pgvault.core.plan import DesiredFile
from pgvault.core.postgres import sql_identifier, sql_literal
from pgvault.core.schema import StackConfig
from pgvault.core.units import human_bytes
from pgvault.edges import remote
from pgvault.edges.cloud import s3_client
from pgvault.edges.execute import Conn, LocalHost, StreamFailed, stream_stdout

PART_BYTES = 32 * 1024 * 1024
DSN_VARIABLE = "PGVAULT_LOGICAL_DSN"
_EMPTY_SQL = ("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
              "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f');")


def _s3_error(exc: Exception, what: str) -> PgvaultError:
    return PgvaultError(f"S3 {what} failed: {' '.join(str(exc).split())[:200]}",
                        "check the endpoint, the bucket and the S3 credentials", ExitCode.UNREACHABLE)


def dsn_environment() -> dict[str, str] | None:
    """libpq variables from ``$PGVAULT_LOGICAL_DSN`` (None when unset); the password never reaches argv."""
    dsn = os.environ.get(DSN_VARIABLE)
    if not dsn:
        return None
    from psycopg.conninfo import conninfo_to_dict

    names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
             "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "passfile": "PGPASSFILE"}
    parts = conninfo_to_dict(dsn)
    return {names[k]: str(v) for k, v in parts.items() if k in names}


def _dump_stream(conn: Conn, cfg: StackConfig, database: str, dsn_env: dict | None) -> Iterator[bytes]:
    if dsn_env is not None:
        return stream_stdout(LocalHost(), shlex.join(["pg_dump", "-Fc", "-d", database]), env=dsn_env)
    pg = cfg.postgres
    argv = [f"{pg.bin_dir}/pg_dump", "-Fc", "-h", pg.socket_dir, "-p", str(pg.port), "-U", pg.os_user, "-d", database]
    return stream_stdout(conn, shlex.join(remote.as_user(conn, pg.os_user) + argv))


def dump_all(conn: Conn, cfg: StackConfig, say: Callable[[str], None], dsn_env: dict | None = None) -> list[dict]:
    """Dump every configured database to S3; return their manifests."""
    client = s3_client(cfg)
    return [dump_one(conn, cfg, client, database, say, dsn_env) for database in cfg.postgres.databases]


def dump_one(conn: Conn, cfg: StackConfig, client, database: str, say: Callable[[str], None],
             dsn_env: dict | None = None) -> dict:
    """Stream one ``pg_dump -Fc`` into a multipart upload, tag it, and write its manifest."""
    started = datetime.now(UTC)
    key = logical.dump_key(cfg, database, started)
    tier = logical.tier_for(started, cfg.retention.weekly_day)
    bucket = cfg.repository.bucket
    say(f"  dumping {database} to s3://{bucket}/{key} ({tier})")
    try:
        upload = client.create_multipart_upload(Bucket=bucket, Key=key, Tagging=logical.tagging({"tier": tier}),
                                                ContentType="application/octet-stream")
    except (ClientError, BotoCoreError) as exc:
        raise _s3_error(exc, "upload") from None
    digest, size, parts, buffer = hashlib.sha256(), 0, [], bytearray()
    try:
        for chunk in _dump_stream(conn, cfg, database, dsn_env):
            digest.update(chunk)
            size += len(chunk)
            buffer += chunk
            if len(buffer) >= PART_BYTES:
                parts.append(_part(client, bucket, key, upload["UploadId"], len(parts) + 1, bytes(buffer)))
                buffer.clear()
        parts.append(_part(client, bucket, key, upload["UploadId"], len(parts) + 1, bytes(buffer)))
        client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"],
                                         MultipartUpload={"Parts": parts})
    except StreamFailed as exc:
        _abort(client, bucket, key, upload["UploadId"])
        raise PgvaultError(f"pg_dump of {database} failed: {exc}", "nothing was stored; check the database",
                           ExitCode.FAILED) from None
    except (ClientError, BotoCoreError) as exc:
        _abort(client, bucket, key, upload["UploadId"])
        raise _s3_error(exc, "upload") from None
    sha = digest.hexdigest()
    client.put_object_tagging(Bucket=bucket, Key=key,
                              Tagging={"TagSet": [{"Key": "tier", "Value": tier}, {"Key": "sha256", "Value": sha}]})
    version = "unknown" if dsn_env is not None else remote.sql(conn, cfg, "SHOW server_version;").strip()
    doc = logical.manifest(cfg, database, key, started, datetime.now(UTC), size, sha, tier, version)
    client.put_object(Bucket=bucket, Key=logical.manifest_key(key), Body=json.dumps(doc, indent=2).encode(),
                      ContentType="application/json", Tagging=logical.tagging({"tier": tier}))
    say(f"  {database}: {human_bytes(size)}, sha256 {sha[:16]}...")
    return doc


def _abort(client, bucket: str, key: str, upload_id: str) -> None:
    """Abort a failed upload; if S3 refuses that too, the lifecycle rule removes the parts, and the
    error reported stays the one that made the dump fail."""
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except (ClientError, BotoCoreError):
        pass


def _part(client, bucket: str, key: str, upload_id: str, number: int, body: bytes) -> dict:
    answer = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
    return {"PartNumber": number, "ETag": answer["ETag"]}


def list_dumps(cfg: StackConfig) -> list[dict]:
    """Every manifest under the stack's logical prefix, oldest first."""
    client = s3_client(cfg)
    prefix = logical.stanza_prefix(cfg)
    found = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=cfg.repository.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if item["Key"].endswith(".dump.json"):
                    body = client.get_object(Bucket=cfg.repository.bucket, Key=item["Key"])["Body"].read()
                    found.append(json.loads(body))
    except (ClientError, BotoCoreError) as exc:
        raise _s3_error(exc, "listing") from None
    return sorted(found, key=lambda m: m["started"])


def download_verified(cfg: StackConfig, chosen: dict, folder: Path) -> Path:
    """Download the dump into ``folder`` and check its SHA-256 against the manifest.

    :raises PgvaultError: (exit 7) on a mismatch: the object was altered or corrupted
    """
    client = s3_client(cfg)
    target = folder / "dump"
    digest = hashlib.sha256()
    try:
        body = client.get_object(Bucket=cfg.repository.bucket, Key=chosen["key"])["Body"]
        with open(target, "wb") as out:
            for chunk in body.iter_chunks(1024 * 1024):
                digest.update(chunk)
                out.write(chunk)
    except (ClientError, BotoCoreError) as exc:
        raise _s3_error(exc, "download") from None
    if digest.hexdigest() != chosen["sha256"]:
        raise PgvaultError(
            f"checksum mismatch for {chosen['key']}: the object's SHA-256 is {digest.hexdigest()[:16]}..., "
            f"its manifest says {chosen['sha256'][:16]}...; the dump was altered or corrupted",
            "nothing was restored; choose another dump (fab backup.logical-list) or a physical restore",
            ExitCode.VERIFY)
    return target


def restore(conn: Conn, cfg: StackConfig, selector: str, into: str, table: str | None, source: str | None,
            force: bool, say: Callable[[str], None]) -> dict:
    """Restore a dump (or one table of it, with its indexes, constraints, triggers, grants and sequences) into
    database ``into`` on the host; report the rows of what was restored only.

    A production database (``check_restore_target``) and a ``table`` the dump lacks are refused, listing the
    tables it holds, before the database is created.
    """
    into = logical.check_restore_target(cfg, into)
    chosen = logical.choose(list_dumps(cfg), selector, source)
    say(f"  dump {chosen['key']} of {chosen['database']} ({human_bytes(chosen['bytes'])}, {chosen['started']})")
    state = _target_state(conn, cfg, into)
    if state == "non-empty" and not force:
        raise UsageError(f"database {into} exists and is not empty",
                         "restore into a new database name, or add --force to drop its objects and restore over it")
    folder = Path(tempfile.mkdtemp(prefix="pgvault-dump-"))
    selection = None
    try:
        local = download_verified(cfg, chosen, folder)
        say("  SHA-256 verified against the manifest")
        owner = cfg.postgres.os_user
        staging = remote.run(conn, ["mktemp", "-d", "/tmp/pgvault-restore.XXXXXXXX"], user=owner).stdout.strip()
        try:
            with open(local, "rb") as source_file:
                remote.install_stream(conn, source_file, f"{staging}/dump", owner, 0o600)
            list_file = None
            if table:
                selection = _select(conn, cfg, f"{staging}/dump", chosen["key"], table, into, state)
                list_file = f"{staging}/list"
                remote.put_file(conn, DesiredFile(list_file, selection.list_file(), owner, 0o600))
            if state == "missing":
                remote.sql(conn, cfg, f"CREATE DATABASE {sql_identifier(into)};")
            _pg_restore(conn, cfg, f"{staging}/dump", into, list_file, force)
        finally:
            remote.run(conn, ["rm", "-rf", "--", staging], user=owner, warn=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    counts = remote.sql_json(conn, cfg, catalog.EXACT_COUNTS_SQL, database=into) or {}
    if selection is None:
        return {"dump": chosen["key"], "database": into, "table": None, "rows": counts}
    return {"dump": chosen["key"], "database": into, "table": selection.table,
            "rows": {name: counts.get(name, 0) for name in selection.tables()},
            "restored": [entry.describe() for entry in selection.entries], "parts": selection.parts(),
            "skipped": list(selection.skipped)}


def _select(conn: Conn, cfg: StackConfig, path: str, key: str, table: str, into: str,
            state: str) -> dumptoc.Selection:
    """The entries of the dump at ``path`` that restore ``table`` and what belongs to it (``pgvault.core.dumptoc``).

    :raises UsageError: for a table the dump does not hold, listing those it does
    """
    pg_restore, owner = f"{cfg.postgres.bin_dir}/pg_restore", cfg.postgres.os_user
    entries = dumptoc.parse_toc(remote.run(conn, [pg_restore, "-l", path], user=owner).stdout)
    schema, name = dumptoc.resolve_table(entries, table, key)
    definitions = dumptoc.parse_definitions(remote.run(conn, [pg_restore, "-s", "-f", "-", path], user=owner).stdout)
    present = remote.sql_json(conn, cfg, catalog.OBJECT_NAMES_SQL, database=into) if state != "missing" else []
    return dumptoc.select_table(entries, definitions, schema, name, present or (), into)


def _target_state(conn: Conn, cfg: StackConfig, database: str) -> str:
    exists = remote.sql(conn, cfg, f"SELECT 1 FROM pg_database WHERE datname = {sql_literal(database)};").strip()
    if not exists:
        return "missing"
    return "non-empty" if int(remote.sql(conn, cfg, _EMPTY_SQL, database=database).strip()) else "empty"


def _pg_restore(conn: Conn, cfg: StackConfig, path: str, into: str, list_file: str | None, force: bool) -> None:
    pg = cfg.postgres
    argv = [f"{pg.bin_dir}/pg_restore", "--exit-on-error", "-h", pg.socket_dir, "-p", str(pg.port), "-U", pg.os_user,
            "-d", into]
    if list_file:
        argv += ["-L", list_file]
    if force:
        argv += ["--clean", "--if-exists"]
    result = remote.run(conn, argv + [path], user=pg.os_user, warn=True)
    if not result.ok:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PgvaultError(f"pg_restore into {into} failed: {tail[0][:200]}", "the dump itself verified; "
                           "check the target database", ExitCode.FAILED)
