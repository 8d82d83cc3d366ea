"""Where things live in the bucket: the key layout pgvault reads and writes (pure).

pgBackRest owns everything under the repository prefix (``<path>/archive/<stanza>/`` holds WAL,
``<path>/backup/<stanza>/`` the backup sets); pgvault writes only logical dumps
(``pgvault.core.logical``) and drill results under their own prefixes.  The
edge that lists the bucket (``pgvault.edges.bucket``) and the monitoring's
storage figures use these prefixes, and nothing else spells them.
"""

from __future__ import annotations

from pgvault.core.schema import StackConfig


def archive_root(cfg: StackConfig) -> str:
    """Key prefix of the stanza's WAL archive (one folder per archive id below it)."""
    return f"{cfg.repository.repo_prefix}archive/{cfg.pgbackrest.stanza}/"


def drills_prefix(cfg: StackConfig) -> str:
    """Key prefix of the stanza's drill results."""
    return f"{cfg.repository.drills_prefix}/{cfg.pgbackrest.stanza}/"


def usage_categories(cfg: StackConfig) -> dict[str, str]:
    """Key prefix -> the storage category it counts towards (anything else is ``other``)."""
    repo = cfg.repository
    return {f"{repo.repo_prefix}backup/": "backups", f"{repo.repo_prefix}archive/": "wal",
            f"{repo.logical_prefix}/": "logical", f"{repo.drills_prefix}/": "drills"}
