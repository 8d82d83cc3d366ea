"""The soak: a write-heavy workload while backups, retention and drills keep running (``make soak``).

Bounded in time: ``PGVAULT_SOAK_MINUTES`` (10 by default). At the end
``verify`` must be clean and drills to random points must recover exactly the
canaries written before their targets.
"""

from __future__ import annotations

import os
import threading
import time

import psycopg
import pytest

from pgvault.edges import remote
from tests.integration.helpers import connection, flush_wal

MINUTES = float(os.environ.get("PGVAULT_SOAK_MINUTES", "10"))


class Workload(threading.Thread):
    """Inserts and updates as fast as one connection goes; a canary every 5 s."""

    def __init__(self, sandbox):
        super().__init__(daemon=True)
        self.sandbox = sandbox
        self.stop = threading.Event()
        self.rows = 0
        self.errors: list[str] = []

    def run(self) -> None:
        conn = connection(self.sandbox)
        last_canary = 0.0
        with psycopg.connect(self.sandbox.dsn, autocommit=True) as db:
            db.execute("CREATE TABLE IF NOT EXISTS soak (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), "
                       "body text)")
            while not self.stop.is_set():
                try:
                    db.execute("INSERT INTO soak (body) SELECT md5(random()::text) FROM generate_series(1, 200)")
                    db.execute("UPDATE notes SET pinned = NOT pinned "
                               "WHERE id % 97 = (extract(epoch FROM now())::int % 97)")
                    self.rows += 200
                    if time.monotonic() - last_canary > 5:
                        remote.sql(conn, self.sandbox.cfg, "INSERT INTO pgvault.canary DEFAULT VALUES;")
                        last_canary = time.monotonic()
                except Exception as exc:  # noqa: BLE001 - reported by the test
                    self.errors.append(repr(exc))
                    time.sleep(1)  # backs off after an error; nothing waits on it


@pytest.mark.soak
@pytest.mark.timeout(int(MINUTES * 60) + 900)  # the workload, plus set-up, verify and three drills
def test_soak(configured):
    work = Workload(configured)
    work.start()
    deadline = time.monotonic() + MINUTES * 60
    step, failures = 0, []
    try:
        while time.monotonic() < deadline:
            step += 1
            kind = "full" if step % 4 == 1 else "incr"
            for args in ([f"backup.{kind}"], ["backup.expire"] if step % 3 == 0 else [],
                         ["drill.run", "--target", "random"] if step % 2 == 0 else []):
                if args:
                    done = configured.fab(*args)
                    if done.returncode != 0:
                        failures.append(f"{' '.join(args)}: {done.stderr.strip()}")
            time.sleep(20)  # paces the steps; nothing waits on it
    finally:
        work.stop.set()
        work.join(timeout=60)
    assert not work.errors, work.errors[:3]
    assert not failures, failures
    flush_wal(configured, seconds=300)
    assert "every backup and WAL file checked is valid" in configured.ok("backup.verify")
    for _ in range(3):
        assert "PASSED" in configured.ok("drill.run", "--target", "random")
    assert work.rows > 0
