"""Fault injection against the real sandbox (FAULTS.md): what happens, what the operator is told, nothing lost.

Faults are injected on one machine: SIGSTOP/SIGCONT of the S3 server (it stops
answering but keeps its connections), SIGKILL of pgBackRest and PostgreSQL,
a small tmpfs over the archive spool, byte flips and deletions of bucket
objects with boto3, wrong secrets and an unknown CA.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
import trustme
from botocore.exceptions import ClientError

from pgvault.actions import backup
from pgvault.core import cron, walarchive
from pgvault.core.errors import ExitCode
from pgvault.core.secrets import RESTORE_S3_KEY, RESTORE_S3_KEY_SECRET
from pgvault.edges import remote
from pgvault.edges.cloud import s3_client
from pgvault.edges.secretstore import read_secret
from pgvault.edges.waiting import within
from sandbox.lifecycle import admin_client
from tests.builders import merge, sandbox_config, stack_text
from tests.fixtures import FAB, ROOT
from tests.integration.helpers import collect, connection, damaged_object, flush_wal, labels, mark, restore_json
from tests.integration.test_monitoring import _archive_gaps, _drain_queue, s3_frozen
from tests.integration.test_schedule import _as_cron


@pytest.fixture(scope="module")
def faults(configured):
    """The sandbox with some ballast, so that a full backup runs long enough to be interrupted."""
    configured.sql("CREATE TABLE IF NOT EXISTS ballast AS SELECT g AS id, "
                   "(SELECT string_agg(md5(random()::text || i || g), '') FROM generate_series(1, 40) s(i)) AS filler "
                   "FROM generate_series(1, 60000) g")
    configured.ok("backup.full")
    configured.ok("backup.logical")
    yield configured
    configured.sql("DROP TABLE IF EXISTS ballast")
    # the frozen bucket left segments waiting: the next module on this worker's sandbox starts with them archived
    flush_wal(configured, seconds=300)


@pytest.fixture(scope="module")
def earlier_gaps(faults) -> list[walarchive.Gap]:
    """Holes already in the archive when these tests begin: those archive retention left (test_expire)."""
    return _archive_gaps(faults)


def _backup_labels(sandbox) -> list[str]:
    return [b["label"] for b in json.loads(sandbox.ok("backup.list", "--json"))["backups"]]


def _read_from(path: Path, offset: int) -> str:
    """What was appended to a log file after ``offset`` bytes."""
    with open(path, errors="replace") as handle:
        handle.seek(offset)
        return handle.read()


def _pgbackrest_backup_pids(sandbox) -> list[int]:
    """The pgBackRest backup processes of this sandbox (its own config path), never another sandbox's."""
    pattern = f"pgbackrest --config-path={re.escape(sandbox.cfg.pgbackrest.config_path)} .*backup$"
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def _cron_line(sandbox, job: str):
    env, lines = cron.parse(Path(cron.cron_file(sandbox.cfg)).read_text())
    return env, next(x for x in lines if x.job == job)


