"""Names of the stack's AWS resources, derived once, within AWS's length limits (pure).

A stack name and a stanza may each be 63 characters, so ``pgvault-<stack>-<stanza>-break-glass``
can reach 147 characters; IAM refuses role and user names over 64, S3 bucket names over 63.  A name that fits is used as
it is (existing stacks keep their roles: a new name would replace them); a longer one keeps its
purpose (the suffix), a hash of the whole name, and as much of the prefix as fits.
"""

from __future__ import annotations

import hashlib

from pgvault.core.schema import StackConfig

#: IAM's limit on role and user names (instance profiles allow 128)
IAM_NAME_MAX = 64
#: S3's limit on bucket names
BUCKET_NAME_MAX = 63
_HASH_CHARS = 8
#: the tag by which each role and IAM user declares what it is for; the policy pack judges its policies by it
PURPOSE_TAG = "pgvault:purpose"
BACKUP, RESTORE, BREAK_GLASS, REPLICATION = "backup", "restore", "break-glass", "replication"
#: every purpose a pgvault role or IAM user may declare
PURPOSES = (BACKUP, RESTORE, BREAK_GLASS, REPLICATION)


def prefix(cfg: StackConfig) -> str:
    """The prefix of the stack's resource names: ``pgvault-<stack>-<stanza>``."""
    return f"pgvault-{cfg.name}-{cfg.pgbackrest.stanza}"


def _fit(name_prefix: str, suffix: str, limit: int) -> str:
    """``<prefix>-<suffix>`` within ``limit`` characters: unchanged when it fits, else the prefix cut short and a
    hash of the full name, so two long names that share a beginning still differ, and a rerun agrees."""
    full = f"{name_prefix}-{suffix}"
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH_CHARS]
    keep = limit - len(suffix) - _HASH_CHARS - 2
    return f"{name_prefix[:keep].rstrip('-')}-{digest}-{suffix}"


def iam_name(name_prefix: str, suffix: str) -> str:
    """An IAM role, user or instance profile name, ``<prefix>-<suffix>``, within 64 characters."""
    return _fit(name_prefix, suffix, IAM_NAME_MAX)


def bucket_name(bucket: str, suffix: str) -> str:
    """A bucket beside ``bucket`` (its replica, its access logs): ``<bucket>-<suffix>`` within 63 characters."""
    return _fit(bucket, suffix, BUCKET_NAME_MAX)
