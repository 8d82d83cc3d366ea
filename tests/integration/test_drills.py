"""Restore drills in the sandbox: a passing drill with its result in the bucket, an exact canary check at a
random point, a drill that catches a corrupted backup, and the measured data-loss window."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from pgvault.core import catalog
from pgvault.core.errors import ExitCode
from pgvault.core.policy import archive_timeout_seconds, canary_keep_days
from pgvault.edges import remote
from pgvault.edges.cloud import s3_client
from tests.integration.helpers import clock_past, collect, connection, damaged_object, flush_wal


@pytest.fixture(scope="module")
def canaries(configured):
    conn = connection(configured)
    configured.ok("backup.full")
    for _ in range(6):  # spaced wider than the check's 1 s tolerance
        row = remote.sql_json(conn, configured.cfg, catalog.canary_sql(canary_keep_days(configured.cfg)))
        clock_past(configured, datetime.fromisoformat(row["written_at"]), seconds=3)
    flush_wal(configured)
    return configured


def _stored(sandbox, key: str) -> dict:
    body = s3_client(sandbox.cfg).get_object(Bucket=sandbox.cfg.repository.bucket, Key=key)["Body"].read()
    return json.loads(body)


@pytest.mark.slow
def test_a_random_drill_passes_with_an_exact_canary_check_and_stores_its_result(canaries):
    result = json.loads(canaries.ok("drill.run", "--target", "random", "--json"))
    assert result["passed"] is True and result["target"]["kind"] == "time"
    checks = {c["name"]: c for c in result["checks"]}
    assert set(checks) == {"accepts connections", "pg_amcheck", "canaries", "row counts"}
    present, absent = [int(w) for w in checks["canaries"]["detail"].split() if w.isdigit()][:2]
    assert present >= 1 and absent >= 1, checks["canaries"]["detail"]
    assert result["read_only_credentials"] is True
    assert result["seconds"]["rto"] == pytest.approx(result["seconds"]["fetch"] + result["seconds"]["replay"], abs=0.2)
    stored = _stored(canaries, result["key"])
    assert stored["passed"] is True and stored["name"] == result["name"]
    assert canaries.ok("restore.list").count("drill-") == 0, "the scratch cluster must be removed"
    doc = collect(canaries)
    assert doc["drill"]["name"] == result["name"]


@pytest.mark.slow
def test_a_drill_of_a_corrupted_backup_fails_with_the_reason(canaries):
    cfg = canaries.cfg
    newest = json.loads(canaries.ok("backup.list", "--json"))["backups"][-1]["label"]
    s3 = s3_client(cfg)
    prefix = f"{cfg.repository.repo_prefix}backup/{cfg.pgbackrest.stanza}/{newest}/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=cfg.repository.bucket, Prefix=prefix)["Contents"]
            if "/bundle/" in o["Key"] or "/pg_data/" in o["Key"]]
    victim = max(keys, key=lambda k: s3.head_object(Bucket=cfg.repository.bucket, Key=k)["ContentLength"])
    with damaged_object(canaries, victim, at=1 / 3, length=64):
        done = canaries.fab("drill.run", "--target", "latest", "--json")
    assert done.returncode == ExitCode.VERIFY
    assert "failed: restore" in done.stderr
    result = json.loads(done.stdout)
    restore = next(c for c in result["checks"] if c["name"] == "restore")
    assert restore["passed"] is False and "pgBackRest error [" in restore["detail"]
    assert _stored(canaries, result["key"])["passed"] is False
    s3.delete_object(Bucket=cfg.repository.bucket, Key=result["key"])  # the injected failure is not the sandbox's


@pytest.mark.slow
def test_rpo_drill_measures_a_loss_within_archive_timeout(canaries):
    result = json.loads(canaries.ok("drill.rpo", "--json"))
    timeout = archive_timeout_seconds(canaries.cfg.targets)
    assert result["archive_timeout_seconds"] == timeout
    assert 0 <= result["lost_seconds"] <= timeout + 5, result
    assert result["last_recovered"]["seq"] <= result["last_written"]["seq"]
    assert "running" in canaries.ok("sandbox.status")
    assert "matches the stack" in canaries.ok("host.check")
