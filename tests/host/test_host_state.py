"""testinfra over SSH: the sandbox DB host after host.setup, as an auditor sees it."""

from __future__ import annotations

import getpass
import subprocess
import time

import pytest
import testinfra
from dotenv import dotenv_values

from pgvault.core import pgbackrest, postgres, secrets
from pgvault.edges.waiting import within
from tests.fixtures import FAB, ROOT


@pytest.fixture(scope="module")
def host(configured):
    entry = configured.cfg.hosts[0]
    return testinfra.get_host(f"paramiko://{getpass.getuser()}@{entry.address}:{entry.ssh_port}",
                              ssh_identity_file=entry.identity_file)


@pytest.fixture(scope="module")
def secret_values(configured):
    values = dotenv_values(configured.cfg.secrets.file)
    return [v for v in values.values() if v and len(v) >= 8]


def test_pgbackrest_package_is_installed(host):
    assert host.package("pgbackrest").is_installed
    assert host.package("pgbackrest").version.startswith("2.")


def test_config_files_have_owner_and_mode(host, configured):
    owner = configured.cfg.postgres.os_user
    conf = host.file(pgbackrest.config_file(configured.cfg))
    assert conf.is_file and conf.user == owner and conf.mode == 0o640
    secret = host.file(secrets.secrets_file(configured.cfg))
    assert secret.is_file and secret.user == owner and secret.mode == 0o600
    include = host.file(postgres.include_file(configured.cfg))
    assert include.mode == 0o640 and include.content_string.startswith("# Managed by pgvault")


def _psql(host, cfg, sql: str) -> str:
    prefix = "" if cfg.postgres.os_user == getpass.getuser() else f"sudo -n -u {cfg.postgres.os_user} "
    return host.check_output(f"{prefix}{cfg.postgres.bin_dir}/psql -XAt -h %s -p %s -d postgres -c %s",
                             cfg.postgres.socket_dir, str(cfg.postgres.port), sql)


def test_archive_settings_are_in_effect(host, configured):
    cfg = configured.cfg
    out = _psql(host, cfg, "SELECT name || '=' || setting FROM pg_settings WHERE name IN "
                           "('archive_mode', 'wal_level', 'archive_timeout', 'archive_command') ORDER BY name")
    settings = dict(line.split("=", 1) for line in out.splitlines())
    assert settings["archive_mode"] == "on" and settings["wal_level"] == "replica"
    assert settings["archive_timeout"] == "10"
    assert settings["archive_command"] == pgbackrest.archive_command(cfg)
    # the archiver's counters start again after an in-place restore (an earlier module on this worker may have
    # made one): a switched segment must be archived now, whatever came before
    before = int(_psql(host, cfg, "SELECT archived_count FROM pg_stat_archiver"))
    _psql(host, cfg, "SELECT pg_switch_wal() FROM (SELECT txid_current()) AS written")
    # (an earlier module may have frozen the bucket: pgBackRest's asynchronous push then retries on its own pace)
    assert within(180, lambda: int(_psql(host, cfg, "SELECT archived_count FROM pg_stat_archiver")) > before), \
        "a switched WAL segment was not archived within 180 s"


def test_no_secret_in_world_readable_files(host, configured, secret_values):
    cfg = configured.cfg
    listing = host.check_output(
        f"find {cfg.pgbackrest.config_path} {cfg.postgres.include_dir} {cfg.pgbackrest.log_path} -type f -perm -o=r")
    for path in filter(None, listing.splitlines()):
        content = host.file(path).content_string
        assert not any(value in content for value in secret_values), f"secret in world-readable {path}"
    assert secret_values, "the sandbox must have secrets to look for"


def test_no_secret_in_ps_during_a_backup(host, configured, secret_values):
    running = subprocess.Popen([FAB, "backup.full"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    seen_pgbackrest = False
    try:
        while running.poll() is None:
            table = host.check_output("ps -eo args")
            seen_pgbackrest |= "pgbackrest" in table and " backup" in table
            assert not any(value in table for value in secret_values), "a secret is visible in ps"
            time.sleep(0.1)  # the sampling interval, not a wait for anything
    finally:
        output = running.communicate(timeout=600)[0]
    assert running.returncode == 0, output
    assert seen_pgbackrest, "the backup finished before ps could see it"
