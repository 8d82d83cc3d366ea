"""Every check the status document can carry has a section in the alarms runbook and a line of what to do."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ops import runbooks
from pgvault.core import walproof
from pgvault.core.errors import ConfigError
from pgvault.core.forecast import GB, Cohort
from pgvault.core.monitoring import advice, status
from tests.builders import make_stack
from tests.unit.test_status import LAST, facts, failed_run, stored


def every_check_at_once(cfg) -> set[str]:
    """The keys of a document built from facts in which everything that can go wrong has."""
    fell_back = {"job": "full", "ended": LAST.isoformat(), "outcome": "ok",
                 "sizes": {"standby": "db2", "standby_fallback": "the standby db2 could not be used"}}
    found = facts(timedelta(hours=40), jobs={"last": {"incr": failed_run("incr", LAST + timedelta(hours=1)),
                                                      "full": fell_back}},
                  drills=[stored({"finished": LAST.isoformat(), "passed": False, "seconds": {"rto": 1}})],
                  problems=["PostgreSQL on db1 does not answer"])
    found.volumes = {"pg_wal": (95, 1), "spool": (95, 1)}
    found.waiting = [("000000010000000000000010", found.now - timedelta(hours=1))]
    found.primary.update(last_failed_wal="000000010000000000000010", failed_count=1,
                         last_failed_time=found.now.isoformat())
    found.proof = walproof.Proof("15-1", broken=walproof.Break("000000010000000000000010", None, "zeroed page"),
                                 checked=found.now.isoformat())
    found.cohorts = [Cohort("wal", 0, 100 * GB, 64)]
    return {c["key"] for c in status.build(cfg, found)["checks"]}


def test_the_advice_covers_exactly_the_checks_the_status_module_produces():
    """``advice.annotate`` refuses an undeclared key; this shows no declared key is dead."""
    cfg = make_stack(targets={"rpo_seconds": 300, "monthly_budget": 1.0}, hosts=[
        {"name": "db1", "address": "db1.example.internal"},
        {"name": "db2", "address": "db2.example.internal", "role": "standby"}])
    assert every_check_at_once(cfg) == set(advice.ACTIONS)


def test_an_undeclared_check_is_refused():
    with pytest.raises(KeyError):
        advice.annotate(make_stack(), {"key": "made-up", "state": "ok", "message": ""})


@pytest.mark.parametrize("stack", ["sandbox", "test"])
@pytest.mark.parametrize("key", sorted(advice.ACTIONS) + ["pgbackrest-042"])
def test_every_check_has_a_section_in_the_alarms_runbook(stack, key):
    cfg = make_stack(stack)
    text = runbooks.render_all(cfg)["alarms.md"]
    assert f'<a id="{key}"></a>' in text, f"the alarms runbook has no section for {key}"


def test_runbook_links_are_repository_paths_unless_a_base_url_says_where_the_repository_is_browsed():
    plain = advice.annotate(make_stack(), {"key": "backup-age", "state": "critical", "message": ""})
    assert plain["runbook"] == "runbooks/test/alarms.md#backup-age"
    cfg = make_stack(alerts={"runbook_base_url": "https://git.example.com/acme/pgvault/-/blob/main/"})
    linked = advice.annotate(cfg, {"key": "backup-age", "state": "critical", "message": ""})
    assert linked["runbook"] == "https://git.example.com/acme/pgvault/-/blob/main/runbooks/test/alarms.md#backup-age"


@pytest.mark.parametrize("url", ["http://git.example.com/", "javascript:alert(1)", "https://x y/"])
def test_a_runbook_base_url_must_be_https(url):
    with pytest.raises(ConfigError, match="runbook_base_url"):
        make_stack(alerts={"runbook_base_url": url})
