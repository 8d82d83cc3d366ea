"""Stateful resources survive `pulumi destroy`, renames and refactors (issue 12, defects 3 and 6).

The options are read as the engine receives them (``RegisterResourceRequest``), so
what is asserted here is what ``pulumi up`` would be told.
"""

from __future__ import annotations

import inspect
import re

import pulumi
import pulumi_random as random
import pytest

from infra.components import access, alerting, dashboard, storage
from tests.infra.harness import run_program

PASSWORD = "random:index/randomPassword:RandomPassword"
PARAMETER = "aws:ssm/parameter:Parameter"
BUCKET = "aws:s3/bucket:Bucket"
LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
#: resources whose loss loses backups, their key or their protection: the bucket and the key, the settings S3
#: keeps once per bucket (deleting a stale copy after a rename clears the live one), the passphrase
STATEFUL = ("aws:kms/key:Key", BUCKET, VERSIONING,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls", LOCK, "aws:s3/bucketPolicy:BucketPolicy",
            PASSWORD, PARAMETER)
#: the components of the program, with the names they were first deployed under
COMPONENTS = ((storage, "BackupBucket", "backups"), (access, "BackupAccess", "access"),
              (alerting, "BackupAlerts", "alerts"), (dashboard, "BackupDashboard", "dashboard"))


def _camel(name: str) -> str:
    return re.sub(r"_(\w)", lambda m: m.group(1).upper(), name)


def test_the_passphrase_is_never_regenerated_nor_deleted(graphs):
    """A change of its length or character set would replace the password, and `pulumi destroy` would delete it
    with its SSM parameter: the repository encrypted with it would become unreadable."""
    generation = {_camel(p) for p in inspect.signature(random.RandomPasswordArgs).parameters}
    assert {"length", "special", "keepers"} <= generation
    for stack, graph in graphs.items():
        password, parameter = graph.one(PASSWORD).options, graph.one(PARAMETER).options
        assert generation <= set(password.ignore_changes), stack
        assert "value" in parameter.ignore_changes
        assert password.retain_on_delete and parameter.retain_on_delete
        assert password.protect is parameter.protect is (stack != "sandbox")


@pytest.mark.parametrize("typ", STATEFUL)
def test_stateful_resources_are_retained_on_delete_and_protected_outside_the_sandbox(graphs, typ):
    example = graphs["example"].of_type(typ)
    assert example, f"the example stack has no {typ}"
    for stack, graph in graphs.items():
        for resource in graph.of_type(typ):
            assert resource.options.retain_on_delete, resource.name
            assert resource.options.protect is (stack != "sandbox"), resource.name


def test_object_lock_is_configured_on_the_versioned_bucket_not_at_its_creation(graphs):
    """``object_lock_enabled`` on the bucket would replace it when switched on later; the lock configuration
    enables Object Lock on the existing, versioned bucket instead."""
    example = graphs["example"]
    bucket = example.one(BUCKET)
    assert "objectLockEnabled" not in bucket.inputs
    assert "objectLockEnabled" in bucket.options.ignore_changes  # a bucket created with the flag is kept
    lock = example.one(LOCK)
    assert lock.inputs["objectLockEnabled"] == "Enabled"
    assert lock.inputs["rule"] == {"defaultRetention": {"mode": "GOVERNANCE", "days": 14}}
    assert example.one(VERSIONING).urn in lock.options.dependencies
    assert not graphs["sandbox"].of_type(LOCK)


def _renamed(cls):
    class Renamed(cls):
        def __init__(self, name, args, opts=None):
            renamed = pulumi.ResourceOptions(aliases=[pulumi.Alias(name=name)])
            super().__init__(f"renamed-{name}", args, pulumi.ResourceOptions.merge(opts, renamed))
    return Renamed


def _resolved(alias: dict, child_type: str, stack: str) -> str:
    parent_type = alias["parentUrn"].split("::")[2].split("$")[-1]
    return f"urn:pulumi:{stack}::pgvault::{parent_type}${child_type}::{alias['name']}"


def test_a_renamed_component_keeps_every_childs_urn(graphs, monkeypatch):
    """Each child carries an explicit alias to the URN it had under the component's former name (that name as
    parent, its own former name), so renaming a component moves state instead of replacing the bucket."""
    for module, cls, _ in COMPONENTS:
        monkeypatch.setattr(module, cls, _renamed(getattr(module, cls)))
    renamed = run_program("example")
    original = {r.urn for r in graphs["example"].resources}
    components = {r.urn for r in renamed.resources if r.typ.startswith("pgvault:")}
    children = [r for r in renamed.resources if r.options.parent in components]
    assert len(children) == len([r for r in graphs["example"].resources if r.options.parent.split("::")[-1] in
                                 {name for _, _, name in COMPONENTS}])
    for child in children:
        resolved = {_resolved(a, child.typ, "example") for a in child.options.aliases if "parentUrn" in a}
        assert resolved & original, f"{child.name} has no alias to its former URN"
