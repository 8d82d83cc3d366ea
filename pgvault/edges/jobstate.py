"""Job records and job locks on the DB host's disk, for ``pgvault-job`` and the monitoring.

A lock is an ``flock`` on ``<state_dir>/<group>.lock``: backups share one
group, so an hourly incremental that starts while the daily full runs is
refused (and recorded as skipped, not failed).  Records go to
``<state_dir>/jobs.json``: the last record of each job, the last one that was
not skipped (what alerting judges), plus a bounded history, rewritten
atomically under its own lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from pgvault.core.errors import PgvaultError
from pgvault.core.jobs import JobRecord, add_record, lock_name

#: runs kept in ``jobs.json`` besides the last of each job
HISTORY = 200


@contextlib.contextmanager
def job_lock(state_dir: str, job: str) -> Iterator[str | None]:
    """Hold the job's lock; yields ``None`` when acquired, else what holds it."""
    path = Path(state_dir) / f"{lock_name(job)}.lock"
    try:
        Path(state_dir).mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")
    except PermissionError:
        raise PgvaultError(f"cannot open the job lock {path}: permission denied",
                           f"give the job's user write access to {state_dir} (fab host.setup sets it)") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            yield handle.read().strip() or "another run"
            return
        handle.seek(0)
        handle.truncate()
        handle.write(f"{job} (pid {os.getpid()})")
        handle.flush()
        try:
            yield None
        finally:
            handle.truncate(0)


def record(state_dir: str, entry: JobRecord) -> None:
    """Add ``entry`` to ``jobs.json`` (last per job, plus history), atomically."""
    path = Path(state_dir) / "jobs.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(Path(state_dir) / "jobs.json.lock", "a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        data = add_record(read(state_dir), asdict(entry), HISTORY)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        os.replace(tmp, path)


def read(state_dir: str) -> dict:
    """The job records: ``{"last": {job: record}, "decided": {job: record}, "history": [...]}`` (empty when none).

    ``decided`` is each job's last run that was not skipped (``pgvault.core.jobs.add_record``).
    """
    try:
        data = json.loads((Path(state_dir) / "jobs.json").read_text())
    except (OSError, ValueError):
        data = {}
    return {"last": data.get("last", {}), "decided": data.get("decided", {}), "history": data.get("history", [])}
