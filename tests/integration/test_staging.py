"""Restores and drills on the staging host (issue 16): one private sandbox with a primary (db1) and a staging
host (stage1), each with its own sshd, folders and PostgreSQL port.

What it shows: staging holds the restore keys only (read only, but for putting drill results below
drills/<stanza>/: every other put and every delete is refused; no backup keys' file, host.check names one put
there); the drill runs from staging's cron, not the primary's; before any drill the monitor's drill check
names the missing result; a PITR onto staging has exactly the canary rows and markers up to the target; a
drill onto staging passes, from fab and as staging's cron runs it, and the cron's result, put into the bucket
with staging's own keys, turns the monitor's drill check green; the staging cluster comes up on staging's own
port, never archives, and is not replaced without --replace.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path

import botocore.exceptions
import pytest

from pgvault.actions import backup
from pgvault.core import catalog, cron, jobs, walarchive
from pgvault.core.bucket import drills_prefix
from pgvault.core.errors import ExitCode
from pgvault.core.policy import canary_keep_days
from pgvault.core.secrets import RESTORE_S3_KEY, RESTORE_S3_KEY_SECRET, restore_secrets_file, secrets_file
from pgvault.edges import jobstate, remote
from pgvault.edges.bucket import latest_drills
from pgvault.edges.cloud import s3_client
from pgvault.edges.secretstore import read_secret
from sandbox import cluster, lifecycle
from sandbox.lifecycle import admin_client
from tests.fixtures import private_sandbox
from tests.integration.helpers import clock_past, collect, connection, flush_wal, labels, mark


@pytest.fixture(scope="module")
def staged():
    """The sandbox with a staging host, seeded, set up (both hosts), one full backup and a few canaries."""
    with private_sandbox("staging", roles=("staging",)) as sandbox:
        sandbox.ok("sandbox.seed")
        sandbox.ok("host.setup")
        sandbox.ok("backup.full")
        _canaries(sandbox, 4)
        yield sandbox
        _stop_staging_cluster(sandbox)


def _canaries(sandbox, count: int) -> None:
    """Write ``count`` canaries on the primary, spaced wider than the drill's 1 s tolerance."""
    conn = connection(sandbox)
    for _ in range(count):
        row = remote.sql_json(conn, sandbox.cfg, catalog.canary_sql(canary_keep_days(sandbox.cfg)))
        clock_past(sandbox, datetime.fromisoformat(row["written_at"]), seconds=3)


def _stage(sandbox):
    return sandbox.cfg.on("stage1")


def _stop_staging_cluster(sandbox) -> None:
    view = _stage(sandbox)
    if Path(view.postgres.data_dir, "postmaster.pid").exists():
        subprocess.run(cluster.as_db_user(view, [f"{view.postgres.bin_dir}/pg_ctl", "-D", view.postgres.data_dir,
                                                   "-m", "fast", "-w", "stop"]), capture_output=True)


def test_staging_holds_the_read_only_keys_only_and_they_cannot_write(staged):
    view = _stage(staged)
    assert not Path(secrets_file(view)).exists(), "a staging host never holds the backup keys' file"
    restore_file = Path(restore_secrets_file(view))
    assert restore_file.is_file() and restore_file.stat().st_mode & 0o077 == 0
    assert not Path(view.postgres.include_dir, "pgvault.conf").exists(), "no archiving settings on staging"
    keys = (read_secret(staged.cfg, RESTORE_S3_KEY).reveal(), read_secret(staged.cfg, RESTORE_S3_KEY_SECRET).reveal())
    text = restore_file.read_text()
    assert keys[0] in text and read_secret(staged.cfg, "PGVAULT_S3_KEY").reveal() not in text
    s3 = s3_client(staged.cfg, keys=keys)
    bucket, prefix = staged.cfg.repository.bucket, staged.cfg.repository.repo_prefix
    assert s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)["KeyCount"] == 1, "the keys can read"
    # their one write: a drill result below drills/<stanza>/ (not .json: the monitor reads those as results)
    result = f"{drills_prefix(staged.cfg)}keys-test.txt"
    s3.put_object(Bucket=bucket, Key=result, Body=b"x")

    def refused(call, **kwargs) -> None:
        with pytest.raises(botocore.exceptions.ClientError) as error:
            call(Bucket=bucket, **kwargs)
        assert error.value.response["Error"]["Code"] == "AccessDenied", (call, kwargs)

    stanza, drills = staged.cfg.pgbackrest.stanza, staged.cfg.repository.drills_prefix
    for key in (f"{prefix}archive/{stanza}/intruder", f"{staged.cfg.repository.logical_prefix}/{stanza}/intruder",
                f"{drills}/other-stanza/intruder", f"{drills}/intruder", "intruder"):
        refused(s3.put_object, Key=key, Body=b"x")
    refused(s3.delete_object, Key=result)
    refused(s3.put_object_tagging, Key=result, Tagging={"TagSet": []})
    s3_client(staged.cfg).delete_object(Bucket=bucket, Key=result)
    assert "host stage1: matches the stack" in staged.ok("host.check")
    again = staged.ok("host.setup", "--host", "stage1")
    assert "no changes" in again, again


