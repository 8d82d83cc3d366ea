"""Runbooks: the committed sandbox runbooks are what the templates render; runnable blocks are found."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ops import runbooks
from pgvault.core import jobs
from pgvault.core.config import parse_stack
from pgvault.core.monitoring import alerts
from pgvault.core.policy import alarm_specs
from tests.builders import make_stack

ROOT = Path(__file__).resolve().parents[2]


def sandbox():
    return parse_stack((ROOT / "Pulumi.sandbox.yaml").read_text(), "Pulumi.sandbox.yaml", "sandbox",
                       default_os_user="postgres")


RENDERED = runbooks.render_all(sandbox())


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_committed_runbook_matches_its_template(name):
    committed = ROOT / "runbooks" / "sandbox" / name
    assert committed.read_text() == RENDERED[name], f"{name} is stale: run fab runbooks.render --stack sandbox"


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_every_runbook_has_a_banner_runnable_steps_and_no_secret(name):
    text = RENDERED[name]
    assert text.startswith("<!-- Managed by pgvault from Pulumi.sandbox.yaml")
    steps = runbooks.blocks(name, text)
    assert steps and len({b.step for b in steps}) == len(steps)
    assert all(b.host in ("control", "db", "restore") for b in steps)
    for word in ("cipher-pass=", "PGVAULT_S3_KEY_SECRET=", "PGVAULT_REPO_CIPHER_PASS="):
        assert word not in text


def test_block_extraction_reads_the_fence_metadata():
    text = "x\n\n```sh pgvault-run step=a-1 host=db user=postgres\necho hi\n```\n\n```sh\nnot run\n```\n"
    (block,) = runbooks.blocks("x", text)
    assert (block.step, block.host, block.user, block.code) == ("a-1", "db", "postgres", "echo hi\n")


def test_alarm_sections_exist_for_every_alarm_and_failure_alert():
    text = RENDERED["alarms.md"]
    sections = [job.runbook_section for job in jobs.JOBS] + [alerts.UNKNOWN_JOB_SECTION]
    for key in [a.key for a in alarm_specs(sandbox())] + sections:
        assert f'<a id="{key}"></a>' in text, key


#: the alarms runbook is the monitoring work's (issue 14, item 7); every other runbook is held to these rules
OPERATOR_RUNBOOKS = sorted(n for n in RENDERED if n != "alarms.md")


@pytest.mark.parametrize("name", OPERATOR_RUNBOOKS)
def test_every_block_says_where_to_run_it_as_whom_and_how_to_get_there(name):
    cfg, lines = sandbox(), RENDERED[name].splitlines()
    for block in runbooks.blocks(name, RENDERED[name]):
        before = next(line for line in reversed(lines[:block.line]) if line.strip())
        assert before == runbooks.where(cfg, block.host, block.user), f"{name} step {block.step}: {before!r}"
    assert "`ssh -p 52022 -i /var/tmp/pgvault-sandbox/ssh/id_ed25519 127.0.0.1`, then `sudo -iu postgres`" in (
        runbooks.where(cfg, "db", "postgres"))


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_every_variable_a_block_reads_is_guarded_at_its_top_without_a_default(name):
    for block in runbooks.blocks(name, RENDERED[name]):
        lines = block.code.splitlines()
        guards = []
        for line in lines:
            found = re.match(r': "\$\{([A-Z][A-Z0-9_]*):\?set \1 [^"]+\}"$', line)
            if not found:
                break
            guards.append(found.group(1))
        read = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", block.code))
        assert read <= set(guards), f"{name} step {block.step} reads {sorted(read - set(guards))} unguarded"
        assert ":-" not in block.code, f"{name} step {block.step} falls back to a default"


def test_the_canary_claims_follow_the_canary_schedule():
    text = (ROOT / "Pulumi.sandbox.yaml").read_text() + "  pgvault:schedule:\n    canary: \"*/5 * * * *\"\n"
    cfg = parse_stack(text, "Pulumi.sandbox.yaml", "sandbox", default_os_user="postgres")
    rendered = runbooks.render_all(cfg)
    # one canary every 300 s, archived within archive_timeout (30 s for the sandbox's 60 s RPO)
    for name in ("restore-latest.md", "disaster-recovery.md"):
        assert "one every 300 s" in rendered[name] and "at most about 330 s" in rendered[name], name
        assert "a few minutes old" not in rendered[name] and "at most about 30 s before" not in rendered[name]


def test_restore_checks_count_rows_instead_of_reading_statistics():
    for name, text in RENDERED.items():
        for block in runbooks.blocks(name, text):
            assert "n_live_tup" not in block.code, f"{name} step {block.step}"
    (check,) = [b for b in runbooks.blocks("restore-latest", RENDERED["restore-latest.md"]) if b.step == "latest-3"]
    assert "count(*)" in check.code


def test_the_logical_restore_runbook_warns_to_pick_a_dump_from_before_the_accident():
    text = RENDERED["logical-restore.md"]
    assert "Pick a dump taken before the accident" in text
    assert "$(date" not in text


def test_with_a_staging_host_restores_are_checked_there_and_dr_offers_to_promote_it():
    staging = {"name": "stage1", "address": "stage1.example.internal", "role": "staging",
               "postgres": {"port": 5433, "scratch_dir": "/srv/stage/scratch"}}
    cfg = make_stack(hosts=[{"name": "db1", "address": "db1.example.internal"}, staging])
    rendered = runbooks.render_all(cfg)
    for name in ("restore-latest.md", "pitr.md"):
        lines = rendered[name].splitlines()
        for block in runbooks.blocks(name, rendered[name]):
            before = next(line for line in reversed(lines[:block.line]) if line.strip())
            assert before == runbooks.where(cfg, block.host, block.user)
            if block.host == "restore":
                assert "on stage1, the staging host, not production," in before and "/srv/stage/scratch/" in block.code
                assert "db1.example.internal" not in block.code
    assert any(b.host == "db" for b in runbooks.blocks("pitr.md", rendered["pitr.md"])), "copy-back on production"
    promote = rendered["disaster-recovery.md"].split('<a id="promote-staging"></a>')[1].split("<a id=")[0]
    assert "role: primary            # was: staging" in promote and "--in-place --force" in promote
    assert "port 5433" in promote and "backup** keys" in promote
    assert runbooks.where(make_stack(), "restore", "postgres") == runbooks.where(make_stack(), "db", "postgres")


def test_the_failover_runbook_rebuilds_the_old_primary_by_its_role_never_by_a_name():
    """Rendered before the failover or after the roles are swapped, step 4 never points --force at production."""
    hosts = [{"name": "db1", "address": "db1.example.internal"},
             {"name": "db2", "address": "db2.example.internal", "role": "standby"}]
    for swapped in (False, True):
        roles = ("standby", "primary") if swapped else ("primary", "standby")
        cfg = make_stack(hosts=[{**h, "role": r} for h, r in zip(hosts, roles, strict=True)])
        cfg = cfg.on(cfg.primary.name)
        text = runbooks.render_all(cfg)["failover.md"]
        steps = {b.step: b for b in runbooks.blocks("failover", text)}
        assert list(steps) == ["failover-1", "failover-3", "failover-4a", "failover-4b"]
        # the dry run is a block of its own, read before the rebuild's block is pasted
        assert steps["failover-4a"].code == f"fab host.standby --stack {cfg.name} --force --dry-run\n"
        rebuild = steps["failover-4b"].code
        assert rebuild.startswith(f"fab host.standby --stack {cfg.name} --force\n") and "--host" not in rebuild
        assert "--dry-run" not in rebuild
        old, new = cfg.primary.name, cfg.with_role("standby").name  # as this render's failover sees them
        words = " ".join(text.split())
        assert f"would restore {old} from the repository as a standby of {new} over its data directory" in words
        assert f"Go on only if it names {old}**" in words


def test_promoting_staging_is_runnable_and_fences_the_primary_first():
    staging = {"name": "stage1", "address": "stage1.example.internal", "role": "staging",
               "postgres": {"port": 5433, "data_dir": "/srv/stage/data"}}
    cfg = make_stack(hosts=[{"name": "db1", "address": "db1.example.internal"}, staging])
    text = runbooks.render_all(cfg)["disaster-recovery.md"]
    lines = text.splitlines()
    promote = [b for b in runbooks.blocks("disaster-recovery", text) if b.step.startswith("dr-staging-")]
    assert [b.step for b in promote] == ["dr-staging-1", "dr-staging-2", "dr-staging-4", "dr-staging-5"]
    assert promote[0].code == f"fab host.fence --stack {cfg.name} --host db1\n"
    for block in promote:
        before = next(line for line in reversed(lines[:block.line]) if line.strip())
        assert before == runbooks.where(cfg, block.host, block.user)
        assert "db1.example.internal" not in block.code
    assert "/srv/stage/data" in promote[1].code and "-p 5433" in promote[3].code
    assert runbooks.blocks("disaster-recovery", runbooks.render_all(make_stack())["disaster-recovery.md"])[-1].step == (
        "dr-5"), "without a staging host the promotion has no block"
