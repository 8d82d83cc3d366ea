"""Logical dumps as pure data: object keys, retention tiers, manifests, selectors.

A logical dump is one ``pg_dump -Fc`` object per database and run under
``<logical_prefix>/<stanza>/<database>/<UTC stamp>.dump``, with a small JSON
manifest beside it (``.dump.json``).  Both carry the tag ``tier`` (daily,
weekly on the configured weekday, monthly on the 1st) that the bucket's
lifecycle rules expire after 30 / 90 / 365 days, and the dump carries its
SHA-256 as a tag too (S3 metadata is fixed when an upload starts, before the
digest of a streamed dump is known).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from pgvault.core.errors import UsageError
from pgvault.core.schema import StackConfig

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DATABASE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_TABLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$")
_KEY_STAMP = "%Y%m%dT%H%M%SZ"


def tier_for(when: datetime, weekly_day: str) -> str:
    """``monthly`` on the 1st, ``weekly`` on the configured weekday, else ``daily``."""
    if when.day == 1:
        return "monthly"
    if WEEKDAYS[when.weekday()] == weekly_day:
        return "weekly"
    return "daily"


def stanza_prefix(cfg: StackConfig) -> str:
    """Key prefix of every dump of the stack's stanza."""
    return f"{cfg.repository.logical_prefix}/{cfg.pgbackrest.stanza}/"


def database_prefix(cfg: StackConfig, database: str) -> str:
    """Key prefix of one database's dumps."""
    return f"{stanza_prefix(cfg)}{database}/"


def dump_key(cfg: StackConfig, database: str, when: datetime) -> str:
    """Object key of a dump taken at ``when`` (UTC)."""
    return database_prefix(cfg, database) + when.strftime(_KEY_STAMP) + ".dump"


def manifest_key(key: str) -> str:
    """Key of the manifest that describes the dump at ``key``."""
    return key + ".json"


def tagging(tags: dict[str, str]) -> str:
    """URL-encoded tag set for S3's ``Tagging`` parameter (values here are plain words and hex)."""
    return "&".join(f"{k}={v}" for k, v in sorted(tags.items()))


def manifest(cfg: StackConfig, database: str, key: str, started: datetime, finished: datetime, size: int,
             sha256: str, tier: str, server_version: str) -> dict:
    """The manifest of one dump."""
    return {
        "stack": cfg.name, "stanza": cfg.pgbackrest.stanza, "database": database, "key": key, "format": "pg_dump -Fc",
        "started": started.isoformat(), "finished": finished.isoformat(), "bytes": size, "sha256": sha256,
        "tier": tier, "server_version": server_version,
    }


def choose(manifests: Iterable[dict], selector: str, database: str | None) -> dict:
    """The dump named by ``selector``: an object key, or a date (``YYYY-MM-DD``, the newest dump that day).

    :raises UsageError: when nothing matches, listing what exists
    """
    found = sorted(manifests, key=lambda m: m["started"])
    if database:
        found = [m for m in found if m["database"] == database]
    if not found:
        raise UsageError("there is no logical dump to restore", "run fab backup.logical first")
    exact = [m for m in found if m["key"] == selector]
    if exact:
        return exact[0]
    try:
        day = date.fromisoformat(selector)
    except ValueError:
        raise UsageError(f"--dump {selector!r} is neither a dump key nor a date",
                         "give a key from fab backup.logical-list, or a date like 2026-11-26") from None
    same_day = [m for m in found if datetime.fromisoformat(m["started"]).date() == day]
    if not same_day:
        days = sorted({m["started"][:10] for m in found})
        raise UsageError(f"no logical dump on {day}", f"dumps exist on: {', '.join(days[-10:])}")
    return same_day[-1]


def check_database_name(name: str) -> str:
    """Validate a target database name (a lowercase identifier).

    :raises UsageError: for anything else
    """
    if not _DATABASE.match(name):
        raise UsageError(f"database name {name!r} is not accepted",
                         "use a lowercase identifier: letters, digits and '_' (e.g. crm_restored)")
    return name


#: databases no restore goes into besides the stack's own: the maintenance database (pgvault's catalog) and templates
SYSTEM_DATABASES = ("postgres", "template0", "template1")


def check_restore_target(cfg: StackConfig, name: str) -> str:
    """Validate ``--into``: a lowercase identifier that is not a production database.

    A logical restore runs on the production cluster itself, so a database
    the stack names (``pgvault:postgres.databases``), the maintenance
    database and the templates are refused outright: no flag overrides it.

    :raises UsageError: for a malformed or a production database name
    """
    check_database_name(name)
    if name in cfg.postgres.databases:
        why = f"a production database of stack {cfg.name} (pgvault:postgres.databases)"
    elif name in SYSTEM_DATABASES:
        why = "the cluster's maintenance database, which holds pgvault's catalog" if name == "postgres" else \
            "a template database"
    else:
        return name
    spare = f"{name[:54]}_restored"
    raise UsageError(f"--into {name}: {why}; a logical restore never goes into it",
                     f"restore into a new database (e.g. --into {spare}), then copy back only the rows you need")


def check_table(name: str) -> str:
    """Validate a ``--table`` name (``table`` or ``schema.table``, lowercase identifiers).

    :raises UsageError: for anything else (quotes, spaces, semicolons, ...)
    """
    if not _TABLE.match(name):
        raise UsageError(f"table name {name!r} is not accepted",
                         "use a lowercase identifier, optionally schema-qualified: notes or crm.notes")
    return name
