"""Every runnable block of every runbook, rendered for the session's stack, executed in order.

The committed sandbox runbooks come from the same templates (a unit test
re-renders them); here they are rendered for this session's sandbox and run
for real: restore, PITR after an accident, a table from a logical dump,
drills, key rotation, and last the disaster-recovery path after the primary's
data directory and pgBackRest configuration are destroyed.  Blocks that need a
value refuse to run without it, naming it; the PITR copy-back leaves changes
made on purpose after the accident alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ops import runbooks
from pgvault.core import cron
from pgvault.edges import remote
from tests.fixtures import ROOT
from tests.integration.helpers import connection, flush_wal, mark


def _run(sandbox, block: runbooks.Block, env: dict, ok: bool = True) -> str:
    if block.host in ("db", "restore"):  # one machine in the shared sandbox: the primary is its restore host
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
    if ok:
        assert code == 0, f"{block.runbook} step {block.step} failed (exit {code}):\n{block.code}\n{output}"
    else:
        assert code != 0, f"{block.runbook} step {block.step} ran although it should not:\n{output}"
    return output


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


#: the values each block needs from the operator (the runbooks guard each at the block's top)
NEEDS = {
    ("pitr", "pitr-1"): ("TARGET", "ACCIDENT_END"),
    ("pitr", "pitr-2"): ("TARGET", "ACCIDENT_END"),
    ("pitr", "pitr-3"): ("TABLE",),
    ("pitr", "pitr-4"): ("TABLE",),
    ("logical-restore", "logical-2"): ("DUMP", "TABLE"),
    ("logical-restore", "logical-3"): ("TABLE",),
    ("logical-restore", "logical-4"): ("TABLE", "ROWS"),
}
#: runbooks with a test of their own below
OWN_TEST = ("restore-latest", "pitr", "logical-restore", "disaster-recovery")


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in runbooks.RUNBOOKS if n not in OWN_TEST])
def test_runbook_blocks_run(ready, name):
    for block in _blocks(ready, name):
        _run(ready, block, {})


def test_every_guarded_value_is_listed(sandbox):
    """The blocks guard exactly the values NEEDS lists, so the test below covers every one."""
    guarded = {(b.runbook, b.step): b.guarded for n in runbooks.RUNBOOKS for b in _blocks(sandbox, n) if b.guarded}
    assert guarded == NEEDS


@pytest.mark.parametrize("runbook, step, missing",
                         [(r, s, name) for (r, s), names in NEEDS.items() for name in names])
def test_a_block_without_a_value_it_needs_stops_naming_it(sandbox, runbook, step, missing):
    blocks = [b for b in _blocks(sandbox, runbook) if b.step == step]
    assert blocks, f"{runbook} has no step {step}"
    # every other value set (to something that would do harm if used): only the missing one stops the block
    env = {name: "notes" for name in NEEDS[runbook, step] if name != missing}
    output = _run(sandbox, blocks[0], env, ok=False)
    assert f"{missing}: set {missing}" in output, output


@pytest.mark.slow
def test_restore_latest_runbook_counts_the_rows_it_restored(ready):
    flush_wal(ready)
    notes = ready.sql("SELECT count(*) FROM notes")[0][0]
    outputs = {block.step: _run(ready, block, {}) for block in _blocks(ready, "restore-latest")}
    counts = {line.split("|")[0].strip(): line.split("|")[1].strip()
              for line in outputs["latest-3"].splitlines() if line.count("|") == 1}
    assert counts.get("public.notes") == str(notes), outputs["latest-3"]


def _rows(sandbox) -> dict[int, str]:
    return dict(sandbox.sql("SELECT id, notes::text FROM notes"))


@pytest.mark.slow
def test_pitr_runbook_undoes_an_accident_and_leaves_later_deliberate_changes_alone(ready):
    mark(ready, "runbook-before")
    (target,), = ready.sql("SELECT clock_timestamp()")
    before = _rows(ready)
    # the accident: rows deleted, others overwritten
    ready.sql("BEGIN; DELETE FROM notes WHERE id % 5 = 0; "
              "UPDATE notes SET body = 'overwritten by the accident' WHERE id % 5 = 1; COMMIT")
    accident_end = mark(ready, "runbook-accident-end")["time"]
    # later, on purpose: untouched rows deleted, a damaged row fixed by hand, another deleted
    ready.sql("DELETE FROM notes WHERE id % 5 = 2 AND id % 3 = 0")
    fixed = min(i for i in before if i % 5 == 1)
    ready.sql(f"UPDATE notes SET body = 'fixed by hand' WHERE id = {fixed}")
    ready.sql(f"DELETE FROM notes WHERE id % 5 = 1 AND id % 7 = 0 AND id <> {fixed}")
    now = _rows(ready)
    flush_wal(ready)
    deliberate = {i for i in before if (i % 5 == 2 and i % 3 == 0) or (i % 5 == 1 and i % 7 == 0 and i != fixed)}
    expected = {i: (now[i] if i == fixed else text) for i, text in before.items() if i not in deliberate}
    for block in _blocks(ready, "pitr"):
        _run(ready, block, {"TARGET": target.isoformat(), "ACCIDENT_END": accident_end.isoformat(),
                            "TABLE": "notes"})
    after = _rows(ready)
    assert not deliberate & after.keys(), "rows deleted on purpose after the accident came back"
    assert after[fixed] == now[fixed], "a row fixed by hand after the accident was overwritten"
    assert after == expected


@pytest.mark.slow
def test_logical_restore_runbook_copies_chosen_rows_back_across_databases(ready):
    ready.ok("backup.logical")  # a dump of the table as it is now: the state before this test's accident
    dumps = json.loads(ready.ok("backup.logical-list", "--json"))["dumps"]
    newest = max((d for d in dumps if d["database"] == "crm"), key=lambda d: d["started"])
    before = _rows(ready)
    ready.sql("DELETE FROM notes WHERE id % 7 IN (3, 4)")  # 3: the accident; 4: deleted on purpose
    for block in _blocks(ready, "logical-restore"):
        _run(ready, block, {"DUMP": newest["key"], "TABLE": "notes", "ROWS": "id % 7 = 3"})
    assert _rows(ready) == {i: t for i, t in before.items() if i % 7 != 4}
    assert not ready.sql("SELECT 1 FROM pg_database WHERE datname = 'crm_restored'")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.slow
def test_disaster_recovery_brings_the_data_back_from_the_bucket_alone(ready):
    cfg = ready.cfg
    conn = connection(ready)
    remote.sql(conn, cfg, "INSERT INTO pgvault.canary DEFAULT VALUES;")
    last = remote.sql_json(conn, cfg, "SELECT json_build_object('seq', max(seq)) FROM pgvault.canary;")["seq"]
    flush_wal(ready)
    postmaster = int(Path(cfg.postgres.data_dir, "postmaster.pid").read_text().split()[0])
    # the disaster: the data directory and pgBackRest's configuration are gone; the postmaster still runs
    while Path(cfg.postgres.data_dir).exists():
        shutil.rmtree(cfg.postgres.data_dir, ignore_errors=True)
    shutil.rmtree(cfg.pgbackrest.config_path)
    blocks = _blocks(ready, "disaster-recovery")
    assert blocks[0].step == "dr-fence", "the checklist does not fence the old primary first"
    _run(ready, blocks[0], {})
    assert not _alive(postmaster), "the old postmaster survived the fence"
    # the outage as the scheduled jobs see it: they fail and alert, the monitor turns critical
    for job in ("canary", "incr", "monitor"):
        remote.run(conn, ["env", f"PGVAULT_STACK_DIR={cfg.jobs.config_dir}", *cron.job_command(cfg, job).split()],
                   user=cfg.postgres.os_user, warn=True)
    for block in blocks[1:]:
        _run(ready, block, {})
    recovered = remote.sql_json(conn, cfg, "SELECT json_build_object('seq', max(seq)) FROM pgvault.canary;")["seq"]
    assert recovered >= last, f"canary {last} was archived before the disaster but not recovered ({recovered})"
    assert ready.sql("SELECT count(*) FROM clients")[0][0] > 0
    assert "matches the stack" in ready.ok("host.check")
    doc = json.loads(ready.fab("monitor.collect", "--json").stdout)
    still = [job for job in ("canary", "incr", "monitor") if doc["jobs"].get(job, {}).get("outcome") == "failed"]
    assert not still, f"the outage's failed jobs still alert: {still}"
