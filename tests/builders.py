"""Test builders: stacks from a few overrides instead of large YAML fixtures."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from ops.config import parse_stack
from ops.schema import StackConfig

#: a production-like stack: Debian layout, AWS S3
BASE: dict[str, Any] = {
    "pgvault:hosts": [{"name": "db1", "address": "db1.example.internal"}],
    "pgvault:pgbackrest": {"stanza": "crm"},
    "pgvault:repository": {"bucket": "acme-crm-backups", "region": "eu-west-1"},
    "pgvault:postgres": {"databases": ["crm"]},
}


def sandbox_config(folder: str, ports: dict[str, int]) -> dict[str, Any]:
    """The ``config:`` mapping of a sandbox stack rooted at ``folder``."""
    return {
        "pgvault:sandbox": {"dir": folder, "moto_port": ports["moto"]},
        "pgvault:hosts": [{"name": "db1", "address": "127.0.0.1", "ssh_port": ports["ssh"],
                           "identity_file": f"{folder}/ssh/id_ed25519"}],
        "pgvault:postgres": {
            "version": 15, "data_dir": f"{folder}/host/pg/data", "include_dir": f"{folder}/host/pg/data/conf.d",
            "socket_dir": f"{folder}/host/run", "scratch_dir": f"{folder}/host/scratch",
            "log_file": f"{folder}/host/log/postgresql.log", "control": "pg_ctl", "port": ports["pg"],
            "databases": ["crm"],
        },
        "pgvault:pgbackrest": {
            "stanza": "crm", "config_path": f"{folder}/host/etc/pgbackrest", "log_path": f"{folder}/host/log/pgbackrest",
            "spool_path": f"{folder}/host/spool/pgbackrest", "lock_path": f"{folder}/host/lock/pgbackrest",
            "io_timeout": 10,
        },
        "pgvault:jobs": {
            "install_dir": f"{folder}/host/opt/pgvault", "config_dir": f"{folder}/host/etc/pgvault",
            "state_dir": f"{folder}/host/var/lib/pgvault", "log_dir": f"{folder}/host/log/pgvault",
            "cron_file": f"{folder}/host/etc/cron.d/pgvault-crm",
        },
        "pgvault:repository": {"bucket": "pgvault-itest", "region": "us-east-1", "endpoint": f"localhost:{ports['s3']}",
                               "uri_style": "path", "ca_file": f"{folder}/tls/ca.pem"},
        "pgvault:targets": {"rpo_seconds": 20},
        "pgvault:alerts": {"smtp": {"host": "127.0.0.1", "port": ports["smtp"], "tls": "none",
                                    "sender": "pgvault@itest.invalid", "recipients": ["oncall@itest.invalid"]}},
        "pgvault:secrets": {"file": f"{folder}/secrets.env"},
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
