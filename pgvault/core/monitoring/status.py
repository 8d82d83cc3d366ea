"""The status document: everything the monitoring knows, and what it means (pure).

``monitor.collect`` gathers raw facts (``pgvault.actions.monitoring``) and this module turns
them into one JSON-ready document: backup sets, the recoverable window, ages
in seconds, WAL lag measured against the bucket, sizes, storage usage, jobs,
retention tiers, the last drill, and a list of checks, each green, amber or
red against the stack's targets.  The same document feeds CloudWatch, the
Prometheus textfile, ``status.json``, the daily report and the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pgvault.core import forecast, hourly, jobs, metrics
from pgvault.core.bucket import drills_prefix
from pgvault.core.drill import sort_out, stored_at
from pgvault.core.monitoring import advice, lastknown
from pgvault.core.pgbackrest import StanzaInfo, backup_standby
from pgvault.core.policy import (
    alarm_specs,
    archive_timeout_seconds,
    backup_interval_seconds,
    cron_interval_seconds,
    overdue_after,
    tier_capacity,
)
from pgvault.core.retention import Policy, decide
from pgvault.core.schema import StackConfig
from pgvault.core.targets import recoverable_window
from pgvault.core.units import duration, human_bytes
from pgvault.core.wal import name_of, parse_lsn, position, segment_of, segments_between
from pgvault.core.walproof import Proof, summary

OK, WARNING, CRITICAL = "ok", "warning", "critical"
#: a full pg_wal volume stops PostgreSQL, a full spool stops archiving: warn early
VOLUME_WARNING, VOLUME_CRITICAL = 80, 90
_RANK = {OK: 0, WARNING: 1, CRITICAL: 2}


@dataclass
class Facts:
    """What the monitoring read from the host and the bucket, and what it could not read."""

    host: str
    now: datetime
    stanza: StanzaInfo
    primary: dict | None
    jobs: dict
    newest_wal: tuple[str, datetime] | None
    newest_logical: datetime | None
    usage: dict[str, int]
    #: drill results as ``pgvault.edges.bucket.latest_drills`` reads them (body and the bucket's ``stored`` facts)
    drills: list[dict] = field(default_factory=list)
    #: volume name -> (percent used, bytes free) of pg_wal's and the spool's file systems
    volumes: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: what could not be read (the bucket, PostgreSQL, pgBackRest's info), one line each
    problems: list[str] = field(default_factory=list)
    #: finished WAL segments PostgreSQL has not archived yet (``.ready`` files): (name, when it finished)
    waiting: list[tuple[str, datetime]] = field(default_factory=list)
    #: what could not be read this time: ``"bucket"`` (nothing from it) or ``"repository"`` (pgBackRest's info)
    unread: frozenset[str] = frozenset()
    #: the last status document the monitor wrote on the host: the last known values of what was not read
    previous: dict | None = None
    #: the WAL continuity proof's state (``pgvault.core.walproof``); ``None`` before the first proof
    proof: Proof | None = None
    #: the bucket's objects by category, day and storage class (``pgvault.core.forecast.cohorts``)
    cohorts: list[forecast.Cohort] = field(default_factory=list)


def textfile_path(cfg: StackConfig) -> str:
    """Where the Prometheus textfile goes (point node_exporter's textfile collector at its folder)."""
    return cfg.monitoring.textfile or f"{cfg.jobs.state_dir}/textfile/pgvault.prom"


def state_path(cfg: StackConfig, name: str) -> str:
    """A file the monitoring keeps in the jobs' state folder (``status.json``, ``alert-state``, ...)."""
    return f"{cfg.jobs.state_dir}/{name}"


def _age(now: datetime, when: datetime | None) -> int | None:
    return None if when is None else max(0, int((now - when).total_seconds()))


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def wal_lag(now: datetime, newest_at: datetime | None, pending: int | None,
            waiting_since: datetime | None) -> int | None:
    """How long finished WAL has waited to reach the bucket: the figure judged against the RPO.

    An idle database makes no new segments, so the age of the newest segment in the bucket says nothing
    on its own: the lag is 0 while every segment PostgreSQL finished is in the bucket.  While some are not
    (``pending``), it is the age of the newest in the bucket, or less when PostgreSQL's own waiting
    segments (``.ready`` files, ``waiting_since`` the oldest) show the wait began later.  With PostgreSQL's
    position unknown (``pending`` is ``None``) the age alone stands: unknown is not healthy.

    :returns: seconds, or ``None`` when no segment is known at all
    """
    age = _age(now, newest_at)
    if age is None or pending == 0:
        return None if age is None else 0
    if pending is not None and waiting_since is not None:
        return min(age, _age(now, waiting_since))
    return age


def build(cfg: StackConfig, facts: Facts, clock=None) -> dict:
    """The status document of one host.

    What could not be read (``facts.unread``) is shown with its last known value from
    ``facts.previous`` (``pgvault.core.monitoring.lastknown``); every check carries its runbook section
    and one line of what to do (``pgvault.core.monitoring.advice``).
    """
    valid = facts.stanza.valid_backups
    fulls = [b for b in valid if b.type == "full"]
    last_full = fulls[-1] if fulls else None
    last_any = valid[-1] if valid else None
    last_archived = (facts.primary or {}).get("last_archived_time")
    win = recoverable_window(facts.stanza, facts.primary)
    wal_name, wal_at = facts.newest_wal or (None, None)
    current, lsn = (facts.primary or {}).get("current_wal"), (facts.primary or {}).get("lsn")
    # the segment PostgreSQL writes into: at a segment boundary pg_walfile_name names the one just finished
    writing = name_of(position(current)[0], segment_of(parse_lsn(lsn))) if current and lsn else current
    pending = segments_between(wal_name, writing) if writing and wal_name else None
    trusted, suspicious = sort_out(facts.drills, facts.now)
    drill = trusted[0] if trusted else None
    drill_at = stored_at(drill) if drill else None  # the bucket's time: the body's is its writer's word
    ages = {
        "last_full_seconds": _age(facts.now, last_full.stop if last_full else None),
        "last_backup_seconds": _age(facts.now, last_any.stop if last_any else None),
        "last_logical_seconds": _age(facts.now, facts.newest_logical),
        "wal_lag_seconds": wal_lag(facts.now, wal_at, pending, min((at for _, at in facts.waiting), default=None)),
        "newest_wal_seconds": _age(facts.now, wal_at),
        "last_drill_seconds": _age(facts.now, drill_at),
    }
    recent = [j for j in facts.jobs.get("history", [])
              if j.get("ended", "") >= (facts.now - timedelta(days=1)).isoformat()]
    doc = {
        "stack": cfg.name,
        "stanza": cfg.pgbackrest.stanza,
        "host": facts.host,
        "collected_at": facts.now.isoformat(),
        "backups": [b.as_dict() for b in facts.stanza.backups],
        "archive": {"min": facts.stanza.archive_min, "max": facts.stanza.archive_max},
        "window": {"earliest": _iso(win.earliest), "latest": _iso(win.latest)},
        "ages": ages,
        "last": {"full": last_full.label if last_full else None, "full_at": _iso(last_full.stop if last_full else None),
                 "backup": last_any.label if last_any else None,
                 "backup_at": _iso(last_any.stop if last_any else None), "logical_at": _iso(facts.newest_logical)},
        "wal": {
            "newest_in_bucket": wal_name, "newest_in_bucket_at": _iso(wal_at), "current": current,
            "pending_segments": pending,
            "postgres_last_archived": (facts.primary or {}).get("last_archived_wal"),
            "postgres_last_archived_at": last_archived,
            "failed_count": (facts.primary or {}).get("failed_count"),
            "last_failed": (facts.primary or {}).get("last_failed_wal"),
            "waiting_segments": len(facts.waiting),
            "oldest_waiting": min(facts.waiting)[0] if facts.waiting else None,
            "oldest_waiting_seconds": _age(facts.now, min(at for _, at in facts.waiting)) if facts.waiting else None,
            "last_failed_at": (facts.primary or {}).get("last_failed_time"),
            "proof": None if facts.proof is None else {
                "checked_at": facts.proof.checked, "proven_to": facts.proof.proven_to, "newest": facts.proof.newest,
                "broken": facts.proof.broken.as_dict() if facts.proof.broken else None,
                "message": summary(facts.proof)},
        },
        "sizes": {"last_backup_database_bytes": last_any.size if last_any else None,
                  "repository_bytes": sum(b.repo_delta for b in facts.stanza.backups)},
        "usage": dict(facts.usage),
        "volumes": {name: {"used_percent": pct, "free_bytes": free} for name, (pct, free) in facts.volumes.items()},
        "retention": retention_status(cfg, facts, clock),
        "forecast": forecast.project(cfg, facts.cohorts, cfg.prices, facts.usage.get("noncurrent", 0))
        if facts.cohorts else None,
        "jobs": jobs.decided(facts.jobs),
        "recent_jobs": recent,
        "hourly": {"rule": cfg.schedule.incremental_rule, **hourly.day_summary(recent)},
        "drill": drill,
        "drills": trusted[:20],
        "suspicious_drills": suspicious,
        "targets": {"rpo_seconds": cfg.targets.rpo_seconds, "rto_seconds": cfg.targets.rto_seconds},
        "stale": None,
    }
    if facts.unread:
        lastknown.carry(doc, facts.previous, facts.unread, facts.now)
    tail = f" ({lastknown.note(doc)})" if doc["stale"] else ""
    doc["checks"] = [_check("collection", CRITICAL, None, None, problem + tail) for problem in facts.problems]
    doc["checks"] += checks(cfg, doc)
    doc["checks"] = [advice.annotate(cfg, c) for c in doc["checks"]]
    doc["state"] = max((c["state"] for c in doc["checks"]), key=_RANK.get, default=OK)
    return doc


def retention_status(cfg: StackConfig, facts: Facts, clock=None) -> dict:
    """How many sets each tier holds now, against what the policy keeps at most, and the bytes each holds.

    ``bytes`` counts a set in every tier that keeps it (a Sunday's full is daily and weekly); ``incremental`` is
    the incrementals and differentials kept for ``retention.incremental_days``.
    """
    policy = Policy.from_config(cfg.retention)
    kwargs = {"clock": clock} if clock else {}
    decisions = decide(facts.stanza.backups, policy, facts.now, **kwargs)
    stored = {b.label: b.repo_delta for b in facts.stanza.backups}
    held = {tier: [d for d in decisions if any(r.startswith(tier) for r in d.reasons)]
            for tier in ("daily", "weekly", "monthly")}
    kinds = {b.label: b.type for b in facts.stanza.backups}
    held["incremental"] = [d for d in decisions if d.keep and kinds[d.label] != "full"]
    return {"counts": {tier: len(held[tier]) for tier in ("daily", "weekly", "monthly")},
            "at_most": tier_capacity(cfg), "to_expire": sum(1 for d in decisions if not d.keep),
            "incrementals": len(held["incremental"]),
            "bytes": {tier: sum(stored[d.label] for d in sets) for tier, sets in held.items()}}


def _check(key: str, state: str, value, limit, message: str) -> dict:
    return {"key": key, "state": state, "value": value, "limit": limit, "message": message}


def checks(cfg: StackConfig, doc: dict) -> list[dict]:
    """Each figure against its target: ``ok``, ``warning`` (due or close) or ``critical`` (alarm level)."""
    limits = {a.key: a.threshold for a in alarm_specs(cfg)}
    ages, wal = doc["ages"], doc["wal"]
    due = {"full-backup-age": cron_interval_seconds(cfg.schedule.full),
           "backup-age": backup_interval_seconds(cfg),
           "logical-dump-age": cron_interval_seconds(cfg.schedule.logical)}
    stale = doc.get("stale")
    as_of = f" (as of {lastknown.as_of(doc)})" if lastknown.as_of(doc) else ""
    out = []
    for key, age, what in (("full-backup-age", ages["last_full_seconds"], "full backup"),
                           ("backup-age", ages["last_backup_seconds"], "backup"),
                           ("logical-dump-age", ages["last_logical_seconds"], "logical dump")):
        if age is None:
            out.append(_check(key, CRITICAL, None, limits[key], f"no {what} yet" if not stale else
                              f"last {what} {lastknown.missing(doc)}: the bucket cannot be read"))
            continue
        state = CRITICAL if age > limits[key] else WARNING if age > due[key] else OK
        out.append(_check(key, state, age, limits[key], f"last {what} {duration(age)} ago{as_of}"))
    out.append(_wal_check(cfg, ages, wal))
    waited, rpo = wal.get("oldest_waiting_seconds"), cfg.targets.rpo_seconds
    if waited is not None:
        soft = archive_timeout_seconds(cfg.targets)
        state = CRITICAL if waited > rpo else WARNING if waited > soft else OK
        out.append(_check("wal-waiting", state, waited, rpo,
                          f"{wal['waiting_segments']} finished WAL segment(s) not archived; the oldest, "
                          f"{wal['oldest_waiting']}, has waited {duration(waited)}"))
    failed_at, archived_at = wal.get("last_failed_at"), wal.get("postgres_last_archived_at")
    if failed_at and (not archived_at or failed_at > archived_at):
        out.append(_check("archiving", CRITICAL, wal.get("failed_count"), 0,
                          f"PostgreSQL cannot archive WAL segment {wal.get('last_failed') or '?'} (failing since "
                          f"{failed_at[:19]}): WAL after it is not safe off-site"))
    proof = wal.get("proof")
    if proof is not None:
        age = _age(datetime.fromisoformat(doc["collected_at"]), datetime.fromisoformat(proof["checked_at"])
                   ) if proof.get("checked_at") else None
        stale = overdue_after(cron_interval_seconds(cfg.schedule.verify))
        state = (CRITICAL if proof["broken"] else WARNING if age is None or age > stale else OK)
        message = proof["message"]
        if state == WARNING:
            message += f"; last proof {duration(age)} ago" if age is not None else "; no proof has run yet"
        out.append(_check("wal-continuity", state, (proof["broken"] or {}).get("segment"), None, message))
    out += _hourly_check(cfg, doc)
    out += _standby_check(cfg, doc)
    cost = doc.get("forecast") and forecast.budget_check(doc["forecast"]["cost"]["total"], cfg.targets.monthly_budget)
    if cost:
        out.append(_check("storage-cost", cost[0], doc["forecast"]["cost"]["total"], cfg.targets.monthly_budget,
                          cost[1] + f" {cfg.prices.currency} (prices of {cfg.prices.date})"))
    drills_at = [d["finished"] for d in doc.get("drills") or []]
    failing = {j: r for j, r in sorted(doc["jobs"].items()) if r.get("outcome") == "failed"
               and not jobs.retried(j, r.get("ended"), doc["backups"], doc["last"]["logical_at"], drills_at)}
    failed = "; ".join(f"{j} ({r.get('message') or 'no error recorded'})" for j, r in failing.items())
    out.append(_check("job-failed", CRITICAL if failing else OK, len(failing), 0,
                      f"failed: {failed}" if failing else "no job's last decided run failed, or a later run "
                      "succeeded"))
    for name, volume in sorted(doc.get("volumes", {}).items()):
        pct = volume["used_percent"]
        state = CRITICAL if pct >= VOLUME_CRITICAL else WARNING if pct >= VOLUME_WARNING else OK
        out.append(_check(f"{name}-volume", state, pct, VOLUME_CRITICAL,
                          f"{name} volume {pct}% full ({human_bytes(volume['free_bytes'])} free)"))
    out.append(_drill_check(cfg, doc, limits["drill-age"]))
    return out


def _drill_check(cfg: StackConfig, doc: dict, limit: int) -> dict:
    """``drill``: the newest drill result in the bucket passed, within ``limit`` (the drill-age alarm's).

    Its age is the bucket's time of the put; results not believed (``pgvault.core.drill.distrust``: a body dated
    away from that time, a key written twice) are left out and named, and keep the check amber at least.
    No result there is never ok: "unknown" while the bucket cannot be read (and none was known before), else
    "no drill result" (a staging host's drill that could not store its result reads the same), amber on a
    young stack and red once the backups go back further than ``limit`` (the drill is overdue).
    """
    found = _drill_found(cfg, doc, limit)
    suspicious = doc.get("suspicious_drills") or []
    if not suspicious:
        return found
    named = "; ".join(f"{s['key']}: {s['reason']}" for s in suspicious[:3])
    more = f" and {len(suspicious) - 3} more" if len(suspicious) > 3 else ""
    return {**found, "state": max(found["state"], WARNING, key=_RANK.get),
            "message": f"{found['message']}; {len(suspicious)} result(s) left out as suspicious ({named}{more})"}


def _drill_found(cfg: StackConfig, doc: dict, limit: int) -> dict:
    drill, age = doc["drill"], doc["ages"]["last_drill_seconds"]
    if drill is not None and age is not None:
        state = CRITICAL if not drill.get("passed") else WARNING if age > limit else OK
        return _check("drill", state, age, limit,
                      f"last drill {'passed' if drill.get('passed') else 'FAILED'} {duration(age)} ago")
    if (doc.get("stale") or {}).get("unread") == "bucket":  # the repository alone unread: the results were read
        return _check("drill", WARNING, None, limit, f"last drill {lastknown.missing(doc)}: the bucket cannot be read")
    starts = [b["start"] for b in doc["backups"]]
    since = _age(datetime.fromisoformat(doc["collected_at"]), datetime.fromisoformat(min(starts))) if starts else None
    back = f", though the backups go back {duration(since)}" if since is not None else ""
    return _check("drill", CRITICAL if since is not None and since > limit else WARNING, None, limit,
                  f"no drill result in s3://{cfg.repository.bucket}/{drills_prefix(cfg)}: no drill has run and "
                  f"stored one{back}")


def _wal_check(cfg: StackConfig, ages: dict, wal: dict) -> dict:
    """``wal-archive-lag``: judged by what is pending (:func:`wal_lag`), not by the age of the newest segment."""
    lag, rpo, pending = ages["wal_lag_seconds"], cfg.targets.rpo_seconds, wal["pending_segments"]
    if lag is None:
        return _check("wal-archive-lag", CRITICAL, None, rpo, "no WAL segment in the bucket, nor archived by "
                                                              "PostgreSQL")
    newest = f"the newest, {wal['newest_in_bucket']}, arrived {duration(ages['newest_wal_seconds'])} ago"
    if pending == 0:
        return _check("wal-archive-lag", OK, lag, rpo, f"every finished WAL segment is in the bucket ({newest})")
    soft = archive_timeout_seconds(cfg.targets)
    state = CRITICAL if lag > rpo else WARNING if lag > soft else OK
    what = (f"{pending} finished WAL segment(s) not yet in the bucket" if pending is not None
            else "PostgreSQL's WAL position is unknown")
    return _check("wal-archive-lag", state, lag, rpo, f"{what}, waiting up to {duration(lag)} (RPO {rpo} s); "
                                                      f"{newest}")


def headline(doc: dict) -> dict | None:
    """The one check to read first: the worst, and of the worst the first listed (what could not be read
    comes first, before its consequences); ``None`` when every check is ok."""
    worst = max(doc["checks"], key=lambda c: _RANK[c["state"]], default=None)
    return worst if worst is not None and worst["state"] != OK else None


#: a monitoring plugin's exit code when nothing could be judged (no document at all)
PLUGIN_UNKNOWN = 3


def plugin_code(doc: dict) -> int:
    """The document's state as a monitoring plugin's exit code (Nagios, Icinga, Sensu): 0 ok, 1 warning,
    2 critical; also the Prometheus state gauge."""
    return _RANK[doc["state"]]


def _hourly_check(cfg: StackConfig, doc: dict) -> list[dict]:
    """The hourly job ran lately (with the adaptive rule a backup's age no longer shows that it did)."""
    last = doc["jobs"].get("incr")
    if cfg.schedule.incremental_rule != "adaptive" or not last or not last.get("ended"):
        return []
    age = _age(datetime.fromisoformat(doc["collected_at"]), datetime.fromisoformat(last["ended"]))
    limit = overdue_after(cron_interval_seconds(cfg.schedule.incremental))
    return [_check("hourly", WARNING if age > limit else OK, age, limit,
                   f"last hourly job {duration(age)} ago; {doc['hourly']['line']}")]


def _standby_check(cfg: StackConfig, doc: dict) -> list[dict]:
    """``backup-standby``: with a standby, the newest backup job read its data files from it (a warning when
    that job fell back to the primary because the standby could not be used)."""
    standby = backup_standby(cfg)
    runs = sorted((r.get("ended") or "", j, r) for j, r in doc["jobs"].items()
                  if j in ("full", "diff", "incr") and r.get("outcome") == "ok" and "standby" in (r.get("sizes") or {}))
    if standby is None or not runs:
        return []
    _, job, newest = runs[-1]
    fallback = newest["sizes"].get("standby_fallback")
    if fallback:
        return [_check("backup-standby", WARNING, 1, 0, f"the last {job} backup ({newest['ended'][:19]}) loaded the "
                       f"primary: {fallback}")]
    return [_check("backup-standby", OK, 0, 0, f"the last {job} backup read its data files from the standby "
                   f"{newest['sizes']['standby']}")]


def summary_line(doc: dict) -> str:
    """``OK`` or what is wrong, for subject lines."""
    bad = [c for c in doc["checks"] if c["state"] != OK]
    if not bad:
        return "OK"
    return "; ".join(f"{c['state'].upper()}: {c['message']}" for c in sorted(bad, key=lambda c: -_RANK[c["state"]]))


def metric_values(doc: dict) -> dict[str, float]:
    """The CloudWatch metrics (``pgvault.core.metrics``) this document provides, by metric name."""
    ages, drill = doc["ages"], doc["drill"]
    values = {
        metrics.LAST_FULL_BACKUP_AGE.name: ages["last_full_seconds"],
        metrics.LAST_BACKUP_AGE.name: ages["last_backup_seconds"],
        metrics.LAST_LOGICAL_DUMP_AGE.name: ages["last_logical_seconds"],
        metrics.WAL_ARCHIVE_LAG.name: ages["wal_lag_seconds"],
        metrics.LAST_DRILL_AGE.name: ages["last_drill_seconds"],
    }
    if not doc.get("stale"):  # sizes as of an earlier run would make a flat line out of an outage
        values[metrics.BACKUP_SIZE.name] = doc["sizes"]["last_backup_database_bytes"]
        values[metrics.REPOSITORY_SIZE.name] = doc["sizes"]["repository_bytes"]
    if doc.get("forecast"):
        values[metrics.STORAGE_COST_FORECAST.name] = doc["forecast"]["cost"]["total"]
    if drill is not None:
        values[metrics.DRILL_FAILED.name] = 0 if drill.get("passed") else 1
        values[metrics.DRILL_RTO.name] = (drill.get("seconds") or {}).get("rto")
        values[metrics.DRILL_RECOVERY_LAG.name] = drill.get("recovery_lag_seconds")
    return {k: float(v) for k, v in values.items() if v is not None}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def prometheus(doc: dict) -> str:
    """The Prometheus textfile-collector text: pgvault's metrics plus pgbackrest_exporter's names where they overlap."""
    labels = f'stack="{doc["stack"]}",stanza="{doc["stanza"]}"'
    lines = []
    by_name = {m.name: m for m in metrics.ALL}
    values = metric_values(doc)
    for name, value in sorted(values.items()):
        metric = by_name[name]
        lines += [f"# HELP {metric.prometheus_name} {metric.description}", f"# TYPE {metric.prometheus_name} gauge",
                  f"{metric.prometheus_name}{{{labels}}} {_number(value)}"]
    state = plugin_code(doc)
    lines += [f"# HELP {metrics.STATE_GAUGE} 0 ok, 1 warning, 2 critical", f"# TYPE {metrics.STATE_GAUGE} gauge",
              f"{metrics.STATE_GAUGE}{{{labels}}} {state}"]
    stanza = f'stanza="{doc["stanza"]}"'
    exporter = metrics.EXPORTER_NAMES
    last_full = doc["ages"]["last_full_seconds"]
    if last_full is not None:
        lines += _gauge(exporter[metrics.LAST_FULL_BACKUP_AGE.name], f'backup_type="full",block_incr="n",{stanza}',
                        last_full)
    if doc["backups"] and not doc.get("stale"):
        last = doc["backups"][-1]
        ident = (f'backup_name="{last["label"]}",backup_type="{last["type"]}",block_incr="n",database_id="1",'
                 f'repo_key="1",{stanza}')
        lines += _gauge(exporter[metrics.BACKUP_SIZE.name], ident, last["database_bytes"])
        lines += _gauge(exporter[metrics.REPOSITORY_SIZE.name], ident, last["repository_bytes"])
    return "\n".join(lines) + "\n"


def _gauge(name: metrics.ExporterName, labels: str, value) -> list[str]:
    return [f"# HELP {name.name} {name.help}", f"# TYPE {name.name} gauge", f"{name.name}{{{labels}}} {value}"]
