"""Unsafe configurations are refused when the stack loads (so at program time), saying why."""

from __future__ import annotations

import pytest

from ops.errors import ConfigError
from ops.policy import check_lifecycle, lifecycle_rules, minimum_backstop_days
from tests.builders import make_stack


@pytest.mark.parametrize("sections, words", [
    ({"storage": {"backstop_days": 100}}, "would silently delete backup files and WAL"),
    ({"storage": {"backstop_days": 395}}, "raise pgvault:storage.backstop_days above 396"),
    ({"storage": {"object_lock": True, "object_lock_days": 30, "protection_days": 30}}, "object_lock_days 30"),
    ({"storage": {"standard_ia_days": 10}}, "pgvault:storage.standard_ia_days"),
    ({"storage": {"standard_ia_days": 45, "glacier_ir_days": 60}}, "at least 30 days after standard_ia_days"),
    ({"storage": {"force_destroy": True}}, "force_destroy is true outside a sandbox"),
    ({"storage": {"protection_days": 0}}, "pgvault:storage.protection_days"),
    ({"access": {"break_glass_principals": ["root"]}}, "is not an IAM user, role or account root ARN"),
    ({"alerts": {"emails": ["not-an-address"]}}, "is not an e-mail address"),
])
def test_unsafe_configuration_is_refused(sections, words):
    with pytest.raises(ConfigError) as caught:
        make_stack("prod", **sections)
    assert words in caught.value.one_line()


def test_a_backstop_longer_than_every_retention_is_accepted():
    cfg = make_stack(storage={"backstop_days": 400})
    assert minimum_backstop_days(cfg) == 365 + 1 + 30
    assert any(r["ID"] == "pgbackrest-backstop" for r in lifecycle_rules(cfg))


def test_a_hand_written_glacier_rule_is_refused():
    cfg = make_stack()
    rule = {"ID": "cheap", "Status": "Enabled", "Filter": {"Prefix": "pgbackrest/archive/"},
            "Transitions": [{"Days": 180, "StorageClass": "DEEP_ARCHIVE"}]}
    with pytest.raises(ConfigError, match="cannot read without a restore request"):
        check_lifecycle(cfg, [rule])


def test_a_whole_bucket_expiry_reaches_the_repository_and_is_refused():
    cfg = make_stack()
    rule = {"ID": "tidy", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 60}}
    with pytest.raises(ConfigError, match="lifecycle rule tidy expires objects under pgbackrest/"):
        check_lifecycle(cfg, [rule])


def test_rules_elsewhere_in_the_bucket_are_left_alone():
    cfg = make_stack()
    check_lifecycle(cfg, [{"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}])
