"""The architecture document's module map is the tree's: every module, its layer, what a DB host receives."""

from __future__ import annotations

from ops.modulemap import BEGIN, END, TARGET, render, updated


def test_the_committed_module_map_matches_the_tree():
    document = TARGET.read_text()
    assert BEGIN in document and END in document
    assert updated(document) == document, "the module map is stale: run python -m ops.modulemap"


def test_the_map_lists_every_module_once_and_ships_only_the_package():
    text = render()
    shipped = text.split("What a DB host receives")[1]
    assert "pgvault/job.py" in shipped and "pgvault/core/templates/dashboard.html.j2" in shipped
    for elsewhere in ("ops/", "sandbox/", "infra/", "bench/", "tests/"):
        assert f"\n{elsewhere}" not in shipped
    rows = [line.split("`")[1] for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len(set(rows)) and "sandbox/demo.py" in rows and "ops/tasks/host.py" in rows