def test_host_check_names_backup_keys_put_on_staging(staged):
    view = _stage(staged)
    planted = Path(secrets_file(view))
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text("[global]\n")
    planted.chmod(0o600)
    try:
        done = staged.fab("host.check", "--host", "stage1")
        assert done.returncode == ExitCode.DRIFT
        assert f"{planted} holds the backup keys on staging host stage1" in done.stdout
    finally:
        planted.unlink()


def test_the_drill_runs_from_stagings_cron_not_the_primarys(staged):
    primary = cron.parse(Path(cron.cron_file(staged.cfg)).read_text())[1]
    staging = cron.parse(Path(cron.cron_file(_stage(staged))).read_text())[1]
    assert "drill" not in [line.job for line in primary]
    assert [line.job for line in staging] == ["drill"]
    assert "--host stage1" in staging[0].command
    assert {line.job for line in primary} == {j.name for j in jobs.scheduled()} - {"drill"}


def test_before_any_drill_the_monitor_names_the_missing_drill_result(staged):
    """No drill has run yet on this stack: the drill check says so (amber on a stack this young), never ok."""
    assert latest_drills(s3_client(staged.cfg), staged.cfg) == []
    check = next(c for c in collect(staged)["checks"] if c["key"] == "drill")
    where = f"s3://{staged.cfg.repository.bucket}/{drills_prefix(staged.cfg)}"
    assert check["state"] == "warning" and check["message"].startswith(f"no drill result in {where}: "), check


@pytest.mark.slow
def test_pitr_onto_staging_has_exactly_the_rows_up_to_the_target(staged):
    before = mark(staged, "staging-before")
    _canaries(staged, 2)
    (target,), = staged.sql("SELECT clock_timestamp()")
    clock_past(staged, target, seconds=1)
    mark(staged, "staging-after")
    _canaries(staged, 2)
    flush_wal(staged)
    restored = json.loads(staged.ok("restore.pitr", "--target", target.isoformat(), "--json"))
    try:
        view = _stage(staged)
        assert restored["host_name"] == "stage1" and restored["read_only_credentials"] is True
        assert restored["socket_dir"].startswith(view.postgres.scratch_dir + "/")
        dsn = staged.dsn_for(restored)
        assert labels(staged, dsn) == {"staging-before"}
        assert before["time"] < target
        conn, seqs = connection(staged), "SELECT coalesce(json_agg(seq ORDER BY seq), '[]') FROM pgvault.canary"
        until, since = f" WHERE written_at <= '{target.isoformat()}'", f" WHERE written_at > '{target.isoformat()}'"
        expected = remote.sql_json(conn, staged.cfg, seqs + until)
        assert len(remote.sql_json(conn, staged.cfg, seqs + since)) >= 2, "production has canaries after the target"
        restored_seqs = remote.sql_json(conn, staged.cfg, seqs, port=restored["port"],
                                        socket_dir=restored["socket_dir"])
        assert restored_seqs == expected and len(expected) >= 4, (expected, restored_seqs)
        assert staged.sql("SHOW archive_mode", dsn)[0][0] == "off"
    finally:
        staged.ok("restore.drop", "--name", restored["name"])


