"""Repository repair from the versioned bucket: what changed lately, and how to undo one change (pure).

The bucket keeps every overwritten or deleted object as a noncurrent version
(``storage.protection_days``).  pgBackRest never overwrites a file of a
finished backup set or an archived WAL segment, so a recent overwrite or
delete under the repository prefix is either retention (``backup.expire``)
or damage.  :func:`changes` lists them; :func:`undo` says which version to
copy back as the current one, refusing to replace an existing current
object without ``--force``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pgvault.core.errors import UsageError


@dataclass(frozen=True)
class Version:
    """One version of a bucket object, or a delete marker."""

    key: str
    version_id: str
    modified: datetime
    size: int
    latest: bool
    deleted: bool = False


@dataclass(frozen=True)
class Change:
    """A recent overwrite or delete of a key, and the version before it."""

    key: str
    what: str  # "deleted" or "overwritten"
    at: datetime
    previous: Version


def _by_key(versions: Iterable[Version]) -> dict[str, list[Version]]:
    grouped: dict[str, list[Version]] = {}
    for version in versions:
        grouped.setdefault(version.key, []).append(version)
    return {key: sorted(found, key=lambda v: (v.latest, v.modified), reverse=True) for key, found in grouped.items()}


def changes(versions: Iterable[Version], since: datetime) -> list[Change]:
    """Keys overwritten or deleted after ``since`` that still have an earlier version, newest change first."""
    found = []
    for key, history in _by_key(versions).items():
        current = history[0]
        earlier = next((v for v in history[1:] if not v.deleted), None)
        if earlier is None or current.modified < since:
            continue
        found.append(Change(key, "deleted" if current.deleted else "overwritten", current.modified, earlier))
    return sorted(found, key=lambda c: c.at, reverse=True)


def undo(versions: Iterable[Version], key: str, force: bool) -> Change:
    """The change to undo for ``key``: its previous version becomes current again.

    :raises UsageError: when the key has no earlier version, or its current version exists and ``force`` is off
    """
    history = _by_key(versions).get(key)
    if not history:
        raise UsageError(f"{key} has no versions in the bucket", "copy a key from fab repo.history")
    current = history[0]
    earlier = next((v for v in history[1:] if not v.deleted), None)
    if earlier is None:
        raise UsageError(f"{key} has no earlier version to bring back", "copy a key from fab repo.history")
    if not current.deleted and not force:
        raise UsageError(f"{key} exists: bringing back its version of {earlier.modified:%Y-%m-%d %H:%M:%S} "
                         "replaces the current one (which stays as a noncurrent version)",
                         "add --force if that is what you mean (fab backup.verify names damaged files)")
    return Change(key, "deleted" if current.deleted else "overwritten", current.modified, earlier)
