"""What each check tells on-call: its alarms-runbook section and one line of what to do (pure).

Every check key the status document can carry is declared in :data:`ACTIONS`, and the alarms runbook has
a section (an anchor) of the same name: ``tests/unit/test_advice.py`` renders the runbook and finds each
one.  :func:`annotate` refuses a key that is not declared, so a new check cannot ship without its section
and its line of advice.
"""

from __future__ import annotations

from pgvault.core.policy import runbook_link
from pgvault.core.schema import StackConfig

#: check key -> one line of what to do first ({stack} is the stack's name)
ACTIONS = {
    "collection": "restore what it names (the bucket's endpoint, network or keys; PostgreSQL); meanwhile the "
                  "figures shown are the last known, not a sign of deleted backups",
    "full-backup-age": "read the full job's error in the job log, fix it, then fab backup.full --stack {stack}",
    "backup-age": "check that cron runs the jobs (fab schedule.show --stack {stack}), then fab backup.incr "
                  "--stack {stack}",
    "logical-dump-age": "read the logical job's error in the job log, then fab backup.logical --stack {stack}",
    "wal-archive-lag": "run pgbackrest check on the host and fix the endpoint, network or keys it names; "
                       "archiving catches up by itself",
    "wal-waiting": "read the archive-push log on the host: [045] means another cluster pushed that segment first",
    "archiving": "read the archive-push log on the host and run pgbackrest check; the named segment and all "
                 "WAL after it are not off-site yet",
    "wal-continuity": "run fab backup.verify --stack {stack} and fab repo.history --stack {stack}: bring the good "
                      "version of the named segment back with fab repo.undo, or take a full backup now",
    "hourly": "check that cron runs the jobs (fab schedule.show --stack {stack}); the hourly job's error is in "
              "the job log",
    "backup-standby": "start the standby's PostgreSQL or fix pgBackRest's SSH to it (fab host.check --stack "
                      "{stack}); backups read the primary meanwhile",
    "storage-cost": "see which category grows in monitor.collect --json (forecast.growth); keep the adaptive "
                    "hourly rule and review the retention tiers",
    "job-failed": "read the error shown, fix it, and run the job again: a later success clears this",
    "pg_wal-volume": "free space or grow the volume now: PostgreSQL stops when pg_wal is full, and unarchived "
                     "WAL cannot be removed",
    "spool-volume": "free space or grow the spool volume now: a full spool stops WAL archiving",
    "drill": "run fab drill.run --stack {stack} (with a staging host, read its drill job's log there too); if a "
             "check fails, run fab backup.verify --stack {stack} and take a full backup until a drill passes",
}


def annotate(cfg: StackConfig, check: dict) -> dict:
    """``check`` plus ``runbook`` (the link to its alarms-runbook section) and ``action`` (what to do).

    :raises KeyError: for a check key with no entry in :data:`ACTIONS` (a programming error the unit
        tests catch)
    """
    action = ACTIONS[check["key"]].format(stack=cfg.name)
    return {**check, "runbook": runbook_link(cfg, "alarms", check["key"]), "action": action}

