"""The installed cron file parses, and each of its lines runs under cron's minimal environment."""

from __future__ import annotations

import json
import os
import pwd
import signal
import subprocess
from pathlib import Path

import pytest
from croniter import croniter

from pgvault.core import cron, jobs, pgbackrest
from pgvault.core.errors import ExitCode
from pgvault.edges import jobstate, remote
from pgvault.edges.waiting import within
from tests.integration.helpers import collect, connection


@pytest.fixture(scope="module")
def cron_lines(configured):
    text = Path(cron.cron_file(configured.cfg)).read_text()
    return cron.parse(text)


def _as_cron_argv(user: str, env: dict, command: str) -> list[str]:
    """argv that runs ``command`` the way cron does: only cron's variables, as ``user``."""
    home = pwd.getpwnam(user).pw_dir
    variables = [f"{k}={v}" for k, v in {**env, "HOME": home, "LOGNAME": user}.items()]
    argv = ["env", "-i", *variables, "/bin/sh", "-c", command]
    if os.geteuid() == 0 and user != "root":
        argv = ["runuser", "-u", user, "--", *argv]
    return argv


def _as_cron(user: str, env: dict, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(_as_cron_argv(user, env, command), capture_output=True, text=True, timeout=600, cwd="/")


def _lock_held(path: Path) -> bool:
    return path.exists() and subprocess.run(["flock", "-n", "-s", str(path), "true"]).returncode != 0


def test_cron_file_parses_and_names_every_job(configured, cron_lines):
    env, lines = cron_lines
    assert env["PATH"] == cron.CRON_PATH and env["MAILTO"] == "" and env["PGVAULT_STACK_DIR"]
    assert [line.job for line in lines] == [job.name for job in jobs.scheduled()]
    for line in lines:
        assert croniter.is_valid(line.schedule)
        assert line.user == configured.cfg.postgres.os_user
        assert line.schedule == getattr(configured.cfg.schedule, jobs.BY_NAME[line.job].schedule)


@pytest.mark.slow
@pytest.mark.parametrize("job", [job.name for job in jobs.scheduled()])
def test_each_cron_line_runs_with_crons_environment(configured, cron_lines, job):
    env, lines = cron_lines
    line = next(x for x in lines if x.job == job)
    done = _as_cron(line.user, env, line.command)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == "", "jobs must not write to cron mail"
    last = jobstate.read(configured.cfg.jobs.state_dir)["last"][job]
    assert last["outcome"] == "ok" and last["exit_code"] == 0 and last["seconds"] >= 0
    log = Path(configured.cfg.jobs.log_dir, "pgvault-job.log").read_text()
    assert f"{job} ok in" in log


def test_schedule_show_describes_each_job_with_its_next_run(configured):
    doc = json.loads(configured.ok("schedule.show", "--json"))
    jobs = {j["job"]: j for j in doc["jobs"]}
    assert jobs["full"]["words"] == "At 02:00 UTC" and jobs["incr"]["words"] == "Every hour UTC"
    assert all(j["next_run"] for j in jobs.values())
    assert "next" in configured.ok("schedule.show")


def test_a_job_overlapping_its_previous_run_is_refused_by_the_lock(configured, cron_lines):
    env, lines = cron_lines
    line = next(x for x in lines if x.job == "incr")
    lock = Path(configured.cfg.jobs.state_dir, "backup.lock")
    holder = subprocess.Popen(_as_cron_argv(line.user, env, f"flock -x {lock} sleep 60"), start_new_session=True)
    try:
        assert within(10, lambda: _lock_held(lock)), "the stand-in backup never took the lock"
        done = _as_cron(line.user, env, line.command)
    finally:
        os.killpg(holder.pid, signal.SIGKILL)  # the whole group: runuser's flock and sleep would hold the lock on
        holder.wait()
    assert done.returncode == ExitCode.LOCKED
    last = jobstate.read(configured.cfg.jobs.state_dir)["last"]["incr"]
    assert last["outcome"] == "skipped" and "holds the backup lock" in last["message"]


def test_host_check_reports_a_cron_file_that_differs(configured):
    path = Path(cron.cron_file(configured.cfg))
    original = path.read_text()
    path.write_text(original.replace("0 2 * * *", "0 3 * * *"))
    try:
        done = configured.fab("host.check")
        assert done.returncode == ExitCode.DRIFT and f"file {path}: content" in done.stdout
    finally:
        path.write_text(original)


def test_a_failed_job_retried_as_cron_would_clears_job_failed_and_exits_with_the_jobs_code(configured):
    cfg = configured.cfg
    conn = connection(configured)
    assert within(90, lambda: not _lock_held(Path(cfg.jobs.state_dir, "backup.lock"))), "the backup lock stays held"
    remote.run(conn, pgbackrest.command(cfg, "stop"), user=cfg.postgres.os_user)
    try:
        failed = configured.fab("schedule.run", "--job", "expire")
    finally:
        remote.run(conn, pgbackrest.command(cfg, "start"), user=cfg.postgres.os_user)
    record = jobstate.read(cfg.jobs.state_dir)["last"]["expire"]
    assert failed.returncode == record["exit_code"] != 0 and record["outcome"] == "failed"
    assert "expire on db1: failed" in failed.stdout and "[062]" in failed.stdout
    check = next(c for c in collect(configured)["checks"] if c["key"] == "job-failed")
    assert check["state"] != "ok" and "expire" in check["message"]

    retried = configured.fab("schedule.run", "--job", "expire")
    assert retried.returncode == 0, retried.stderr
    assert "expire on db1: ok" in retried.stdout
    assert next(c for c in collect(configured)["checks"] if c["key"] == "job-failed")["state"] == "ok"

    runs = len(jobstate.read(cfg.jobs.state_dir)["history"])
    typo = configured.fab("schedule.run", "--job", "expir")
    assert typo.returncode == ExitCode.USAGE and "did you mean expire?" in typo.stderr
    assert len(jobstate.read(cfg.jobs.state_dir)["history"]) == runs, "a mistyped job ran something"
