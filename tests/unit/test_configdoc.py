"""The configuration reference is generated from the schema and committed in sync."""

from ops.configdoc import TARGET, render
from pgvault.core.schema import StackConfig


def test_committed_reference_matches_the_schema():
    assert TARGET.read_text() == render(), "docs/configuration.md is stale; run python -m ops.configdoc"


def test_every_section_is_documented():
    text = render()
    for name in StackConfig.model_fields:
        if name not in ("name", "file"):
            assert f"## `pgvault:{name}`" in text
