"""The status document, its checks, its metrics, the report and the dashboard, from captured facts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pgvault.core import jobs, metrics, walproof
from pgvault.core.jobs import JobRecord
from pgvault.core.monitoring import alerts, dashboard, status
from pgvault.core.pgbackrest import parse_info
from pgvault.core.policy import alarm_specs
from tests.builders import make_stack

INFO = parse_info((Path(__file__).parents[1] / "specs" / "data" / "info_two_fulls.json").read_text(), "crm")
LAST = INFO.backups[-1].stop


def stored(body: dict, at: str | None = None, versions: int | None = 1) -> dict:
    """``body`` as the bucket edge reads it back: stored ``at`` (default: when it says it finished)."""
    at = at or body["finished"]
    return {**body, "stored": {"key": f"drills/crm/{at[:19].replace(':', '')}-drill.json", "at": at,
                               "versions": versions}}


def _passed(after: timedelta) -> dict:
    """A drill result that passed, finished (and stored) ``after`` the last backup."""
    return stored({"finished": (LAST + after).isoformat(), "passed": True, "seconds": {"rto": 30}})


def facts(after: timedelta, wal_after: timedelta | None = timedelta(seconds=30), jobs=None, drills=None,
          problems=()):
    """A healthy host ``after`` the last backup (a drill passed 5 minutes after it, unless ``drills`` says)."""
    drills = [_passed(timedelta(minutes=5))] if drills is None else drills
    now = LAST + after
    primary = {"last_archived_time": (now - timedelta(seconds=40)).isoformat(),
               "last_archived_wal": "0000000100000000000000F",
               "current_wal": "000000010000000000000011", "failed_count": 0, "last_failed_time": None}
    wal = ("00000001000000000000000F", now - wal_after) if wal_after is not None else None
    return status.Facts("db1", now, INFO, primary, jobs or {}, wal, now - timedelta(hours=3),
                        {"backups": 10, "wal": 5}, drills, problems=list(problems))


@pytest.fixture
def cfg():
    return make_stack(targets={"rpo_seconds": 300})


def test_fresh_backups_are_ok(cfg):
    doc = status.build(cfg, facts(timedelta(minutes=10)))
    assert doc["state"] == status.OK, status.summary_line(doc)
    assert doc["ages"]["last_backup_seconds"] == 600
    assert doc["wal"]["pending_segments"] == 1
    assert status.summary_line(doc) == "OK"


@pytest.mark.parametrize("after, key, rule, state", [
    (timedelta(hours=25), "full-backup-age", "adaptive", status.WARNING),
    (timedelta(hours=31), "full-backup-age", "adaptive", status.CRITICAL),
    (timedelta(hours=1, minutes=30), "backup-age", "always", status.CRITICAL),
    # the adaptive hourly job may mark only restore points all day: the nightly full bounds a backup's age
    (timedelta(hours=1, minutes=30), "backup-age", "adaptive", status.OK),
    (timedelta(hours=31), "backup-age", "adaptive", status.CRITICAL),
])
def test_backup_ages_turn_amber_then_red(after, key, rule, state):
    cfg = make_stack(targets={"rpo_seconds": 300}, schedule={"incremental_rule": rule})
    doc = status.build(cfg, facts(after))
    assert next(c for c in doc["checks"] if c["key"] == key)["state"] == state


def test_wal_lag_against_the_rpo(cfg):
    def lag(seconds):
        doc = status.build(cfg, facts(timedelta(minutes=5), timedelta(seconds=seconds)))
        return next(c for c in doc["checks"] if c["key"] == "wal-archive-lag")

    assert lag(60)["state"] == status.OK
    assert lag(200)["state"] == status.WARNING
    assert lag(400)["state"] == status.CRITICAL
    no_wal = status.build(cfg, facts(timedelta(minutes=5), None))
    assert next(c for c in no_wal["checks"] if c["key"] == "wal-archive-lag")["state"] == status.CRITICAL


def test_a_failed_job_and_a_failed_drill_are_critical(cfg):
    jobs = {"last": {"full": {"outcome": "ok"}, "logical": {"outcome": "failed", "message": "pg_dump: error: x"}}}
    drill = stored({"finished": (LAST + timedelta(minutes=5)).isoformat(), "passed": False, "seconds": {"rto": 30}})
    doc = status.build(cfg, facts(timedelta(minutes=10), jobs=jobs, drills=[drill]))
    by_key = {c["key"]: c for c in doc["checks"]}
    assert by_key["job-failed"]["message"] == "failed: logical (pg_dump: error: x)"
    assert by_key["drill"]["state"] == status.CRITICAL
    assert doc["state"] == status.CRITICAL
    assert status.summary_line(doc).startswith("CRITICAL")


def test_metrics_use_only_the_agreed_names(cfg):
    values = status.metric_values(status.build(cfg, facts(timedelta(minutes=10))))
    assert set(values) <= {m.name for m in metrics.ALL}
    assert values[metrics.LAST_BACKUP_AGE.name] == 600.0


def test_prometheus_text_includes_pgbackrest_exporter_names(cfg):
    text = status.prometheus(status.build(cfg, facts(timedelta(minutes=10))))
    assert 'pgvault_last_backup_age_seconds{stack="test",stanza="crm"} 600' in text
    assert 'pgbackrest_backup_since_last_completion_seconds{backup_type="full",block_incr="n",stanza="crm"}' in text
    assert "pgbackrest_backup_size_bytes{" in text and "e+" not in text


def test_failure_alert_names_job_host_error_and_runbook(cfg):
    entry = JobRecord("full", "db1", "2026-11-27T02:00:00", "2026-11-27T02:01:00", 60.0, 1, "failed",
                      "pgBackRest error [082]: WAL not archived")
    subject, body = alerts.failure_alert(cfg, entry)
    assert subject == "[pgvault] FAILED full on db1 (test/crm)"
    assert "Error:   pgBackRest error [082]" in body and "runbooks/test/alarms.md#backup-failed" in body


def test_report_and_dashboard_render(cfg):
    doc = status.build(cfg, facts(timedelta(minutes=10)))
    subject, body = alerts.report(cfg, doc, {"sizes": {"repository_bytes": 1}})
    assert subject == "[pgvault] test/crm: OK"
    assert "since the last report" in body and "Retention (sets per tier" in body
    page = dashboard.render(doc)
    assert f'data-seconds="{doc["ages"]["last_backup_seconds"]}"' in page and page.count("<svg") == 4
    assert "http" not in page.split("<body>")[1].replace("http://www.w3.org", ""), "the page must not fetch anything"


def test_what_could_not_be_read_comes_first_and_is_critical(cfg):
    doc = status.build(cfg, facts(timedelta(minutes=10), problems=["the bucket b at https://x:443 cannot be reached"]))
    first = doc["checks"][0]
    assert (first["key"], first["state"], first["message"]) == ("collection", status.CRITICAL,
                                                                "the bucket b at https://x:443 cannot be reached")
    assert doc["state"] == status.CRITICAL


def test_the_dashboard_escapes_every_value_it_shows(cfg):
    hostile = '<script>alert("x")</script>'
    jobs = {"last": {"full": {"outcome": "failed", "message": hostile}},
            "history": [{"job": hostile, "ended": "2999-01-01T00:00:00", "outcome": "failed", "seconds": 1}]}
    doc = status.build(cfg, facts(timedelta(minutes=10), jobs=jobs, problems=[hostile]))
    doc["host"] = doc["stack"] = doc["stanza"] = hostile
    page = dashboard.render(doc)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count("<svg") == 4, "the charts go in as markup"


def test_a_segment_postgres_still_waits_to_archive_is_named_even_when_newer_wal_reached_the_bucket(cfg):
    def waiting(seconds):
        found = facts(timedelta(minutes=5))
        found.waiting = [("000000010000000000000011", found.now - timedelta(seconds=seconds)),
                         ("000000010000000000000010", found.now - timedelta(seconds=seconds + 20))]
        doc = status.build(cfg, found)
        return next(c for c in doc["checks"] if c["key"] == "wal-waiting"), doc

    assert waiting(10)[0]["state"] == status.OK
    assert waiting(200)[0]["state"] == status.WARNING
    check, doc = waiting(400)
    assert check["state"] == status.CRITICAL and doc["state"] == status.CRITICAL
    assert "2 finished WAL segment(s) not archived; the oldest, 000000010000000000000010" in check["message"]
    assert "wal-waiting" not in {c["key"] for c in status.build(cfg, facts(timedelta(minutes=5)))["checks"]}


def test_the_archiving_check_names_the_segment_postgres_cannot_archive(cfg):
    found = facts(timedelta(minutes=5))
    found.primary.update(last_failed_wal="000000010000000000000010", failed_count=3,
                         last_failed_time=(found.now - timedelta(seconds=5)).isoformat())
    check = next(c for c in status.build(cfg, found)["checks"] if c["key"] == "archiving")
    assert check["state"] == status.CRITICAL
    assert "cannot archive WAL segment 000000010000000000000010" in check["message"]


# ---------------------------------------------------------------- a bucket outage (issue 14, item 4)

OUTAGE = "the bucket acme-crm-backups at https://s3.eu-west-1.amazonaws.com cannot be reached"


def outage(previous: dict | None, after: timedelta) -> status.Facts:
    """What the monitor reads while the bucket does not answer: nothing from it, PostgreSQL's archiver only."""
    healthy = facts(after)
    empty = parse_info('[{"name": "crm", "status": {"code": 99, "message": "other"}}]', "crm")
    return status.Facts("db1", healthy.now, empty, healthy.primary, {}, healthy.newest_wal, None, {}, [],
                        problems=[OUTAGE], unread=frozenset({"bucket"}), previous=previous)


