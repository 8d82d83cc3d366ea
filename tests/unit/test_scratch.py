"""Scratch clusters: names, ports, and a configuration that can never archive."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pgvault.core.errors import UsageError
from pgvault.core.scratch import (
    config_lines,
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
