"""The cron file: rendered from the schedule, read back, next runs."""

from __future__ import annotations

from datetime import UTC, datetime

from pgvault.core import cron, jobs, render
from tests.builders import make_stack


def test_every_job_runs_the_wrapper_as_the_database_user():
    cfg = make_stack(schedule={"full": "15 1 * * *"})
    env, lines = cron.parse(render.render_cron(cfg))
    assert env == {"SHELL": "/bin/sh", "PATH": cron.CRON_PATH, "MAILTO": "", "PGVAULT_STACK_DIR": "/etc/pgvault"}
    assert [(x.job, x.user) for x in lines] == [(job.name, "postgres") for job in jobs.scheduled()]
    assert lines[0].schedule == "15 1 * * *"
    assert lines[0].command == "/opt/pgvault/bin/pgvault-job --stack test full"


def test_cron_file_location_and_owner():
    cfg = make_stack()
    assert cron.cron_file(cfg) == "/etc/cron.d/pgvault-crm" and cron.cron_owner(cfg) == "root"


def test_next_run_is_in_utc():
    now = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)
    assert cron.next_run("0 2 * * *", now) == datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
