"""The disaster-recovery runbook's "promote the staging host to production", executed (issue 16): one private
sandbox with a primary (db1) and a staging host (stage1) running its staging cluster.

The runbook's blocks are taken from the runbook as rendered before the disaster (what on-call has open) and run
as on-call would: the fence of db1 first (and the runbook stops there when db1 cannot be reached), the staging
cluster stopped, the stack file edited as the runbook shows, the newest state restored from the bucket onto
stage1, which ends as the writable, archiving primary with exactly the canaries db1 had archived.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ops import runbooks
from pgvault.core import cron
from pgvault.core.errors import ExitCode
from pgvault.edges import remote
from pgvault.edges.stackfile import load_stack
from sandbox import cluster
from sandbox.processes import free_port
from tests.fixtures import ROOT
from tests.integration.helpers import connection, flush_wal, hosts_sandbox

pytestmark = pytest.mark.slow

STEPS = ("dr-staging-1", "dr-staging-2", "dr-staging-4", "dr-staging-5")


@pytest.fixture(scope="module")
def staged():
    """The sandbox with a staging host: seeded, both hosts set up, a full backup, the staging cluster running."""
    with hosts_sandbox("promote", ("staging",)) as (sandbox, _):
        sandbox.ok("restore.full", "--as-staging")  # what the CRM's staging app uses
        yield sandbox
        for host in ("db1", "stage1"):
            view = sandbox.cfg.on(host)
            if Path(view.postgres.data_dir, "postmaster.pid").exists():
                cluster.stop(view)


def _blocks(sandbox) -> dict[str, runbooks.Block]:
    """The promote-staging blocks of the DR runbook rendered for the stack as it is now (the primary's view)."""
    cfg = load_stack(sandbox.cfg.name)
    text = runbooks.render_all(cfg.on(cfg.primary.name))["disaster-recovery.md"]
    return {b.step: b for b in runbooks.blocks("disaster-recovery", text) if b.step in STEPS}


def _run(sandbox, block: runbooks.Block, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a block as on-call would: ``control`` here, ``restore`` on the staging host as its user (one machine)."""
    script = ["bash", "-e", "-o", "pipefail", "-c", block.code]
    if block.host == "control":
        path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
        return subprocess.run(script, cwd=ROOT, capture_output=True, text=True, timeout=900,
                              env={**os.environ, **(env or {}), "PATH": path})
    assert block.host == "restore" and block.user == sandbox.cfg.postgres.os_user
    return subprocess.run(cluster.as_db_user(sandbox.cfg.on("stage1"), script), capture_output=True, text=True,
                          timeout=300, cwd="/")


def _ok(sandbox, block: runbooks.Block) -> str:
    done = _run(sandbox, block)
    assert done.returncode == 0, f"step {block.step} failed:\n{block.code}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _psql(view, sql: str) -> str:
    argv = cluster.as_db_user(view, [f"{view.postgres.bin_dir}/psql", "-X", "-At", "-h", view.postgres.socket_dir,
                                     "-p", str(view.postgres.port), "-d", "postgres", "-c", sql])
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()


def _canaries(view) -> list[int]:
    out = _psql(view, "SELECT coalesce(string_agg(seq::text, ',' ORDER BY seq), '') FROM pgvault.canary")
    return [int(x) for x in out.split(",") if x]


def test_the_runbook_offers_the_promotion_as_runnable_steps_and_in_place_never_lands_on_staging(staged):
    blocks = _blocks(staged)
    assert list(blocks) == list(STEPS)
    assert blocks["dr-staging-1"].code.strip().endswith("host.fence --stack promote --host db1")
    refused = staged.fab("restore.full", "--host", "stage1", "--in-place", "--force")
    assert refused.returncode == ExitCode.USAGE and "stage1 is the staging host, not production" in refused.stderr
    assert refused.stderr.strip().count("\n") == 0, refused.stderr
    port = staged.cfg.on("stage1").postgres.port
    app = staged.dsn.replace(f"127.0.0.1:{staged.cfg.postgres.port}/", f"127.0.0.1:{port}/")
    assert staged.sql("SELECT 1", app) == [(1,)], "the refusal left the staging cluster running"


def test_the_runbook_stops_at_the_fence_when_the_primary_cannot_be_reached(staged, tmp_path):
    """A db1 that cannot be fenced over SSH stops the runbook (exit 5) before anything changes anywhere."""
    doc = yaml.safe_load(Path(staged.folder, "Pulumi.promote.yaml").read_text())
    doc["config"]["pgvault:hosts"][0]["ssh_port"] = free_port()  # nothing listens there: db1 "unreachable"
    elsewhere = tmp_path / "stack"
    elsewhere.mkdir()
    (elsewhere / "Pulumi.promote.yaml").write_text(yaml.safe_dump(doc))
    done = _run(staged, _blocks(staged)["dr-staging-1"], {"PGVAULT_STACK_DIR": str(elsewhere)})
    assert done.returncode == ExitCode.UNREACHABLE, done.stdout + done.stderr
    assert "cannot reach host db1" in done.stderr
    assert cluster.running(staged.cfg) and not os.path.exists(_fence_file(staged.cfg))


def _fence_file(view) -> str:
    return f"{view.pgbackrest.lock_path}/{view.pgbackrest.stanza}.stop"


def _promote_in_stack_file(sandbox) -> None:
    """The runbook's S3: stage1 takes the primary's role, db1 leaves the stack file."""
    path = Path(sandbox.folder, "Pulumi.promote.yaml")
    doc = yaml.safe_load(path.read_text())
    hosts = doc["config"]["pgvault:hosts"]
    doc["config"]["pgvault:hosts"] = [{**h, "role": "primary"} for h in hosts if h["name"] == "stage1"]
    path.write_text(yaml.safe_dump(doc, sort_keys=True))


def test_promoting_staging_by_the_runbook_ends_with_stage1_the_primary_and_the_canaries_exact(staged):
    blocks = _blocks(staged)  # rendered before the disaster, as on-call has it open
    db1, stage = staged.cfg, staged.cfg.on("stage1")
    conn = connection(staged)
    for _ in range(3):  # what the canary job writes every minute
        remote.sql(conn, db1, "INSERT INTO pgvault.canary DEFAULT VALUES;")
    flush_wal(staged)
    archived = _canaries(db1)

    fenced = _ok(staged, blocks["dr-staging-1"])
    assert "host.fence db1: fenced" in fenced, fenced
    assert not cluster.running(db1) and os.path.exists(_fence_file(db1))
    stopped = _ok(staged, blocks["dr-staging-2"])
    assert f"no cluster runs in {stage.postgres.data_dir} on stage1" in stopped
    assert not cluster.running(stage)
    # S3 skipped: the stack file still names the fenced db1 as the primary; its data directory stays as it was
    before = sorted(os.listdir(db1.postgres.data_dir))
    skipped = staged.fab("restore.full", "--in-place", "--force")
    assert skipped.returncode == ExitCode.REFUSED, skipped.stdout + skipped.stderr
    assert "db1 is fenced" in skipped.stderr and "swap the roles in" in skipped.stderr, skipped.stderr
    assert "stopping PostgreSQL" not in skipped.stdout and not cluster.running(db1)
    assert os.path.exists(_fence_file(db1)) and sorted(os.listdir(db1.postgres.data_dir)) == before
    _promote_in_stack_file(staged)

    restored = _ok(staged, blocks["dr-staging-4"])  # host.setup, restore.full --in-place, host.setup, full, check
    assert "on stage1 (primary) IN PLACE" in restored, restored
    assert "host stage1: matches the stack" in restored
    checked = _ok(staged, blocks["dr-staging-5"])
    row = next(line for line in checked.splitlines() if "|" in line and "in_recovery" not in line)
    cells = [cell.strip() for cell in row.split("|")]
    assert cells[:2] == ["f", str(archived[-1])], checked  # out of recovery, the newest canary db1 archived

    assert _canaries(stage) == archived, "stage1 holds exactly the canaries db1 had archived"
    assert not cluster.running(db1), "the fenced old primary stayed down"
    # the writable primary: it takes writes, archives them on its new timeline and the WAL proof holds
    promoted = load_stack("promote")
    assert promoted.primary.name == "stage1"
    segment = _psql(stage, "INSERT INTO pgvault.canary DEFAULT VALUES; SELECT pg_walfile_name(pg_switch_wal())")
    segment = segment.split()[-1]
    assert int(segment[:8], 16) >= 2, segment
    verified = staged.fab("backup.verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    jobs = {line.job for line in cron.parse(Path(stage.jobs.cron_file).read_text())[1]}
    assert {"full", "incr", "canary"} <= jobs and "drill" in jobs, jobs  # the primary's schedule, drill included
