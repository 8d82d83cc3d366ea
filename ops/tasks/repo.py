"""``fab repo.*``: what changed lately under the repository prefix, and bringing a previous version back.

The bucket is versioned: an overwritten or deleted pgBackRest file (``backup.info``, a manifest, a WAL
segment) is kept as a noncurrent version for ``storage.protection_days``.  These tasks use the stack's own
credentials (the backup policy may list versions and read them), never a bypass of Object Lock.
"""

from __future__ import annotations

from datetime import timedelta

from ops.tasks.common import emit_json, pgvault_task, say
from pgvault.core import repair
from pgvault.core.errors import UsageError
from pgvault.core.units import human_bytes
from pgvault.edges import bucket
from pgvault.edges.cloud import s3_client
from pgvault.edges.stackfile import load_stack


def _versions(cfg):
    return bucket.versions(s3_client(cfg), cfg, cfg.repository.repo_prefix)


@pgvault_task(help={"hours": "how far back to look (default 48)"})
def history(c, stack=None, hours=48, json_=False):
    """List repository files overwritten or deleted lately that an earlier version can bring back."""
    cfg = load_stack(stack)
    found = _versions(cfg)
    newest = max((v.modified for v in found), default=None)
    if newest is None:
        say("the repository prefix holds no object")
        return
    recent = repair.changes(found, newest - timedelta(hours=float(hours)))
    if json_:
        emit_json([{"key": r.key, "what": r.what, "at": r.at.isoformat(),
                    "previous_version": r.previous.version_id, "previous_at": r.previous.modified.isoformat(),
                    "previous_bytes": r.previous.size} for r in recent])
        return
    for r in recent:
        earlier = f"{r.previous.modified:%Y-%m-%d %H:%M:%S}"
        say(f"{r.at:%Y-%m-%d %H:%M:%S}  {r.what:11}  {r.key}  (earlier version of {earlier}, "
            f"{human_bytes(r.previous.size)})")
    say(f"{len(recent)} change(s) in the last {hours} h; fab repo.undo --key <key> brings the earlier version back")


@pgvault_task(help={"key": "the object's key, as fab repo.history shows it",
                    "force": "replace an existing current version (it stays as a noncurrent version)"})
def undo(c, key, stack=None, force=False, dry_run=False):
    """Bring back the previous version of a repository file that was deleted or overwritten."""
    cfg = load_stack(stack)
    if not key.startswith(cfg.repository.repo_prefix):
        raise UsageError(f"{key} is not under the repository prefix {cfg.repository.repo_prefix}",
                         "copy a key from fab repo.history")
    change = repair.undo(_versions(cfg), key, force)
    what = (f"{change.key} ({change.what} {change.at:%Y-%m-%d %H:%M:%S}): bring back its version of "
            f"{change.previous.modified:%Y-%m-%d %H:%M:%S} ({human_bytes(change.previous.size)})")
    if dry_run:
        say(f"would {what}; nothing changed (dry run)")
        return
    new_id = bucket.bring_back(s3_client(cfg), cfg, change.previous)
    say(f"brought back {what}: now current as version {new_id}; run fab backup.verify")
