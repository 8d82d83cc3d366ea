"""What alerts and reports say (pure): subjects and bodies from records and status documents."""

from __future__ import annotations

from ops.jobstate import JobRecord
from ops.policy import runbook_link
from ops.render import environment
from ops.schema import StackConfig
from ops.status import OK, summary_line
from ops.units import human_bytes

#: job -> section of the alarms runbook that explains its failure
RUNBOOK_SECTIONS = {"full": "backup-failed", "incr": "backup-failed", "diff": "backup-failed",
                    "logical": "logical-dump-failed", "expire": "expire-failed", "drill": "drill-failed",
                    "monitor": "monitor-failed", "report": "monitor-failed", "canary": "canary-failed"}


def failure_alert(cfg: StackConfig, entry: JobRecord) -> tuple[str, str]:
    """Subject and body of the alert sent the moment a scheduled job fails."""
    link = runbook_link(cfg, "alarms", RUNBOOK_SECTIONS.get(entry.job, "job-failed"))
    subject = f"[pgvault] FAILED {entry.job} on {entry.host} ({cfg.name}/{cfg.pgbackrest.stanza})"
    body = "\n".join([
        f"Job:     {entry.job}",
        f"Host:    {entry.host}",
        f"Stack:   {cfg.name} (stanza {cfg.pgbackrest.stanza})",
        f"Started: {entry.started}",
        f"Ended:   {entry.ended} (exit {entry.exit_code}, {entry.seconds:.0f} s)",
        f"Error:   {entry.message}",
        f"Runbook: {link}",
        "",
        f"The job's log is on the host in {cfg.jobs.log_dir}/pgvault-job.log.",
    ])
    return subject, body


def state_change(cfg: StackConfig, doc: dict, new_critical: list[str]) -> tuple[str, str]:
    """Subject and body of the alert sent when checks turn critical, or when none is critical any more."""
    turned = f"CRITICAL {', '.join(new_critical)}" if new_critical else "RESOLVED"
    subject = f"[pgvault] {turned} on {doc['host']} ({cfg.name}/{cfg.pgbackrest.stanza})"
    lines = [f"State: {doc['state']} at {doc['collected_at'][:19]} UTC", ""]
    lines += [f"[{c['state'].upper()}] {c['key']}: {c['message']}" for c in doc["checks"] if c["state"] != OK]
    lines += ["", f"Runbook: {runbook_link(cfg, 'alarms', 'overview')}"]
    return subject, "\n".join(lines)


def report(cfg: StackConfig, doc: dict, previous: dict | None) -> tuple[str, str]:
    """Subject and body of the daily status e-mail."""
    state = summary_line(doc)
    subject = f"[pgvault] {cfg.name}/{cfg.pgbackrest.stanza}: " + ("OK" if doc["state"] == OK else state)
    before = (previous or {}).get("sizes", {})
    sizes = [
        (name, doc["sizes"].get(key), before.get(key))
        for name, key in (("last backup (database)", "last_backup_database_bytes"), ("repository", "repository_bytes"))
    ]
    drill = doc.get("drill")
    drill_line = "no drill recorded yet" if not drill else (
        f"{drill['finished'][:19]}: {'passed' if drill.get('passed') else 'FAILED'}"
        + (f", RTO {drill['seconds']['rto']} s" if (drill.get("seconds") or {}).get("rto") is not None else ""))
    body = environment().get_template("report.txt.j2").render(
        doc=doc, cfg=cfg, state=state, drill_line=drill_line,
        sizes=[(n, _size(v), _change(v, b)) for n, v, b in sizes],
        usage=[(k, human_bytes(v)) for k, v in sorted(doc["usage"].items())],
        alarms_link=runbook_link(cfg, "alarms", "overview"))
    return subject, body


def _size(value) -> str:
    return human_bytes(value) if value is not None else "unknown"


def _change(value, before) -> str:
    if value is None or not before:
        return ""
    delta = value - before
    return f"({'+' if delta >= 0 else '-'}{human_bytes(abs(delta))} since the last report)"
