"""``host.setup``'s plan and ``host.check``'s drifts from facts, case by case (pyinfra's operation specs).

Each ``plans/host/<case>.json`` gives a host's facts and the plan and drifts
expected from them.  Facts are written the way a person reads a host: a
path's state (``current``, ``missing``, ``content``, ``mode 0644``, ``owner
root``; every path not named is current), the settings PostgreSQL reports
(``current``, or per setting), and the rest of :class:`HostFacts`.  The
stack is the production-like test stack; the build this control side would
install is ``BUILD``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pgvault.core.host import HostFacts, desired_paths, drifts, plan
from pgvault.core.plan import DesiredFile, PathFact
from pgvault.core.postgres import LiveSetting, owned_settings
from pgvault.core.secrets import Secret
from tests.builders import make_stack

CASES = sorted((Path(__file__).parent / "plans" / "host").glob("*.json"))
BUILD = "0.1.0+abcdef012345"
#: pg_settings.context of the settings pgvault owns
CONTEXTS = {"archive_mode": "postmaster", "wal_level": "postmaster", "archive_command": "sighup",
            "archive_timeout": "sighup", "wal_compression": "superuser", "checkpoint_timeout": "sighup",
            "max_wal_size": "sighup"}


def path_fact(target, state: str) -> PathFact:
    """What the host says about ``target`` in the named state."""
    if state == "missing":
        return PathFact(target.path, False)
    owner, mode = target.owner, target.mode
    digest = target.sha256 if isinstance(target, DesiredFile) else None
    content = None
    if state == "content":
        digest, content = "0" * 64, "# an older version\n"
    elif state.startswith("mode "):
        mode = int(state.split()[1], 8)
    elif state.startswith("owner "):
        owner = state.split()[1]
    return PathFact(target.path, True, owner, mode, digest, content)


def host_facts(cfg, targets, given: dict) -> HostFacts:
    states = given.get("paths", {})
    settings = {s.name: LiveSetting(s.name, s.value, CONTEXTS[s.name], False) for s in owned_settings(cfg)}
    for name, row in (given.get("settings") or {}).items():
        settings[name] = LiveSetting(name, row.get("setting", settings[name].setting), CONTEXTS[name],
                                     row.get("pending_restart", False))
    up = given.get("postgres_up", True)
    return HostFacts(
        pgbackrest_version=given.get("pgbackrest_version", "2.45"),
        paths={t.path: path_fact(t, states.get(t.path, "current")) for t in targets},
        settings=settings if up else {},
        stanza_ok=given.get("stanza_ok", True), catalog_ok=given.get("catalog_ok", True),
        job_build=given.get("job_build", BUILD), utc_offset=given.get("utc_offset", "+0000"), postgres_up=up,
        include_ok=given.get("include_ok", True), repository_unreadable=given.get("repository_unreadable"))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_host_plan(case):
    spec = json.loads(case.read_text())
    cfg = make_stack()
    targets = desired_paths(cfg, {"repo1-cipher-pass": Secret("P", "p")}, "config: {}\n")
    facts = host_facts(cfg, targets, spec["facts"])
    found = plan(cfg, targets, facts, BUILD)
    want = spec["plan"]
    assert {c.path: list(c.reasons) for c in found.changes} == want.get("changes", {})
    assert found.steps() == want.get("steps", [])
    assert found.empty == (not want.get("changes") and not want.get("steps"))
    assert len(found.notes) == want.get("notes", 0)
    assert drifts(cfg, found, facts, spec.get("archiver", {}), BUILD) == spec["drifts"]