@pytest.mark.slow
def test_s3_stopping_mid_backup_fails_clearly_and_lists_no_partial_set(faults):
    before = _backup_labels(faults)
    log = Path(faults.cfg.pgbackrest.log_path, f"{faults.cfg.pgbackrest.stanza}-backup.log")
    logged = log.stat().st_size if log.exists() else 0
    running = subprocess.Popen([FAB, "backup.full"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    assert within(30, lambda: _pgbackrest_backup_pids(faults)), "the backup never started"
    # PostgreSQL is in backup mode and pgBackRest works on the repository: the backup is under way
    assert within(60, lambda: "backup start archive = " in _read_from(log, logged)), "the backup never began"
    with s3_frozen(faults):
        out, err = running.communicate(timeout=300)
    assert running.returncode == ExitCode.FAILED
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: pgBackRest error [") and "S3 endpoint" in lines[0], err
    assert _backup_labels(faults) == before, "a failed backup must never be listed"
    assert "full backup" in faults.ok("backup.full")


@pytest.mark.slow
def test_sigkill_of_pgbackrest_mid_backup_alerts_and_the_next_backup_succeeds(faults):
    cfg = faults.cfg
    _drain_queue(cfg)
    before = _backup_labels(faults)
    env, line = _cron_line(faults, "full")
    job = subprocess.Popen(["runuser", "-u", line.user, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()],
                            "/bin/sh", "-c", line.command] if os.geteuid() == 0 else
                           ["env", "-i", *[f"{k}={v}" for k, v in env.items()], "/bin/sh", "-c", line.command])
    pids = within(30, lambda: _pgbackrest_backup_pids(faults), interval=0.05)
    assert pids, "the backup never started"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    assert job.wait(timeout=120) == ExitCode.FAILED
    alert = within(20, lambda: [m for m in _drain_queue(cfg) if "FAILED full" in m.get("Subject", "")])
    assert alert and "Error:" in alert[0]["Message"]
    assert _backup_labels(faults) == before
    assert _as_cron(line.user, env, line.command).returncode == 0, "a stale lock would refuse the next run"


@pytest.mark.slow
def test_sigkill_of_postgresql_under_write_load_loses_nothing_from_the_archive(faults, earlier_gaps):
    cfg = faults.cfg
    conn = connection(faults)
    for n in range(10):
        mark(faults, f"fault3-{n}")
        remote.sql(conn, cfg, "SELECT pg_switch_wal();")
    pid = remote.run(conn, ["head", "-n", "1", f"{cfg.postgres.data_dir}/postmaster.pid"],
                     user=cfg.postgres.os_user).stdout.strip()
    remote.run(conn, ["kill", "-KILL", pid], user=cfg.postgres.os_user)
    assert within(30, lambda: not remote.run(conn, ["kill", "-0", pid], user=cfg.postgres.os_user, warn=True).ok)
    faults.ok("sandbox.up")
    flush_wal(faults, seconds=240)
    assert _archive_gaps(faults) == earlier_gaps, "a fault must never leave a hole in the archive"
    assert {f"fault3-{n}" for n in range(10)} <= labels(faults, faults.dsn)
    assert "every backup and WAL file checked is valid" in faults.ok("backup.verify")


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_nearly_full_spool_volume_alerts_before_wal_is_lost(faults, earlier_gaps):
    cfg = faults.cfg
    conn = connection(faults)
    spool = cfg.pgbackrest.spool_path
    _drain_queue(cfg)
    env, monitor = _cron_line(faults, "monitor")
    _as_cron(monitor.user, env, monitor.command)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0750", "tmpfs", spool], check=True)
    try:
        subprocess.run(["chown", f"{cfg.postgres.os_user}:", spool], check=True)
        subprocess.run(["dd", "if=/dev/zero", f"of={spool}/filler", "bs=1M", "count=15"], check=True,
                       capture_output=True)
        doc = collect(faults)
        spool_check = next(c for c in doc["checks"] if c["key"] == "spool-volume")
        assert spool_check["state"] == "critical" and "spool volume" in spool_check["message"]
        _as_cron(monitor.user, env, monitor.command)
        alert = within(20, lambda: [m for m in _drain_queue(cfg) if "CRITICAL spool-volume" in m.get("Subject", "")])
        assert alert and "spool volume" in alert[0]["Message"]
        mark(faults, "fault4")
        remote.sql(conn, cfg, "SELECT pg_switch_wal();")
        Path(spool, "filler").unlink()
        flush_wal(faults, seconds=240)
    finally:
        subprocess.run(["umount", "-l", spool], check=False)
    assert _archive_gaps(faults) == earlier_gaps, "a fault must never leave a hole in the archive"


def _archive_key(sandbox, segment: str) -> str:
    cfg = sandbox.cfg
    s3 = s3_client(cfg)
    prefix = f"{cfg.repository.repo_prefix}archive/{cfg.pgbackrest.stanza}/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=cfg.repository.bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if walarchive.segment_name(item["Key"]) == segment:
                return item["Key"]
    raise AssertionError(f"segment {segment} not in the bucket")


@pytest.mark.slow
def test_a_deleted_wal_segment_is_reported_and_a_target_across_it_refused(faults):
    cfg = faults.cfg
    mark(faults, "fault5-a")
    victim = backups_flush(faults)
    mark(faults, "fault5-b")
    backups_flush(faults)
    (after,), = faults.sql("SELECT clock_timestamp()")
    s3 = admin_client(cfg)
    key = _archive_key(faults, victim)
    body = s3.get_object(Bucket=cfg.repository.bucket, Key=key)["Body"].read()
    s3.delete_object(Bucket=cfg.repository.bucket, Key=key)
    try:
        done = faults.fab("backup.verify")
        assert done.returncode == ExitCode.VERIFY
        assert "WAL missing after" in done.stdout and victim[:16] in done.stdout
        refused = faults.fab("restore.pitr", "--target", after.isoformat())
        assert refused.returncode == ExitCode.USAGE
        assert f"{victim} are missing from the archive" in refused.stderr and "choose a target before" in refused.stderr
    finally:
        s3.put_object(Bucket=cfg.repository.bucket, Key=key, Body=body)


def backups_flush(sandbox) -> str:
    """Switch WAL and wait until the finished segment is archived; return its name."""
    return backup.flush_wal(connection(sandbox), sandbox.cfg)


@pytest.mark.slow
def test_a_corrupted_backup_file_is_named_by_verify(faults):
    cfg = faults.cfg
    newest = _backup_labels(faults)[-1]
    s3 = s3_client(cfg)
    prefix = f"{cfg.repository.repo_prefix}backup/{cfg.pgbackrest.stanza}/{newest}/bundle/"
    key = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=cfg.repository.bucket, Prefix=prefix)["Contents"])[0]
    with damaged_object(faults, key, at=1 / 2, length=32):
        done = faults.fab("backup.verify", timeout=600)
    assert done.returncode == ExitCode.VERIFY, done.stdout
    assert f"backup {newest} is damaged" in done.stdout
    assert done.stderr.strip().startswith("error: pgbackrest verify found")


