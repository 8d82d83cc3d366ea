"""A primary and its streaming standby on one private sandbox (issue 16): backups read the standby, a standby
that is down makes the backup fall back to the primary with a warning, and a failover keeps the WAL chain
whole, keeps backups going and fences the old primary.

The tests run in file order on one sandbox, each leaving the next its starting point: the standby is built
once (``host.standby``), the fallback stops and restarts it, the failover promotes it and swaps the roles in
the stack file, and the last test starts the fenced old primary again to show the fence and ``host.check``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ops import runbooks
from pgvault.core import cron
from pgvault.core.errors import ExitCode
from pgvault.edges.stackfile import load_stack
from sandbox import cluster
from tests.fixtures import ROOT
from tests.integration.helpers import collect, hosts_sandbox

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pair():
    """A seeded primary (db1) with a streaming standby (db2) built from the repository, both set up."""
    with hosts_sandbox("standby", ("standby",)) as (own, _):
        yield own


def _job(sandbox, host: str, job: str) -> subprocess.CompletedProcess:
    """Run a scheduled job as cron runs it on ``host`` (as the PostgreSQL OS user)."""
    view = sandbox.cfg.on(host)
    command = cron.job_command(view, job)
    argv = cluster.as_db_user(view, ["/bin/sh", "-c", command])
    return subprocess.run(argv, capture_output=True, text=True, timeout=600)


def _last_record(sandbox, host: str, job: str) -> dict:
    state = Path(sandbox.cfg.on(host).jobs.state_dir, "jobs.json")
    return json.loads(state.read_text())["last"][job]


def _backup_log(sandbox, host: str) -> str:
    return Path(sandbox.cfg.on(host).pgbackrest.log_path, f"{sandbox.cfg.pgbackrest.stanza}-backup.log").read_text()


def _standby_check(sandbox) -> dict:
    return next(c for c in collect(sandbox)["checks"] if c["key"] == "backup-standby")


def test_the_standby_streams_and_a_second_build_changes_nothing(pair):
    again = pair.fab("host.standby")
    assert again.returncode == 0 and "no changes" in again.stdout
    refused = pair.fab("host.standby", "--host", "db1")
    assert refused.returncode == ExitCode.USAGE and "not the stack's standby" in refused.stderr
    assert "no changes" in pair.ok("host.setup").split("host.setup db2")[-1]


def test_a_backup_reads_the_data_files_from_the_standby(pair):
    before = len(_backup_log(pair, "db1"))
    done = _job(pair, "db1", "full")
    assert done.returncode == 0, done.stderr
    record = _last_record(pair, "db1", "full")
    assert record["outcome"] == "ok" and record["sizes"]["standby"] == "db2"
    assert "standby_fallback" not in record["sizes"]
    log = _backup_log(pair, "db1")[before:]
    standby_data, primary_data = pair.cfg.on("db2").postgres.data_dir, pair.cfg.postgres.data_dir
    assert "replay on the standby reached" in log
    from_standby = log.count(f"backup file 127.0.0.1:{standby_data}/")
    from_primary = log.count(f"backup file {primary_data}/")
    assert from_standby > 100 and from_standby > 10 * from_primary, (from_standby, from_primary)
    check = _standby_check(pair)
    assert check["state"] == "ok" and "db2" in check["message"]


def test_the_standby_down_makes_the_backup_fall_back_to_the_primary_with_a_warning(pair):
    standby = pair.cfg.on("db2")
    cluster.stop(standby)
    try:
        done = _job(pair, "db1", "full")
        assert done.returncode == 0, done.stderr
        record = _last_record(pair, "db1", "full")
        assert record["outcome"] == "ok" and "db2 could not be used" in record["message"]
        check = _standby_check(pair)
        assert check["state"] == "warning" and "loaded the primary" in check["message"]
        assert check.get("runbook") and check.get("action")
    finally:
        cluster.start(standby)
    assert _job(pair, "db1", "full").returncode == 0
    assert _standby_check(pair)["state"] == "ok"  # the next backup that reads the standby clears it


def _swap_roles(sandbox) -> None:
    path = sandbox.folder / "Pulumi.standby.yaml"
    doc = yaml.safe_load(path.read_text())
    for host in doc["config"]["pgvault:hosts"]:
        host["role"] = "primary" if host.get("role") == "standby" else "standby"
    path.write_text(yaml.safe_dump(doc, sort_keys=True))


def _psql(view, sql: str) -> str:
    argv = cluster.as_db_user(view, [f"{view.postgres.bin_dir}/psql", "-X", "-At", "-h", view.postgres.socket_dir,
                                     "-p", str(view.postgres.port), "-d", view.postgres.databases[0], "-c", sql])
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def _runbook_step(sandbox, step: str) -> str:
    """Run one block of the failover runbook rendered for the stack as it is now, as on-call would."""
    cfg = load_stack(sandbox.cfg.name)
    cfg = cfg.on(cfg.primary.name)  # as fab runbooks.render renders them
    block = next(b for b in runbooks.blocks("failover", runbooks.render_all(cfg)["failover.md"]) if b.step == step)
    assert block.host == "control"
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.code], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PATH": path}, timeout=900)
    assert done.returncode == 0, f"failover step {step} failed:\n{block.code}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_failover_keeps_the_wal_chain_and_backups_continue(pair):
    old, new = pair.cfg.on("db1"), pair.cfg.on("db2")
    _psql(old, "CREATE TABLE failover_marks (label text); INSERT INTO failover_marks VALUES ('before');")
    refused = pair.fab("host.promote", "--host", "db1")
    assert refused.returncode == ExitCode.USAGE, refused.stdout
    dry = pair.ok("host.promote", "--dry-run")
    assert "would promote db2" in dry and cluster.running(old)
    promoted = _runbook_step(pair, "failover-1")
    assert "db2 is the primary on timeline 2; it archived 00000002" in promoted, promoted
    assert "pgbackrest stop on db1" in promoted
    assert not cluster.running(old)
    assert _psql(new, "SELECT label FROM failover_marks") == "before"  # nothing the old primary wrote is lost

    # before the operator swaps the roles, host.check says the stack and the hosts disagree
    check = pair.fab("host.check")
    assert check.returncode == ExitCode.DRIFT
    assert "db2 is not in recovery" in check.stdout and "pgBackRest is stopped on db1 (fenced)" in check.stdout

    _swap_roles(pair)
    _psql(new, "INSERT INTO failover_marks VALUES ('after');")
    after = _runbook_step(pair, "failover-3")  # host.setup, backup.verify, backup.full
    assert "WAL chains from the oldest kept backup set to 00000002" in after, after
    assert "db1 could not be used" in after  # the old primary, now the stack's standby, is fenced and down
    listed = json.loads(pair.ok("backup.list", "--json"))
    assert listed["backups"][-1]["wal_start"].startswith("00000002"), listed["backups"][-1]
    assert "00000002" in pair.ok("backup.verify").split("WAL chains")[-1]


def test_the_fenced_old_primary_started_again_archives_nothing_and_host_check_names_it(pair):
    old = pair.cfg.on("db1")
    cluster.start(old)  # someone starts the old primary by hand: it comes up out of recovery, a second primary
    try:
        segment = _psql(old, "SELECT pg_walfile_name(pg_switch_wal())")
        assert segment.startswith("00000001")
        check = pair.fab("host.check")
        assert check.returncode == ExitCode.DRIFT
        assert "db1 is not in recovery: a second primary" in check.stdout
        archiver = _psql(old, "SELECT archived_count || ' ' || failed_count FROM pg_stat_archiver").split()
        assert archiver[1] != "0" or "WAL archiving is failing" in check.stdout
        repo = pair.ok("backup.verify")
        assert "00000002" in repo.split("WAL chains")[-1]
    finally:
        fenced = pair.fab("host.fence", "--host", "db1")
    assert fenced.returncode == 0 and "fenced" in fenced.stdout
    assert "a second primary" not in pair.fab("host.check").stdout
    assert os.path.exists(f"{old.pgbackrest.lock_path}/{old.pgbackrest.stanza}.stop")
