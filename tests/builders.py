"""Test builders: stacks from a few overrides instead of large YAML fixtures."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from pgvault.core.config import parse_stack
from pgvault.core.schema import StackConfig
from sandbox.stackfile import sandbox_config  # noqa: F401  (the tests build private stacks with it)

#: a production-like stack: Debian layout, AWS S3
BASE: dict[str, Any] = {
    "pgvault:hosts": [{"name": "db1", "address": "db1.example.internal"}],
    "pgvault:pgbackrest": {"stanza": "crm"},
    "pgvault:repository": {"bucket": "acme-crm-backups", "region": "eu-west-1"},
    "pgvault:postgres": {"databases": ["crm"]},
}


def merge(base: dict, overrides: dict) -> dict:
    """Deep-merge ``overrides`` into a copy of ``base``; a ``None`` value deletes the key."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def stack_text(config: dict) -> str:
    """YAML text of a stack file with this ``config:`` mapping."""
    return yaml.safe_dump({"config": config}, sort_keys=True)


def make_stack(name: str = "test", base: dict | None = None, **sections: Any) -> StackConfig:
    """A validated stack from :data:`BASE` plus ``section=value`` overrides (``postgres={...}``)."""
    overrides = {f"pgvault:{k}": v for k, v in sections.items()}
    return parse_stack(stack_text(merge(base or BASE, overrides)), f"Pulumi.{name}.yaml", name)
