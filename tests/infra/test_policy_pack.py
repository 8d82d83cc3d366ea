"""The policy pack's rules pass over the committed stacks' resources and fail on broken ones."""

from __future__ import annotations

import copy
import json

import pytest
from pulumi_policy import ResourceValidationArgs

from infra.policies import POLICIES
from pgvault.core.lifecycle import from_engine, repository_violations


def violations(resource_type: str, name: str, props: dict) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(resource_type, props, f"urn:{name}", name, None, None, {})
    for policy in POLICIES:
        policy.validate(args, lambda message, urn=None, name=policy.name: found.append(f"{name}: {message}"))
    return found


def test_the_program_never_violates_a_policy(graph):
    for resource in graph.resources:
        assert violations(resource.typ, resource.name, resource.inputs) == [], resource.name


def _broken(graph, typ, name=None):
    resource = next(r for r in graph.resources if r.typ == typ and (name is None or r.name == name))
    return resource.typ, resource.name, copy.deepcopy(resource.inputs)


def test_expiring_repository_objects_is_refused(graphs):
    typ, name, props = _broken(graphs["example"], "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    props["rules"][0]["expiration"] = {"days": 30}
    assert any("expires live objects under pgbackrest/" in v for v in violations(typ, name, props))


@pytest.mark.parametrize("days", [1, 30, 396, 400, 4000])
def test_the_pack_applies_the_loaders_own_rule(graphs, days):
    """One rule, two callers: the pack refuses exactly what the stack loader would (a backstop of any length)."""
    typ, name, props = _broken(graphs["example"], "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    props["rules"][0]["expiration"] = {"days": days}
    pack = [v for v in violations(typ, name, props) if v.startswith("pgbackrest-repository-lifecycle: ")]
    loader = repository_violations(from_engine(props["rules"]), "pgbackrest/")
    assert pack and pack == [f"pgbackrest-repository-lifecycle: {v.message}" for v in loader]


def test_deep_archive_under_the_repository_is_refused(graphs):
    typ, name, props = _broken(graphs["example"], "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    props["rules"][0]["transitions"].append({"days": 180, "storageClass": "DEEP_ARCHIVE"})
    assert any("DEEP_ARCHIVE" in v for v in violations(typ, name, props))


def test_a_bucket_policy_without_the_tls_deny_is_refused(graphs):
    typ, name, props = _broken(graphs["example"], "aws:s3/bucketPolicy:BucketPolicy")
    doc = json.loads(props["policy"])
    doc["Statement"] = [s for s in doc["Statement"] if s["Sid"] not in ("DenyInsecureTransport", "DenyOldTls")]
    props["policy"] = json.dumps(doc)
    found = violations(typ, name, props)
    assert any("aws:SecureTransport" in v for v in found) and any("TLS versions below 1.2" in v for v in found)


def test_aes256_default_encryption_is_refused(graphs):
    typ, name, props = _broken(
        graphs["example"], "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    props["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}
    assert any("aws:kms" in v for v in violations(typ, name, props))


@pytest.mark.parametrize("action", ["s3:*", "*"])
def test_wildcard_actions_are_refused(graphs, action):
    typ, name, props = _broken(graphs["example"], "aws:iam/rolePolicy:RolePolicy", "access-backup-policy")
    doc = json.loads(props["policy"])
    doc["Statement"].append({"Effect": "Allow", "Action": action, "Resource": "*"})
    props["policy"] = json.dumps(doc)
    assert any("wildcard" in v for v in violations(typ, name, props))


def test_a_writable_restore_role_is_refused(graphs):
    typ, name, props = _broken(graphs["example"], "aws:iam/rolePolicy:RolePolicy", "access-restore-policy")
    doc = json.loads(props["policy"])
    doc["Statement"].append({"Effect": "Allow", "Action": ["s3:DeleteObject"], "Resource": "arn:aws:s3:::b/*"})
    props["policy"] = json.dumps(doc)
    assert any("restore role may s3:DeleteObject" in v for v in violations(typ, name, props))


def test_an_age_alarm_that_ignores_silence_is_refused(graphs):
    typ, name, props = _broken(graphs["example"], "aws:cloudwatch/metricAlarm:MetricAlarm", "alerts-full-backup-age")
    props["treatMissingData"] = "notBreaching"
    assert any("missing data as breaching" in v for v in violations(typ, name, props))
