"""Publish a status document and send the daily report; shared by ``fab monitor.*`` and ``pgvault-job``.

Files go to the DB host (where node_exporter and an admin panel read them):
the Prometheus textfile, ``status.json`` and ``dashboard.html`` in the jobs'
state folder; metrics go to CloudWatch; the report to the alert topic and SMTP.
"""

from __future__ import annotations

import json

from ops import dashboard, messages, notify, remote, status
from ops.execute import Conn
from ops.plan import DesiredFile
from ops.schema import StackConfig


def textfile_path(cfg: StackConfig) -> str:
    """Where the Prometheus textfile goes (point node_exporter's textfile collector at its folder)."""
    return cfg.monitoring.textfile or f"{cfg.jobs.state_dir}/textfile/pgvault.prom"


def publish(conn: Conn, cfg: StackConfig, doc: dict) -> list[str]:
    """Send the document's metrics to CloudWatch and write the host's files; return problems."""
    owner = cfg.postgres.os_user
    files = [DesiredFile(textfile_path(cfg), status.prometheus(doc), owner, 0o644),
             DesiredFile(f"{cfg.jobs.state_dir}/status.json", json.dumps(doc, indent=2, sort_keys=True), owner, 0o640),
             DesiredFile(f"{cfg.jobs.state_dir}/dashboard.html", dashboard.render(doc), owner, 0o640)]
    for item in files:
        remote.put_file(conn, item)
    problems = [p for p in [notify.put_metrics(cfg, status.metric_values(doc))] if p]
    return problems + _alert_on_change(conn, cfg, doc)


def _alert_on_change(conn: Conn, cfg: StackConfig, doc: dict) -> list[str]:
    """Alert when a check turns critical, and when none is critical any more (alarms without CloudWatch)."""
    path = f"{cfg.jobs.state_dir}/alert-state"
    found = remote.run(conn, ["cat", "--", path], user=cfg.postgres.os_user, warn=True)
    before = set(found.stdout.split()) if found.ok else set()
    now = {c["key"] for c in doc["checks"] if c["state"] == status.CRITICAL}
    if now == before:
        return []
    remote.put_file(conn, DesiredFile(path, "".join(f"{k}\n" for k in sorted(now)), cfg.postgres.os_user, 0o640))
    if now - before or not now:
        return notify.send(cfg, *messages.state_change(cfg, doc, sorted(now - before)))
    return []


def report(conn: Conn, cfg: StackConfig, doc: dict) -> tuple[str, list[str]]:
    """Send the daily report; remember this document to show size changes next time."""
    previous_path = f"{cfg.jobs.state_dir}/last-report.json"
    found = remote.run(conn, ["cat", "--", previous_path], user=cfg.postgres.os_user, warn=True)
    previous = json.loads(found.stdout) if found.ok and found.stdout.strip() else None
    subject, body = messages.report(cfg, doc, previous)
    problems = notify.send(cfg, subject, body)
    remote.put_file(conn, DesiredFile(previous_path, json.dumps(doc), cfg.postgres.os_user, 0o640))
    return subject, problems
