"""One formatter for sizes and one for durations, used by every message, report and page."""

from __future__ import annotations

import pytest

from pgvault.core.units import duration, human_bytes


@pytest.mark.parametrize("count, text", [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KB"), (20 * 1024 ** 2, "20.0 MB"),
                                         (3 * 1024 ** 4, "3.0 TB"), (5000 * 1024 ** 4, "5000.0 TB")])
def test_sizes_in_powers_of_1024(count, text):
    assert human_bytes(count) == text


@pytest.mark.parametrize("seconds, text", [(-3, "0 s"), (5, "5 s"), (119, "119 s"), (120, "2 min"),
                                           (3599, "59 min"), (3600, "1 h"), (4500, "1 h 15 min"), (30 * 3600, "30 h"),
                                           (47 * 3600 + 59, "47 h"), (2 * 86400, "2 d"),
                                           (8 * 86400 + 18 * 3600, "8 d 18 h"), (10.9 * 86400, "10 d 21 h")])
def test_durations_in_whole_units(seconds, text):
    assert duration(seconds) == text
