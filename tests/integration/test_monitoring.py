"""Monitoring against the real sandbox: collect, publish to moto's CloudWatch, alerts through SNS->SQS and SMTP,
the daily report, the dashboard in headless Chromium, and all of it during an S3 outage."""

from __future__ import annotations

import json
import mailbox
import os
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from pgvault.core import cron, metrics, pgbackrest, walarchive
from pgvault.core.errors import ExitCode
from pgvault.edges import bucket, remote
from pgvault.edges.cloud import aws_client, s3_client
from pgvault.edges.waiting import within
from sandbox import lifecycle, moto
from sandbox.processes import State
from tests.fixtures import ARTIFACTS
from tests.integration.helpers import collect, connection, flush_wal, labels, mark, restore_json
from tests.integration.test_schedule import _as_cron, _as_cron_argv, _lock_held


def _wal_listing(sandbox) -> tuple[list[str], int]:
    """Every key under the WAL archive and their bytes, as the bucket lists them now."""
    keys, wal_bytes = [], 0
    for page in s3_client(sandbox.cfg).get_paginator("list_objects_v2").paginate(
            Bucket=sandbox.cfg.repository.bucket, Prefix="pgbackrest/archive/"):
        for item in page.get("Contents", []):
            keys.append(item["Key"])
            wal_bytes += item["Size"]
    return keys, wal_bytes


def _collect_while_the_archive_holds_still(sandbox) -> tuple[dict, list[str], int]:
    """A collection with the bucket's WAL listing unchanged from before it to after it: archive_timeout switches
    a segment every few seconds here, and one arriving mid-collection is not a mismatch."""
    for _ in range(5):
        flush_wal(sandbox)
        before = _wal_listing(sandbox)
        doc = collect(sandbox)
        if _wal_listing(sandbox) == before:
            return doc, *before
    pytest.fail("the WAL archive never held still for one collection")


def test_collect_matches_pgbackrest_info_and_the_bucket(configured):
    doc, keys, wal_bytes = _collect_while_the_archive_holds_still(configured)
    info = json.loads(configured.ok("backup.list", "--json"))
    assert [b["label"] for b in doc["backups"]] == [b["label"] for b in info["backups"]]
    assert doc["last"]["backup"] == info["backups"][-1]["label"]
    assert doc["sizes"]["repository_bytes"] == sum(b["repository_delta_bytes"] for b in info["backups"])
    newest = doc["wal"]["newest_in_bucket"]
    names = [k.rsplit("/", 1)[1] for k in keys]
    assert any(f"/{newest}-" in k for k in keys)
    assert newest == max(n[:24] for n in names if n[:24].isalnum() and "-" in n)
    assert doc["usage"]["wal"] == wal_bytes
    for key in ("last_full_seconds", "last_backup_seconds", "wal_lag_seconds"):
        assert isinstance(doc["ages"][key], int) and doc["ages"][key] >= 0
    assert doc["window"]["earliest"] and doc["state"] in ("ok", "warning", "critical")


def _check(doc: dict, key: str) -> dict:
    return next(c for c in doc["checks"] if c["key"] == key)


def test_an_idle_database_whose_wal_is_all_in_the_bucket_is_not_lagging(configured):
    """No new segment for longer than the RPO is what an idle, healthy database looks like (issue 14, item 5)."""
    flush_wal(configured)
    rpo = configured.cfg.targets.rpo_seconds

    def newest_age(doc: dict) -> float:
        return (datetime.fromisoformat(doc["collected_at"])
                - datetime.fromisoformat(doc["wal"]["newest_in_bucket_at"])).total_seconds()

    doc = within(rpo * 4, lambda: (lambda d: d if newest_age(d) > rpo else None)(collect(configured)), interval=5)
    assert doc, "the newest segment in the bucket never grew older than the RPO"
    lag = _check(doc, "wal-archive-lag")
    assert (lag["state"], lag["value"]) == ("ok", 0), lag
    assert doc["wal"]["pending_segments"] == 0
    assert lag["message"].startswith("every finished WAL segment is in the bucket")


