"""The DB host's schedule as pure data: cron entries, the cron file, and reading it back.

Each scheduled job is one line of a pgvault-owned cron file
(``/etc/cron.d/pgvault-<stanza>``), run as the PostgreSQL OS user through the
``pgvault-job`` wrapper.  Times come from ``pgvault:schedule`` (UTC; the host's
clock must be UTC for cron to agree, and ``host.check`` says when it is not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from croniter import croniter

from pgvault.core import roles
from pgvault.core.schema import StackConfig

#: cron's PATH for pgvault's lines: the wrapper sets the rest itself
CRON_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class CronEntry:
    """One scheduled job."""

    job: str
    schedule: str
    description: str


def entries(cfg: StackConfig) -> list[CronEntry]:
    """The scheduled jobs of the host ``cfg`` is the view of (``StackConfig.on``), in cron-file order."""
    return [CronEntry(job.name, getattr(cfg.schedule, job.schedule), job.description)
            for job in roles.scheduled_jobs(cfg)]


def cron_file(cfg: StackConfig) -> str:
    """Where the cron file lives on the host."""
    return cfg.jobs.cron_file or f"/etc/cron.d/pgvault-{cfg.pgbackrest.stanza}"


def job_binary(cfg: StackConfig) -> str:
    """The ``pgvault-job`` executable on the host."""
    return f"{cfg.jobs.install_dir}/bin/pgvault-job"


def job_command(cfg: StackConfig, job: str) -> str:
    """The command a cron line runs for ``job`` (paths and names are validated shell-safe).

    ``cfg`` is the stack as the host sees it (:meth:`~pgvault.core.schema.StackConfig.on`); with several hosts
    the line names that host, so the job acts with its own paths.
    """
    host = f" --host {cfg.hosts[0].name}" if len(cfg.hosts) > 1 else ""
    return f"{job_binary(cfg)} --stack {cfg.name}{host} {job}"


def cron_owner(cfg: StackConfig) -> str:
    """Who owns the cron file: root for /etc/cron.d (cron insists), the DB user in a sandbox."""
    return cfg.postgres.os_user if cfg.is_sandbox else "root"


@dataclass(frozen=True)
class CronLine:
    """A job line read back from a cron file."""

    schedule: str
    user: str
    command: str

    @property
    def job(self) -> str:
        """The pgvault job the line runs (last word of its command)."""
        return self.command.split()[-1]


def parse(text: str) -> tuple[dict[str, str], list[CronLine]]:
    """Read a cron.d file: its environment assignments and its job lines."""
    env: dict[str, str] = {}
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(None, 6)
        if "=" in line.split()[0] and len(fields) < 7:
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip().strip('"')
            continue
        lines.append(CronLine(" ".join(fields[:5]), fields[5], fields[6]))
    return env, lines


def next_run(schedule: str, now: datetime) -> datetime:
    """The next time ``schedule`` fires after ``now``."""
    return croniter(schedule, now).get_next(datetime)
