"""Every bad input of issue #2 fails before anything changes, with one line naming the fix."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ops.errors import ExitCode
from tests.builders import sandbox_config, stack_text, merge
from tests.integration.helpers import fingerprint


def _future() -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()


CASES = [
    (("restore.pitr", "--target", "2026-11-26 10:00:00"), ExitCode.USAGE, "has no time zone"),
    (("restore.pitr", "--target", "last tuesday"), ExitCode.USAGE, "is not a timestamp"),
    (("restore.pitr", "--target", "FUTURE"), ExitCode.USAGE, "is in the future"),
    (("restore.pitr", "--target", "2001-01-01 00:00:00+00"), ExitCode.USAGE, "before the earliest restorable point"),
    (("restore.pitr", "--target-lsn", "12345"), ExitCode.USAGE, "is not an LSN"),
    (("restore.pitr", "--target-lsn", "FFFF/FFFFFFFF"), ExitCode.USAGE, "is in the future"),
    (("restore.pitr", "--target-xid", "1; rm -rf /"), ExitCode.USAGE, "is not a transaction id"),
    (("restore.pitr", "--target-name", "x'; DROP TABLE y; --"), ExitCode.USAGE, "characters pgvault does not accept"),
    (("restore.pitr",), ExitCode.USAGE, "no target given"),
    (("restore.full", "--host", "nope"), ExitCode.USAGE, "unknown host 'nope'; use one of: db1"),
    (("restore.full", "--in-place"), ExitCode.REFUSED, "add --force"),
    (("restore.full", "--name", "../../etc"), ExitCode.USAGE, "scratch name"),
    (("backup.full", "--stack", "../Pulumi.itest"), ExitCode.USAGE, "stack name"),
    (("backup.full", "--stack", "nosuchstack"), ExitCode.CONFIG, "no stack file"),
]


@pytest.mark.parametrize("args, code, words", CASES, ids=[c[2] for c in CASES])
def test_bad_input_is_refused_before_any_change(configured, args, code, words):
    args = tuple(_future() if a == "FUTURE" else a for a in args)
    before = fingerprint(configured)
    done = configured.fab(*args)
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], done.stderr
    assert fingerprint(configured) == before


def test_the_window_is_named_when_the_target_is_before_it(configured):
    done = configured.fab("restore.pitr", "--target", "2001-01-01 00:00:00+00")
    assert "recoverable window 20" in done.stderr


def test_a_non_empty_scratch_directory_is_refused(configured):
    taken = Path(configured.cfg.postgres.scratch_dir) / "taken"
    taken.mkdir(parents=True, exist_ok=True)
    (taken / "keep.txt").write_text("someone's work")
    before = fingerprint(configured)
    done = configured.fab("restore.full", "--name", "taken")
    assert done.returncode == ExitCode.USAGE
    assert "exists and is not empty" in done.stderr
    assert (taken / "keep.txt").read_text() == "someone's work"
    assert fingerprint(configured) == before


def _other_stack(sandbox, name: str, **overrides) -> str:
    ports = {"moto": sandbox.cfg.sandbox.moto_port, "ssh": sandbox.cfg.hosts[0].ssh_port,
             "pg": sandbox.cfg.postgres.port, "s3": sandbox.cfg.repository.endpoint_port,
             "smtp": sandbox.cfg.alerts.smtp.port}
    config = merge(sandbox_config(str(sandbox.folder), ports), overrides)
    (sandbox.folder / f"Pulumi.{name}.yaml").write_text(stack_text(config))
    return name


def test_an_unknown_stanza_is_refused(configured):
    stack = _other_stack(configured, "otherstanza", **{"pgvault:pgbackrest": {"stanza": "nosuch"}})
    done = configured.fab("restore.full", "--stack", stack)
    assert done.returncode == ExitCode.FAILED
    assert "stanza nosuch" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_an_unreachable_host_is_named(configured):
    from ops.waiting import free_port

    hosts = [{"name": "db1", "address": "127.0.0.1", "ssh_port": free_port(),
              "identity_file": configured.cfg.hosts[0].identity_file}]
    stack = _other_stack(configured, "deadhost", **{"pgvault:hosts": hosts})
    done = configured.fab("backup.full", "--stack", stack)
    assert done.returncode == ExitCode.UNREACHABLE
    assert "cannot reach host db1" in done.stderr and "check that the host is up" in done.stderr