@pytest.mark.slow
def test_a_second_backup_at_the_same_time_is_refused_by_the_lock(faults):
    first = subprocess.Popen([FAB, "backup.full"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert within(30, lambda: _pgbackrest_backup_pids(faults), interval=0.05), "the first backup never started"
    second = faults.fab("backup.full")
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.returncode == ExitCode.LOCKED
    assert "another pgBackRest process holds the lock" in second.stderr


def _fingerprint_host(sandbox) -> dict:
    folder = Path(sandbox.cfg.pgbackrest.config_path)
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("variable, words", [
    ("PGVAULT_REPO_CIPHER_PASS", "the repository passphrase does not open the repository"),
    ("PGVAULT_S3_KEY_SECRET", "the S3 endpoint refuses the access keys"),
])
def test_wrong_secrets_are_refused_before_anything_changes(faults, variable, words):
    before = _fingerprint_host(faults)
    done = subprocess.run([FAB, "host.setup"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, variable: "not-the-right-one"}, timeout=300)
    assert done.returncode == ExitCode.FAILED
    line = done.stderr.strip().splitlines()[-1]
    assert words in line and "nothing on the host was changed" in line
    assert _fingerprint_host(faults) == before


def test_an_untrusted_certificate_is_refused_everywhere(faults):
    cfg = faults.cfg
    other_ca = Path(cfg.sandbox.dir, "tls", "other-ca.pem")
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    other_ca.chmod(0o644)
    ports = {"moto": cfg.sandbox.moto_port, "ssh": cfg.hosts[0].ssh_port, "pg": cfg.postgres.port,
             "s3": cfg.repository.endpoint_port, "smtp": cfg.alerts.smtp.port}
    config = merge(sandbox_config(str(faults.folder), ports), {"pgvault:repository": {"ca_file": str(other_ca)}})
    (faults.folder / "Pulumi.untrusted.yaml").write_text(stack_text(config))
    before = _fingerprint_host(faults)
    done = faults.fab("host.setup", "--stack", "untrusted")
    assert done.returncode == ExitCode.FAILED
    assert "TLS certificate is not trusted" in done.stderr and "repository.ca_file" in done.stderr
    assert _fingerprint_host(faults) == before
    listing = faults.fab("backup.logical-list", "--stack", "untrusted")
    assert listing.returncode != 0 and len(listing.stderr.strip().splitlines()) == 1
    assert "certificate" in listing.stderr.lower() or "ssl" in listing.stderr.lower()


@pytest.mark.slow
def test_drills_and_restores_never_write_to_the_repository_or_touch_production(faults):
    cfg = faults.cfg
    s3 = s3_client(cfg)

    def repository() -> dict:
        found = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=cfg.repository.bucket,
                                                                  Prefix=cfg.repository.repo_prefix):
            found.update({o["Key"]: o["ETag"] for o in page.get("Contents", [])})
        return found

    def production() -> set[str]:
        data = Path(cfg.postgres.data_dir)
        return {str(p.relative_to(data)) for p in data.rglob("*")
                if "pg_wal" not in p.parts and "pg_stat_tmp" not in p.parts and "pg_stat" not in p.parts
                and "pg_logical" not in p.parts and "pg_xact" not in p.parts and "pg_subtrans" not in p.parts
                and "pg_multixact" not in p.parts and p.name not in ("postmaster.pid", "pg_internal.init")}

    before_repo, before_data = repository(), production()
    faults.ok("drill.run", "--target", "latest")
    doc = restore_json(faults, "restore.full")
    faults.ok("restore.drop", "--name", doc["name"])
    after_repo = repository()
    changed = [k for k, etag in before_repo.items() if after_repo.get(k) != etag
               and not k.endswith(("archive.info", "archive.info.copy", "backup.info", "backup.info.copy"))]
    assert changed == [], f"objects changed under the repository: {changed[:3]}"
    new = [k for k in after_repo if k not in before_repo]
    assert not [k for k in new if ".history" in k or "/00000002" in k.rsplit("/", 1)[-1]], \
        "a restored copy archived into the production repository"
    after_data = production()
    assert before_data - after_data == set(), "files vanished from the production data directory"
    assert all(p.endswith(("_fsm", "_vm")) for p in after_data - before_data), after_data - before_data
    reader = s3_client(cfg, keys=(read_secret(cfg, RESTORE_S3_KEY).reveal(),
                                  read_secret(cfg, RESTORE_S3_KEY_SECRET).reveal()))
    with pytest.raises(ClientError, match="AccessDenied|Forbidden|403"):
        reader.put_object(Bucket=cfg.repository.bucket, Key=f"{cfg.repository.repo_prefix}intruder", Body=b"x")


@pytest.mark.slow
def test_a_deleted_backup_set_is_named_by_verify_and_the_daily_check_then_undeleted(faults):
    """pgBackRest 2.45's verify passes a deleted set with no dependents; pgvault's set check does not."""
    cfg = faults.cfg
    faults.ok("backup.full")
    label = _backup_labels(faults)[-1]
    admin, name = admin_client(cfg), cfg.repository.bucket
    prefix = f"{cfg.repository.repo_prefix}backup/{cfg.pgbackrest.stanza}/{label}/"
    keys = [o["Key"] for page in admin.get_paginator("list_objects_v2").paginate(Bucket=name, Prefix=prefix)
            for o in page.get("Contents", [])]
    markers = {key: admin.delete_object(Bucket=name, Key=key)["VersionId"] for key in keys}
    try:
        done = faults.fab("backup.verify", timeout=600)
        assert done.returncode == ExitCode.VERIFY, done.stdout
        assert f"backup set {label} is listed in backup.info but its backup.manifest" in done.stdout
        env, check = _cron_line(faults, "verify")
        assert _as_cron(check.user, env, check.command).returncode == ExitCode.VERIFY
        doc = collect(faults)
        failed = next(c for c in doc["checks"] if c["key"] == "job-failed")
        assert failed["state"] == "critical" and "verify" in failed["message"]
    finally:
        for key, marker in markers.items():  # the bucket is versioned: removing the delete markers undeletes
            admin.delete_object(Bucket=name, Key=key, VersionId=marker)
    # green again: the daily check (set listing and the WAL proof; backup.verify would also re-read every file)
    env, check = _cron_line(faults, "verify")
    assert _as_cron(check.user, env, check.command).returncode == 0


@pytest.mark.slow
def test_a_damaged_newest_set_makes_a_restore_fall_back_to_an_older_one_and_say_so(faults):
    cfg = faults.cfg
    mark(faults, "before-the-damaged-set")
    faults.ok("backup.full")
    newest = _backup_labels(faults)[-1]
    after = mark(faults, "after-the-damaged-set")
    mark(faults, "past-the-target")  # a time target needs a commit after it in the archive
    flush_wal(faults)
    admin = admin_client(cfg)
    prefix = f"{cfg.repository.repo_prefix}backup/{cfg.pgbackrest.stanza}/{newest}/bundle/"
    key = sorted(o["Key"] for o in admin.list_objects_v2(Bucket=cfg.repository.bucket, Prefix=prefix)["Contents"])[0]
    with damaged_object(faults, key, at=1 / 2, length=32):
        done = faults.fab("restore.pitr", "--target", after["time"].isoformat(), "--name", "fallback", "--json")
    try:
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        assert doc["damaged_sets"] == [newest] and doc["backup_set"] != newest
        assert f"backup set {newest} is damaged: falling back to the older set {doc['backup_set']}" in done.stderr
        assert {"before-the-damaged-set", "after-the-damaged-set"} <= labels(faults, faults.dsn_for(doc))
    finally:
        faults.fab("restore.drop", "--name", "fallback")


@pytest.mark.slow
def test_a_deleted_or_damaged_repository_file_is_listed_and_brought_back_from_the_versioned_bucket(faults):
    cfg = faults.cfg
    admin, name = admin_client(cfg), cfg.repository.bucket
    folder = f"{cfg.repository.repo_prefix}backup/{cfg.pgbackrest.stanza}"
    info, manifest = f"{folder}/backup.info", f"{folder}/{_backup_labels(faults)[-1]}/backup.manifest"
    copy = f"{info}.copy"
    original = {key: admin.get_object(Bucket=name, Key=key)["Body"].read() for key in (info, copy, manifest)}
    admin.delete_object(Bucket=name, Key=info)
    admin.delete_object(Bucket=name, Key=copy)
    admin.put_object(Bucket=name, Key=manifest, Body=b"damaged")

    lost = faults.fab("backup.verify")
    assert lost.returncode == ExitCode.VERIFY, lost.stdout + lost.stderr
    hint = lost.stderr.strip().splitlines()[-1]
    assert "fab repo.history" in hint and "repo.undo" in hint and "host.setup" not in hint, hint
    recent = {c["key"]: c["what"] for c in json.loads(faults.ok("repo.history", "--json"))}
    assert recent[info] == "deleted" and recent[copy] == "deleted" and recent[manifest] == "overwritten"
    assert "nothing changed (dry run)" in faults.ok("repo.undo", "--key", info, "--dry-run")
    with pytest.raises(ClientError):
        admin.head_object(Bucket=name, Key=info)
    refused = faults.fab("repo.undo", "--key", manifest)
    assert refused.returncode == ExitCode.USAGE and "add --force" in refused.stderr
    assert admin.get_object(Bucket=name, Key=manifest)["Body"].read() == b"damaged"

    faults.ok("repo.undo", "--key", info)
    faults.ok("repo.undo", "--key", copy)
    faults.ok("repo.undo", "--key", manifest, "--force")
    for key, body in original.items():
        assert admin.get_object(Bucket=name, Key=key)["Body"].read() == body
    faults.ok("backup.list")
