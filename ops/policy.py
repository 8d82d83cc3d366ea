"""Pure derivations from the stack's numbers: every figure computed once, here.

A number lives once in the stack file; whatever follows from it (the
``archive_timeout`` that meets the RPO, cron lines, retention tiers, lifecycle
days) is derived by a function of this module so that the host, the bucket,
the alarms and the runbooks can never disagree.
"""

from __future__ import annotations

from ops.schema import TargetsConfig

#: below this, PostgreSQL would switch WAL files so often that the archive
#: fills with mostly empty 16 MB segments (FAULTS.md row 39)
MIN_ARCHIVE_TIMEOUT = 10


def archive_timeout_seconds(targets: TargetsConfig) -> int:
    """``archive_timeout`` for the RPO target.

    A committed transaction reaches the bucket at worst ``archive_timeout``
    after its commit plus the time to push the segment.  Half of the RPO goes
    to the timeout and half is left for the push, the async queue and retries.
    """
    return max(MIN_ARCHIVE_TIMEOUT, targets.rpo_seconds // 2)
