"""The whole topology on one private sandbox (issue 16): a primary, its streaming standby and a staging host.

``host.setup`` and ``host.check`` cover the three hosts in order (primary, standby, staging), each host's result
reported; each host's cron runs what its role runs; a backup reads the standby while a drill proves the set on
staging with the read-only keys; and a second ``host.setup`` changes nothing on any host and says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pgvault.core import cron, jobs
from pgvault.core.errors import ExitCode
from pgvault.edges import jobstate
from tests.integration.helpers import flush_wal, hosts_sandbox

pytestmark = pytest.mark.slow

HOSTS = ("db1", "db2", "stage1")


@pytest.fixture(scope="module")
def trio():
    """A seeded primary (db1), its standby (db2) built from the repository, and a staging host (stage1)."""
    with hosts_sandbox("trio", ("standby", "staging")) as found:
        yield found


def _summaries(output: str) -> list[str]:
    """The host each ``host.setup <host>: ...`` summary line names, in order."""
    return re.findall(r"^host\.setup (\S+?):? ", output, re.MULTILINE)


def test_host_setup_covers_every_host_in_role_order_and_a_second_run_changes_nothing(trio):
    sandbox, first = trio
    assert _summaries(first) == list(HOSTS), first
    again = sandbox.ok("host.setup")
    assert _summaries(again) == list(HOSTS), again
    for name in HOSTS:
        line = next(x for x in again.splitlines() if x.startswith(f"host.setup {name}"))
        assert "no changes" in line, line


def test_host_check_reports_each_host_and_finds_them_as_the_stack_says(trio):
    sandbox, _ = trio
    done = sandbox.fab("host.check", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == {"drifts": {name: [] for name in HOSTS}, "ok": True}
    text = sandbox.ok("host.check")
    assert [line.split(":")[0] for line in text.splitlines() if line.startswith("host ")] == [
        f"host {name}" for name in HOSTS]


def test_each_host_runs_its_roles_jobs_only(trio):
    sandbox, _ = trio
    scheduled = {}
    for name in HOSTS:
        path = Path(cron.cron_file(sandbox.cfg.on(name)))
        scheduled[name] = [line.job for line in cron.parse(path.read_text())[1]] if path.exists() else []
    assert scheduled["db2"] == []
    assert scheduled["stage1"] == ["drill"]
    assert set(scheduled["db1"]) == {job.name for job in jobs.scheduled()} - {"drill"}


def test_a_backup_reads_the_standby_and_a_drill_on_staging_proves_it(trio):
    sandbox, _ = trio
    sandbox.ok("schedule.run", "--job", "full")  # the primary's cron line, as cron runs it
    record = jobstate.read(sandbox.cfg.jobs.state_dir)["last"]["full"]
    assert record["outcome"] == "ok" and record["sizes"]["standby"] == "db2", record
    assert "standby_fallback" not in record["sizes"]
    flush_wal(sandbox)
    result = json.loads(sandbox.ok("drill.run", "--target", "latest", "--json"))
    assert result["host"] == "stage1" and result["passed"] is True, result
    assert result["read_only_credentials"] is True
    assert result["backup_set"] == json.loads(sandbox.ok("backup.list", "--json"))["backups"][-1]["label"]


def test_a_standby_build_aimed_at_the_staging_host_is_refused(trio):
    sandbox, _ = trio
    refused = sandbox.fab("host.standby", "--host", "stage1")
    assert refused.returncode == ExitCode.USAGE, refused.stdout + refused.stderr
    assert "not the stack's standby" in refused.stderr
