"""When to alert and what alerts and reports say (pure).

:func:`transition` decides, from the checks that were critical at the last
run and those critical now, whether to remember a new state and whether to
send a message (alarms for hosts without CloudWatch).  The other functions
write the subjects and bodies of the failure alert, the state-change alert
and the daily report.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgvault.core.jobs import BY_NAME, JobRecord
from pgvault.core.monitoring import lastknown
from pgvault.core.monitoring.status import CRITICAL, OK, headline, summary_line
from pgvault.core.policy import runbook_link
from pgvault.core.render import environment
from pgvault.core.schema import StackConfig
from pgvault.core.units import human_bytes

#: the alarms runbook's section for a failure of a job pgvault does not know
UNKNOWN_JOB_SECTION = "job-failed"


@dataclass(frozen=True)
class Transition:
    """What the monitor does after comparing the critical checks with the last run's."""

    #: the critical check keys to remember for the next run
    remember: tuple[str, ...]
    #: the remembered state differs and must be rewritten
    changed: bool
    #: send a state-change alert (something newly critical, or nothing critical any more)
    alert: bool
    #: the checks that turned critical since the last run
    newly_critical: tuple[str, ...]


def critical_keys(doc: dict) -> set[str]:
    """The keys of a status document's critical checks."""
    return {c["key"] for c in doc["checks"] if c["state"] == CRITICAL}


def transition(before: set[str], now: set[str]) -> Transition:
    """Alert when checks turn critical, and once when none is critical any more; stay quiet otherwise.

    A check that stays critical alerts once, not at every run; one of several
    critical checks recovering changes the remembered state without a message.
    """
    newly = tuple(sorted(now - before))
    return Transition(remember=tuple(sorted(now)), changed=now != before,
                      alert=now != before and (bool(newly) or not now), newly_critical=newly)


def failure_alert(cfg: StackConfig, entry: JobRecord) -> tuple[str, str]:
    """Subject and body of the alert sent the moment a scheduled job fails."""
    job = BY_NAME.get(entry.job)
    link = runbook_link(cfg, "alarms", job.runbook_section if job else UNKNOWN_JOB_SECTION)
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


def cause_lines(doc: dict) -> list[str]:
    """The top of every message about a status document: the one cause to read first, what to do, where
    to read more (nothing when every check is ok)."""
    first = headline(doc)
    if first is None:
        return []
    return [f"Cause:   [{first['state'].upper()}] {first['key']}: {first['message']}",
            f"Do:      {first['action']}", f"Runbook: {first['runbook']}"]


def state_change(cfg: StackConfig, doc: dict, new_critical: list[str]) -> tuple[str, str]:
    """Subject and body of the alert sent when checks turn critical, or when none is critical any more.

    The cause comes first; each check that is not ok follows with the link to its own runbook section.
    """
    turned = f"CRITICAL {', '.join(new_critical)}" if new_critical else "RESOLVED"
    subject = f"[pgvault] {turned} on {doc['host']} ({cfg.name}/{cfg.pgbackrest.stanza})"
    lines = [*cause_lines(doc), "", f"State: {doc['state']} at {doc['collected_at'][:19]} UTC", ""]
    for check in doc["checks"]:
        if check["state"] != OK:
            lines += [f"[{check['state'].upper()}] {check['key']}: {check['message']}", f"  {check['runbook']}"]
    if not new_critical:
        lines.append(f"Every check is back below critical. Runbook: {runbook_link(cfg, 'alarms', 'overview')}")
    return subject, "\n".join(lines).lstrip("\n")


def report(cfg: StackConfig, doc: dict, previous: dict | None) -> tuple[str, str]:
    """Subject and body of the daily status e-mail."""
    state = summary_line(doc)
    first = headline(doc)
    others = sum(1 for c in doc["checks"] if c["state"] != OK) - 1
    subject = f"[pgvault] {cfg.name}/{cfg.pgbackrest.stanza}: " + (
        "OK" if first is None else f"{first['state'].upper()}: {first['message']}"
        + (f" (and {others} more)" if others else ""))
    before = (previous or {}).get("sizes", {})
    sizes = [
        (name, doc["sizes"].get(key), before.get(key))
        for name, key in (("last backup (database)", "last_backup_database_bytes"), ("repository", "repository_bytes"))
    ]
    drill = doc.get("drill")
    unknown = f"{lastknown.missing(doc)}: the bucket cannot be read" if doc.get("stale") else "no drill recorded yet"
    drill_line = unknown if not drill else (
        f"{drill['finished'][:19]}: {'passed' if drill.get('passed') else 'FAILED'}"
        + (f", RTO {drill['seconds']['rto']} s" if (drill.get("seconds") or {}).get("rto") is not None else ""))
    body = environment().get_template("report.txt.j2").render(
        doc=doc, cfg=cfg, state=state, drill_line=drill_line, cause=cause_lines(doc),
        missing=lastknown.missing(doc), stale=lastknown.note(doc),
        recoverable=(f"{doc['window']['earliest']} .. {doc['window']['latest'] or ''}" if doc["window"]["earliest"]
                     else lastknown.missing(doc) if doc.get("stale") else "nothing yet"),
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
