"""What the host's software can do, and the settings that follow from it."""

from __future__ import annotations

import pytest

from pgvault.core.features import Features, parse_version
from pgvault.core.pgbackrest import conf_sections
from pgvault.core.postgres import owned_settings
from tests.builders import make_stack


@pytest.mark.parametrize(("text", "want"), [("pgBackRest 2.45", (2, 45)), ("2.54.2", (2, 54, 2)), ("", None),
                                            (None, None), ("pgBackRest 2.52dev", (2, 52))])
def test_versions_are_read_from_pgbackrests_answer(text, want):
    assert parse_version(text) == want


@pytest.mark.parametrize(("version", "block"), [(None, False), ("2.45", False), ("2.51", False), ("2.52", True),
                                                ("2.59", True), ("3.0", True)])
def test_block_incremental_from_2_52_on(version, block):
    assert Features(version).block_incremental is block
    options = {o.key: o.value for _, opts in conf_sections(make_stack(), Features(version)) for o in opts}
    assert ("repo1-block" in options) is block
    assert options["repo1-bundle"] == "y", "block incremental needs bundling, which is always on"


@pytest.mark.parametrize(("choices", "want"), [
    (("pglz", "lz4", "zstd", "on", "off"), "lz4"),
    (("pglz", "on", "off"), "pglz"),
    ((), "on"),      # PostgreSQL 14 and older: a boolean
    (None, "on"),    # PostgreSQL could not be asked: what every version accepts
])
def test_wal_compression_is_lz4_where_the_server_offers_it(choices, want):
    values = {s.name: s.value for s in owned_settings(make_stack(), Features("2.45", choices))}
    assert values["wal_compression"] == want
