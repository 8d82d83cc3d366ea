"""``host.setup``'s refusals: why pgBackRest would not open the repository with the new settings, and the key to fix.

The plan and the drifts are specified case by case in ``tests/specs/plans/host/``.
"""

from __future__ import annotations

import pytest

from pgvault.core.host import refusal


@pytest.mark.parametrize("output, words", [
    ("P00 ERROR: [039]: HTTP request failed ... certificate verify failed", "TLS certificate is not trusted"),
    ("P00 ERROR: [095]: unable to decrypt: wrong key", "passphrase does not open the repository"),
    ("P00 ERROR: [029]: FormatError: raised from ... bad header", "passphrase does not open the repository"),
    ("P00 ERROR: [039]: HTTP request failed with 403 (Forbidden): InvalidAccessKeyId", "refuses the access keys"),
    ("P00 ERROR: [101]: unable to connect to 'localhost:1': Connection refused", "cannot read the repository"),
    ("something unexpected *** with more", "cannot read the repository with the new settings: something unexpected"),
])
def test_refusals_name_their_cause_and_the_setting_to_fix(output, words):
    line = refusal(output)
    assert words in line
    assert "\x00" not in line and line.isprintable()


@pytest.mark.parametrize("output, key", [
    ("ERROR: [039]: certificate verify failed", "pgvault:repository.ca_file"),
    ("ERROR: [095]: unable to decrypt", "PGVAULT_REPO_CIPHER_PASS"),
    ("ERROR: [039]: 403 Forbidden", "PGVAULT_S3_KEY and PGVAULT_S3_KEY_SECRET"),
])
def test_each_refusal_names_what_to_set(output, key):
    assert key in refusal(output)
