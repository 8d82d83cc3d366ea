"""pgvault's own objects in the ``postgres`` database (schema ``pgvault``).

A registry of named restore points, so that a restore to a name can pick the
backup set that precedes it, instead of replaying from the oldest set.  The
objects live in the maintenance database, away from the application's.
All SQL here is text; ``ops.remote.sql`` runs it through psql's stdin.
"""

from __future__ import annotations

from ops.postgres import sql_literal

SCHEMA = "pgvault"

#: idempotent DDL of pgvault's catalog
ENSURE_SQL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.restore_points (
  name text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  lsn pg_lsn NOT NULL
);
"""

#: SQL answering whether the catalog exists (``t``/``f``)
EXISTS_SQL = f"SELECT to_regclass('{SCHEMA}.restore_points') IS NOT NULL;"


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


#: the primary's clock, WAL position and last archived segment, as one JSON object
PRIMARY_STATE_SQL = (
    "SELECT json_build_object('now', now(), 'lsn', pg_current_wal_lsn()::text, "
    "'current_wal', pg_walfile_name(pg_current_wal_lsn()), "
    "'in_recovery', pg_is_in_recovery(), 'last_archived_time', a.last_archived_time, "
    "'last_archived_wal', a.last_archived_wal, 'last_failed_time', a.last_failed_time, "
    "'last_failed_wal', a.last_failed_wal, 'archived_count', a.archived_count, 'failed_count', a.failed_count, "
    "'next_xid', pg_snapshot_xmax(pg_current_snapshot())::text) FROM pg_stat_archiver a;"
)
