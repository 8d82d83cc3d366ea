"""What each host role does (pure): the one place that says which host runs what.

A stack has one ``primary`` (production), and optionally a ``standby`` (a
streaming replica backups may read from) and a ``staging`` host (where
restores and drills land, so that they never load production).  Every task
and the host's cron file ask here instead of testing roles themselves.
"""

from __future__ import annotations

from pgvault.core import jobs
from pgvault.core.schema import HostConfig, StackConfig

#: the jobs that run on the staging host when the stack has one (and then not on the primary)
STAGING_JOBS = frozenset({"drill"})


def restore_host(cfg: StackConfig) -> HostConfig:
    """Where restores and drills go by default: the staging host, else the primary (beside production)."""
    return cfg.with_role("staging") or cfg.primary


def scheduled_jobs(cfg: StackConfig) -> list[jobs.Job]:
    """The jobs the cron file of ``cfg.hosts[0]`` (the host this view is of) runs, in cron-file order.

    The primary runs them all, except what a staging host takes over; a standby runs none (backups read it
    from the primary's jobs); a staging host runs the drill.
    """
    role = cfg.hosts[0].role
    has_staging = cfg.with_role("staging") is not None
    if role == "primary":
        return [j for j in jobs.scheduled() if not (has_staging and j.name in STAGING_JOBS)]
    if role == "staging":
        return [j for j in jobs.scheduled() if j.name in STAGING_JOBS]
    return []


def holds_backup_keys(host: HostConfig) -> bool:
    """Whether the host may hold the backup principal's keys; a staging host gets the restore keys only (read, and
    put drill results)."""
    return host.role != "staging"


def archives(host: HostConfig) -> bool:
    """Whether ``host.setup`` gives the host PostgreSQL's archiving settings, the stanza and pgvault's catalog.

    Not a staging host: its clusters are restored copies, which must never archive into the production
    repository (and it holds no key that could).
    """
    return host.role != "staging"


def repository_config_path(cfg: StackConfig) -> str:
    """The pgBackRest ``--config-path`` ``cfg.hosts[0]`` reads the repository with: the main configuration, or
    on a host without the backup keys the read-only one (``<config_path>/restore``), so that nothing run there
    can even name the backup keys."""
    path = cfg.pgbackrest.config_path
    return path if holds_backup_keys(cfg.hosts[0]) else f"{path}/restore"


def production_view(cfg: StackConfig) -> StackConfig:
    """The stack as a restore host reads production's own catalog (canaries, counts, restore points, archiver).

    On the primary itself, ``cfg``.  From another host, the primary's view: through the primary's Unix socket
    when both share a machine (the sandbox), else over TCP to the primary's address and port (its
    ``pg_hba.conf`` must let the restore host's PostgreSQL OS user read the ``postgres`` database).
    """
    here, primary = cfg.hosts[0], cfg.primary
    if here.role == "primary":
        return cfg
    view = cfg.on(primary.name)
    if primary.address == here.address:
        return view
    return view.model_copy(update={"postgres": view.postgres.model_copy(update={"socket_dir": primary.address})})
