"""The bucket's lifecycle rules, and the one rule that keeps them away from live repository objects."""

from __future__ import annotations

import pytest

from pgvault.core.errors import ConfigError
from pgvault.core.lifecycle import from_engine, lifecycle_rules, repository_violations, rule_prefix, shape_errors
from tests.builders import make_stack

REPO = "pgbackrest/"


def test_the_stack_rules_never_expire_live_repository_objects():
    for sections in ({}, {"storage": {"object_lock": True, "object_lock_days": 7}},
                     {"storage": {"standard_ia_days": None, "glacier_ir_days": None}}):
        cfg = make_stack(**sections)
        rules = lifecycle_rules(cfg)
        assert repository_violations(rules, cfg.repository.repo_prefix, cfg.storage.object_lock_days) == []
        assert shape_errors(rules) == []
        for rule in rules:
            if rule_prefix(rule).startswith(REPO):
                assert "Days" not in (rule.get("Expiration") or {}), rule["ID"]


@pytest.mark.parametrize("rule, words", [
    ({"ID": "tidy", "Filter": {"Prefix": ""}, "Expiration": {"Days": 60}}, "expires live objects under pgbackrest/"),
    ({"ID": "late", "Filter": {"Prefix": "pgbackrest/"}, "Expiration": {"Days": 4000}}, "after 4000 days"),
    ({"ID": "dated", "Filter": {"Prefix": "pgbackrest/archive/"}, "Expiration": {"Date": "2030-01-01T00:00:00Z"}},
     "on 2030-01-01"),
    ({"ID": "tagged", "Filter": {"And": {"Prefix": "pgbackrest/", "Tags": [{"Key": "a", "Value": "b"}]}},
      "Expiration": {"Days": 400}}, "lifecycle rule tagged expires"),
    ({"ID": "cheap", "Filter": {"Prefix": "pgbackrest/archive/"},
      "Transitions": [{"Days": 180, "StorageClass": "DEEP_ARCHIVE"}]}, "cannot read without a restore request"),
])
def test_rules_that_reach_live_repository_objects_are_violations(rule, words):
    (found,) = repository_violations([rule], REPO)
    assert found.rule == rule["ID"] and words in found.message and found.fix


def test_noncurrent_versions_must_outlive_the_object_lock():
    rule = {"ID": "short", "Filter": {"Prefix": REPO}, "NoncurrentVersionExpiration": {"NoncurrentDays": 7}}
    assert repository_violations([rule], REPO) == []
    (found,) = repository_violations([rule], REPO, object_lock_days=7)
    assert "7-day Object Lock" in found.message


def test_rules_elsewhere_in_the_bucket_are_left_alone():
    rule = {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}
    assert repository_violations([rule], REPO) == []


def test_engine_properties_read_as_the_s3_api_spells_them():
    engine = [{"id": "x", "status": "Enabled", "filter": {"and": {"prefix": "pgbackrest/"}},
               "expiration": {"days": 3}, "noncurrentVersionExpiration": {"noncurrentDays": 30},
               "transitions": [{"days": 30, "storageClass": "STANDARD_IA"}]}]
    assert from_engine(engine) == [{"ID": "x", "Status": "Enabled", "Filter": {"And": {"Prefix": "pgbackrest/"}},
                                    "Expiration": {"Days": 3}, "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                                    "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]}]


def test_the_loader_refuses_a_stack_whose_lock_outlives_its_undo_window():
    with pytest.raises(ConfigError, match="object_lock_days 30"):
        make_stack(storage={"object_lock": True, "object_lock_days": 30, "protection_days": 30})
