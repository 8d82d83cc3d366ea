"""pgvault's own objects in the ``postgres`` database (schema ``pgvault``).

* ``restore_points``: named restore points, so a restore to a name picks the
  backup set that precedes it;
* ``canary``: one row a minute (sequence, wall-clock time, transaction id,
  WAL position), so a drill can check exactly what a restore recovered and
  the WAL lag stays bounded on an idle database;
* ``table_stats``: live-row estimates of every user table, recorded at each
  backup, which a drill compares with the restored tables.

They live in the maintenance database, away from the application's.  All SQL
here is text, every value in it quoted by :func:`~pgvault.core.postgres.sql_literal`;
``pgvault.edges.remote.sql`` runs it through psql's stdin.
"""

from __future__ import annotations

from pgvault.core.postgres import sql_literal

SCHEMA = "pgvault"

#: idempotent DDL of pgvault's catalog
ENSURE_SQL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.restore_points (
  name text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  lsn pg_lsn NOT NULL
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.canary (
  seq bigserial PRIMARY KEY,
  written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  lsn pg_lsn NOT NULL DEFAULT pg_current_wal_insert_lsn()
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.table_stats (
  recorded_at timestamptz NOT NULL DEFAULT now(),
  backup_label text NOT NULL,
  database text NOT NULL,
  counts jsonb NOT NULL,
  PRIMARY KEY (backup_label, database)
);
"""

#: SQL answering whether the catalog exists (``t``/``f``)
EXISTS_SQL = f"SELECT to_regclass('{SCHEMA}.table_stats') IS NOT NULL;"


def canary_sql(keep_days: int) -> str:
    """One canary row, and rows older than ``keep_days`` trimmed; returns the row as JSON."""
    return (
        f"DELETE FROM {SCHEMA}.canary WHERE written_at < now() - interval '{int(keep_days)} days';\n"
        f"INSERT INTO {SCHEMA}.canary DEFAULT VALUES RETURNING json_build_object('seq', seq, "
        "'written_at', written_at, 'lsn', lsn::text);"
    )


#: the newest canary of a cluster, as JSON (or nothing)
NEWEST_CANARY_SQL = (
    f"SELECT json_build_object('seq', seq, 'written_at', written_at, 'lsn', lsn::text) FROM {SCHEMA}.canary "
    "ORDER BY seq DESC LIMIT 1;"
)


def canaries_sql(since: str, until: str) -> str:
    """Sequence numbers and times of the canaries written between two ISO times, as a JSON array."""
    return (
        "SELECT coalesce(json_agg(json_build_array(seq, written_at) ORDER BY seq), '[]') "
        f"FROM {SCHEMA}.canary WHERE written_at >= {sql_literal(since)} AND written_at <= {sql_literal(until)};"
    )


def canaries_with_lsn_sql(since: str, until: str) -> str:
    """Sequence, time and LSN of the canaries written between two ISO times, as a JSON array."""
    return (
        "SELECT coalesce(json_agg(json_build_array(seq, written_at, lsn::text) ORDER BY seq), '[]') "
        f"FROM {SCHEMA}.canary WHERE written_at >= {sql_literal(since)} AND written_at <= {sql_literal(until)};"
    )


def newest_canary_before_sql(lsn: str) -> str:
    """When the newest canary whose row lies before WAL position ``lsn`` was written, as JSON (or null)."""
    return f"SELECT to_json(max(written_at)) FROM {SCHEMA}.canary WHERE lsn < {sql_literal(lsn)}::pg_lsn;"


def canaries_before_sql(lsn: str, limit: int) -> str:
    """The newest ``limit`` canaries before WAL position ``lsn``: [seq, time, lsn] as a JSON array."""
    return (
        "SELECT coalesce(json_agg(json_build_array(seq, written_at, lsn::text)), '[]') FROM (SELECT * FROM "
        f"{SCHEMA}.canary WHERE lsn < {sql_literal(lsn)}::pg_lsn ORDER BY seq DESC LIMIT {int(limit)}) c;"
    )


def bracket_sql(moment: str, lsn: str) -> str:
    """Times of the two canaries before and the two after ``moment`` among those before WAL position ``lsn``."""
    at, end = sql_literal(moment), sql_literal(lsn)
    return (
        "SELECT coalesce(json_agg(written_at ORDER BY written_at), '[]') FROM ("
        f"(SELECT written_at FROM {SCHEMA}.canary WHERE written_at <= {at} AND lsn < {end}::pg_lsn "
        "ORDER BY written_at DESC LIMIT 2) UNION ALL "
        f"(SELECT written_at FROM {SCHEMA}.canary WHERE written_at > {at} AND lsn < {end}::pg_lsn "
        "ORDER BY written_at LIMIT 2)) c;"
    )


def canary_writer_sql(every_seconds: float) -> str:
    """A psql script that writes a canary every ``every_seconds`` and prints ``seq|written_at`` (drill.rpo)."""
    return (f"WITH c AS (INSERT INTO {SCHEMA}.canary DEFAULT VALUES RETURNING seq, written_at) "
            f"SELECT seq || '|' || written_at FROM c \\watch {float(every_seconds)}\n")


#: row estimates of the user tables of the current database (the larger of the live-tuple count and the
#: planner's estimate: either can lag right after a bulk load), as one JSON object
TABLE_COUNTS_SQL = (
    "SELECT coalesce(json_object_agg(s.schemaname || '.' || s.relname, greatest(s.n_live_tup, c.reltuples::bigint)), "
    f"'{{}}') FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname <> '{SCHEMA}';"
)


def record_stats_sql(label: str, database: str, counts_json: str) -> str:
    """SQL that stores the table counts of ``database`` taken at backup ``label``."""
    return (
        f"INSERT INTO {SCHEMA}.table_stats (backup_label, database, counts) VALUES ({sql_literal(label)}, "
        f"{sql_literal(database)}, {sql_literal(counts_json)}::jsonb) ON CONFLICT DO NOTHING;"
    )


def stats_before_sql(until: str) -> str:
    """The newest recorded counts per database at or before ``until``, as a JSON object."""
    return (
        "SELECT coalesce(json_object_agg(database, counts), '{}') FROM (SELECT DISTINCT ON (database) database, "
        f"counts FROM {SCHEMA}.table_stats WHERE recorded_at <= {sql_literal(until)} "
        "ORDER BY database, recorded_at DESC) s;"
    )


def stats_after_sql(after: str) -> str:
    """The oldest recorded counts per database after ``after``, as a JSON object (read on production)."""
    return (
        "SELECT coalesce(json_object_agg(database, counts), '{}') FROM (SELECT DISTINCT ON (database) database, "
        f"counts FROM {SCHEMA}.table_stats WHERE recorded_at > {sql_literal(after)} "
        "ORDER BY database, recorded_at) s;"
    )


def create_restore_point_sql(name: str) -> str:
    """SQL that creates restore point ``name`` and records it; returns JSON {name, time, lsn}."""
    value = sql_literal(name)
    return (
        f"INSERT INTO {SCHEMA}.restore_points (name, lsn) VALUES ({value}, pg_create_restore_point({value})) "
        "RETURNING json_build_object('name', name, 'time', created_at, 'lsn', lsn::text);"
    )


def restore_point_sql(name: str) -> str:
    """SQL returning the registry row of ``name`` as JSON, or nothing."""
    return (
        f"SELECT json_build_object('name', name, 'time', created_at, 'lsn', lsn::text) "
        f"FROM {SCHEMA}.restore_points WHERE name = {sql_literal(name)};"
    )


#: the names of pgvault's registry of restore points, newest first, as a JSON array
RESTORE_POINT_NAMES_SQL = (
    f"SELECT coalesce(json_agg(name ORDER BY created_at DESC, name), '[]') FROM {SCHEMA}.restore_points;"
)


#: the primary's clock, WAL position and last archived segment, as one JSON object
PRIMARY_STATE_SQL = (
    "SELECT json_build_object('now', now(), 'lsn', pg_current_wal_lsn()::text, "
    "'current_wal', pg_walfile_name(pg_current_wal_lsn()), "
    "'in_recovery', pg_is_in_recovery(), 'last_archived_time', a.last_archived_time, "
    "'last_archived_wal', a.last_archived_wal, 'last_failed_time', a.last_failed_time, "
    "'last_failed_wal', a.last_failed_wal, 'archived_count', a.archived_count, 'failed_count', a.failed_count, "
    "'next_xid', pg_snapshot_xmax(pg_current_snapshot())::text) FROM pg_stat_archiver a;"
)


#: a promoted cluster's newest timeline history file (its last line says where recovery ended), as JSON
NEWEST_HISTORY_SQL = (
    "SELECT json_build_object('history', (SELECT pg_read_file('pg_wal/' || name) FROM pg_ls_waldir() "
    "WHERE name LIKE '%.history' ORDER BY name DESC LIMIT 1));"
)


#: the archiver's counters and last success and failure, as one JSON object (``host.check``)
ARCHIVER_SQL = (
    "SELECT row_to_json(a) FROM (SELECT archived_count, last_archived_wal, last_archived_time, failed_count, "
    "last_failed_wal, last_failed_time FROM pg_stat_archiver) a;"
)


_EXACT_COUNTS = (
    "coalesce(json_object_agg(schemaname || '.' || tablename, (xpath('/row/c/text()', query_to_xml("
    "format('SELECT count(*) AS c FROM %I.%I', schemaname, tablename), false, true, '')))[1]::text::bigint), '{}') "
    f"FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', '{SCHEMA}')"
)

#: exact row count of every user table of the current database, as one JSON object (a count per table)
EXACT_COUNTS_SQL = f"SELECT {_EXACT_COUNTS};"

#: the same exact counts as a table for people (``count(*)``: ``pg_stat_user_tables.n_live_tup`` is zero in a
#: freshly restored cluster, whose statistics start empty); no double quote, so it pastes into ``-c "..."``
EXACT_COUNTS_TABLE_SQL = (
    f"SELECT key AS table_name, value::text::bigint AS row_count FROM json_each((SELECT {_EXACT_COUNTS})) ORDER BY 1"
)


#: ``schema.name`` of every relation, function and type (enum, domain, composite) of the current database, and
#: its schema names, as a JSON array (what a single-table restore may refer to or must not create again)
OBJECT_NAMES_SQL = (
    "SELECT coalesce(json_agg(name ORDER BY name), '[]') FROM ("
    "SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') UNION "
    "SELECT n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace UNION "
    "SELECT n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND t.typrelid IN "
    "(SELECT oid FROM pg_class WHERE relkind = 'c')) UNION "
    "SELECT nspname FROM pg_namespace) o;"
)
