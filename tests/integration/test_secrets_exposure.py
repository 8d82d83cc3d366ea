"""No secret of the sandbox appears anywhere it should not: files, logs, runbooks, status, mail, alerts, ps."""

from __future__ import annotations

import mailbox
import subprocess
import time
from pathlib import Path

import pytest
from dotenv import dotenv_values

from ops import runbooks
from pgvault.core import secrets
from sandbox import lifecycle
from tests.fixtures import FAB, ROOT


@pytest.fixture(scope="module")
def known(configured):
    values = [v for v in dotenv_values(configured.cfg.secrets.file).values() if v and len(v) >= 8]
    assert len(values) >= 5
    return values


def _leaks(text: str, values: list[str]) -> bool:
    return any(v in text for v in values)


def test_no_secret_in_any_file_pgvault_writes_except_the_two_secret_files(configured, known):
    cfg = configured.cfg
    allowed = {secrets.secrets_file(cfg), secrets.restore_secrets_file(cfg)}
    configured.ok("monitor.publish")
    folders = [cfg.pgbackrest.config_path, cfg.pgbackrest.log_path, cfg.jobs.config_dir, cfg.jobs.state_dir,
               cfg.jobs.log_dir, str(Path(cfg.postgres.log_file).parent), str(Path(cfg.jobs.cron_file).parent)]
    checked = 0
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.is_file() and str(path) not in allowed:
                assert not _leaks(path.read_text(errors="replace"), known), f"secret in {path}"
                checked += 1
    assert checked > 10
    for path in allowed:
        assert Path(path).stat().st_mode & 0o077 == 0


def test_no_secret_in_runbooks_mail_or_alerts(configured, known):
    for name, text in runbooks.render_all(configured.cfg).items():
        assert not _leaks(text, known), name
    for path in (ROOT / "runbooks" / "sandbox").glob("*.md"):
        assert not _leaks(path.read_text(), known)
    configured.ok("monitor.report")
    for message in mailbox.Maildir(lifecycle.mailbox(configured.cfg), create=False):
        assert not _leaks(message.as_string(), known)


@pytest.mark.parametrize("args, working", [
    (("backup.logical",), "pg_dump"),
    (("restore.full", "--name", "ps-check"), "pgbackrest"),
    (("host.check",), "host.check"),
], ids=["logical", "restore", "check"])
def test_no_secret_in_ps_while_tasks_run(configured, known, args, working):
    task = subprocess.Popen([FAB, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = False
    try:
        while task.poll() is None:
            table = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
            seen |= working in table
            assert not _leaks(table, known), "a secret is visible in ps"
            time.sleep(0.05)  # the sampling interval, not a wait for anything
    finally:
        output = task.communicate(timeout=600)[0]
    assert task.returncode == 0, output
    assert seen, f"ps never showed {working!r} while the task ran: the sampling proved nothing"
    assert not _leaks(output, known)
    if args[0] == "restore.full":
        configured.ok("restore.drop", "--name", "ps-check")
