"""The standby's pure parts: who trusts whom, the SSH files, pgBackRest's pg2 options, the restore, role drifts."""

from __future__ import annotations

from pgvault.core import pgbackrest, standby
from pgvault.core.host import HostFacts, desired_paths, plan, writes_to_repository
from pgvault.core.monitoring import status
from pgvault.core.secrets import Secret
from tests.builders import make_stack

HOSTS = [{"name": "db1", "address": "10.0.0.1"},
         {"name": "db2", "address": "10.0.0.2", "ssh_port": 2222, "role": "standby"},
         {"name": "stage1", "address": "10.0.0.3", "role": "staging"}]


def stack():
    return make_stack(hosts=HOSTS)


def test_primary_and_standby_trust_each_other_and_nobody_else():
    cfg = stack()
    assert [h.name for h in standby.peers(cfg)] == ["db2"]
    assert [h.name for h in standby.peers(cfg.on("db2"))] == ["db1"]
    assert standby.peers(cfg.on("stage1")) == []
    assert standby.peers(make_stack()) == []


def test_only_the_primary_backs_up_from_the_standby():
    cfg = stack()
    assert pgbackrest.backup_standby(cfg) == "db2"
    assert pgbackrest.backup_standby(cfg.on("db2")) is None
    assert pgbackrest.backup_standby(cfg.on("stage1")) is None
    options = dict((o.key, o.value) for _, opts in pgbackrest.conf_sections(cfg) for o in opts)
    assert options["pg2-host"] == "10.0.0.2" and options["pg2-host-port"] == "2222"
    assert options["backup-standby"] == "y" and options["cmd-ssh"].endswith("/ssh/pgvault-ssh")


def test_known_hosts_pins_the_peers_key_at_its_port_and_authorized_keys_restricts_it():
    cfg = stack()
    keys = {"db2": standby.PeerKeys("db2", "ssh-ed25519 AAAAuser pgbackrest@db2", "ssh-ed25519 AAAAhost")}
    assert "[10.0.0.2]:2222 ssh-ed25519 AAAAhost" in standby.known_hosts_text(cfg, keys, "#")
    assert "restrict ssh-ed25519 AAAAuser pgbackrest@db2" in standby.authorized_keys_text(cfg, keys, "#")
    missing = standby.authorized_keys_text(cfg, {}, "#")
    assert "ssh-ed25519" not in missing and "not generated yet" in missing


def test_the_ssh_files_are_private_and_the_key_is_generated_on_the_host():
    cfg = stack()
    targets = desired_paths(cfg, {"repo1-cipher-pass": Secret("P", "x")}, "stack", peer_keys={})
    ssh = {t.path: t.mode for t in targets if "/ssh" in t.path or "authorized_keys" in t.path}
    assert ssh[standby.ssh_dir(cfg)] == 0o700 and ssh[standby.known_hosts_file(cfg)] == 0o600
    assert ssh[cfg.pgbackrest.ssh_authorized_keys] == 0o600
    assert not any(path.endswith("id_ed25519") for path in ssh)
    facts = HostFacts("2.45", {}, {}, postgres_up=False)
    assert plan(cfg, targets, facts, "b").keygen
    assert not plan(cfg, targets, HostFacts("2.45", {}, {}, postgres_up=False, user_key="ssh-ed25519 A"), "b").keygen


def test_a_standby_creates_no_stanza_and_no_catalog():
    cfg = stack()
    assert writes_to_repository(cfg) and not writes_to_repository(cfg.on("db2"))
    facts = HostFacts("2.45", {}, {}, stanza_ok=False, catalog_ok=False, user_key="k")
    standby_plan = plan(cfg.on("db2"), [], facts, "b")
    assert not standby_plan.stanza and not standby_plan.catalog


def test_the_standby_restore_streams_from_the_primary_and_never_overwrites_without_delta():
    cfg = stack()
    options = standby.restore_options(cfg.on("db2"), cfg, delta=False)
    assert "--type=standby" in options and "--delta" not in options
    assert any("primary_conninfo=host=10.0.0.1 port=5432" in o for o in options)
    assert "--delta" in standby.restore_options(cfg.on("db2"), cfg, delta=True)


def test_role_drifts_name_a_primary_in_recovery_a_second_primary_and_a_fenced_primary():
    cfg = stack()
    assert "in recovery" in standby.role_drifts(cfg, {"in_recovery": True}, False)[0]
    assert "second primary" in standby.role_drifts(cfg.on("db2"), {"in_recovery": False}, False)[0]
    assert "fenced" in standby.role_drifts(cfg, None, True)[0]
    assert standby.role_drifts(cfg.on("db2"), {"in_recovery": True, "streaming": 1}, False) == []


def test_the_standby_check_warns_on_a_fallback_and_is_absent_without_a_standby():
    doc = {"jobs": {"full": {"ended": "2026-11-30T02:00:00+00:00", "outcome": "ok",
                             "sizes": {"standby": "db2", "standby_fallback": "db2 down"}}}}
    (check,) = status._standby_check(stack(), doc)
    assert check["state"] == status.WARNING and "db2 down" in check["message"]
    assert status._standby_check(make_stack(), doc) == []
    doc["jobs"]["incr"] = {"ended": "2026-11-30T03:00:00+00:00", "outcome": "ok", "sizes": {"standby": "db2"}}
    assert status._standby_check(stack(), doc)[0]["state"] == status.OK


