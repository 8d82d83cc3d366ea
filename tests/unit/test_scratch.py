"""Scratch clusters: names, ports, and a configuration that can never archive."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from ops.errors import UsageError
from ops.scratch import config_lines, listening_ports, pick_port, scratch_for, scratch_name, server_options
from tests.builders import make_stack

PROC_NET = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:D8D8 00000000:0000 0A 00000000:00000000 00:00000000 00000000   106        0 1 1
   1: 0100007F:1538 0100007F:A2C4 01 00000000:00000000 00:00000000 00000000   106        0 2 1
   2: 00000000000000000000000001000000:4E21 00000000000000000000000000000000:0000 0A 0 0 0 0 0 3 1
"""


def test_listening_ports_reads_only_listen_state():
    assert listening_ports(PROC_NET) == {0xD8D8, 0x4E21}


def test_pick_port_avoids_busy_ports():
    busy = set(range(20000, 40000)) - {31234}
    assert pick_port(busy, random.Random(1)) == 31234
    with pytest.raises(UsageError):
        pick_port(busy | {31234}, random.Random(1))


def test_scratch_names():
    assert scratch_name(None, datetime(2026, 11, 27, 1, 2, 3, tzinfo=timezone.utc)) == "restore-20261127-010203"
    assert scratch_name("drill-1", datetime.now(timezone.utc)) == "drill-1"
    for bad in ["../x", "A B", "x;rm", ""]:
        with pytest.raises(UsageError):
            scratch_name(bad, datetime.now(timezone.utc))


def test_scratch_config_and_options_disable_archiving_and_stay_on_loopback():
    place = scratch_for(make_stack(), "restore-1", 25432)
    assert place.data_dir == "/var/lib/pgvault/scratch/restore-1/data"
    text = config_lines(place, "20261127-000912F", "# banner")
    assert "archive_mode = off" in text and "archive_command = ''" in text
    assert text.index("include_if_exists") < text.index("archive_mode = off")
    options = server_options(place)
    assert "archive_mode=off" in options and "archive_command=" in options
    assert options[options.index("-p") + 1] == "25432"
    assert "listen_addresses=127.0.0.1" in options
