"""After a failover, the old primary rebuilt as the new standby (issue 16): one private sandbox with a primary
(db1) and its streaming standby (db2).

The tests run in file order on one sandbox, each leaving the next its starting point: the failover runbook
promotes db2 and fences db1; rebuilding onto the current primary is refused before anything changes, whichever
way it is asked and while it is briefly down too; the roles are swapped as the runbook says; the runbook's step 4
(a dry run, then the rebuild) rebuilds db1 from the repository as db2's standby and lifts its fence; a backup then
reads db1's data files again, and the WAL proof holds from the first timeline's backups to the second's.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from pgvault.core.errors import ExitCode
from sandbox import cluster
from tests.integration.helpers import hosts_sandbox
from tests.integration.test_standby import (
    _backup_log,
    _job,
    _last_record,
    _psql,
    _runbook_step,
    _standby_check,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pair():
    """A seeded primary (db1) with a streaming standby (db2) built from the repository, both set up."""
    with hosts_sandbox("rebuild", ("standby",)) as (own, _):
        yield own


def _control(view) -> dict[str, str]:
    """``pg_controldata`` of a stopped cluster: its state, timeline and latest checkpoint."""
    argv = cluster.as_db_user(view, [f"{view.postgres.bin_dir}/pg_controldata", "-D", view.postgres.data_dir])
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return {k: fields[k].strip() for k in ("Database cluster state", "Latest checkpoint's TimeLineID",
                                           "Latest checkpoint location")}


def _swap_roles(sandbox) -> None:
    """The failover runbook's step 2: db2 primary, db1 standby."""
    path = sandbox.folder / "Pulumi.rebuild.yaml"
    doc = yaml.safe_load(path.read_text())
    for host in doc["config"]["pgvault:hosts"]:
        host["role"] = "primary" if host.get("role") == "standby" else "standby"
    path.write_text(yaml.safe_dump(doc, sort_keys=True))


def _fence_file(view) -> str:
    return f"{view.pgbackrest.lock_path}/{view.pgbackrest.stanza}.stop"


def _refused(done: subprocess.CompletedProcess, *words: str) -> str:
    """A refusal: exit 2, one line on stderr, naming ``words``; never a --force pointed at production (db2)."""
    line = done.stderr.strip()
    assert done.returncode == ExitCode.USAGE, (done.returncode, done.stdout, done.stderr)
    assert line.count("\n") == 0, line
    for word in words:
        assert word in line, (word, line)
    assert "--host db2 --force" not in done.stdout + done.stderr
    return line


def test_the_failover_promotes_the_standby_and_fences_the_old_primary(pair):
    old, new = pair.cfg.on("db1"), pair.cfg.on("db2")
    _psql(old, "CREATE TABLE rebuild_marks (label text); INSERT INTO rebuild_marks VALUES ('timeline 1');")
    promoted = _runbook_step(pair, "failover-1")
    assert "db2 is the primary on timeline 2" in promoted, promoted
    assert "fab host.standby --host db1 --force" in promoted, "host.promote names the rebuild of the old primary"
    assert not cluster.running(old) and os.path.exists(_fence_file(old))
    assert _psql(new, "SELECT pg_is_in_recovery()") == "f"


