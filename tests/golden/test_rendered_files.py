"""Whole rendered files, byte for byte (Crunchy PGO's golden tests).

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/golden``
and review the diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pgvault.core import render
from pgvault.core.config import parse_stack
from pgvault.core.features import Features
from pgvault.core.secrets import Secret
from tests.builders import make_stack

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"


def sandbox():
    return parse_stack((ROOT / "Pulumi.sandbox.yaml").read_text(), "Pulumi.sandbox.yaml", "sandbox",
                       default_os_user="postgres")


def production():
    return make_stack("prod", repository={"credentials": "instance-role"}, pgbackrest={"process_max": 4})


def with_standby():
    """Production with a streaming standby on its own machine (backups read it)."""
    return make_stack("prod", repository={"credentials": "instance-role"}, pgbackrest={"process_max": 4},
                      hosts=[{"name": "db1", "address": "db1.example.internal"},
                             {"name": "db2", "address": "db2.example.internal", "ssh_port": 2222,
                              "role": "standby"}])


#: Debian 12: pgBackRest 2.45, PostgreSQL 15 built with lz4
DEBIAN_12 = Features("2.45", ("pglz", "lz4", "zstd", "on", "off"))
#: the PostgreSQL project's apt repository: a pgBackRest with block incremental; PostgreSQL 15 without lz4
NEWER = Features("2.54.2", ("pglz", "on", "off"))
#: PostgreSQL 14 and older (wal_compression is a boolean); pgBackRest not installed yet
OLDER = Features(None, ())

CASES = {
    "sandbox-pgbackrest.conf": lambda: render.render_pgbackrest_conf(sandbox(), DEBIAN_12),
    "sandbox-pgvault.conf": lambda: render.render_pg_include(sandbox(), DEBIAN_12),
    "prod-pgbackrest.conf": lambda: render.render_pgbackrest_conf(production(), DEBIAN_12),
    "prod-pgvault.conf": lambda: render.render_pg_include(production(), DEBIAN_12),
    "prod-pgbackrest-2.54.conf": lambda: render.render_pgbackrest_conf(production(), NEWER),
    "prod-pgvault-no-lz4.conf": lambda: render.render_pg_include(production(), NEWER),
    "prod-pgvault-pg14.conf": lambda: render.render_pg_include(production(), OLDER),
    "sandbox-pgvault-crm.cron": lambda: render.render_cron(sandbox()),
    "prod-primary-with-standby-pgbackrest.conf": lambda: render.render_pgbackrest_conf(with_standby(), DEBIAN_12),
    "prod-standby-pgbackrest.conf": lambda: render.render_pgbackrest_conf(with_standby().on("db2"), DEBIAN_12),
    "prod-primary-ssh-config": lambda: render.render_ssh_files(with_standby(), {})["config"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rendered_file_matches_golden(name):
    text = CASES[name]()
    path = DATA / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; review and regenerate with UPDATE_GOLDEN=1"


def test_every_rendered_file_starts_with_the_banner():
    for make in CASES.values():
        assert make().startswith("# Managed by pgvault from Pulumi.")


def test_secrets_file_holds_the_values_and_nothing_else_does():
    secrets = {"repo1-cipher-pass": Secret("P", "s3cr3t-pass"), "repo1-s3-key": Secret("K", "AKIAEXAMPLE")}
    text = render.render_pgbackrest_secrets(production(), secrets)
    assert "repo1-cipher-pass=s3cr3t-pass" in text and "repo1-s3-key=AKIAEXAMPLE" in text
    for make in CASES.values():
        assert "s3cr3t-pass" not in make()