def test_an_unreachable_bucket_keeps_the_last_known_values_with_their_date(cfg):
    before = status.build(cfg, facts(timedelta(minutes=10)))
    doc = status.build(cfg, outage(before, timedelta(minutes=13)))
    for part in ("backups", "window", "sizes", "usage", "last", "retention"):
        assert doc[part] == before[part], part
    assert doc["ages"]["last_backup_seconds"] == 13 * 60, "the age is recomputed to now"
    assert doc["stale"] == {"unread": "bucket", "as_of": before["collected_at"], "since": doc["collected_at"]}
    first = doc["checks"][0]
    as_of, since = (LAST + timedelta(minutes=10)).strftime("%H:%M"), (LAST + timedelta(minutes=13)).strftime("%H:%M")
    assert first["key"] == "collection" and first["message"] == (
        f"{OUTAGE} (since {since} UTC; figures shown are the last known, as of {as_of} UTC)")
    assert status.headline(doc) == first, "the cause comes first, not its consequences"
    messages = " ".join(c["message"] for c in doc["checks"])
    assert "no full backup yet" not in messages and f"(as of {as_of} UTC)" in messages
    later = status.build(cfg, outage(doc, timedelta(minutes=18)))
    assert later["stale"]["as_of"] == before["collected_at"] and later["stale"]["since"] == doc["collected_at"]
    assert later["sizes"] == before["sizes"] and later["ages"]["last_backup_seconds"] == 18 * 60


