"""Logical dumps against the sandbox's S3 over TLS: dump, list, verify, restore, refuse corruption."""

from __future__ import annotations

import json

import pytest

from pgvault.core.errors import ExitCode
from sandbox.lifecycle import admin_client
from sandbox.seed import TABLES, checksum_sql


@pytest.fixture(scope="module")
def dumped(configured):
    configured.ok("backup.logical")
    found = json.loads(configured.ok("backup.logical-list", "--json"))["dumps"]
    return found[-1]


def test_a_dump_is_listed_with_its_manifest_and_tags(configured, dumped):
    assert dumped["database"] == "crm" and dumped["bytes"] > 0 and len(dumped["sha256"]) == 64
    assert dumped["key"].startswith("logical/crm/crm/") and dumped["tier"] in ("daily", "weekly", "monthly")
    s3 = admin_client(configured.cfg)  # the host may tag its dumps but has no need to read tags back
    tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=configured.cfg.repository.bucket,
                                                              Key=dumped["key"])["TagSet"]}
    assert tags == {"tier": dumped["tier"], "sha256": dumped["sha256"]}
    head = s3.head_object(Bucket=configured.cfg.repository.bucket, Key=dumped["key"])
    assert head["ContentLength"] == dumped["bytes"]


@pytest.mark.slow
def test_restore_into_a_new_database_matches_the_source(configured, dumped):
    configured.ok("restore.logical", "--dump", dumped["key"], "--into", "crm_logical_copy")
    source = configured.sql(checksum_sql())[0][0]
    copy = configured.sql(checksum_sql(), configured.dsn.replace("/crm?", "/crm_logical_copy?"))[0][0]
    assert copy == source and set(source) == set(TABLES)


def test_a_non_empty_target_is_refused_without_force(configured, dumped):
    done = configured.fab("restore.logical", "--dump", dumped["key"], "--into", "crm")
    assert done.returncode == ExitCode.USAGE and "exists and is not empty" in done.stderr


@pytest.mark.slow
def test_a_single_table(configured, dumped):
    out = configured.ok("restore.logical", "--dump", dumped["key"], "--into", "crm_one_table", "--table", "notes")
    assert "public.notes" in out
    tables = configured.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                            configured.dsn.replace("/crm?", "/crm_one_table?"))
    assert tables == [("notes",)]


@pytest.mark.parametrize("args, words", [
    (("--dump", "1999-01-01", "--into", "x_new"), "no logical dump on 1999-01-01"),
    (("--dump", "latest please", "--into", "x_new"), "neither a dump key nor a date"),
    (("--dump", "KEY", "--into", "bad name"), "database name 'bad name' is not accepted"),
    (("--dump", "KEY", "--into", "x_new", "--table", "notes; drop table clients"), "table name"),
])
def test_bad_logical_restore_input(configured, dumped, args, words):
    done = configured.fab("restore.logical", *(dumped["key"] if a == "KEY" else a for a in args))
    assert done.returncode == ExitCode.USAGE and words in done.stderr


def test_a_corrupted_dump_is_refused_before_anything_is_restored(configured):
    configured.ok("backup.logical")
    victim = json.loads(configured.ok("backup.logical-list", "--json"))["dumps"][-1]
    s3 = admin_client(configured.cfg)
    bucket = configured.cfg.repository.bucket
    body = bytearray(s3.get_object(Bucket=bucket, Key=victim["key"])["Body"].read())
    body[len(body) // 2] ^= 0x01
    s3.put_object(Bucket=bucket, Key=victim["key"], Body=bytes(body))
    done = configured.fab("restore.logical", "--dump", victim["key"], "--into", "crm_from_corrupt")
    assert done.returncode == ExitCode.VERIFY
    assert "checksum mismatch" in done.stderr and "nothing was restored" in done.stderr
    assert configured.sql("SELECT 1 FROM pg_database WHERE datname = 'crm_from_corrupt'") == []
