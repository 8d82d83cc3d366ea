"""The fences, checked before anything changes: the standby build and the in-place restore (monkeypatched edges).

After a failover whose roles are not swapped yet, the stack file still names the old primary as production and
the new production as the standby; neither ``host.standby --force`` nor ``restore.full --in-place --force`` may
then touch the wrong host, and no message may point a ``--force`` at production.
"""

from __future__ import annotations

import pytest

from ops import standby as standby_ops
from pgvault.actions import restore
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.targets import parse_target
from pgvault.edges.execute import Completed, LocalHost
from tests.builders import make_stack

HOSTS = [{"name": "db1", "address": "10.0.0.1"}, {"name": "db2", "address": "10.0.0.2", "role": "standby"}]
CONTROLDATA = "Database cluster state:               shut down\nLatest checkpoint's TimeLineID:       {}\n"


def _nothing_changes(monkeypatch, module) -> list:
    """Every way ``module`` changes a host fails the test; returns the commands it ran (reads only)."""
    ran: list = []

    def changed(*args, **kwargs):
        raise AssertionError(f"changed a host: {args[1:]}")

    monkeypatch.setattr(module.service, "control", changed)
    monkeypatch.setattr(module.remote, "ensure_dir", changed)
    return ran


@pytest.mark.parametrize(("fenced", "timeline", "why"), [
    (True, 1, "the stack's primary db1 is fenced"),
    (False, 2, "db2's cluster is on timeline 2, newer than the stack's primary db1's (1)"),
    (True, 2, "db2's cluster is on timeline 2"),
])
def test_a_forced_rebuild_of_the_new_production_down_before_the_swap_is_refused_and_so_is_its_force(
        monkeypatch, fenced, timeline, why):
    """db2 (the new production, stopped) and db1 back out of recovery on timeline 1, its fence kept or lost."""
    cfg = make_stack(hosts=HOSTS)
    target, primary = "target", "primary"
    ran = _nothing_changes(monkeypatch, standby_ops)
    monkeypatch.setattr(standby_ops, "role_state",
                        lambda conn, view: None if conn == target else {"in_recovery": False, "timeline": 1})
    monkeypatch.setattr(standby_ops.service, "pgbackrest_stopped", lambda conn, view: fenced and conn == primary)

    def run(conn, argv, **kwargs):
        ran.append(argv)
        assert argv[0] in ("test", f"{cfg.postgres.bin_dir}/pg_controldata"), argv
        return Completed(0, CONTROLDATA.format(timeline) if "pg_controldata" in argv[0] else "", "")

    monkeypatch.setattr(standby_ops.remote, "run", run)
    for force in (False, True):
        with pytest.raises(PgvaultError) as refused:
            standby_ops.build(target, cfg.on("db2"), primary, cfg, force, False, lambda line: None)
        line = refused.value.one_line()
        assert refused.value.code == ExitCode.USAGE and "--force" not in line and "swap the roles" in line
        assert why in line, line


def test_an_in_place_restore_onto_a_fenced_host_is_refused_before_postgresql_is_stopped(monkeypatch, tmp_path):
    """The global stop file (``pgbackrest stop`` without a stanza) fences too."""
    cfg = make_stack(hosts=HOSTS, pgbackrest={"lock_path": str(tmp_path)})
    _nothing_changes(monkeypatch, restore)
    monkeypatch.setattr(restore, "prepare", lambda *a, **k: pytest.fail("the restore was prepared"))
    for stop_file in ("all.stop", "crm.stop"):
        (tmp_path / stop_file).touch()
        with pytest.raises(PgvaultError) as refused:
            restore.in_place(LocalHost(), cfg, parse_target(), lambda line: None)
        line = refused.value.one_line()
        assert refused.value.code == ExitCode.REFUSED and "\n" not in line
        assert "db1 is fenced" in line and "swap the roles in Pulumi.test.yaml" in line and "pgbackrest start" in line
        (tmp_path / stop_file).unlink()


def test_once_the_roles_are_swapped_the_old_primary_is_what_the_force_names(monkeypatch):
    """db1 (stopped on timeline 1, fenced) is the stack's standby, db2 the running primary on timeline 2."""
    cfg = make_stack(hosts=[{**HOSTS[0], "role": "standby"}, {**HOSTS[1], "role": "primary"}])
    _nothing_changes(monkeypatch, standby_ops)
    monkeypatch.setattr(standby_ops, "role_state",
                        lambda conn, view: None if conn == "target" else {"in_recovery": False, "timeline": 2})
    monkeypatch.setattr(standby_ops.service, "pgbackrest_stopped", lambda conn, view: conn == "target")
    monkeypatch.setattr(standby_ops.remote, "run", lambda conn, argv, **kwargs: Completed(
        0, CONTROLDATA.format(1) if "pg_controldata" in argv[0] else "", ""))
    with pytest.raises(PgvaultError) as refused:
        standby_ops.build("target", cfg.on("db1"), "primary", cfg.on("db2"), False, False, lambda line: None)
    assert refused.value.one_line().endswith("fab host.standby --host db1 --force")