def test_an_unreachable_bucket_reads_as_unknown_in_the_report_and_on_the_dashboard_never_as_never(cfg):
    before = status.build(cfg, facts(timedelta(minutes=10)))
    for doc in (status.build(cfg, outage(before, timedelta(minutes=13))),
                status.build(cfg, outage(None, timedelta(minutes=13)))):
        subject, body = alerts.report(cfg, doc, before)
        assert subject.startswith(f"[pgvault] test/crm: CRITICAL: {OUTAGE} (since ")
        assert body.index("Cause:   [CRITICAL] collection") < body.index("Checks")
        assert "never" not in body and "no full backup yet" not in body and "nothing yet" not in body
        assert "None" not in body
        page = dashboard.render(doc)
        assert 'id="headline" data-key="collection"' in page and 'id="stale"' in page
        for lie in ("never", "nothing yet", "data-bytes=\"0\"", ">0 backup sets"):
            assert lie not in page, lie
    never_read = status.build(cfg, outage(None, timedelta(minutes=13)))
    assert never_read["sizes"]["repository_bytes"] is None and never_read["last"]["backup"] is None
    assert "no earlier figures on record: unknown" in never_read["checks"][0]["message"]
    assert "unknown" in dashboard.render(never_read)


def test_stale_sizes_are_not_published_as_current(cfg):
    before = status.build(cfg, facts(timedelta(minutes=10)))
    values = status.metric_values(status.build(cfg, outage(before, timedelta(minutes=13))))
    assert metrics.REPOSITORY_SIZE.name not in values and metrics.BACKUP_SIZE.name not in values
    assert values[metrics.LAST_BACKUP_AGE.name] == 13 * 60.0, "ages keep growing: a long outage still alarms"


