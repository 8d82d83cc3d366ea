"""Hosts with roles: one primary, a standby and a staging host, each seen with its own paths (pure)."""

from __future__ import annotations

import pytest

from pgvault.core import pgbackrest, roles
from pgvault.core.errors import ConfigError
from tests.builders import make_stack

PRIMARY = {"name": "db1", "address": "db1.example.internal"}
STANDBY = {"name": "db2", "address": "db2.example.internal", "role": "standby"}
STAGING = {"name": "stage1", "address": "stage1.example.internal", "role": "staging"}


def test_a_single_host_is_the_primary_and_sees_the_stack_unchanged():
    cfg = make_stack()
    assert cfg.primary.name == "db1" and cfg.primary.role == "primary"
    assert cfg.on("db1") is cfg
    assert cfg.with_role("standby") is None and cfg.with_role("staging") is None


def test_hosts_are_taken_primary_first_then_standby_then_staging():
    cfg = make_stack(hosts=[STAGING, STANDBY, PRIMARY])
    assert [h.name for h in cfg.ordered_hosts()] == ["db1", "db2", "stage1"]
    assert cfg.with_role("staging").name == "stage1"


def test_a_host_view_merges_its_own_paths_and_puts_it_first():
    staging = {**STAGING, "address": "db1.example.internal", "ssh_port": 2222,
               "postgres": {"port": 5433, "data_dir": "/srv/stage/data", "scratch_dir": "/srv/stage/scratch"},
               "pgbackrest": {"lock_path": "/tmp/pgbackrest-stage", "spool_path": "/srv/stage/spool"},
               "jobs": {"state_dir": "/srv/stage/state"}}
    cfg = make_stack(hosts=[PRIMARY, staging])
    view = cfg.on("stage1")
    assert view.hosts[0].name == "stage1" and [h.name for h in view.hosts] == ["stage1", "db1"]
    assert (view.postgres.port, view.postgres.data_dir) == (5433, "/srv/stage/data")
    assert view.postgres.version == cfg.postgres.version and view.postgres.socket_dir == cfg.postgres.socket_dir
    assert view.pgbackrest.stanza == "crm" and view.pgbackrest.lock_path == "/tmp/pgbackrest-stage"
    assert view.jobs.state_dir == "/srv/stage/state" and view.jobs.install_dir == cfg.jobs.install_dir
    assert cfg.on("db1").postgres.port == 5432


@pytest.mark.parametrize("hosts, expected", [
    ([STANDBY], "0 primary hosts"),
    ([PRIMARY, {**STANDBY, "role": "primary"}], "2 primary hosts"),
    ([PRIMARY, STANDBY, {**STAGING, "role": "standby"}], "2 standby hosts"),
    ([PRIMARY, {**STANDBY, "role": "replica"}], "hosts[1].role"),
    ([PRIMARY, {**STAGING, "address": "db1.example.internal", "ssh_port": 2222}],
     "hosts db1 and stage1 share postgres.data_dir"),
    ([PRIMARY, {**STAGING, "address": "db1.example.internal", "ssh_port": 2222,
                "postgres": {"data_dir": "/srv/stage/data", "scratch_dir": "/srv/stage/scratch"}}],
     "share postgres.port 5432"),
])
def test_roles_and_shared_places_are_refused_with_the_fix(hosts, expected):
    with pytest.raises(ConfigError) as caught:
        make_stack(hosts=hosts)
    assert expected in caught.value.message


def test_the_staging_host_takes_the_drill_and_the_standby_runs_no_job():
    from pgvault.core import cron, roles
    single = make_stack()
    every = [e.job for e in cron.entries(single)]
    assert "drill" in every and roles.restore_host(single).name == "db1"
    cfg = make_stack(hosts=[PRIMARY, STANDBY, STAGING])
    assert [e.job for e in cron.entries(cfg.on("db1"))] == [j for j in every if j != "drill"]
    assert [e.job for e in cron.entries(cfg.on("stage1"))] == ["drill"]
    assert cron.entries(cfg.on("db2")) == []
    assert roles.restore_host(cfg).name == "stage1"
    assert not roles.holds_backup_keys(cfg.with_role("staging")) and roles.holds_backup_keys(cfg.primary)
    assert "--host stage1 drill" in cron.job_command(cfg.on("stage1"), "drill")
    assert "--host" not in cron.job_command(single, "drill")



SHARED_STAGING = {**STAGING, "address": "db1.example.internal", "ssh_port": 2222,
                  "postgres": {"port": 5433, "data_dir": "/srv/stage/data", "scratch_dir": "/srv/stage/scratch",
                               "socket_dir": "/srv/stage/run"},
                  "pgbackrest": {"config_path": "/srv/stage/pgbackrest", "lock_path": "/srv/stage/lock",
                                 "spool_path": "/srv/stage/spool"},
                  "jobs": {"state_dir": "/srv/stage/state"}}


def test_a_views_view_starts_from_the_stack_not_from_the_first_views_paths():
    cfg = make_stack(hosts=[PRIMARY, SHARED_STAGING])
    again = cfg.on("stage1").on("db1")
    assert again.hosts[0].name == "db1" and again.postgres == cfg.postgres and again.pgbackrest == cfg.pgbackrest


def test_production_is_read_from_the_primarys_socket_on_one_machine_else_over_tcp():
    shared = make_stack(hosts=[PRIMARY, SHARED_STAGING])
    view = roles.production_view(shared.on("stage1"))
    assert view.hosts[0].name == "db1" and view.postgres == shared.postgres
    apart = make_stack(hosts=[PRIMARY, STAGING])
    remote = roles.production_view(apart.on("stage1"))
    assert (remote.postgres.socket_dir, remote.postgres.port) == ("db1.example.internal", 5432)
    assert roles.production_view(apart) is apart


def test_staging_reads_the_repository_with_the_read_only_configuration_only():
    cfg = make_stack(hosts=[PRIMARY, SHARED_STAGING])
    assert pgbackrest.command(cfg, "info")[1] == f"--config-path={cfg.pgbackrest.config_path}"
    stage = cfg.on("stage1")
    assert pgbackrest.command(stage, "info")[1] == "--config-path=/srv/stage/pgbackrest/restore"
    assert "/srv/stage/pgbackrest/restore" in pgbackrest.archive_command(stage), "no push with the backup keys"
    assert not roles.archives(stage.hosts[0]) and roles.archives(cfg.primary)
