"""Every bad input of issue #2 fails before anything changes, with one line naming the fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pgvault.core.errors import ExitCode
from tests.builders import merge, sandbox_config, stack_text
from tests.integration.helpers import fingerprint


def _future() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


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
    (("backup.full", "--stack", "itset"), ExitCode.CONFIG, "did you mean itest? existing stacks: "),
    (("restore.ful",), ExitCode.USAGE, "unknown task 'restore.ful'; did you mean restore.full?"),
    (("restore.full", "--in-plac", "--force"), ExitCode.USAGE, "unknown option --in-plac for restore.full; did you "
     "mean --in-place?"),
    (("restore.logical", "--dump", "2026-01-01"), ExitCode.USAGE, "--into is required"),
    (("backup.mark",), ExitCode.USAGE, "--name is required"),
    (("restore.pitr", "--target-name", "no-such-point"), ExitCode.USAGE,
     "restore point 'no-such-point' is not in pgvault's registry"),
    (("restore.full", "--in-place", "--force", "--accept-short"), ExitCode.USAGE, "an in-place restore never does"),
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
    from sandbox.processes import free_port

    hosts = [{"name": "db1", "address": "127.0.0.1", "ssh_port": free_port(),
              "identity_file": configured.cfg.hosts[0].identity_file}]
    stack = _other_stack(configured, "deadhost", **{"pgvault:hosts": hosts})
    done = configured.fab("backup.full", "--stack", stack)
    assert done.returncode == ExitCode.UNREACHABLE
    assert "cannot reach host db1" in done.stderr and "check that the host is up" in done.stderr


PWNED = "/tmp/pgvault-pwned"
HOSTILE = f"x'; touch {PWNED}; echo '"

MORE = [
    (("backup.mark", "--name", HOSTILE), ExitCode.USAGE, "characters pgvault does not accept"),
    (("backup.mark", "--name", "$(touch /tmp/pgvault-pwned)"), ExitCode.USAGE, "characters pgvault does not accept"),
    (("restore.logical", "--dump", "2026-01-01", "--into", "crm; DROP DATABASE crm"), ExitCode.USAGE,
     "database name"),
    (("restore.logical", "--dump", "2026-01-01", "--into", "x", "--table", "t`touch /tmp/pgvault-pwned`"),
     ExitCode.USAGE, "table name"),
    (("restore.drop", "--name", "../../pg/data"), ExitCode.USAGE, "scratch name"),
    (("restore.drop", "--name", "nosuchscratch"), ExitCode.USAGE, "no pgvault scratch cluster"),
    (("restore.pitr", "--target", "2026-11-26T25:00:00+00:00"), ExitCode.USAGE, "is not a timestamp"),
    (("restore.pitr", "--target", "3026-01-01 00:00:00+00"), ExitCode.USAGE, "is in the future"),
    (("restore.pitr", "--target-xid", "99999999999999"), ExitCode.USAGE, "has not been assigned yet"),
    (("drill.run", "--target", "someday"), ExitCode.USAGE, "is not a timestamp"),
    (("sandbox.seed", "--scale", "0"), ExitCode.USAGE, "out of range"),
    (("backup.full", "--host", "db1; rm -rf /"), ExitCode.USAGE, "unknown host"),
    (("backup.full", "--stack", "a/b"), ExitCode.USAGE, "stack name"),
]


@pytest.mark.parametrize("args, code, words", MORE, ids=[c[2] + str(i) for i, c in enumerate(MORE)])
def test_hostile_values_are_refused_without_any_shell_effect(configured, args, code, words):
    Path(PWNED).unlink(missing_ok=True)
    before = fingerprint(configured)
    done = configured.fab(*args)
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], done.stderr
    assert not Path(PWNED).exists(), "a value reached a shell"
    assert fingerprint(configured) == before


BAD_STACKS = [
    ({"pgvault:bogus": 1}, "unknown key pgvault:bogus"),
    ({"pgvault:repository": {"bucket": "Acme.Backups"}}, "pgvault:repository.bucket"),
    ({"pgvault:repository": {"endpoint": "http://localhost:9000"}}, "has a scheme"),
    ({"pgvault:retention": {"daily_days": -1}}, "pgvault:retention.daily_days"),
    ({"pgvault:schedule": {"full": "61 * * * *"}}, "not a 5-field cron"),
    ({"pgvault:targets": {"rpo_seconds": 0}}, "pgvault:targets.rpo_seconds"),
    ({"pgvault:pgbackrest": {"stanza": "crm main"}}, "pgvault:pgbackrest.stanza"),
    ({"pgvault:hosts": [{"name": "db1", "address": "h"}, {"name": "db1", "address": "h2"}]}, "share a name"),
    ({"pgvault:postgres": {"databases": ["crm\"; drop"]}}, "pgvault:postgres.databases[0]"),
]


@pytest.mark.parametrize("overrides, words", BAD_STACKS, ids=[w for _, w in BAD_STACKS])
def test_bad_stack_files_stop_every_task_before_it_connects(configured, overrides, words):
    stack = _other_stack(configured, "broken", **overrides)
    before = fingerprint(configured)
    for task in ("host.setup", "backup.full", "restore.full"):
        done = configured.fab(task, "--stack", stack)
        assert done.returncode == ExitCode.CONFIG, done.stderr
        line = done.stderr.strip()
        assert "\n" not in line and "Pulumi.broken.yaml" in line and words in line
    assert fingerprint(configured) == before


def test_a_non_sandbox_stack_may_not_switch_tls_verification_off(configured):
    stack = _other_stack(configured, "noverify", **{"pgvault:sandbox": None, "pgvault:alerts": None,
                                                    "pgvault:repository": {"verify_tls": False}})
    done = configured.fab("host.check", "--stack", stack)
    assert done.returncode == ExitCode.CONFIG and "verify_tls is false outside a sandbox" in done.stderr


@pytest.mark.parametrize("args", [("restore.logical", "--help"), ("backup.mark", "--help"), ("restore.full", "-h"),
                                  ("restore.drop", "-h"), ("--help", "restore.logical")])
def test_help_is_shown_for_every_task_and_dash_h_is_not_host(configured, args):
    done = configured.fab(*args)
    assert done.returncode == 0 and done.stdout.startswith("Usage: fab"), done.stdout + done.stderr
    assert "--host=STRING" in done.stdout and "-h STRING" not in done.stdout