def test_a_failed_backup_that_names_the_standby_falls_back():
    assert pgbackrest.standby_unavailable("P00 ERROR: [056]: unable to find standby cluster - cannot proceed")
    assert pgbackrest.standby_unavailable("P00   WARN: unable to check pg2: [UnknownError] remote-0 process on "
                                          "'db2' terminated unexpectedly [255]: Permission denied (publickey).")
    begin = "P00   INFO: backup command begin 2.45: --backup-standby --pg2-host=db2 --pg2-path=/srv --type=full\n"
    assert not pgbackrest.standby_unavailable(begin + "P00 ERROR: [082]: WAL segment was not archived before the "
                                              "timeout")


def test_a_view_of_a_view_is_the_host_as_the_stack_file_says():
    """After a failover swap the primary has overrides and the standby none: its pg2 options must be its own."""
    cfg = make_stack(hosts=[{"name": "db1", "address": "127.0.0.1", "role": "standby"},
                            {"name": "db2", "address": "127.0.0.1", "ssh_port": 2222,
                             "postgres": {"port": 5433, "data_dir": "/srv/db2/data", "scratch_dir": "/srv/db2/s"},
                             "pgbackrest": {"lock_path": "/srv/db2/lock", "spool_path": "/srv/db2/spool"},
                             "jobs": {"state_dir": "/srv/db2/state"}}])
    primary = cfg.on("db2")
    assert primary.postgres.port == 5433
    assert primary.on("db1").postgres.data_dir == cfg.postgres.data_dir
    options = dict((o.key, o.value) for _, opts in pgbackrest.conf_sections(primary) for o in opts)
    assert options["pg1-path"] == "/srv/db2/data" and options["pg2-path"] == cfg.postgres.data_dir
    assert options["pg2-port"] == "5432"


def test_host_standby_never_rebuilds_a_running_primary_nor_builds_without_one_to_stream_from():
    """Refusals come before anything changes and whatever --force says; each names the swap, never a --force."""
    cfg = stack()
    target, primary = cfg.on("db2"), cfg
    primary_up, standby_up = {"in_recovery": False, "timeline": 1}, {"in_recovery": True, "streaming": 1}
    assert standby.build_refusal(target, primary, None, primary_up) is None  # a new host: no cluster yet
    assert standby.build_refusal(target, primary, None, primary_up, timeline=1) is None  # the old primary
    assert standby.build_refusal(target, primary, standby_up, primary_up, timeline=1) is None
    # after a failover with the roles not swapped: the stack's standby is the new primary, its primary fenced
    promoted = standby.build_refusal(target, primary, {"in_recovery": False}, None)
    assert "db2 runs as a primary" in promoted.message and "swap the roles" in promoted.fix
    both = standby.build_refusal(target, primary, {"in_recovery": False}, primary_up)
    assert "both run as primaries" in both.message and "fab host.fence" in both.fix
    for state, why in ((None, "down"), ({"in_recovery": True}, "in recovery")):
        lost = standby.build_refusal(target, primary, None, state)
        assert f"the stack's primary db1 is {why}" in lost.message and "swap the roles" in lost.fix
    for refusal in (promoted, both, lost):
        assert refusal.code == 2 and "--force" not in refusal.one_line() and "\n" not in refusal.one_line()


def test_host_standby_never_rebuilds_the_new_production_while_it_is_down_before_the_swap():
    """After a failover, roles not swapped: db2 (the new production) briefly down, db1 back out of recovery.

    Its fence still on (a) or lost with a tmpfs lock folder (b, the timeline): refused either way, with --force too.
    """
    cfg = stack()
    target, primary = cfg.on("db2"), cfg
    old_primary_up = {"in_recovery": False, "timeline": 1}
    fenced = standby.build_refusal(target, primary, None, old_primary_up, primary_fenced=True, timeline=1)
    assert "the stack's primary db1 is fenced" in fenced.message and "swap the roles" in fenced.fix
    newer = standby.build_refusal(target, primary, None, old_primary_up, timeline=2)
    assert "db2's cluster is on timeline 2, newer than the stack's primary db1's (1)" in newer.message
    assert "swap the roles" in newer.fix
    running_newer = standby.build_refusal(target, primary, {"in_recovery": True, "timeline": 2}, old_primary_up,
                                          timeline=2)
    assert "newer than the stack's primary" in running_newer.message
    for refusal in (fenced, newer, running_newer):
        assert refusal.code == 2 and "--force" not in refusal.one_line() and "\n" not in refusal.one_line()
    # a fenced primary running out of recovery beside a running primary: the running one is never rebuilt
    assert "db2 runs as a primary" in standby.build_refusal(target, primary, {"in_recovery": False}, old_primary_up,
                                                            primary_fenced=True).message


def test_pg_controldata_gives_a_stopped_clusters_timeline():
    text = ("pg_control version number:            1300\nDatabase cluster state:               shut down\n"
            "Latest checkpoint location:           0/5000028\nLatest checkpoint's TimeLineID:       2\n")
    fields = standby.control_fields(text)
    assert fields[standby.CONTROL_TIMELINE] == "2" and fields["Latest checkpoint location"] == "0/5000028"
    assert standby.control_fields("") == {}


def test_a_fence_is_the_stanzas_stop_file_or_the_global_one():
    assert pgbackrest.stop_files(stack()) == [f"{stack().pgbackrest.lock_path}/crm.stop",
                                              f"{stack().pgbackrest.lock_path}/all.stop"]