# ---------------------------------------------------------------- WAL archive lag on an idle database (item 5)

def lag_check(cfg, current: str, newest_age: timedelta, waiting_for: timedelta | None = None,
              lsn: str | None = None) -> dict:
    found = facts(timedelta(hours=3), wal_after=newest_age)
    found.primary.update(current_wal=current, lsn=lsn)
    if waiting_for is not None:
        found.waiting = [("000000010000000000000010", found.now - waiting_for)]
    return next(c for c in status.build(cfg, found)["checks"] if c["key"] == "wal-archive-lag")


@pytest.mark.parametrize("current, lsn", [("00000001000000000000000F", "0/10000000"),
                                          ("000000010000000000000010", "0/10000A28"),
                                          ("00000001000000000000000F", None)],
                         ids=["switched, nothing written since", "writing the next segment", "position unread"])
def test_an_idle_database_whose_every_finished_segment_is_in_the_bucket_is_not_lagging(cfg, current, lsn):
    check = lag_check(cfg, current, timedelta(hours=2), lsn=lsn)
    assert check["state"] == status.OK and check["value"] == 0, check
    assert check["message"].startswith("every finished WAL segment is in the bucket")


def test_the_newest_segments_age_counts_once_the_primary_has_written_past_it(cfg):
    check = lag_check(cfg, "000000010000000000000012", timedelta(hours=2))
    assert check["state"] == status.CRITICAL and check["value"] == 7200
    assert check["message"].startswith("2 finished WAL segment(s) not yet in the bucket")


def test_a_segment_finished_at_the_boundary_counts_though_pg_walfile_name_still_names_it(cfg):
    """At ``0/10000000`` PostgreSQL writes into segment ...10; ...0F, which pg_walfile_name names, is finished."""
    check = lag_check(cfg, "00000001000000000000000F", timedelta(hours=2), lsn="0/10000000")
    assert check["state"] == status.OK
    check = lag_check(cfg, "000000010000000000000010", timedelta(hours=2), lsn="0/11000000")
    assert check["state"] == status.CRITICAL and check["message"].startswith("1 finished WAL segment(s)")


def test_segments_that_just_finished_after_a_long_idle_time_are_not_a_lag_yet(cfg):
    check = lag_check(cfg, "000000010000000000000011", timedelta(hours=2), waiting_for=timedelta(seconds=5))
    assert check["state"] == status.OK and check["value"] == 5


# ---------------------------------------------------------------- job-failed and later successes (item 6)

def failed_run(job: str, ended, outcome: str = "failed") -> dict:
    return {"job": job, "host": "db1", "started": ended.isoformat(), "ended": ended.isoformat(), "seconds": 1.0,
            "exit_code": {"failed": 1, "skipped": 6, "ok": 0}[outcome], "outcome": outcome,
            "message": f"pgBackRest error [042]: {job} timed out" if outcome == "failed" else "", "sizes": {}}


