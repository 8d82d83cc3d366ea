"""Every runnable block of every runbook, rendered for the session's stack, executed in order.

The committed sandbox runbooks come from the same templates (a unit test
re-renders them); here they are rendered for this session's sandbox and run
for real: restore, PITR after an accident, a table from a logical dump,
drills, key rotation, and last the disaster-recovery path after the primary's
data directory and pgBackRest configuration are destroyed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ops import runbooks
from pgvault.edges import remote
from tests.fixtures import ROOT
from tests.integration.helpers import connection, flush_wal, mark


def _run(sandbox, block: runbooks.Block, env: dict) -> None:
    if block.host == "db":
        exports = "".join(f"export {k}={v!r}\n" for k, v in env.items())
        done = remote.run(connection(sandbox), ["bash", "-e", "-o", "pipefail", "-c", exports + block.code],
                          user=block.user, warn=True)
        output = done.stdout + done.stderr
        code = done.exited
    else:
        path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.code], cwd=ROOT, capture_output=True,
                              text=True, env={**os.environ, **env, "PATH": path}, timeout=900)
        output, code = done.stdout + done.stderr, done.returncode
    assert code == 0, f"{block.runbook} step {block.step} failed (exit {code}):\n{block.code}\n{output}"


def _blocks(sandbox, name: str) -> list[runbooks.Block]:
    text = runbooks.render_all(sandbox.cfg)[f"{name}.md"]
    found = runbooks.blocks(name, text)
    assert found, f"{name} has no runnable block"
    return found


@pytest.fixture(scope="module")
def ready(configured):
    configured.ok("backup.incr")
    configured.ok("backup.logical")
    conn = connection(configured)
    for _ in range(3):  # what the canary job writes every minute
        remote.sql(conn, configured.cfg, "INSERT INTO pgvault.canary DEFAULT VALUES;")
    flush_wal(configured)
    return configured


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in runbooks.RUNBOOKS if n not in ("pitr", "disaster-recovery")])
def test_runbook_blocks_run(ready, name):
    for block in _blocks(ready, name):
        _run(ready, block, {})


@pytest.mark.slow
def test_pitr_runbook_undoes_an_accident(ready):
    before = ready.sql("SELECT count(*) FROM notes")[0][0]
    mark(ready, "runbook-before")
    (target,), = ready.sql("SELECT clock_timestamp()")
    ready.sql("DELETE FROM notes WHERE id % 5 = 0")
    flush_wal(ready)
    assert ready.sql("SELECT count(*) FROM notes")[0][0] < before
    for block in _blocks(ready, "pitr"):
        _run(ready, block, {"TARGET": target.isoformat(), "TABLE": "notes"})
    assert ready.sql("SELECT count(*) FROM notes")[0][0] == before


@pytest.mark.slow
def test_disaster_recovery_brings_the_data_back_from_the_bucket_alone(ready):
    cfg = ready.cfg
    conn = connection(ready)
    remote.sql(conn, cfg, "INSERT INTO pgvault.canary DEFAULT VALUES;")
    last = remote.sql_json(conn, cfg, "SELECT json_build_object('seq', max(seq)) FROM pgvault.canary;")["seq"]
    flush_wal(ready)
    # the disaster: PostgreSQL dies, its data directory and pgBackRest's configuration are gone
    remote.run(conn, [f"{cfg.postgres.bin_dir}/pg_ctl", "-D", cfg.postgres.data_dir, "-m", "immediate", "stop"],
               user=cfg.postgres.os_user)
    shutil.rmtree(cfg.postgres.data_dir)
    shutil.rmtree(cfg.pgbackrest.config_path)
    assert not Path(cfg.postgres.data_dir).exists()
    for block in _blocks(ready, "disaster-recovery"):
        _run(ready, block, {})
    recovered = remote.sql_json(conn, cfg, "SELECT json_build_object('seq', max(seq)) FROM pgvault.canary;")["seq"]
    assert recovered >= last, f"canary {last} was archived before the disaster but not recovered ({recovered})"
    assert ready.sql("SELECT count(*) FROM clients")[0][0] > 0
    assert "matches the stack" in ready.ok("host.check")
