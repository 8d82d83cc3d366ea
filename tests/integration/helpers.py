"""Helpers for integration tests: marker rows, WAL flushes, repository fingerprints, damaged objects."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from fabric import Config
from invoke import Context

from ops import ssh
from pgvault.actions import backup
from pgvault.core.monitoring.status import plugin_code
from pgvault.edges.waiting import within
from sandbox.lifecycle import admin_client
from tests.fixtures import private_sandbox

MARKS_DDL = ("CREATE TABLE IF NOT EXISTS pitr_marks "
             "(label text PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())")


def mark(sandbox, label: str) -> dict:
    """Commit a marker row; return its commit time and the WAL insert position after it."""
    sandbox.sql(MARKS_DDL)
    sandbox.sql(f"INSERT INTO pitr_marks (label) VALUES ('{label}')")
    (now, lsn), = sandbox.sql("SELECT clock_timestamp(), pg_current_wal_insert_lsn()::text")
    clock_past(sandbox, now, seconds=0.05)
    return {"time": now, "lsn": lsn}


def clock_past(sandbox, moment: datetime, seconds: float) -> None:
    """Wait until the database's clock is ``seconds`` past ``moment`` (what comes next is clearly after it)."""
    query = "SELECT clock_timestamp() > %s + make_interval(secs => %s)"
    passed = within(5 + seconds, lambda: sandbox.sql(query, params=(moment, seconds))[0][0],
                    interval=min(0.05, seconds))
    assert passed, f"the database clock did not pass {moment} + {seconds} s"


def labels(sandbox, dsn: str) -> set[str]:
    """The marker labels present in the database behind ``dsn``."""
    return {row[0] for row in sandbox.sql("SELECT label FROM pitr_marks", dsn)}


def connection(sandbox):
    """An SSH connection to the sandbox host, as the tasks open it."""
    (_, conn, _), = ssh.connections(Context(Config(overrides={"load_ssh_configs": False})), sandbox.cfg)
    return conn


def flush_wal(sandbox, seconds: float = 120) -> None:
    """Make sure everything committed so far is archived in the bucket."""
    backup.flush_wal(connection(sandbox), sandbox.cfg, seconds)


def collect(sandbox) -> dict:
    """``fab monitor.collect --json``: the status document; its exit code must be its state (0/1/2)."""
    done = sandbox.fab("monitor.collect", "--json")
    assert done.returncode in (0, 1, 2), f"monitor.collect failed ({done.returncode}):\n{done.stderr}"
    doc = json.loads(done.stdout)
    assert done.returncode == plugin_code(doc), f"exit {done.returncode} for a {doc['state']} document"
    return doc


def restore_json(sandbox, *args: str) -> dict:
    """Run a restore task with --json and return its document."""
    return json.loads(sandbox.ok(*args, "--json"))


def fingerprint(sandbox) -> tuple:
    """What a refused command must leave unchanged: scratch clusters, backup sets, config files."""
    scratch = Path(sandbox.cfg.postgres.scratch_dir)
    listing = tuple(sorted(str(p.relative_to(scratch)) for p in scratch.rglob("*"))) if scratch.exists() else ()
    info = json.loads(sandbox.ok("backup.list", "--json"))
    conf = Path(sandbox.cfg.pgbackrest.config_path)
    files = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in conf.rglob("*") if p.is_file()))
    return listing, tuple(b["label"] for b in info["backups"]), files


@contextmanager
def damaged_object(sandbox, key: str, at: float, length: int):
    """Flip ``length`` bytes of bucket object ``key`` from ``at`` (a fraction of its size) until the block ends.

    The damage is done with the sandbox's admin keys, as an attacker or a faulty disk would, not the host's.
    """
    s3, bucket = admin_client(sandbox.cfg), sandbox.cfg.repository.bucket
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    damaged = bytearray(original)
    start = int(len(damaged) * at)
    for offset in range(start, start + length):
        damaged[offset] ^= 0xFF
    s3.put_object(Bucket=bucket, Key=key, Body=bytes(damaged))
    try:
        yield
    finally:
        s3.put_object(Bucket=bucket, Key=key, Body=original)


@contextmanager
def hosts_sandbox(name: str, roles: tuple[str, ...]):
    """A private sandbox with extra hosts (``roles``), seeded, every host set up and one full backup; with a
    standby, built from the repository and set up again (its own files over what its restore brought).

    Yields the sandbox and the first ``host.setup``'s output.
    """
    with private_sandbox(name, bucket=f"pgvault-{name}", roles=roles) as own:
        own.ok("sandbox.seed")
        setup = own.ok("host.setup")
        own.ok("backup.full")  # a standby is built from the repository: it needs a backup first
        if "standby" in roles:
            assert "built and streaming" in own.ok("host.standby")
            own.ok("host.setup")
        yield own, setup