@pytest.mark.slow
def test_a_drill_onto_staging_passes_from_fab_and_from_stagings_cron(staged):
    _canaries(staged, 2)
    flush_wal(staged)
    result = json.loads(staged.ok("drill.run", "--target", "random", "--json"))
    assert result["host"] == "stage1" and result["passed"] is True, result
    assert result["read_only_credentials"] is True
    assert not result["key"].startswith("local:")
    s3_client(staged.cfg).head_object(Bucket=staged.cfg.repository.bucket, Key=result["key"])
    view = _stage(staged)
    env, lines = cron.parse(Path(cron.cron_file(view)).read_text())
    line = next(x for x in lines if x.job == "drill")
    argv = ["env", "-i", *[f"{k}={v}" for k, v in env.items()], "HOME=/", "/bin/sh", "-c", line.command]
    done = subprocess.run(["runuser", "-u", line.user, "--", *argv] if os.geteuid() == 0 else argv,
                          capture_output=True, text=True, timeout=600, cwd="/")
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "", done.stderr
    last = jobstate.read(view.jobs.state_dir)["last"]["drill"]
    assert last["outcome"] == "ok", last
    key = last["sizes"]["key"]
    assert key.startswith(drills_prefix(view)), "staging's restore keys put the result beside the backups"
    stored = json.loads(s3_client(staged.cfg).get_object(Bucket=staged.cfg.repository.bucket, Key=key)["Body"].read())
    assert stored["passed"] is True and stored["host"] == "stage1" and stored["name"] != result["name"], stored
    assert not Path(view.jobs.state_dir, "drills").exists(), "nothing is kept on the host instead"
    # the monitor (on the primary, reading the bucket) sees the cron's drill as the newest, and is green
    doc = collect(staged)
    check = next(c for c in doc["checks"] if c["key"] == "drill")
    assert doc["drill"]["name"] == stored["name"] and check["state"] == "ok", check
    assert check["message"].startswith("last drill passed "), check


@pytest.mark.slow
def test_a_drill_onto_staging_over_a_missing_wal_segment_fails_naming_it(staged):
    conn, cfg = connection(staged), staged.cfg
    mark(staged, "hole-a")
    victim = backup.flush_wal(conn, cfg)
    mark(staged, "hole-b")
    backup.flush_wal(conn, cfg)
    s3, bucket = admin_client(cfg), cfg.repository.bucket
    prefix = f"{cfg.repository.repo_prefix}archive/{cfg.pgbackrest.stanza}/"
    key = next(o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
               for o in page.get("Contents", []) if walarchive.segment_name(o["Key"]) == victim)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.delete_object(Bucket=bucket, Key=key)
    try:
        done = staged.fab("drill.run", "--target", "latest", "--json")
    finally:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert done.returncode == ExitCode.VERIFY, done.stderr
    result = json.loads(done.stdout)
    failed = next(c for c in result["checks"] if c["name"] == "restore")
    assert result["host"] == "stage1" and victim in failed["detail"], failed
    s3_client(cfg).delete_object(Bucket=bucket, Key=result["key"])  # the injected failure is not the sandbox's
    for item in json.loads(staged.ok("restore.list", "--json", "--host", "stage1"))["scratch"]:
        staged.ok("restore.drop", "--name", item["name"])


@pytest.mark.slow
def test_the_staging_cluster_serves_on_its_own_port_and_is_replaced_only_with_the_flag(staged):
    view = _stage(staged)
    out = staged.ok("restore.full", "--as-staging")
    port = view.postgres.port
    assert "staging host stage1" in out and f"port {port}" in out, out
    assert f":{staged.cfg.postgres.port}" not in out, "nothing printed may point at production's port"
    production = lifecycle.dsn(staged.cfg)
    app = production.replace(f"127.0.0.1:{staged.cfg.postgres.port}/", f"127.0.0.1:{port}/")
    assert app != production
    assert staged.sql("SHOW archive_mode", app)[0][0] == "off"
    assert staged.sql("SHOW port", app)[0][0] == str(port)
    refused = staged.fab("restore.full", "--as-staging")
    assert refused.returncode == ExitCode.REFUSED
    assert refused.stderr.strip().count("\n") == 0 and "--replace" in refused.stderr, refused.stderr
    assert staged.sql("SELECT 1", app) == [(1,)], "a refusal leaves the staging cluster running"
    staged.ok("restore.full", "--as-staging", "--replace")
    assert staged.sql("SELECT 1", app) == [(1,)]
