"""The staging host's desired state, plan and drifts (pure): the restore keys only, never archiving settings."""

from __future__ import annotations

import pytest

from pgvault.core import pgbackrest
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.host import HostFacts, desired_paths, drifts, plan
from pgvault.core.plan import DesiredFile, PathFact
from pgvault.core.postgres import include_file
from pgvault.core.secrets import Secret, restore_secrets_file, secrets_file
from tests.builders import make_stack

BUILD = "0.1.0+abcdef012345"
STAGING = {"name": "stage1", "address": "stage1.example.internal", "role": "staging",
           "postgres": {"port": 5433}}
BACKUP = {"repo1-cipher-pass": Secret("P", "pass"), "repo1-s3-key": Secret("K", "BACKUPKEY")}
READ_ONLY = {"repo1-cipher-pass": Secret("P", "pass"), "repo1-s3-key": Secret("R", "READONLYKEY")}


def _stage():
    return make_stack(hosts=[{"name": "db1", "address": "db1.example.internal"}, STAGING]).on("stage1")


def _facts(targets, up: bool = False, extra: dict | None = None) -> HostFacts:
    paths = {t.path: PathFact(t.path, True, t.owner, t.mode, t.sha256 if isinstance(t, DesiredFile) else None)
             for t in targets}
    return HostFacts("2.45", {**paths, **(extra or {})}, {}, stanza_ok=False, catalog_ok=False, job_build=BUILD,
                     postgres_up=up, include_ok=False)


def test_staging_gets_the_read_only_configuration_and_the_drill_cron_and_nothing_of_the_backup_keys():
    stage = _stage()
    targets = desired_paths(stage, BACKUP, "config: {}\n", READ_ONLY)
    files = {t.path: t for t in targets if isinstance(t, DesiredFile)}
    assert restore_secrets_file(stage) in files and files[restore_secrets_file(stage)].mode == 0o600
    assert f"{pgbackrest.restore_config_path(stage)}/pgbackrest.conf" in files
    assert secrets_file(stage) not in files and pgbackrest.config_file(stage) not in files
    assert include_file(stage) not in files, "no archiving settings on staging"
    assert not any("BACKUPKEY" in t.content for t in files.values())
    assert "READONLYKEY" in files[restore_secrets_file(stage)].content
    cron_text = next(t.content for t in files.values() if "/cron.d/" in t.path)
    assert "--host stage1 drill" in cron_text and " full" not in cron_text


@pytest.mark.parametrize("up", [False, True])
def test_a_set_up_staging_host_plans_nothing_and_never_a_stanza_catalog_or_restart(up):
    stage = _stage()
    targets = desired_paths(stage, BACKUP, "config: {}\n", READ_ONLY)
    found = plan(stage, targets, _facts(targets, up), BUILD)
    assert found.empty and found.steps() == []
    assert drifts(stage, found, _facts(targets, up), {}, BUILD) == []


def test_host_check_names_a_backup_keys_file_found_on_staging():
    stage = _stage()
    targets = desired_paths(stage, BACKUP, "config: {}\n", READ_ONLY)
    planted = {secrets_file(stage): PathFact(secrets_file(stage), True, "postgres", 0o600)}
    facts = _facts(targets, extra=planted)
    lines = drifts(stage, plan(stage, targets, facts, BUILD), facts, {}, BUILD)
    assert lines == [f"{secrets_file(stage)} holds the backup keys on staging host stage1; a staging host holds "
                     "only the restore keys: delete that file"]


def test_a_staging_host_without_read_only_keys_is_refused_naming_them():
    with pytest.raises(PgvaultError) as refused:
        desired_paths(_stage(), BACKUP, "config: {}\n", None)
    assert refused.value.code == ExitCode.SECRET and "PGVAULT_RESTORE_S3_KEY" in refused.value.one_line()
