"""``backup.expire``: read the sets, decide (``pgvault.core.retention``), expire with pgBackRest.

Removal goes through pgBackRest only (``expire --set``, which takes a set's
dependents with it), then ``expire`` with ``repo1-retention-archive`` computed
so that WAL is kept from the anchor full on: the whole recovery window stays
recoverable and older sets stay consistent snapshots.  Nothing else ever
deletes under the repository prefix.

The selector's clock is ``pgvault.core.retention.clock_for``: in a sandbox
stack, the integration tests age real backup sets with an annotation instead
of waiting months.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pgvault.actions import backup
from pgvault.core import pgbackrest, retention
from pgvault.core.pgbackrest import BackupSet, failure
from pgvault.core.schema import StackConfig
from pgvault.edges import remote
from pgvault.edges.execute import Conn


def _inputs(conn: Conn, cfg: StackConfig) -> tuple[list[BackupSet], retention.Policy, datetime, retention.Clock]:
    return (list(backup.info(conn, cfg).backups), retention.Policy.from_config(cfg.retention),
            backup.host_now(conn), retention.clock_for(cfg))


def plan(conn: Conn, cfg: StackConfig) -> tuple[list[BackupSet], list[retention.Decision], int]:
    """The sets, the decision for each, and the archive retention (fulls) to apply."""
    sets, policy, now, clock = _inputs(conn, cfg)
    return sets, retention.decide(sets, policy, now, clock), retention.archive_fulls(sets, policy, now, clock)


def wal_kept_from(conn: Conn, cfg: StackConfig) -> tuple[list[BackupSet], BackupSet | None]:
    """The sets and the full from which the retention policy keeps WAL without holes (what verify expects)."""
    sets, policy, now, clock = _inputs(conn, cfg)
    return sets, retention.wal_kept_from(sets, policy, now, clock)


def expire(conn: Conn, cfg: StackConfig, say: Callable[[str], None], dry_run: bool) -> list[str]:
    """Show every decision; unless ``dry_run``, expire the sets beyond the tiers. Returns their labels."""
    sets, decisions, keep_fulls = plan(conn, cfg)
    for d in decisions:
        say(f"  {'keep  ' if d.keep else 'EXPIRE'} {d.label:34} {'; '.join(d.reasons)}")
    doomed = retention.expiring(decisions)
    say(f"{len(doomed)} of {len(sets)} backup set(s) {'would ' if dry_run else ''}expire; WAL kept from the "
        f"{keep_fulls} newest full backup(s) on")
    if dry_run or not sets:
        return doomed
    for label in retention.removal_roots(sets, doomed):
        _pgbackrest_expire(conn, cfg, [f"--set={label}"])
    _pgbackrest_expire(conn, cfg, ["--repo1-retention-archive-type=full", f"--repo1-retention-archive={keep_fulls}"])
    return doomed


def _pgbackrest_expire(conn: Conn, cfg: StackConfig, options: list[str]) -> None:
    result = remote.run(conn, pgbackrest.command(cfg, "expire", *options), user=cfg.postgres.os_user, warn=True)
    if not result.ok:
        raise failure(result.stdout + result.stderr,
                      "nothing else was removed; run fab backup.expire --dry-run to see the plan")
