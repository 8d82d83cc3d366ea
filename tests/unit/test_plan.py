"""Plans from (desired, facts): changes with reasons, masked diffs, honest summaries."""

from __future__ import annotations

from pgvault.core.plan import DesiredDir, DesiredFile, PathFact, describe, diff, plan_paths, summary

CONF = DesiredFile("/etc/pgbackrest/pgbackrest.conf", "a=1\nb=2\n", "postgres", 0o640)
SECRET = DesiredFile("/etc/pgbackrest/conf.d/s.conf", "pass=hunter2\n", "postgres", 0o600, secret=True)
FOLDER = DesiredDir("/var/spool/pgbackrest", "postgres", 0o750)


def same(target, **kw):
    values = dict(exists=True, owner=target.owner, mode=target.mode)
    if isinstance(target, DesiredFile):
        values.update(sha256=target.sha256, content=None if target.secret else target.content)
    values.update(kw)
    return PathFact(target.path, **values)


def test_matching_host_has_an_empty_plan():
    facts = {t.path: same(t) for t in (CONF, SECRET, FOLDER)}
    changes = plan_paths([CONF, SECRET, FOLDER], facts)
    assert changes == []
    assert summary("host.setup db1", changes, [], dry_run=False) == "host.setup db1: no changes"


def test_missing_paths_are_created():
    changes = plan_paths([FOLDER, CONF], {})
    assert [c.reasons for c in changes] == [("create",), ("create",)]
    assert describe(changes[0]) == "dir  /var/spool/pgbackrest: create"


def test_content_mode_and_owner_drift_are_each_named():
    facts = {CONF.path: same(CONF, sha256="0" * 64, content="a=1\n", mode=0o644, owner="root")}
    (change,) = plan_paths([CONF], facts)
    assert change.reasons == ("content", "mode 0644 -> 0640", "owner root -> postgres")
    assert "+b=2" in diff(change) and "-a=1" not in diff(change)


def test_secret_files_never_show_content():
    facts = {SECRET.path: same(SECRET, sha256="0" * 64)}
    (change,) = plan_paths([SECRET], facts)
    text = diff(change)
    assert "hunter2" not in text and "content not shown" in text


def test_mode_only_change_has_no_diff():
    (change,) = plan_paths([CONF], {CONF.path: same(CONF, mode=0o600)})
    assert diff(change) == ""


def test_summary_wording_for_dry_run():
    changes = plan_paths([CONF], {})
    assert summary("host.setup db1", changes, ["restart PostgreSQL"], dry_run=True) == (
        "host.setup db1: would change 1 path(s); restart PostgreSQL")