def test_publish_puts_the_agreed_metrics_into_cloudwatch(configured):
    assert "published" in configured.ok("monitor.publish")
    listed = aws_client(configured.cfg, "cloudwatch").list_metrics(Namespace=metrics.NAMESPACE)["Metrics"]
    names = {m["MetricName"] for m in listed}
    assert {metrics.LAST_FULL_BACKUP_AGE.name, metrics.LAST_BACKUP_AGE.name, metrics.WAL_ARCHIVE_LAG.name,
            metrics.REPOSITORY_SIZE.name} <= names <= {m.name for m in metrics.ALL}
    for metric in listed:
        assert {d["Name"]: d["Value"] for d in metric["Dimensions"]} == {"Stack": "itest", "Stanza": "crm"}
    state_dir = Path(configured.cfg.jobs.state_dir)
    assert "pgbackrest_backup_since_last_completion_seconds" in (state_dir / "textfile" / "pgvault.prom").read_text()
    assert json.loads((state_dir / "status.json").read_text())["stanza"] == "crm"


def _drain_queue(cfg) -> list[dict]:
    sqs = aws_client(cfg, "sqs")
    url = sqs.get_queue_url(QueueName=moto.inbox_name(cfg))["QueueUrl"]
    found = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _mails(cfg) -> dict:
    box = mailbox.Maildir(lifecycle.mailbox(cfg), create=False)
    return {key: box[key] for key in box.keys()}


def _new_mails(cfg, before: dict) -> list:
    return [m for key, m in _mails(cfg).items() if key not in before] or None


def _subject(message) -> str:
    return " ".join(str(message["Subject"]).split())


def test_a_failed_job_alerts_at_once_through_sns_and_smtp(configured):
    cfg = configured.cfg
    _drain_queue(cfg)
    before = _mails(cfg)
    conn = connection(configured)
    remote.run(conn, pgbackrest.command(cfg, "stop"), user=cfg.postgres.os_user)
    try:
        env, lines = cron.parse(Path(cron.cron_file(cfg)).read_text())
        # the nightly full: it always runs pgBackRest (the hourly job may only mark a restore point)
        line = next(x for x in lines if x.job == "full")
        done = _as_cron(line.user, env, line.command)
        assert done.returncode == 1
    finally:
        remote.run(conn, pgbackrest.command(cfg, "start"), user=cfg.postgres.os_user)
    alerts = within(20, lambda: [m for m in _drain_queue(cfg) if "FAILED full" in m.get("Subject", "")])
    assert alerts, "no alert reached the SQS inbox"
    body = alerts[0]["Message"]
    for words in ("Job:     full", "Host:", "pgBackRest error [062]",
                  "Runbook: runbooks/itest/alarms.md#backup-failed"):
        assert words in body
    mails = within(20, lambda: _new_mails(cfg, before))
    message = [m for m in mails if "FAILED full" in _subject(m)][0]
    assert "pgBackRest error [062]" in message.get_payload() and message["To"] == "oncall@itest.invalid"
    failures = aws_client(cfg, "cloudwatch").list_metrics(Namespace=metrics.NAMESPACE,
                                                         MetricName=metrics.JOB_FAILURES.name)["Metrics"]
    assert failures


def test_a_failure_outlives_a_skipped_run_and_a_retry_by_hand_clears_it(configured):
    """job-failed keeps the last decided run; ``fab backup.full`` after a failed full clears it (item 6).

    The nightly full, not the hourly job: with the adaptive rule the hourly job may only mark a restore point.
    """
    cfg = configured.cfg
    conn = connection(configured)
    env, lines = cron.parse(Path(cron.cron_file(cfg)).read_text())
    line = next(x for x in lines if x.job == "full")
    remote.run(conn, pgbackrest.command(cfg, "stop"), user=cfg.postgres.os_user)
    try:
        assert _as_cron(line.user, env, line.command).returncode == 1
    finally:
        remote.run(conn, pgbackrest.command(cfg, "start"), user=cfg.postgres.os_user)
    failed = _check(collect(configured), "job-failed")
    assert failed["state"] == "critical"
    lock = Path(cfg.jobs.state_dir, "backup.lock")
    holder = subprocess.Popen(_as_cron_argv(line.user, env, f"flock -x {lock} sleep 60"), start_new_session=True)
    try:
        assert within(10, lambda: _lock_held(lock)), "the stand-in backup never took the lock"
        assert _as_cron(line.user, env, line.command).returncode == ExitCode.LOCKED
    finally:
        os.killpg(holder.pid, signal.SIGKILL)  # the whole group: runuser's flock and sleep would hold the lock on
        holder.wait()
    assert _check(collect(configured), "job-failed")["state"] == "critical", "a skipped run cleared the failure"
    configured.ok("backup.full")
    assert _check(collect(configured), "job-failed")["state"] == "ok", "the retry by hand did not clear it"
    assert "full (pgBackRest error [062]" in failed["message"], "the check shows the failed job's error line"


