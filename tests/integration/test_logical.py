"""Logical dumps against the sandbox's S3 over TLS: dump, list, verify, restore, refuse corruption."""

from __future__ import annotations

import json

import pytest

from pgvault.core.errors import ExitCode
from pgvault.edges import remote
from sandbox.lifecycle import admin_client
from sandbox.seed import TABLES, checksum_sql
from tests.integration.helpers import connection

#: what production's contacts table carries besides its keys and index: a trigger and grants (dropped afterwards)
EXTRAS = [
    "DO $$ BEGIN CREATE ROLE crm_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    "CREATE OR REPLACE FUNCTION contacts_touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$",
    "CREATE TRIGGER contacts_touch BEFORE UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION contacts_touch()",
    "GRANT SELECT ON contacts TO crm_reader",
    "GRANT UPDATE (kind) ON contacts TO crm_reader",
    "CREATE SCHEMA sales",
    "CREATE TYPE sales.stage AS ENUM ('lead', 'won', 'lost')",
    "CREATE DOMAIN sales.email AS text CHECK (VALUE LIKE '%@%')",
    "CREATE TABLE sales.deals (id serial PRIMARY KEY, stage sales.stage NOT NULL DEFAULT 'lead', contact sales.email)",
    "INSERT INTO sales.deals (stage, contact) VALUES ('won', 'a@example.com'), ('lost', 'b@example.com')",
]
WITHOUT_EXTRAS = [
    "DROP SCHEMA IF EXISTS sales CASCADE",
    "DROP TRIGGER IF EXISTS contacts_touch ON contacts",
    "DROP FUNCTION IF EXISTS contacts_touch()",
    "REVOKE ALL ON contacts FROM crm_reader",
    "REVOKE ALL (kind) ON contacts FROM crm_reader",
]


def _admin(sandbox, statement: str, database: str = "crm") -> None:
    """Run SQL as the cluster's superuser (the PostgreSQL OS user, on the host)."""
    remote.sql(connection(sandbox), sandbox.cfg, statement + ";", database=database)


@pytest.fixture(scope="module")
def dumped(configured):
    for statement in EXTRAS:
        _admin(configured, statement)
    try:
        configured.ok("backup.logical")
        found = json.loads(configured.ok("backup.logical-list", "--json"))["dumps"]
        yield found[-1]
    finally:
        for statement in WITHOUT_EXTRAS:
            _admin(configured, statement)


def _contacts(sandbox, dsn: str | None = None) -> tuple:
    """The contacts table's rows, indexes, triggers and grants in the database behind ``dsn``."""
    rows = sandbox.sql("SELECT count(*), sum(hashtext(c::text)) FROM contacts c", dsn)[0]
    indexes = sandbox.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'contacts' ORDER BY 1", dsn)
    triggers = sandbox.sql("SELECT tgname FROM pg_trigger WHERE tgrelid = 'contacts'::regclass "
                           "AND NOT tgisinternal", dsn)
    grants = sandbox.sql("SELECT has_table_privilege('crm_reader', 'contacts', 'SELECT'), "
                         "has_column_privilege('crm_reader', 'contacts', 'kind', 'UPDATE')", dsn)
    return rows, indexes, triggers, grants


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


@pytest.mark.parametrize("extra", [(), ("--force",), ("--table", "contacts", "--force")])
def test_a_production_database_is_refused_even_with_force_and_force_is_never_suggested(configured, dumped, extra):
    before = _contacts(configured)
    done = configured.fab("restore.logical", "--dump", dumped["key"], "--into", "crm", *extra)
    assert done.returncode == ExitCode.USAGE and "a production database of stack" in done.stderr, done.stderr
    assert "--force" not in done.stderr and "--into crm_restored" in done.stderr
    assert _contacts(configured) == before


def test_a_non_empty_scratch_database_is_refused_without_force(configured, dumped):
    _admin(configured, "CREATE DATABASE crm_taken")
    try:
        _admin(configured, "CREATE TABLE kept (id int)", "crm_taken")
        done = configured.fab("restore.logical", "--dump", dumped["key"], "--into", "crm_taken")
        assert done.returncode == ExitCode.USAGE and "exists and is not empty" in done.stderr
    finally:
        _admin(configured, "DROP DATABASE crm_taken")


@pytest.mark.slow
def test_a_single_table_comes_with_its_keys_indexes_trigger_and_grants_and_only_it_is_reported(configured, dumped):
    out = configured.ok("restore.logical", "--dump", dumped["key"], "--into", "crm_one_table", "--table", "contacts")
    copy = configured.dsn.replace("/crm?", "/crm_one_table?")
    tables = configured.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", copy)
    assert tables == [("contacts",)]
    assert _contacts(configured, copy) == _contacts(configured)
    assert ("contacts_pkey",) in _contacts(configured, copy)[1]
    assert "restored table public.contacts" in out and "public.contacts" in out
    assert not any(f"public.{t} " in out for t in TABLES if t != "contacts"), "only what was restored is reported"
    assert "not restored: FK CONSTRAINT public.contacts contacts_client_id_fkey (references public.clients" in out


def test_a_table_outside_public_with_an_enum_and_a_domain_comes_with_its_schema_and_types(configured, dumped):
    out = configured.ok("restore.logical", "--dump", dumped["key"], "--into", "crm_sales", "--table", "sales.deals")
    assert "restored table sales.deals" in out
    query = "SELECT id, stage, contact, pg_typeof(stage), pg_typeof(contact) FROM sales.deals ORDER BY id;"
    copy = remote.sql(connection(configured), configured.cfg, query, database="crm_sales")
    assert copy == remote.sql(connection(configured), configured.cfg, query, database="crm") and "sales.stage" in copy


def test_a_table_the_dump_lacks_is_refused_listing_its_tables_before_anything_is_created(configured, dumped):
    done = configured.fab("restore.logical", "--dump", dumped["key"], "--into", "crm_typo", "--table", "contact")
    assert done.returncode == ExitCode.USAGE, done.stderr
    line = done.stderr.strip()
    assert "\n" not in line and "table 'contact' is not in dump" in line and "did you mean contacts?" in line
    assert "public.agents" in line and "public.notes" in line
    assert configured.sql("SELECT 1 FROM pg_database WHERE datname = 'crm_typo'") == []


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