def test_rebuilding_onto_the_current_primary_is_refused_before_anything_changes(pair):
    old, new = pair.cfg.on("db1"), pair.cfg.on("db2")
    before = _control(old)
    assert before["Database cluster state"] == "shut down" and before["Latest checkpoint's TimeLineID"] == "1"
    # the new production down for a moment, the roles not swapped yet: refused, even with --force, whose
    # suggestion never comes (the stack's primary db1 is fenced; db2's cluster is on the newer timeline)
    cluster.stop(new)
    try:
        production = _control(new)
        assert production["Latest checkpoint's TimeLineID"] == "2", production
        for args in ((), ("--force",), ("--host", "db2", "--force")):
            _refused(pair.fab("host.standby", *args), "the stack's primary db1 is fenced", "swap the roles")
        assert _control(new) == production and not cluster.running(new), "a refusal touched the new production"
    finally:
        cluster.start(new)
    # the roles are not swapped yet: the stack's standby db2 is the running primary, the stack's primary is fenced
    for args in (("--force",), ("--force", "--dry-run"), ("--host", "db2", "--force")):
        line = _refused(pair.fab("host.standby", *args), "db2 runs as a primary", "swap the roles")
        assert "never rebuilds a running primary" in line
    _refused(pair.fab("host.standby", "--host", "db1", "--force"), "db1 is not the stack's standby but its primary",
             "swap the roles")

    _swap_roles(pair)  # the failover runbook's step 2: db2 primary, db1 standby
    _refused(pair.fab("host.standby", "--host", "db2", "--force"), "db2 is not the stack's standby but its primary")
    # without --force, the fix it names is the old primary's rebuild, never production's
    unforced = _refused(pair.fab("host.standby"), "holds a cluster that is not a standby")
    assert unforced.endswith("fab host.standby --host db1 --force"), unforced
    after = _runbook_step(pair, "failover-3")  # host.setup, backup.verify, backup.full on the new primary
    assert "WAL chains from the oldest kept backup set to 00000002" in after, after

    assert _control(old) == before, "a refusal changed the old primary's data directory"
    assert os.path.exists(_fence_file(old)) and not cluster.running(old)
    _psql(new, "INSERT INTO rebuild_marks VALUES ('timeline 2');")  # production is untouched and writable
    assert _psql(new, "SELECT pg_is_in_recovery()") == "f"


def test_the_runbook_rebuilds_the_old_primary_as_the_standby_and_backups_read_it_again(pair):
    old, new = pair.cfg.on("db1"), pair.cfg.on("db2")
    dry = _runbook_step(pair, "failover-4a")  # host.standby --force --dry-run, read before 4b
    assert "would restore db1 from the repository as a standby of db2 over its data directory" in dry, dry
    assert "would pgbackrest start on db1 once it streams" in dry and os.path.exists(_fence_file(old))
    rebuilt = _runbook_step(pair, "failover-4b")  # host.standby --force, host.setup, full, verify
    assert "host.standby db1: built and streaming" in rebuilt
    assert "pgbackrest start on db1" in rebuilt, "the fence is lifted once db1 streams"
    assert "could not be used" not in rebuilt, "the full backup fell back to the primary"
    assert "WAL chains from the oldest kept backup set to 00000002" in rebuilt, rebuilt
    assert not os.path.exists(_fence_file(old))
    assert _psql(old, "SELECT pg_is_in_recovery()") == "t"
    assert _psql(old, "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'") == "1"
    _psql(new, "INSERT INTO rebuild_marks VALUES ('streamed');")
    _psql(new, "SELECT pg_switch_wal()")
    assert pair.fab("host.check").returncode == 0, "the hosts match the swapped stack"

    # the scheduled full backup, as cron runs it on the new primary, reads the new standby's data files
    before = len(_backup_log(pair, "db2"))
    done = _job(pair, "db2", "full")
    assert done.returncode == 0, done.stderr
    record = _last_record(pair, "db2", "full")
    assert record["outcome"] == "ok" and record["sizes"]["standby"] == "db1", record
    assert "standby_fallback" not in record["sizes"]
    log = _backup_log(pair, "db2")[before:]
    assert log.count(f"backup file 127.0.0.1:{old.postgres.data_dir}/") > 100
    assert _standby_check(pair)["state"] == "ok"
    assert "streamed" in _psql(old, "SELECT string_agg(label, ',') FROM rebuild_marks")

    # the WAL proof: from the oldest backup set on timeline 1 to the newest segment on timeline 2, no hole
    verified = pair.fab("backup.verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "00000002" in verified.stdout.split("WAL chains")[-1]
    sets = json.loads(pair.ok("backup.list", "--json"))["backups"]
    assert sets[0]["wal_start"].startswith("00000001") and sets[-1]["wal_start"].startswith("00000002"), sets

    again = pair.fab("host.standby")
    assert again.returncode == 0 and "host.standby db1: no changes" in again.stdout, again.stdout + again.stderr