def test_the_daily_report_goes_out_by_smtp_and_sns(configured):
    cfg = configured.cfg
    _drain_queue(cfg)
    before = _mails(cfg)
    out = configured.ok("monitor.report")
    subject = out.split('sent "', 1)[1].split('"', 1)[0]
    assert subject.startswith("[pgvault] itest/crm: ")
    mails = within(20, lambda: _new_mails(cfg, before))
    body = [m for m in mails if _subject(m) == subject][0].get_payload()
    for section in ("Checks", "Backups", "WAL lag:", "Sizes", "Retention (sets per tier", "Storage in the bucket",
                    "Jobs in the last 24 hours", "Last restore drill"):
        assert section in body, section
    assert any(m.get("Subject") == subject[:99] for m in within(20, lambda: _drain_queue(cfg)) or [])


def _chromium(page: Path, screenshot: str) -> str:
    """The page's DOM as headless Chromium builds it; a screenshot of it goes to test-artifacts/<screenshot>.

    Each call has a profile of its own: two test processes may render at once, and Chromium locks its profile.
    """
    with tempfile.TemporaryDirectory(prefix="pgv-chromium-") as profile:
        chromium = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                    "--window-size=1280,1400"]
        dom = subprocess.run(chromium + ["--dump-dom", page.as_uri()], capture_output=True, text=True,
                             timeout=120).stdout
        subprocess.run(chromium + [f"--screenshot={ARTIFACTS / screenshot}", page.as_uri()], capture_output=True,
                       timeout=120)
    assert (ARTIFACTS / screenshot).stat().st_size > 10000
    return dom


def test_the_dashboard_shows_the_collected_figures_in_chromium(configured):
    ARTIFACTS.mkdir(exist_ok=True)
    page = ARTIFACTS / "dashboard.html"
    configured.ok("monitor.dashboard", "--output", str(page))
    doc = collect(configured)
    dom = _chromium(page, "dashboard.png")
    assert 'id="last-backup-label"' in dom and doc["last"]["backup"] in dom
    assert f'data-bytes="{doc["sizes"]["repository_bytes"]}"' in dom
    assert "Backup size history" in dom and "<svg" in dom and "MB" in dom
    for check in doc["checks"]:
        assert f'<a href="runbooks/itest/alarms.md#{check["key"]}">{check["key"]}</a>' in dom


def _archive_gaps(sandbox) -> list[walarchive.Gap]:
    return walarchive.gaps(bucket.archive_segments(s3_client(sandbox.cfg), sandbox.cfg))


def _weed(sandbox) -> int:
    return State(Path(sandbox.cfg.sandbox.dir)).load()["s3"]["pid"]


@contextmanager
def s3_frozen(sandbox):
    """The S3 server stops answering (SIGSTOP) until the block ends."""
    pid = _weed(sandbox)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@pytest.mark.slow
