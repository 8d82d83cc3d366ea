"""What the DB host's software can do, and the settings that follow from it (pure).

Two settings depend on the host, not only on the stack:

* **block incremental** (``repo1-block``): pgBackRest 2.45 (Debian 12) has it
  only behind ``--beta``; from 2.52 it is a regular option, and pgvault turns it
  on (with ``repo1-bundle``, which it needs) so that an incremental stores the
  changed blocks instead of every changed file whole;
* **WAL compression** (``wal_compression``): PostgreSQL 15 and later take
  ``lz4`` when built with it (Debian's packages are), which cut one update
  burst's WAL from 236 MB to 51 MB here; otherwise ``pglz`` (15+) or ``on``
  (14 and older, where the setting is a boolean).

``host.setup`` reads the facts (``pgbackrest version`` and the ``enumvals`` of
``wal_compression`` in ``pg_settings``) before it renders anything, so the
files it writes and the golden tests agree on one rule.  When a fact is
unknown (pgBackRest not installed yet: apt installs the distribution's;
PostgreSQL down) the choice is the one every version accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: the first pgBackRest release whose block incremental is not beta
BLOCK_INCREMENTAL_SINCE = (2, 52)
#: WAL compression methods, best first, when PostgreSQL offers them.  ``zstd`` (15+, Debian's packages have it) is
#: not preferred: on an hour of CRM traffic it wrote a quarter less WAL than ``lz4`` but the archive stored the same
#: (pgBackRest's zst compresses the segments again), for more CPU in the write path (docs/architecture.md, Cost)
WAL_COMPRESSION_PREFERENCE = ("lz4", "pglz")
#: the value PostgreSQL 14 and older take (a boolean: their pglz)
WAL_COMPRESSION_BOOLEAN = "on"

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """``(2, 45)`` from ``pgBackRest 2.45`` or ``2.54.2``; ``None`` when there is no version in ``text``."""
    found = _VERSION.search(text or "")
    return tuple(int(part) for part in found.groups() if part is not None) if found else None


@dataclass(frozen=True)
class Features:
    """What the host's pgBackRest and PostgreSQL can do.

    :param pgbackrest_version: ``pgbackrest version``'s number (``"2.45"``); ``None`` when not installed
    :param wal_compression_choices: ``pg_settings.enumvals`` of ``wal_compression``: empty for a boolean
        setting (PostgreSQL 14 and older), ``None`` when PostgreSQL could not be asked
    """

    pgbackrest_version: str | None = None
    wal_compression_choices: tuple[str, ...] | None = None

    @property
    def block_incremental(self) -> bool:
        """True when the host's pgBackRest has block incremental outside beta (2.52 and later)."""
        version = parse_version(self.pgbackrest_version)
        return version is not None and version[:2] >= BLOCK_INCREMENTAL_SINCE

    @property
    def wal_compression(self) -> str:
        """The ``wal_compression`` value to set, as ``pg_settings.setting`` shows it."""
        choices = self.wal_compression_choices
        if not choices:  # a boolean setting (14 and older), or unknown: the value every version accepts
            return WAL_COMPRESSION_BOOLEAN
        return next((method for method in WAL_COMPRESSION_PREFERENCE if method in choices), WAL_COMPRESSION_BOOLEAN)


#: nothing known about the host yet: the choices every version accepts
UNKNOWN = Features()
