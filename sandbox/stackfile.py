"""Private sandbox stacks: a whole sandbox in a fresh folder on free loopback ports.

The test session and the benchmark each run their own sandbox this way, so
they never collide with the committed ``sandbox`` stack or with each other.
The folder lives under /var/tmp: the ``postgres`` user must be able to reach it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from sandbox.processes import free_port

PORTS = ("ssh", "pg", "s3", "moto", "smtp")
#: the sandbox's name for the host of each role beside the primary (``db1``)
ROLE_HOSTS = {"standby": "db2", "staging": "stage1"}


def extra_host(folder: str, role: str, ssh_port: int, pg_port: int) -> dict[str, Any]:
    """A ``pgvault:hosts`` entry for a second host of the sandbox: 127.0.0.1, its own sshd, port and folders.

    Its files live under ``<folder>/<name>/`` as the primary's live under ``<folder>/host/``, but for
    pgvault-job's virtualenv, which the hosts of one machine share (installing it takes minutes).
    """
    name = ROLE_HOSTS[role]
    root = f"{folder}/{name}"
    return {
        "name": name, "address": "127.0.0.1", "ssh_port": ssh_port, "role": role,
        "identity_file": f"{folder}/ssh/id_ed25519",
        "postgres": {"port": pg_port, "data_dir": f"{root}/pg/data", "include_dir": f"{root}/pg/data/conf.d",
                     "socket_dir": f"{root}/run", "scratch_dir": f"{root}/scratch",
                     "log_file": f"{root}/log/postgresql.log"},
        "pgbackrest": {"config_path": f"{root}/etc/pgbackrest", "log_path": f"{root}/log/pgbackrest",
                       "spool_path": f"{root}/spool/pgbackrest", "lock_path": f"{root}/lock/pgbackrest",
                       "ssh_authorized_keys": f"{root}/ssh-postgres/authorized_keys"},
        # pgvault-job's virtualenv is the primary's (one machine, one build): host.setup finds it installed
        "jobs": {"config_dir": f"{root}/etc/pgvault",
                 "state_dir": f"{root}/var/lib/pgvault", "log_dir": f"{root}/log/pgvault",
                 "cron_file": f"{root}/etc/cron.d/pgvault-crm"},
    }


def sandbox_config(folder: str, ports: dict[str, int], bucket: str = "pgvault-itest", rpo_seconds: int = 20,
                   io_timeout: int = 10, object_lock_days: int | None = None,
                   rto_seconds: int | None = None, roles: tuple[str, ...] = ()) -> dict[str, Any]:
    """The ``config:`` mapping of a private sandbox stack rooted at ``folder`` on the given ports.

    ``object_lock_days`` turns on Object Lock with that default GOVERNANCE retention; ``rto_seconds`` sets
    the RTO target (default: the schema's); ``roles`` adds a host per role (``standby``, ``staging``), whose
    ports come from ``ports["ssh-<role>"]`` and ``ports["pg-<role>"]``.
    """
    storage = {"object_lock": True, "object_lock_days": object_lock_days} if object_lock_days else {}
    return {
        **({"pgvault:storage": storage} if storage else {}),
        "pgvault:sandbox": {"dir": folder, "moto_port": ports["moto"]},
        "pgvault:hosts": [{"name": "db1", "address": "127.0.0.1", "ssh_port": ports["ssh"],
                           "identity_file": f"{folder}/ssh/id_ed25519"},
                          *(extra_host(folder, role, ports[f"ssh-{role}"], ports[f"pg-{role}"]) for role in roles)],
        "pgvault:postgres": {
            "version": 15, "data_dir": f"{folder}/host/pg/data", "include_dir": f"{folder}/host/pg/data/conf.d",
            "socket_dir": f"{folder}/host/run", "scratch_dir": f"{folder}/host/scratch",
            "log_file": f"{folder}/host/log/postgresql.log", "control": "pg_ctl", "port": ports["pg"],
            "databases": ["crm"],
        },
        "pgvault:pgbackrest": {
            "stanza": "crm", "config_path": f"{folder}/host/etc/pgbackrest",
            "log_path": f"{folder}/host/log/pgbackrest",
            "spool_path": f"{folder}/host/spool/pgbackrest", "lock_path": f"{folder}/host/lock/pgbackrest",
            "io_timeout": io_timeout,
            **({"ssh_authorized_keys": f"{folder}/host/ssh-postgres/authorized_keys"} if roles else {}),
        },
        "pgvault:jobs": {
            "install_dir": f"{folder}/host/opt/pgvault", "config_dir": f"{folder}/host/etc/pgvault",
            "state_dir": f"{folder}/host/var/lib/pgvault", "log_dir": f"{folder}/host/log/pgvault",
            "cron_file": f"{folder}/host/etc/cron.d/pgvault-crm",
        },
        "pgvault:repository": {"bucket": bucket, "region": "us-east-1", "endpoint": f"localhost:{ports['s3']}",
                               "uri_style": "path", "ca_file": f"{folder}/tls/ca.pem"},
        "pgvault:targets": {"rpo_seconds": rpo_seconds, **({"rto_seconds": rto_seconds} if rto_seconds else {})},
        "pgvault:alerts": {"smtp": {"host": "127.0.0.1", "port": ports["smtp"], "tls": "none",
                                    "sender": "pgvault@itest.invalid", "recipients": ["oncall@itest.invalid"]}},
        "pgvault:secrets": {"file": f"{folder}/secrets.env"},
    }


def create(name: str, prefix: str = "pgv-", **options: Any) -> Path:
    """Write ``Pulumi.<name>.yaml`` for a new private sandbox; return its folder (the stack folder too)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))
    os.chmod(folder, 0o755)
    roles = options.get("roles", ())
    names = (*PORTS, *(f"{kind}-{role}" for role in roles for kind in ("ssh", "pg")))
    config = sandbox_config(str(folder), {port: free_port() for port in names}, **options)
    (folder / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=True))
    return folder
