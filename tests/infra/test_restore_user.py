"""The restore user: keys for drills and restores on a host that uses access keys (issue 12, defect 5).

Roles have no access keys, so a DB host outside AWS could only run its drills and scratch restores with the
backup user's read-write keys.  With ``pgvault:access.iam_user`` the program also creates a user holding exactly
the restore policy (read only, but for putting drill results below ``drills/<stanza>/``); its key becomes the
host's ``PGVAULT_RESTORE_S3_KEY`` / ``PGVAULT_RESTORE_S3_KEY_SECRET``.
"""

from __future__ import annotations

import json

import pytest

from infra import documents, names, outputs
from pgvault.core.bucket import drills_prefix
from tests.infra.harness import committed_stack, run_stack

USER = "aws:iam/user:User"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"


def _of_user(graph, typ, user):
    """The resources of ``typ`` whose ``user`` input comes from ``user``."""
    return [r for r in graph.of_type(typ) if user.urn in r.options.property_dependencies.get("user", ())]


def _named(graph, name):
    (found,) = [r for r in graph.resources if r.name == name]
    return found


@pytest.fixture(scope="module")
def example(graphs):
    return graphs["example"]


@pytest.fixture(scope="module")
def restore_user(example):
    return example.one(USER, "access-restore-user")


def test_the_user_exists_only_with_iam_user(graphs, tmp_path):
    assert {u.name for u in graphs["example"].of_type(USER)} == {"access-backup-user", "access-restore-user"}
    assert not graphs["sandbox"].of_type(USER) and not graphs["sandbox"].of_type(ACCESS_KEY)
    for name in outputs.IAM_USER:
        assert name not in graphs["sandbox"].outputs
    off = run_stack(tmp_path, "off", access={"iam_user": False})
    assert not off.of_type(USER) and not off.of_type(USER_POLICY) and not off.of_type(ACCESS_KEY)


def test_its_name_comes_from_names_and_its_tag_is_the_restore_purpose(restore_user):
    cfg = committed_stack("example")
    assert restore_user.inputs["name"] == names.iam_name(names.prefix(cfg), names.RESTORE)
    assert restore_user.inputs["tags"] == {names.PURPOSE_TAG: names.RESTORE}


def test_the_backup_user_declares_its_purpose_too(example):
    assert example.one(USER, "access-backup-user").inputs["tags"] == {names.PURPOSE_TAG: names.BACKUP}


def test_its_only_policy_is_exactly_the_restore_policy(example, restore_user):
    cfg = committed_stack("example")
    (policy,) = _of_user(example, USER_POLICY, restore_user)
    doc = json.loads(policy.inputs["policy"])
    expected = documents.restore_policy(
        example.one("aws:s3/bucket:Bucket").state["arn"], example.one("aws:kms/key:Key", "backups-key").state["arn"],
        example.one("aws:ssm/parameter:Parameter").state["arn"], cfg.repository.repo_prefix,
        cfg.repository.logical_prefix, drills_prefix(cfg), cfg.repository.region)
    assert doc == expected
    assert doc == json.loads(example.one(ROLE_POLICY, "access-restore-policy").inputs["policy"])
    writes = [(a, s["Resource"]) for s in doc["Statement"] for a in (
        s["Action"] if isinstance(s["Action"], list) else [s["Action"]]) if a.startswith((
            "s3:Put", "s3:Delete", "s3:Abort", "kms:Encrypt", "kms:GenerateDataKey"))]
    bucket = example.one("aws:s3/bucket:Bucket").state["arn"]
    assert writes == [("s3:PutObject", f"{bucket}/drills/{cfg.pgbackrest.stanza}/*"),
                      ("kms:GenerateDataKey", example.one("aws:kms/key:Key", "backups-key").state["arn"])]


def test_it_has_one_access_key_and_no_other_permissions(example, restore_user):
    (key,) = _of_user(example, ACCESS_KEY, restore_user)
    assert key.name == "access-restore-user-key"
    attached = [r for r in example.resources if r.typ.startswith("aws:iam/") and r.typ not in (
        USER_POLICY, ACCESS_KEY) and restore_user.urn in {u for urns in r.options.property_dependencies.values()
                                                          for u in urns}]
    assert attached == []


def test_its_key_is_a_stack_output_and_the_secret_stays_secret(example, restore_user):
    (key,) = _of_user(example, ACCESS_KEY, restore_user)
    assert example.outputs[outputs.RESTORE_USER_KEY_ID] == f"{key.name}-id"  # the mocks' id of that key
    assert example.outputs[outputs.RESTORE_USER_KEY_ID] != example.outputs[outputs.BACKUP_USER_KEY_ID]
    assert example.outputs[outputs.RESTORE_USER_KEY_SECRET] == key.state["secret"]
    assert example.secret_outputs[outputs.RESTORE_USER_KEY_SECRET] is True
    assert example.secret_outputs[outputs.RESTORE_USER_KEY_ID] is False
    for name in outputs.SECRET:
        assert example.secret_outputs[name] is True, name


@pytest.mark.parametrize("suffix", ["user", "user-policy", "user-key"])
def test_its_resources_have_the_backup_users_options(example, suffix):
    """Neither user is stateful (a lost key is replaced by a new one): same protect and retain as the backup user."""
    restore, backup = _named(example, f"access-restore-{suffix}"), _named(example, f"access-backup-{suffix}")
    assert (restore.options.protect, restore.options.retain_on_delete) == (backup.options.protect,
                                                                           backup.options.retain_on_delete)
    assert restore.options.parent == backup.options.parent
