"""The adaptive hourly job on a private sandbox: a restore point on a quiet database, an incremental after a burst.

The sandbox's RTO target is 60 s and its drills (one result put in the
bucket, as ``drill.run`` stores them) measured a slow replay, 32 MB in 20 s:
the replay budget is half the RTO at that rate, 48 MB of WAL, more than the
one segment ``archive_timeout`` switches on a quiet database and far less
than the burst.  The job runs
as cron runs it, through the installed ``pgvault-job``.
"""

from __future__ import annotations

import json
import pwd
import subprocess
from datetime import UTC, datetime

import pytest

from pgvault.core import catalog, cron, hourly
from pgvault.core.bucket import drills_prefix
from pgvault.edges import jobstate, remote
from pgvault.edges.cloud import s3_client
from sandbox.cluster import as_db_user
from tests.fixtures import private_sandbox
from tests.integration.helpers import collect, connection

MB = 1024 * 1024
#: what the drills measured: 32 MB of WAL replayed in 20 s (1.6 MB/s), so the budget is 30 s x 1.6 MB/s
DRILL = {"name": "drill-20260101-000000", "finished": "2026-01-01T00:00:00+00:00", "passed": True, "checks": [],
         "wal_replayed_bytes": 32 * MB, "seconds": {"fetch": 1.0, "replay": 20.0, "rto": 21.0}}
BUDGET = int(60 * hourly.REPLAY_SHARE * 32 * MB / 20)


@pytest.fixture(scope="module")
def hourly_host():
    """A private sandbox with data, ``host.setup``, one full backup and the slow drill's result in the bucket."""
    with private_sandbox("hourly", bucket="pgvault-hourly", rto_seconds=60) as own:
        own.ok("sandbox.seed")
        own.ok("host.setup")
        own.ok("backup.full")
        key = f"{drills_prefix(own.cfg)}{DRILL['name']}.json"
        body = {**DRILL, "finished": datetime.now(UTC).isoformat()}  # the monitor believes a body dated as stored
        s3_client(own.cfg).put_object(Bucket=own.cfg.repository.bucket, Key=key, Body=json.dumps(body).encode())
        yield own


def run_hourly(sandbox) -> dict:
    """Run the hourly job as cron does; return its record."""
    cfg = sandbox.cfg
    env = [f"PATH={cron.CRON_PATH}", f"PGVAULT_STACK_DIR={cfg.jobs.config_dir}",
           f"HOME={pwd.getpwnam(cfg.postgres.os_user).pw_dir}"]
    done = subprocess.run(as_db_user(cfg, ["env", "-i", *env, cron.job_binary(cfg), "--stack", cfg.name, "incr"]),
                          capture_output=True, text=True, timeout=600, cwd="/")
    record = jobstate.read(cfg.jobs.state_dir)["last"]["incr"]
    assert done.returncode == 0, f"{done.stderr}; {record}"
    return record


def sets(sandbox) -> list[str]:
    return [b["label"] for b in json.loads(sandbox.ok("backup.list", "--json"))["backups"]]


@pytest.mark.slow
def test_a_quiet_database_gets_a_restore_point_and_a_burst_an_incremental(hourly_host):
    before = sets(hourly_host)
    quiet = run_hourly(hourly_host)["sizes"]
    assert quiet["decision"] == hourly.RESTORE_POINT, quiet
    assert quiet["rate_measured"] and quiet["budget_bytes"] == BUDGET
    assert quiet["wal_bytes"] <= quiet["budget_bytes"] and quiet["reason"].startswith("WAL ")
    assert quiet["archived_segment"] and quiet["restore_point"].startswith("pgvault-hourly-")
    assert sets(hourly_host) == before, "a restore point takes no backup"
    registered = remote.sql_json(connection(hourly_host), hourly_host.cfg,
                                 catalog.restore_point_sql(quiet["restore_point"]))
    assert registered, "the restore point is in pgvault's registry, so a restore to it picks the right set"

    hourly_host.sql("CREATE TABLE burst AS SELECT g AS id, md5(g::text) || repeat('x', 200) AS body "
                    "FROM generate_series(1, 600000) g")
    busy = run_hourly(hourly_host)["sizes"]
    assert busy["decision"] == hourly.INCREMENTAL, busy
    assert busy["wal_bytes"] > busy["budget_bytes"] and " > budget " in busy["reason"]
    after = sets(hourly_host)
    assert after[:-1] == before and after[-1] == busy["label"] and after[-1].endswith("I")

    doc = collect(hourly_host)  # critical here (no logical dump on this stack): the exit code is the state
    assert doc["hourly"]["restore_points"] == 1 and doc["hourly"]["incrementals"] == 1
    assert doc["hourly"]["line"].startswith("hourly: 1 restore point, 1 incremental: WAL ")
    shown = json.loads(hourly_host.ok("schedule.show", "--json"))["incremental_rule"]
    assert shown["rule"] == "adaptive" and "measured by the recent drills" in shown["explained"]