def test_a_backup_retried_by_hand_clears_job_failed(cfg):
    """``fab backup.full`` records nothing in jobs.json: the newer full backup set is the proof."""
    before_last = {"last": {"full": failed_run("full", LAST - timedelta(hours=1))}}
    after_last = {"last": {"full": failed_run("full", LAST + timedelta(minutes=1))}}
    assert next(c for c in status.build(cfg, facts(timedelta(minutes=10), jobs=before_last))["checks"]
                if c["key"] == "job-failed")["state"] == status.OK
    check = next(c for c in status.build(cfg, facts(timedelta(minutes=10), jobs=after_last))["checks"]
                 if c["key"] == "job-failed")
    assert check["state"] == status.CRITICAL
    assert check["message"] == "failed: full (pgBackRest error [042]: full timed out)", "the error line is shown"


def test_a_skipped_run_after_a_failure_keeps_job_failed_critical(cfg):
    data: dict = {}
    for outcome in ("failed", "skipped"):
        data = jobs.add_record(data, failed_run("verify", LAST + timedelta(minutes=1), outcome), 200)
    check = next(c for c in status.build(cfg, facts(timedelta(minutes=10), jobs=data))["checks"]
                 if c["key"] == "job-failed")
    assert check["state"] == status.CRITICAL and "verify (pgBackRest error [042]" in check["message"]
    data = jobs.add_record(data, failed_run("verify", LAST + timedelta(minutes=5), "ok"), 200)
    assert next(c for c in status.build(cfg, facts(timedelta(minutes=10), jobs=data))["checks"]
                if c["key"] == "job-failed")["state"] == status.OK


# ---------------------------------------------------------------- what to do, where to read (item 7)

def test_every_check_links_its_runbook_section_and_says_what_to_do(cfg):
    jobs_ = {"last": {"logical": failed_run("logical", LAST + timedelta(minutes=1))}}
    doc = status.build(cfg, facts(timedelta(minutes=10), jobs=jobs_))
    page = dashboard.render(doc)
    for check in doc["checks"]:
        assert check["runbook"] == f"runbooks/test/alarms.md#{check['key']}" and check["action"]
        assert f'<a href="runbooks/test/alarms.md#{check["key"]}">{check["key"]}</a>' in page
    assert "pgBackRest error [042]: logical timed out" in page.split('id="jobs"')[0], "the check shows the error"
    assert 'id="headline" data-key="job-failed"' in page and "What to do: read the error shown" in page


@pytest.mark.parametrize("wal_after, code", [(30, 0), (200, 1), (400, 2)], ids=["ok", "warning", "critical"])
def test_the_plugin_exit_code_is_the_state(cfg, wal_after, code):
    doc = status.build(cfg, facts(timedelta(minutes=10), timedelta(seconds=wal_after)))
    assert status.plugin_code(doc) == code, status.summary_line(doc)


def test_a_figure_the_last_known_document_lacked_reads_as_none_as_of_its_date(cfg):
    found = facts(timedelta(minutes=10))
    found.newest_logical = None
    doc = status.build(cfg, outage(status.build(cfg, found), timedelta(minutes=13)))
    as_of = (LAST + timedelta(minutes=10)).strftime("%H:%M")
    check = next(c for c in doc["checks"] if c["key"] == "logical-dump-age")
    assert check["message"] == f"last logical dump none as of {as_of} UTC: the bucket cannot be read"
    assert f'id="last-logical-age" data-seconds="None" data-state="critical">none as of {as_of} UTC<' \
        in dashboard.render(doc)


def test_a_last_known_document_from_an_older_pgvault_fills_what_it_has(cfg):
    before = status.build(cfg, facts(timedelta(minutes=10)))
    for part in ("usage", "retention", "stale"):
        del before[part]
    doc = status.build(cfg, outage(before, timedelta(minutes=13)))
    assert doc["backups"] == before["backups"] and doc["usage"] == {}
    assert set(doc["retention"]["counts"].values()) == {None}


