"""Job locks and records, and the wrapper's outcome for ok, failed and refused runs."""

from __future__ import annotations

import os

import pytest

from pgvault import job
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.jobs import JobRecord
from pgvault.edges import jobstate
from tests.builders import make_stack


@pytest.fixture
def cfg(tmp_path):
    return make_stack(jobs={"state_dir": str(tmp_path / "state"), "log_dir": str(tmp_path / "log")})


def test_backups_share_one_lock(cfg):
    with jobstate.job_lock(cfg.jobs.state_dir, "full") as first:
        assert first is None
        with jobstate.job_lock(cfg.jobs.state_dir, "incr") as second:
            assert second == f"full (pid {os.getpid()})"
        with jobstate.job_lock(cfg.jobs.state_dir, "logical") as other:
            assert other is None


def test_records_keep_the_last_of_each_job_and_a_bounded_history(cfg):
    for n in range(jobstate.HISTORY + 5):
        jobstate.record(cfg.jobs.state_dir, JobRecord("full", "db1", "s", "e", 1.0, 0, "ok", str(n)))
    data = jobstate.read(cfg.jobs.state_dir)
    assert data["last"]["full"]["message"] == str(jobstate.HISTORY + 4)
    assert len(data["history"]) == jobstate.HISTORY


def test_the_wrapper_records_success_failure_and_refusal(cfg, monkeypatch):
    job.setup_logging(cfg)
    reported = []
    monkeypatch.setattr(job, "_report_outcome", lambda c, entry: reported.append(entry.outcome))
    monkeypatch.setitem(job.RUNNERS, "full", lambda c: {"stored_bytes": 42})
    assert job.run_job(cfg, "full") == 0

    def broken(c):
        raise PgvaultError("pgBackRest error [082]: WAL not archived", "check archiving", ExitCode.FAILED)

    monkeypatch.setitem(job.RUNNERS, "incr", broken)
    assert job.run_job(cfg, "incr") == ExitCode.FAILED
    with jobstate.job_lock(cfg.jobs.state_dir, "full"):
        assert job.run_job(cfg, "incr") == ExitCode.LOCKED
    last = jobstate.read(cfg.jobs.state_dir)["last"]
    assert last["full"]["outcome"] == "ok" and last["full"]["sizes"] == {"stored_bytes": 42}
    assert [h["outcome"] for h in jobstate.read(cfg.jobs.state_dir)["history"]] == ["ok", "failed", "skipped"]
    assert reported == ["ok", "failed"], "a refused run is neither a success nor a failure to report"
    log = (cfg.jobs.log_dir + "/pgvault-job.log")
    assert "incr failed" in open(log).read()


def test_a_refused_run_after_a_failure_keeps_the_failure_decided(cfg, monkeypatch):
    job.setup_logging(cfg)
    monkeypatch.setattr(job, "_report_outcome", lambda c, entry: None)

    def broken(c):
        raise PgvaultError("pgBackRest error [042]: timeout", "check the endpoint", ExitCode.FAILED)

    monkeypatch.setitem(job.RUNNERS, "verify", broken)
    assert job.run_job(cfg, "verify") == ExitCode.FAILED
    with jobstate.job_lock(cfg.jobs.state_dir, "full"):
        assert job.run_job(cfg, "verify") == ExitCode.LOCKED
    data = jobstate.read(cfg.jobs.state_dir)
    assert data["last"]["verify"]["outcome"] == "skipped"
    assert data["decided"]["verify"]["outcome"] == "failed", "a skipped run must not clear job-failed"


def _refused_by_pgbackrest(c):
    from pgvault.core.pgbackrest import failure
    raise failure("ERROR: [050]: unable to acquire lock on file '/tmp/pgbackrest/crm-backup.lock'", "wait")


def test_a_run_pgbackrests_lock_refuses_is_retried_then_skipped_not_failed(cfg, monkeypatch):
    job.setup_logging(cfg)
    reported, attempts = [], []
    monkeypatch.setattr(job, "_report_outcome", lambda c, entry: reported.append(entry.outcome))
    monkeypatch.setattr(job.time, "sleep", lambda seconds: attempts.append(seconds))
    monkeypatch.setitem(job.RUNNERS, "expire", _refused_by_pgbackrest)
    assert job.run_job(cfg, "expire", pauses=(1, 2)) == ExitCode.LOCKED
    assert attempts == [1, 2], "tried again after each pause"
    last = jobstate.read(cfg.jobs.state_dir)["last"]["expire"]
    assert last["outcome"] == "skipped" and "[050]" in last["message"]
    assert reported == ["skipped"], "recorded and reported as skipped: no failure alert"


def test_a_run_that_gets_the_lock_on_a_retry_succeeds(cfg, monkeypatch):
    job.setup_logging(cfg)
    outcomes = iter([_refused_by_pgbackrest, lambda c: {"expired": 1}])
    monkeypatch.setattr(job, "_report_outcome", lambda c, entry: None)
    monkeypatch.setattr(job.time, "sleep", lambda seconds: None)
    monkeypatch.setitem(job.RUNNERS, "expire", lambda c: next(outcomes)(c))
    assert job.run_job(cfg, "expire", pauses=(5, 5)) == 0
    assert jobstate.read(cfg.jobs.state_dir)["last"]["expire"]["outcome"] == "ok"


def test_cron_environment_is_completed(cfg, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.delenv("LANG", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    job.prepare_environment(cfg)
    import os

    assert os.environ["PATH"].startswith(cfg.postgres.bin_dir) and os.environ["HOME"]
    assert os.environ["LC_ALL"] == "C.UTF-8"
