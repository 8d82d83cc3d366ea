"""Unsafe configurations are refused when the stack loads (so at program time), saying why."""

from __future__ import annotations

import pytest

from pgvault.core.errors import ConfigError
from tests.builders import make_stack


@pytest.mark.parametrize("sections, words", [
    ({"storage": {"backstop_days": 400}}, "unknown key pgvault:storage.backstop_days"),
    ({"storage": {"object_lock": True, "object_lock_days": 30, "protection_days": 30}}, "object_lock_days 30"),
    ({"storage": {"standard_ia_days": 10}}, "pgvault:storage.standard_ia_days"),
    ({"storage": {"standard_ia_days": 45, "glacier_ir_days": 60}}, "at least 30 days after standard_ia_days"),
    ({"storage": {"force_destroy": True}}, "force_destroy is true outside a sandbox"),
    ({"storage": {"protection_days": 0}}, "pgvault:storage.protection_days"),
    ({"access": {"break_glass_principals": ["root"]}}, "is not an IAM user, role or account root ARN"),
    ({"access": {"restore_principals": ["arn:aws:iam::123:role/x"]}}, "is not an IAM user, role or account root ARN"),
    ({"alerts": {"emails": ["not-an-address"]}}, "is not an e-mail address"),
])
def test_unsafe_configuration_is_refused(sections, words):
    with pytest.raises(ConfigError) as caught:
        make_stack("prod", **sections)
    assert words in caught.value.one_line()


def test_the_replica_region_is_a_region():
    with pytest.raises(ConfigError) as caught:
        make_stack("prod", storage={"replica_region": "Frankfurt"})
    assert "pgvault:storage.replica_region" in caught.value.one_line()
