"""Session fixtures: one real sandbox per test process, on free loopback ports.

The session writes its own stack (``Pulumi.itest.yaml``) into a fresh folder
under /var/tmp (the ``postgres`` user must be able to reach it, which rules
out pytest's private tmp folders), starts every service, and on teardown
copies the services' logs to ``test-artifacts/`` and stops everything.

Under pytest-xdist (``make test``) each worker that runs a test needing it
starts its own: same stack name, its own folder, ports and services, and its
logs in ``test-artifacts/sandbox-logs-<worker>`` (``gw0``, ``gw1``, ...).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from pgvault.core.schema import StackConfig
from pgvault.edges.stackfile import load_stack
from sandbox import lifecycle, stackfile

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
FAB = str(Path(sys.executable).parent / "fab")
#: the pytest-xdist worker running this process (``gw0``, ...), empty in a plain ``pytest`` run
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


@dataclass
class Sandbox:
    """The session's sandbox: its stack and helpers to drive it."""

    cfg: StackConfig
    folder: Path

    @property
    def dsn(self) -> str:
        return lifecycle.dsn(self.cfg)

    def fab(self, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
        """Run ``fab <args>`` against this sandbox, as an operator would."""
        return subprocess.run([FAB, *args], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True,
                              timeout=timeout)

    def ok(self, *args: str) -> str:
        """Run ``fab`` and insist on success; return stdout."""
        done = self.fab(*args)
        assert done.returncode == 0, f"fab {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def sql(self, text: str, dsn: str | None = None, params: tuple | None = None):
        """Run SQL (with ``%s`` parameters) on the sandbox database (or ``dsn``); return all rows."""
        with psycopg.connect(dsn or self.dsn, autocommit=True) as conn:
            cur = conn.execute(text, params)
            return cur.fetchall() if cur.description else []

    def dsn_for(self, restored: dict) -> str:
        """The DSN of a restored scratch cluster (its Unix socket, the app role's password)."""
        return lifecycle.scratch_dsn(self.cfg, restored["socket_dir"], restored["port"])


#: how many times a private sandbox is started, each on fresh ports, before its fixture fails
STARTS = 2


@contextmanager
def private_sandbox(name: str, **options) -> Iterator[Sandbox]:
    """A whole sandbox of its own (stack ``name``, free ports), the current stack while it runs.

    ``options`` go to :func:`sandbox.stackfile.sandbox_config`.  On the way
    out its logs are kept in test-artifacts/ and every part is stopped.
    """
    saved = {k: os.environ.get(k) for k in ("PGVAULT_STACK_DIR", "PGVAULT_STACK")}
    cfg = folder = None
    try:
        cfg, folder = _start(name, options)
        yield Sandbox(cfg, folder)
    finally:
        if cfg is not None:
            _keep_logs(folder, _logs_name(name))
            lifecycle.down(cfg)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _start(name: str, options: dict) -> tuple[StackConfig, Path]:
    """Create and start a private sandbox; on a failed start, stop it and try once more on fresh ports.

    Its ports are free when picked, but on a busy machine another process (an outgoing connection's ephemeral
    port, another sandbox starting) can take one before the service binds it.  A failed start's logs stay in
    test-artifacts/<logs>-start-<n> and the retry is a warning in the test summary.
    """
    for attempt in range(1, STARTS + 1):
        folder = stackfile.create(name, prefix=f"pgv-{name}-{WORKER}-" if WORKER else f"pgv-{name}-", **options)
        os.environ.update(PGVAULT_STACK_DIR=str(folder), PGVAULT_STACK=name)
        cfg = load_stack(name)
        try:
            lifecycle.up(cfg)
        except Exception as error:
            _keep_logs(folder, f"{_logs_name(name)}-start-{attempt}")
            lifecycle.down(cfg)
            if attempt == STARTS:
                raise
            first = (str(error) or repr(error)).splitlines()[0]
            warnings.warn(f"sandbox {name} did not start ({first}; logs in test-artifacts/{_logs_name(name)}"
                          f"-start-{attempt}): trying again on fresh ports", stacklevel=2)
        else:
            return cfg, folder


@pytest.fixture(scope="session")
def sandbox():
    """Start a private sandbox for the session and tear it down at the end.

    Its bucket is versioned with Object Lock (1 day of GOVERNANCE retention),
    so every job the suite runs proves it works on a locked bucket.
    """
    with private_sandbox("itest", object_lock_days=1) as session:
        yield session


def _logs_name(stack: str) -> str:
    """Where a sandbox's logs go under test-artifacts/: the session's per worker, a private stack's by its name."""
    if stack == "itest":
        return f"sandbox-logs-{WORKER}" if WORKER else "sandbox-logs"
    return f"sandbox-logs-{stack}"


def _keep_logs(folder: Path, name: str) -> None:
    """Copy every service log of a sandbox to test-artifacts/<name> (CI uploads it)."""
    target = ARTIFACTS / name
    shutil.rmtree(target, ignore_errors=True)
    for log in list(folder.rglob("*.log")):
        dest = target / log.relative_to(folder)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy(log, dest)
        except OSError:
            pass


@pytest.fixture(scope="session")
def configured(sandbox):
    """The sandbox with data, ``host.setup`` done and one full backup."""
    sandbox.ok("sandbox.seed")
    sandbox.ok("host.setup")
    sandbox.ok("backup.full")
    return sandbox