@pytest.mark.parametrize(("checked_ago", "broken", "state"), [
    (timedelta(minutes=5), None, "ok"),
    (timedelta(minutes=5), walproof.Break("000000010000000000000010", 0x10000028, "contrecord is requested by"),
     "critical"),
    (timedelta(days=3), None, "warning"),     # the daily proof has not run for two of its intervals
])
def test_the_wal_proof_is_a_check_naming_the_segment_where_wal_stops_chaining(cfg, checked_ago, broken, state):
    found = facts(timedelta(hours=1))
    found.proof = walproof.Proof("15-1", broken=broken, checked=(found.now - checked_ago).isoformat(),
                                 proven_to="00000001000000000000000E", newest="00000001000000000000000F")
    check = next(c for c in status.build(cfg, found)["checks"] if c["key"] == "wal-continuity")
    assert check["state"] == state
    if broken:
        assert "segment 000000010000000000000010 at LSN 0/10000028" in check["message"]
    assert "wal-continuity" in check["runbook"]


def test_without_a_proof_state_there_is_no_continuity_check_and_no_green_one(cfg):
    """Only a monitor that could not reach the bucket has no state: its collection check is critical."""
    assert "wal-continuity" not in {c["key"] for c in status.build(cfg, facts(timedelta(hours=1)))["checks"]}


def test_the_hourly_jobs_decisions_reach_the_document_the_checks_and_the_email(cfg):
    def run(ended, decision, reason):
        return {"job": "incr", "outcome": "ok", "ended": ended.isoformat(), "message": "",
                "sizes": {"decision": decision, "reason": reason}}
    now = LAST + timedelta(hours=2)
    history = [run(now - timedelta(hours=h), "restore-point", "WAL 1 MB <= budget 28.1 GB (...)") for h in (1, 3, 5)]
    history += [run(now - timedelta(hours=2), "incremental", "WAL 30.0 GB > budget 28.1 GB (...)")]
    history += [run(now - timedelta(days=2), "incremental", "too old to count")]
    jobs = {"last": {"incr": history[0]}, "history": sorted(history, key=lambda r: r["ended"])}
    doc = status.build(cfg, facts(timedelta(hours=2), jobs=jobs))
    assert doc["hourly"] == {"rule": "adaptive", "restore_points": 3, "incrementals": 1,
                             "line": "hourly: 3 restore points, 1 incremental: WAL 30.0 GB > budget 28.1 GB"}
    assert next(c for c in doc["checks"] if c["key"] == "hourly")["state"] == status.OK
    assert doc["hourly"]["line"] in alerts.report(cfg, doc, None)[1]
    late = {"last": {"incr": run(now - timedelta(hours=3), "restore-point", "")}, "history": []}
    stale = status.build(cfg, facts(timedelta(hours=2), jobs=late))
    assert next(c for c in stale["checks"] if c["key"] == "hourly")["state"] == status.WARNING


def test_the_forecast_reaches_the_document_the_metric_the_budget_check_the_alarm_and_the_email():
    from pgvault.core.forecast import GB, Cohort
    from pgvault.core.policy import alarm_specs
    cfg = make_stack(targets={"rpo_seconds": 300, "monthly_budget": 1.0})
    found = facts(timedelta(minutes=10))
    found.cohorts = [Cohort("wal", 0, GB, 64), Cohort("backups", 0, 2 * GB, 10), Cohort("backups", 29, 7 * GB, 7)]
    doc = status.build(cfg, found)
    assert doc["forecast"]["cost"]["total"] == 1.16
    assert status.metric_values(doc)[metrics.STORAGE_COST_FORECAST.name] == 1.16
    check = next(c for c in doc["checks"] if c["key"] == "storage-cost")
    assert check["state"] == status.WARNING and check["limit"] == 1.0
    alarm = next(a for a in alarm_specs(cfg) if a.key == "storage-cost")
    assert alarm.threshold == 1.0 and alarm.metric is metrics.STORAGE_COST_FORECAST and alarm.missing == "notBreaching"
    assert "forecast: next 30 days: 1.16 USD" in alerts.report(cfg, doc, None)[1]
    assert 'id="forecast" data-total="1.16"' in dashboard.render(doc)
    assert not any(a.key == "storage-cost" for a in alarm_specs(make_stack())), "no budget, no alarm"


