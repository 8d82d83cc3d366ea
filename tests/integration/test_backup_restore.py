"""Backups, the backup list and its window, verify, and every restore path, for real."""

from __future__ import annotations

import itertools
import json
import shlex
import threading
from datetime import datetime
from pathlib import Path

import pytest

from pgvault.edges import remote
from tests.integration.helpers import connection, flush_wal, labels, mark, restore_json


def test_full_incremental_and_differential_backups_are_listed_with_the_window(configured):
    assert "incr backup" in configured.ok("backup.incr")
    configured.ok("backup.diff")
    doc = json.loads(configured.ok("backup.list", "--json"))
    kinds = [b["type"] for b in doc["backups"]]
    assert kinds[0] == "full" and {"incr", "diff"} <= set(kinds)
    stops = [datetime.fromisoformat(b["stop"]) for b in doc["backups"]]
    assert datetime.fromisoformat(doc["window"]["earliest"]) == min(stops)
    assert datetime.fromisoformat(doc["window"]["latest"]) >= max(stops)
    for b in doc["backups"]:
        assert b["database_bytes"] > 0 and b["repository_bytes"] > 0 and b["wal_start"] and b["lsn_stop"]
    text = configured.ok("backup.list")
    assert "recoverable window:" in text and doc["backups"][-1]["label"] in text


def test_verify_reports_a_clean_repository(configured):
    assert "every backup and WAL file checked is valid" in configured.ok("backup.verify")


def _restored_labels(sandbox, doc):
    try:
        return labels(sandbox, sandbox.dsn_for(doc))
    finally:
        sandbox.ok("restore.drop", "--name", doc["name"])


@pytest.mark.slow
def test_pitr_by_time_keeps_rows_before_and_drops_rows_after(configured):
    mark(configured, "time-before")
    (target,), = configured.sql("SELECT clock_timestamp()")
    mark(configured, "time-after")
    flush_wal(configured)
    doc = restore_json(configured, "restore.pitr", "--target", target.isoformat())
    assert "host" not in doc and doc["dsn"] and doc["data_dir"].startswith(configured.cfg.postgres.scratch_dir)
    assert doc["backup_set"] and doc["target"].startswith("time ")
    found = _restored_labels(configured, doc)
    assert "time-before" in found and "time-after" not in found


@pytest.mark.slow
def test_pitr_by_restore_point_name(configured):
    mark(configured, "name-before")
    assert "restore point before-change" in configured.ok("backup.mark", "--name", "before-change")
    mark(configured, "name-after")
    flush_wal(configured)
    doc = restore_json(configured, "restore.pitr", "--target-name", "before-change")
    found = _restored_labels(configured, doc)
    assert "name-before" in found and "name-after" not in found


@pytest.mark.slow
def test_pitr_by_lsn(configured):
    point = mark(configured, "lsn-before")
    mark(configured, "lsn-after")
    flush_wal(configured)
    doc = restore_json(configured, "restore.pitr", "--target-lsn", point["lsn"])
    found = _restored_labels(configured, doc)
    assert "lsn-before" in found and "lsn-after" not in found


@pytest.mark.slow
def test_restore_latest_brings_back_everything_archived(configured):
    mark(configured, "latest-1")
    flush_wal(configured)
    doc = restore_json(configured, "restore.full", "--name", "latest-check")
    assert doc["name"] == "latest-check" and doc["in_recovery"] is False
    assert "latest-1" in _restored_labels(configured, doc)


@pytest.mark.slow
def test_restored_cluster_never_archives(configured):
    doc = restore_json(configured, "restore.full")
    try:
        rows = configured.sql("SELECT current_setting('archive_mode'), current_setting('archive_command')",
                              configured.dsn_for(doc))
        assert rows[0][0] == "off" and rows[0][1] in ("", "(disabled)")
    finally:
        configured.ok("restore.drop", "--name", doc["name"])


@pytest.mark.slow
def test_a_scratch_restore_leaves_productions_spool_lock_and_log_alone(configured):
    cfg, stanza = configured.cfg, configured.cfg.pgbackrest.stanza
    pgb = cfg.pgbackrest
    queue = Path(pgb.spool_path) / "archive" / stanza / "in"

    def restore_traces() -> dict[str, int]:
        """Files of production's folders a restore or its archive-get would write: logs, the get queue, locks."""
        found = {}
        for folder in (pgb.log_path, pgb.lock_path, str(queue)):
            for path in Path(folder).rglob("*"):
                if path.is_file() and (folder == str(queue) or "restore" in path.name or "archive-get" in path.name):
                    found[str(path)] = path.stat().st_mtime_ns
        return found

    before, writing = restore_traces(), threading.Event()

    host = connection(configured)

    def archive_while_restoring():
        for n in itertools.count():
            if writing.wait(0.5):
                return
            mark(configured, f"while-restoring-{n}")
            remote.sql(host, cfg, "SELECT pg_switch_wal();")

    writer = threading.Thread(target=archive_while_restoring)
    writer.start()
    try:
        doc = restore_json(configured, "restore.full", "--name", "own-folders")
    finally:
        writing.set()
        writer.join()
    try:
        assert restore_traces() == before, "the scratch restore wrote into production's pgBackRest folders"
        own = Path(cfg.postgres.scratch_dir) / doc["name"] / "pgbackrest"
        assert (own / "log" / f"{stanza}-restore.log").is_file()
        auto = (Path(doc["data_dir"]) / "postgresql.auto.conf").read_text()
        assert f"--spool-path={own}/spool" in auto, "the scratch cluster's archive-get keeps to its own spool"
    finally:
        configured.ok("restore.drop", "--name", doc["name"])


@pytest.mark.slow
def test_every_restore_output_connects_to_the_scratch_cluster_only(configured):
    """Text, --json and restore.list give a psql line and a dsn on the scratch socket, never production's address."""
    cfg = configured.cfg
    production = {f"127.0.0.1 port {cfg.postgres.port}", f"127.0.0.1:{cfg.postgres.port}", cfg.hosts[0].address}
    text = configured.ok("restore.full", "--name", "where-is-it")
    try:
        listed = json.loads(configured.ok("restore.list", "--json"))["scratch"]
        (item,) = [i for i in listed if i["name"] == "where-is-it"]
        root = f"{cfg.postgres.scratch_dir}/where-is-it"
        assert item["dsn"] == f"host={root} port={cfg.postgres.port} dbname={cfg.postgres.databases[0]}"
        assert "host" not in item and item["psql"] in text and item["psql"] in configured.ok("restore.list")
        assert not any(address in text for address in production), text
        # the pasted line reaches the scratch cluster: its data directory answers
        answer = remote.run(connection(configured), [*shlex.split(item["psql"]), "-Atc", "SHOW data_directory"],
                            user=cfg.postgres.os_user).stdout.strip()
        assert answer == item["data_dir"]
    finally:
        configured.ok("restore.drop", "--name", "where-is-it")
