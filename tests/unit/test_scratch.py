"""Scratch clusters: names, ports, and a configuration that can never archive."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from psycopg.conninfo import conninfo_to_dict

from pgvault.core.errors import UsageError
from pgvault.core.scratch import (
    Scratch,
    config_lines,
    connection,
    hba_lines,
    pgbackrest_options,
    scratch_for,
    scratch_name,
    server_options,
)
from tests.builders import make_stack


def test_scratch_names():
    assert scratch_name(None, datetime(2026, 11, 27, 1, 2, 3, tzinfo=UTC)) == "restore-20261127-010203"
    assert scratch_name("drill-1", datetime.now(UTC)) == "drill-1"
    for bad in ["../x", "A B", "x;rm", ""]:
        with pytest.raises(UsageError):
            scratch_name(bad, datetime.now(UTC))


def test_scratch_config_and_options_disable_archiving_and_stay_on_loopback():
    place = scratch_for(make_stack(), "restore-1")
    assert place.data_dir == "/var/lib/pgvault/scratch/restore-1/data"
    text = config_lines(place, "20261127-000912F", "# banner")
    assert "archive_mode = off" in text and "archive_command = ''" in text
    assert text.index("include_if_exists") < text.index("archive_mode = off")
    options = server_options(place)
    assert "archive_mode=off" in options and "archive_command=" in options
    assert options[options.index("-p") + 1] == "5432"
    assert "listen_addresses=" in options and "listen_addresses = ''" in text
    assert "host " not in hba_lines("# b", "postgres")


def test_a_scratch_restore_keeps_out_of_productions_pgbackrest_folders():
    cfg = make_stack()
    place = scratch_for(cfg, "drill-1")
    options = dict(option.removeprefix("--").split("=", 1) for option in pgbackrest_options(place))
    assert set(options) == {"spool-path", "lock-path", "log-path"}
    production = {cfg.pgbackrest.spool_path, cfg.pgbackrest.lock_path, cfg.pgbackrest.log_path}
    for path in options.values():
        assert path.startswith(place.root + "/") and path not in production


def test_a_scratch_clusters_connection_names_its_own_socket_folder_never_productions_address():
    cfg = make_stack(hosts=[{"name": "db1", "address": "127.0.0.1"}])
    place = scratch_for(cfg, "restore-1")
    found = connection(cfg, place)
    parts = conninfo_to_dict(found["dsn"])
    assert parts == {"host": place.root, "port": str(cfg.postgres.port), "dbname": cfg.postgres.databases[0]}
    assert parts["host"] not in (cfg.postgres.socket_dir, "127.0.0.1", "localhost")
    assert found["psql"] == f"{cfg.postgres.bin_dir}/psql -X '{found['dsn']}'"
    assert conninfo_to_dict(connection(cfg, place, "postgres")["dsn"])["dbname"] == "postgres"


def test_a_socket_folder_with_a_space_or_quote_stays_one_conninfo_value():
    cfg = make_stack()
    odd = Scratch("x", "/srv/scratch dir/it's", 5433)
    assert conninfo_to_dict(connection(cfg, odd)["dsn"])["host"] == "/srv/scratch dir/it's"
