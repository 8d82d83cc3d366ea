"""The PITR copy-back script: one transaction, the table only through psql's quoting, the two exports."""

from __future__ import annotations

import pytest

from pgvault.core import copyback


def test_the_script_compares_two_exports_in_one_transaction():
    text = copyback.script("/s/before/copy-back.csv", "/s/after/copy-back.csv")
    lines = text.splitlines()
    assert lines[:4] == ["\\set QUIET on", "\\set ON_ERROR_STOP on", "SET pgvault.copy_back = :'table';", "BEGIN;"]
    assert lines[-1] == "COMMIT;" and text.endswith("\n")
    assert "\\copy pgvault_before FROM '/s/before/copy-back.csv' CSV" in lines
    assert "\\copy pgvault_after FROM '/s/after/copy-back.csv' CSV" in lines
    # rows are matched by primary key, and only rows production still holds as the accident left them change
    assert "indisprimary" in text and "= a::text" in text


def test_a_path_with_a_quote_is_refused():
    with pytest.raises(ValueError):
        copyback.script("/tmp/it's.csv", "/tmp/after.csv")
