"""Monitoring against the real sandbox: collect, publish to moto's CloudWatch, alerts through SNS->SQS and SMTP,
the daily report and the dashboard in headless Chromium.

A bucket outage (the WAL lag, the last known figures, the alert and RESOLVED) is one test in test_faults.py.
"""

from __future__ import annotations

import json
import mailbox
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from pgvault.core import cron, metrics, pgbackrest
from pgvault.core.errors import ExitCode
from pgvault.edges import remote
from pgvault.edges.cloud import aws_client, s3_client
from pgvault.edges.waiting import within
from sandbox import lifecycle, moto
from tests.fixtures import ARTIFACTS
from tests.integration.helpers import collect, connection, flush_wal
from tests.integration.test_schedule import _as_cron, _as_cron_argv, _lock_held


def test_collect_matches_pgbackrest_info_and_the_bucket(configured):
    flush_wal(configured)
    doc = collect(configured)
    info = json.loads(configured.ok("backup.list", "--json"))
    assert [b["label"] for b in doc["backups"]] == [b["label"] for b in info["backups"]]
    assert doc["last"]["backup"] == info["backups"][-1]["label"]
    assert doc["sizes"]["repository_bytes"] == sum(b["repository_delta_bytes"] for b in info["backups"])
    s3 = s3_client(configured.cfg)
    keys, wal_bytes = [], 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=configured.cfg.repository.bucket,
                                                            Prefix="pgbackrest/archive/"):
        for item in page.get("Contents", []):
            keys.append(item["Key"])
            wal_bytes += item["Size"]
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
    holder = subprocess.Popen(_as_cron_argv(line.user, env, f"flock -x {lock} sleep 60"))
    try:
        assert within(10, lambda: _lock_held(lock)), "the stand-in backup never took the lock"
        assert _as_cron(line.user, env, line.command).returncode == ExitCode.LOCKED
    finally:
        holder.kill()
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
