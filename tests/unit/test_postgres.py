"""PostgreSQL settings pgvault owns, restart-or-reload decisions, SQL quoting."""

from __future__ import annotations

import pytest

from pgvault.core.errors import ConfigError
from pgvault.core.hourly import ASSUMED_REPLAY_BYTES_PER_SECOND
from pgvault.core.postgres import (
    CRASH_RECOVERY_SHARE,
    LiveSetting,
    Setting,
    libpq_uri,
    max_wal_size_mb,
    owned_settings,
    server_action,
    sql_identifier,
    sql_literal,
)
from tests.builders import make_stack


def live(name, setting, context="sighup", pending=False):
    return LiveSetting(name, setting, context, pending)


def test_owned_settings_follow_the_stack():
    cfg = make_stack(targets={"rpo_seconds": 300})
    values = {s.name: s.value for s in owned_settings(cfg)}
    assert values["archive_mode"] == "on" and values["wal_level"] == "replica"
    assert values["archive_timeout"] == "150"
    assert values["archive_command"] == "pgbackrest --config-path=/etc/pgbackrest --stanza=crm archive-push %p"


def test_checkpoint_timeout_is_owned_unless_the_stack_leaves_it_to_postgresql_conf():
    assert {s.name: s.value for s in owned_settings(make_stack())}["checkpoint_timeout"] == "21600"
    values = {s.name: s.value for s in owned_settings(make_stack(postgres={"checkpoint_timeout_seconds": 3600}))}
    assert values["checkpoint_timeout"] == "3600"
    cfg = make_stack()
    cfg = cfg.model_copy(update={"postgres": cfg.postgres.model_copy(update={"checkpoint_timeout_seconds": None})})
    left = {s.name for s in owned_settings(cfg)}
    assert "checkpoint_timeout" not in left and "wal_compression" in left


@pytest.mark.parametrize("seconds", [29, 86401])
def test_checkpoint_timeout_stays_within_what_postgresql_accepts(seconds):
    with pytest.raises(ConfigError, match="checkpoint_timeout_seconds"):
        make_stack(postgres={"checkpoint_timeout_seconds": seconds})


def test_max_wal_size_replays_within_a_quarter_of_the_rto_at_the_assumed_rate_unless_the_stack_says():
    def value(**sections):
        return {s.name: s.value for s in owned_settings(make_stack(**sections))}["max_wal_size"]

    assert value() == "4096", "3600 s: 900 s at 16 MB/s is 14,400 MB, capped"
    assert value(targets={"rto_seconds": 600}) == "2400", "150 s at 16 MB/s"
    assert value(targets={"rto_seconds": 60}) == "240"
    assert value(postgres={"max_wal_size_mb": 16384}) == "16384"
    for rto in (60, 600, 3600, 7 * 86400):
        cfg = make_stack(targets={"rto_seconds": rto})
        mb = max_wal_size_mb(cfg)
        assert mb * 2**20 / ASSUMED_REPLAY_BYTES_PER_SECOND <= rto * CRASH_RECOVERY_SHARE or mb == 64


def test_small_rpo_keeps_archive_timeout_at_ten_seconds_or_more():
    values = {s.name: s.value for s in owned_settings(make_stack(targets={"rpo_seconds": 20}))}
    assert values["archive_timeout"] == "10"


DESIRED = [Setting("archive_mode", "on"), Setting("archive_timeout", "150")]


@pytest.mark.parametrize("rows, expected", [
    ({"archive_mode": live("archive_mode", "on", "postmaster"), "archive_timeout": live("archive_timeout", "150")},
     None),
    ({"archive_mode": live("archive_mode", "off", "postmaster"), "archive_timeout": live("archive_timeout", "150")},
     "restart"),
    ({"archive_mode": live("archive_mode", "on", "postmaster"), "archive_timeout": live("archive_timeout", "60")},
     "reload"),
    ({"archive_mode": live("archive_mode", "on", "postmaster", pending=True)}, "restart"),
])
def test_restart_only_for_postmaster_settings(rows, expected):
    assert server_action(DESIRED, rows) == expected


def test_quoting():
    assert sql_literal("it's") == "'it''s'"
    assert sql_identifier('we"ird') == '"we""ird"'
    assert Setting("archive_command", "a 'b'").conf_value == "'a ''b'''"
    with pytest.raises(ValueError):
        sql_literal("a\x00b")


def test_libpq_uri_has_no_password_and_quotes_parts():
    uri = libpq_uri("crm app", "127.0.0.1", 5432, "crm", "/var/tmp/x/pgpass")
    assert uri == "postgresql://crm%20app@127.0.0.1:5432/crm?passfile=/var/tmp/x/pgpass"
