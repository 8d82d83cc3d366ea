"""The synthetic CRM dataset generator (pure SQL text)."""

from __future__ import annotations

import pytest

from sandbox.seed import TABLES, checksum_sql, row_counts, seed_sql


def test_rows_grow_linearly_with_scale():
    assert row_counts(3) == {t: 3 * n for t, n in row_counts(1).items()}


def test_script_creates_every_table_with_the_scaled_counts():
    text = seed_sql(2)
    for table, rows in row_counts(2).items():
        assert f"CREATE TABLE {table} (" in text
        assert f"generate_series(1, {rows})" in text
    assert "setseed" in text  # the same data every run


def test_scale_below_one_is_refused():
    with pytest.raises(ValueError):
        seed_sql(0)


def test_checksums_cover_every_table():
    text = checksum_sql()
    assert all(f"FROM {t} x" in text for t in TABLES)
