"""Repository repair from the versioned bucket: recent changes, and which version an undo brings back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pgvault.core.errors import UsageError
from pgvault.core.repair import Version, changes, undo

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
INFO, MANIFEST, SEGMENT = "pgbackrest/backup/crm/backup.info", "pgbackrest/backup/crm/F/backup.manifest", \
    "pgbackrest/archive/crm/15-1/0000000100000000/000000010000000000000003-abc.zst"
VERSIONS = [
    Version(INFO, "i1", T0, 900, False), Version(INFO, "i2", T0 + timedelta(hours=5), 0, True, deleted=True),
    Version(MANIFEST, "m1", T0, 5000, False), Version(MANIFEST, "m2", T0 + timedelta(hours=6), 5000, True),
    Version(SEGMENT, "s1", T0, 700, True),
]


def test_recent_deletes_and_overwrites_with_an_earlier_version_are_listed_newest_first():
    found = changes(VERSIONS, T0 + timedelta(hours=1))
    assert [(c.key, c.what, c.previous.version_id) for c in found] == [(MANIFEST, "overwritten", "m1"),
                                                                      (INFO, "deleted", "i1")]
    assert changes(VERSIONS, T0 + timedelta(hours=7)) == []


def test_undo_brings_back_the_previous_version_and_needs_force_over_an_existing_object():
    assert undo(VERSIONS, INFO, force=False).previous.version_id == "i1"
    with pytest.raises(UsageError, match="exists") as refused:
        undo(VERSIONS, MANIFEST, force=False)
    assert "--force" in refused.value.fix
    assert undo(VERSIONS, MANIFEST, force=True).previous.version_id == "m1"
    with pytest.raises(UsageError, match="no earlier version"):
        undo(VERSIONS, SEGMENT, force=True)
    with pytest.raises(UsageError, match="no versions"):
        undo(VERSIONS, "pgbackrest/nothing", force=True)
