"""One job registry: cron, the runner, the locks and the failure alerts all read it."""

from __future__ import annotations

import pytest

from pgvault import job
from pgvault.core import cron, jobs
from pgvault.core.schema import SCHEDULE_RULES, ScheduleConfig
from tests.builders import make_stack


def test_every_registered_job_has_a_runner_and_every_runner_is_registered():
    assert set(job.RUNNERS) == set(jobs.BY_NAME)


def test_scheduled_jobs_name_a_schedule_key_and_the_cron_file_runs_exactly_them():
    keys = set(ScheduleConfig.model_fields) - set(SCHEDULE_RULES)
    assert {j.schedule for j in jobs.scheduled()} == keys, "every schedule key times one job"
    assert [e.job for e in cron.entries(make_stack())] == [j.name for j in jobs.scheduled()]


def test_backups_expire_and_the_repository_check_share_a_lock_other_jobs_have_their_own():
    assert {j.name for j in jobs.JOBS if j.lock == "backup"} == {"full", "incr", "diff", "expire", "verify"}
    others = [j.lock for j in jobs.JOBS if j.lock != "backup"]
    assert len(others) == len(set(others))


def run(job: str, outcome: str, ended: str = "2026-11-27T03:00:00+00:00") -> dict:
    return {"job": job, "ended": ended, "outcome": outcome}


def test_a_skipped_run_does_not_decide_a_jobs_outcome():
    data: dict = {}
    for outcome in ("failed", "skipped"):
        data = jobs.add_record(data, run("expire", outcome), keep=10)
    assert data["last"]["expire"]["outcome"] == "skipped", "the last run is still shown as it was"
    assert jobs.decided(data)["expire"]["outcome"] == "failed"
    data = jobs.add_record(data, run("expire", "ok"), keep=10)
    assert jobs.decided(data)["expire"]["outcome"] == "ok"


def test_files_written_before_decided_existed_fall_back_on_the_history():
    data = {"last": {"verify": run("verify", "skipped")},
            "history": [run("verify", "failed"), run("verify", "skipped")]}
    assert jobs.decided(data)["verify"]["outcome"] == "failed"


@pytest.mark.parametrize("job, kind, stop, cleared", [
    ("incr", "incr", "2026-11-27T03:10:00+00:00", True),
    ("incr", "full", "2026-11-27T03:10:00+00:00", True),
    ("incr", "incr", "2026-11-27T02:50:00+00:00", False),
    ("full", "incr", "2026-11-27T03:10:00+00:00", False),
    ("diff", "full", "2026-11-27T03:10:00+00:00", True),
], ids=["a later incr", "a later full", "an earlier incr", "an incr does not prove a full", "a full proves a diff"])
def test_a_later_backup_set_proves_a_failed_backup_job_retried(job, kind, stop, cleared):
    backups = [{"type": kind, "stop": stop, "error": False}]
    assert jobs.retried(job, "2026-11-27T03:00:00+00:00", backups, None, []) is cleared


def test_later_logical_dumps_and_drills_prove_their_jobs_others_need_a_recorded_run():
    failed_at, later = "2026-11-27T03:00:00+00:00", "2026-11-27T04:00:00+00:00"
    assert jobs.retried("logical", failed_at, [], later, [])
    assert jobs.retried("drill", failed_at, [], None, [later])
    assert not jobs.retried("verify", failed_at, [{"type": "full", "stop": later}], later, [later])
