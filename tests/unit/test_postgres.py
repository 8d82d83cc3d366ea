"""PostgreSQL settings pgvault owns, restart-or-reload decisions, SQL quoting."""

from __future__ import annotations

import pytest

from pgvault.core.postgres import (
    LiveSetting,
    Setting,
    libpq_uri,
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