def test_the_retention_section_says_how_much_each_tier_holds(cfg):
    doc = status.build(cfg, facts(timedelta(minutes=10)))
    held = doc["retention"]["bytes"]
    assert set(held) == {"daily", "weekly", "monthly", "incremental"}
    fulls, incrementals = ([b for b in INFO.backups if (b.type == "full") == full] for full in (True, False))
    assert held["daily"] == sum(b.repo_delta for b in fulls)
    assert held["incremental"] == sum(b.repo_delta for b in incrementals) and doc["retention"]["incrementals"] == 2


def _drill(doc: dict) -> dict:
    return next(c for c in doc["checks"] if c["key"] == "drill")


def test_a_recent_passed_drill_is_ok_and_an_old_one_amber(cfg):
    assert _drill(status.build(cfg, facts(timedelta(minutes=10), drills=[_passed(timedelta(0))])))["state"] == \
        status.OK
    limit = next(a.threshold for a in alarm_specs(cfg) if a.key == "drill-age")
    old = _drill(status.build(cfg, facts(timedelta(seconds=limit + 60), drills=[_passed(timedelta(0))])))
    assert old["state"] == status.WARNING and old["limit"] == limit, old


def test_no_drill_result_is_never_ok_and_names_where_it_was_looked_for(cfg):
    """A stack where no drill stored a result (none ran, or a staging host's could not write) says so: amber
    while the stack is young, red once its backups go back further than the drill-age alarm's limit."""
    young = _drill(status.build(cfg, facts(timedelta(minutes=10), drills=[])))
    assert young["state"] == status.WARNING and young["value"] is None, young
    assert young["message"].startswith("no drill result in s3://acme-crm-backups/drills/crm/: no drill has run")
    assert young["runbook"].endswith("#drill")
    limit = next(a.threshold for a in alarm_specs(cfg) if a.key == "drill-age")
    overdue = _drill(status.build(cfg, facts(timedelta(seconds=limit), drills=[])))
    assert overdue["state"] == status.CRITICAL and "though the backups go back" in overdue["message"], overdue
    assert status.metric_values(status.build(cfg, facts(timedelta(minutes=10), drills=[]))).get(
        metrics.LAST_DRILL_AGE.name) is None, "no age is published: the drill-age alarm treats silence as breaching"


def test_an_unreadable_bucket_makes_the_drill_unknown_not_missing(cfg):
    """Unknown is not never: while the bucket cannot be read the drill check says so, or keeps the last known."""
    unknown = _drill(status.build(cfg, outage(None, timedelta(minutes=13))))
    assert unknown["state"] == status.WARNING and unknown["message"] == (
        "last drill unknown: the bucket cannot be read"), unknown
    none_before = status.build(cfg, facts(timedelta(minutes=10), drills=[]))
    assert _drill(status.build(cfg, outage(none_before, timedelta(minutes=13))))["message"].startswith(
        "last drill none as of ")
    known = status.build(cfg, facts(timedelta(minutes=10)))
    carried = _drill(status.build(cfg, outage(known, timedelta(minutes=13))))
    assert carried["state"] == status.OK and carried["value"] == 8 * 60, carried


def _at(after: timedelta) -> str:
    return (LAST + after).isoformat()


def test_the_drill_age_is_the_buckets_time_not_the_bodys(cfg):
    """The body's ``finished`` is its writer's word; the bucket's ``LastModified`` is the age (4 minutes apart)."""
    result = stored({"finished": _at(timedelta(minutes=5)), "passed": True}, at=_at(timedelta(minutes=1)))
    doc = status.build(cfg, facts(timedelta(minutes=10), drills=[result]))
    assert doc["ages"]["last_drill_seconds"] == 9 * 60 and doc["suspicious_drills"] == []


