"""Logical dumps as data: tiers, keys, choosing a dump, name checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pgvault.core import logical
from pgvault.core.errors import UsageError
from tests.builders import make_stack


@pytest.mark.parametrize("day, tier", [(1, "monthly"), (29, "weekly"), (30, "daily"), (2, "daily")])
def test_tiers(day, tier):
    # 2026-11-29 is a Sunday, and sunday is the default weekly day
    assert logical.tier_for(datetime(2026, 11, day, 3, tzinfo=UTC), "sunday") == tier


def test_keys():
    cfg = make_stack()
    key = logical.dump_key(cfg, "crm", datetime(2026, 11, 26, 2, 30, 5, tzinfo=UTC))
    assert key == "logical/crm/crm/20261126T023005Z.dump"
    assert logical.manifest_key(key) == key + ".json"


MANIFESTS = [
    {"key": "logical/crm/crm/a.dump", "database": "crm", "started": "2026-11-25T02:30:00+00:00"},
    {"key": "logical/crm/crm/b.dump", "database": "crm", "started": "2026-11-26T02:30:00+00:00"},
    {"key": "logical/crm/crm/c.dump", "database": "crm", "started": "2026-11-26T14:00:00+00:00"},
    {"key": "logical/crm/ops/d.dump", "database": "ops", "started": "2026-11-26T15:00:00+00:00"},
]


def test_choose_by_key_or_by_date():
    assert logical.choose(MANIFESTS, "logical/crm/crm/a.dump", None)["key"].endswith("a.dump")
    assert logical.choose(MANIFESTS, "2026-11-26", "crm")["key"].endswith("c.dump")
    assert logical.choose(MANIFESTS, "2026-11-26", None)["key"].endswith("d.dump")


def test_choose_says_which_days_exist():
    with pytest.raises(UsageError) as caught:
        logical.choose(MANIFESTS, "2026-01-01", "crm")
    assert "2026-11-25, 2026-11-26" in caught.value.fix


@pytest.mark.parametrize("name", ["notes; drop table x", "Notes", "a b", "x.y.z", "\"q\""])
def test_table_names_are_checked(name):
    with pytest.raises(UsageError):
        logical.check_table(name)


def test_good_names_pass():
    assert logical.check_table("crm.notes") == "crm.notes"
    assert logical.check_database_name("crm_copy") == "crm_copy"


@pytest.mark.parametrize("name, words", [
    ("crm", "--into crm: a production database of stack test (pgvault:postgres.databases)"),
    ("postgres", "maintenance database"),
    ("template1", "a template database"),
])
def test_a_logical_restore_never_goes_into_a_production_database_and_never_suggests_force(name, words):
    cfg = make_stack(postgres={"databases": ["crm"]})
    with pytest.raises(UsageError) as caught:
        logical.check_restore_target(cfg, name)
    line = caught.value.one_line()
    assert words in line and f"--into {name}_restored" in line and "--force" not in line
    assert logical.check_restore_target(cfg, "crm_restored") == "crm_restored"