def test_s3_outage_alerts_keeps_the_last_known_figures_and_catches_up_without_loss(configured):
    """The bucket stops answering for longer than the RPO while writes go on.

    PostgreSQL keeps every unarchived segment; the monitor job turns critical, the cause first, and alerts at
    once; every door says so first and keeps the last known figures with their date (issue 14, item 4; the
    dashboard's screenshot, test-artifacts/dashboard-outage.png, is docs/dashboard-outage.png); on return
    archiving catches up by itself with no hole, the job sends RESOLVED, and a PITR to a moment inside the
    outage has every row committed before it.
    """
    cfg = configured.cfg
    conn = connection(configured)
    env, lines = cron.parse(Path(cron.cron_file(cfg)).read_text())
    monitor = next(x for x in lines if x.job == "monitor")
    configured.ok("backup.logical")
    flush_wal(configured)
    earlier_gaps = _archive_gaps(configured)  # holes archive retention left before (test_expire), if any
    assert _as_cron(monitor.user, env, monitor.command).returncode == 0  # the state before the outage is on record
    before = json.loads(Path(cfg.jobs.state_dir, "status.json").read_text())
    assert before.get("stale") is None and before["backups"]
    lag = _check(before, "wal-archive-lag")
    assert lag["state"] != "critical", lag
    _drain_queue(cfg)
    ready = Path(cfg.postgres.data_dir, "pg_wal", "archive_status")
    with s3_frozen(configured):
        deadline, n, middle = time.monotonic() + cfg.targets.rpo_seconds + 20, 0, None
        while time.monotonic() < deadline:
            mark(configured, f"outage-{n}")
            remote.sql(conn, cfg, "SELECT pg_switch_wal();")
            if n == 5:
                (middle,), = configured.sql("SELECT clock_timestamp()")
            n += 1
            time.sleep(2)  # paces the write load; nothing waits on it
        assert list(ready.glob("*.ready")), "PostgreSQL must keep every unarchived segment"
        done = _as_cron(monitor.user, env, monitor.command)
        assert done.returncode == 0, f"the outage is the monitor job's finding, not its failure:\n{done.stderr}"
        # read before monitor.report below puts the daily report (its subject says CRITICAL too) on the same queue
        alerts = within(60, lambda: [m for m in _drain_queue(cfg) if "CRITICAL" in m.get("Subject", "")])
        doc = collect(configured)  # a second look: the outage's start is remembered from the job's, not moved
        check = configured.fab("host.check")
        report = configured.fab("monitor.report")
        ARTIFACTS.mkdir(exist_ok=True)
        page = ARTIFACTS / "dashboard-outage.html"
        configured.ok("monitor.dashboard", "--output", str(page))
        dom = _chromium(page, "dashboard-outage.png")
    stored = json.loads(Path(cfg.jobs.state_dir, "status.json").read_text())
    # the alert: at once, naming the lagging archive and the cause
    assert alerts and "wal-archive-lag" in alerts[0]["Subject"] and "cannot be reached" in alerts[0]["Message"]
    # the status document: critical, the cause first, the WAL lag past the RPO, the last known figures kept
    assert doc["state"] == "critical" and doc["checks"][0]["key"] == "collection"
    assert "cannot be reached (since " in doc["checks"][0]["message"]
    assert any("cannot be reached" in c["message"] for c in doc["checks"])
    lag = _check(doc, "wal-archive-lag")
    assert lag["state"] == "critical" and lag["value"] > cfg.targets.rpo_seconds, lag
    for part in ("backups", "window", "sizes", "usage", "retention"):
        assert doc[part] == before[part], f"{part}: an outage must not read as deleted backups"
    assert doc["stale"]["as_of"] == before["collected_at"] and doc["stale"]["since"] == stored["stale"]["since"]
    assert doc["last"]["backup"] == before["last"]["backup"] and doc["ages"]["last_backup_seconds"] is not None
    assert not any("no full backup yet" in c["message"] for c in doc["checks"])
    # the dashboard: the cause as its headline, the last known figures with their date, nothing that reads as lost
    assert 'id="headline" data-key="collection"' in dom and 'id="stale"' in dom
    assert before["last"]["backup"] in dom and "figures shown are the last known, as of" in dom
    for lie in ("never", "nothing yet", 'data-bytes="0"', ">0 backup sets"):
        assert lie not in dom, lie
    # host.check and the daily report: the unreadable repository first
    assert check.returncode == ExitCode.UNREACHABLE, check.stdout + check.stderr
    assert check.stdout.splitlines()[1].startswith("  - the repository cannot be read: "), check.stdout
    assert "stanza" not in check.stdout + check.stderr, "an unreadable repository is not a missing stanza"
    assert report.returncode == 0 and 'CRITICAL: the bucket' in report.stdout, report.stdout
    # the bucket is back: archiving catches up by itself, nothing is missing, every door is green again
    flush_wal(configured, seconds=240)
    assert within(120, lambda: not list(ready.glob("*.ready"))), "archiving did not catch up by itself"
    assert "every backup and WAL file checked is valid" in configured.ok("backup.verify")
    assert _archive_gaps(configured) == earlier_gaps, "a fault must never leave a hole in the archive"
    after = collect(configured)
    assert _check(after, "wal-archive-lag")["state"] != "critical", _check(after, "wal-archive-lag")
    assert after["stale"] is None and after["checks"][0]["key"] != "collection"

    def resolved() -> list[dict]:
        """The next monitor run's RESOLVED alert (under load a check can stay critical for a run or two)."""
        _as_cron(monitor.user, env, monitor.command)
        return [m for m in _drain_queue(cfg) if "RESOLVED" in m.get("Subject", "")]

    found = within(300, resolved, interval=5)
    now = json.loads(Path(cfg.jobs.state_dir, "status.json").read_text())
    assert found, [(c["key"], c["state"], c["message"]) for c in now["checks"] if c["state"] != "ok"]
    doc = restore_json(configured, "restore.pitr", "--target", middle.isoformat())
    try:
        found = labels(configured, configured.dsn_for(doc))
    finally:
        configured.ok("restore.drop", "--name", doc["name"])
    written = {f"outage-{i}" for i in range(6)}
    assert written <= found and f"outage-{n - 1}" not in found