def test_the_newest_result_is_the_newest_the_bucket_stored_whatever_its_key(cfg):
    """Key names are the writer's choice: a failed drill stored last is the last drill, though an older passing
    result's key sorts after it."""
    failed = stored({"finished": _at(timedelta(minutes=8)), "passed": False})
    passed = {**_passed(timedelta(minutes=2))}
    passed["stored"] = {**passed["stored"], "key": "drills/crm/9999-12-31T000000-drill.json"}
    doc = status.build(cfg, facts(timedelta(minutes=10), drills=[passed, failed]))
    assert doc["drill"]["passed"] is False and _drill(doc)["state"] == status.CRITICAL


@pytest.mark.parametrize("result, reason", [
    (stored({"finished": "9999-12-31T00:00:00+00:00", "passed": True}, at=_at(timedelta(minutes=9))),
     "says it finished at 9999-12-31T00:00:00, in the future"),
    (stored({"finished": _at(timedelta(minutes=-60)), "passed": True}, at=_at(timedelta(minutes=9))),
     "but the bucket stored it at"),
    (stored({"finished": _at(timedelta(minutes=9)), "passed": True}, versions=2),
     "its key was written 2 times"),
    (stored({"finished": "yesterday", "passed": True}, at=_at(timedelta(minutes=9))), "no finished time with a zone"),
    (stored({"finished": "2026-01-01T00:00:00", "passed": True}, at=_at(timedelta(minutes=9))),
     "no finished time with a zone"),
    ({"stored": {"key": "drills/crm/x.json", "at": _at(timedelta(minutes=9)), "versions": 1,
                 "invalid": "the body is not a JSON object"}}, "not a drill result"),
], ids=["finished in the future", "finished an hour before the put", "key overwritten", "no time",
        "time without a zone", "not JSON"])
def test_a_result_the_buckets_facts_contradict_is_left_out_and_named(cfg, result, reason):
    """Facts in, verdict out: the restore keys can put any body, so a contradicted one neither counts nor hides."""
    doc = status.build(cfg, facts(timedelta(minutes=10), drills=[result, _passed(timedelta(minutes=5))]))
    assert [s["key"] for s in doc["suspicious_drills"]] == [result["stored"]["key"]]
    assert reason in doc["suspicious_drills"][0]["reason"]
    assert doc["drill"]["finished"] == _at(timedelta(minutes=5)), "the believed result is the last drill"
    check = _drill(doc)
    assert check["state"] == status.WARNING and "1 result(s) left out as suspicious" in check["message"], check
    assert result["stored"]["key"] in check["message"]


def test_a_suspicious_result_keeps_a_failed_drill_red():
    doc = {"drill": stored({"finished": _at(timedelta(0)), "passed": False}), "ages": {"last_drill_seconds": 60},
           "suspicious_drills": [{"key": "drills/crm/x.json", "reason": "its key was written 2 times"}]}
    check = status._drill_check(make_stack(), doc, 3600)
    assert check["state"] == status.CRITICAL and "last drill FAILED 60 s ago" in check["message"], check


def test_versions_unknown_are_not_held_against_a_result(cfg):
    """Keys that cannot list versions (``versions`` is ``None``) judge by the times alone."""
    result = stored({"finished": _at(timedelta(minutes=5)), "passed": True}, versions=None)
    assert status.build(cfg, facts(timedelta(minutes=10), drills=[result]))["suspicious_drills"] == []


def test_only_an_unreadable_repository_does_not_make_the_drill_unknown(cfg):
    """pgBackRest's info unread, the bucket read: no drill result means none stored, not "cannot be read"."""
    healthy = facts(timedelta(minutes=10), drills=[])
    healthy.unread, healthy.previous = frozenset({"repository"}), status.build(cfg, facts(timedelta(minutes=5)))
    doc = status.build(cfg, healthy)
    assert doc["stale"]["unread"] == "repository"
    assert _drill(doc)["message"].startswith("no drill result in s3://acme-crm-backups/drills/crm/"), _drill(doc)
