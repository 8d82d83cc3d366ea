"""One job registry: cron, the runner, the locks and the failure alerts all read it."""

from __future__ import annotations

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
