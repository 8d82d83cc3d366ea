"""The optional second copy (S3 replication) and audit trail (server access logs), each one switch under storage."""

from __future__ import annotations

import json

import pytest

from infra import names
from infra.stack_checks import BUCKET, ENCRYPTION, LIFECYCLE, LOCK, LOGGING, VERSIONING
from pgvault.core.policy import replication_lag_seconds
from tests.builders import make_stack
from tests.infra.harness import ACCOUNT, policy_violations, run_stack

REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SOURCE = "acme-crm-backups"  # the test builders' bucket
STORAGE = {"replica_region": "eu-central-1", "object_lock": True, "object_lock_days": 14, "access_logs": True}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """A stack with both switches on."""
    return run_stack(tmp_path_factory.mktemp("both"), "dr", storage=STORAGE)


def _bucket(graph, name):
    (found,) = [b for b in graph.of_type(BUCKET) if b.inputs["bucket"] == name]
    return found


def _of_bucket(graph, typ, bucket):
    return [r for r in graph.of_type(typ) if bucket.urn in r.options.property_dependencies.get("bucket", ())]


def test_neither_is_on_by_default(graphs):
    for graph in graphs.values():
        assert len(graph.of_type(BUCKET)) == 1
        assert not graph.of_type(REPLICATION) and not graph.of_type(LOGGING)


def test_the_program_with_both_passes_the_pack(both):
    assert policy_violations(both.resources) == []


def test_the_replica_is_a_full_backup_bucket_in_its_own_region(both):
    replica = _bucket(both, f"{SOURCE}-replica")
    provider = both.by_urn(replica.options.provider.rsplit("::", 1)[0])
    assert provider.inputs["region"] == "eu-central-1"
    (encryption,) = _of_bucket(both, ENCRYPTION, replica)
    key_arn = encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    (key,) = [k for k in both.of_type("aws:kms/key:Key") if k.state["arn"] == key_arn]
    assert key.options.provider == replica.options.provider and key.name == "replica-key"
    assert _of_bucket(both, VERSIONING, replica)[0].inputs["versioningConfiguration"] == {"status": "Enabled"}
    lock = _of_bucket(both, LOCK, replica)[0].inputs["rule"]
    assert lock == {"defaultRetention": {"mode": "GOVERNANCE", "days": 14}}
    source = _bucket(both, SOURCE)
    assert _of_bucket(both, LIFECYCLE, replica)[0].inputs["rules"] == _of_bucket(both, LIFECYCLE, source)[0].inputs[
        "rules"]
    for resource in both.resources:
        if resource.options.provider == replica.options.provider and resource.typ != ALARM:
            assert resource.options.retain_on_delete or resource.typ == "aws:kms/alias:Alias", resource.name


def test_replication_copies_the_repository_and_the_dumps_with_their_deletions(both):
    source, replica = _bucket(both, SOURCE), _bucket(both, f"{SOURCE}-replica")
    (config,) = _of_bucket(both, REPLICATION, source)
    rules = config.inputs["rules"]
    assert [r["filter"] for r in rules] == [{"prefix": "pgbackrest/"}, {"prefix": "logical/"}]
    replica_key = _of_bucket(both, ENCRYPTION, replica)[0].inputs["rules"][0]["applyServerSideEncryptionByDefault"][
        "kmsMasterKeyId"]
    for rule in rules:
        assert rule["status"] == "Enabled" and rule["deleteMarkerReplication"] == {"status": "Enabled"}
        assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
        assert rule["destination"]["bucket"] == replica.state["arn"]
        assert rule["destination"]["encryptionConfiguration"] == {"replicaKmsKeyId": replica_key}
        assert rule["destination"]["metrics"] == {"status": "Enabled"}
    versionings = {v.urn for b in (source, replica) for v in _of_bucket(both, VERSIONING, b)}
    assert versionings <= set(config.options.dependencies)
    assert config.options.retain_on_delete


def test_the_replication_role_acts_only_for_this_bucket(both):
    (role,) = [r for r in both.of_type("aws:iam/role:Role") if r.inputs["tags"][names.PURPOSE_TAG] == "replication"]
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                                      "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{SOURCE}"}}
    assert len(role.inputs["name"]) <= names.IAM_NAME_MAX


def test_replication_lag_alarms_per_rule(both):
    cfg = make_stack("dr", storage=STORAGE)
    alarms = [a for a in both.of_type(ALARM) if a.inputs.get("metricName") == "ReplicationLatency"]
    assert sorted(a.inputs["dimensions"]["RuleId"] for a in alarms) == ["logical", "pgbackrest"]
    topic = both.one("aws:sns/topic:Topic").state["arn"]
    for alarm in alarms:
        assert alarm.inputs["namespace"] == "AWS/S3" and alarm.inputs["statistic"] == "Maximum"
        assert alarm.inputs["threshold"] == replication_lag_seconds(cfg) == 900
        assert alarm.inputs["dimensions"]["SourceBucket"] == SOURCE
        assert alarm.inputs["dimensions"]["DestinationBucket"] == f"{SOURCE}-replica"
        assert alarm.inputs["alarmActions"] == [topic]
        assert alarm.inputs["name"].startswith(names.prefix(cfg))  # the alert key lets CloudWatch encrypt for it
    body = json.loads(both.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    (widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(widget["properties"]["alarms"]) == len(both.of_type(ALARM))


def test_access_logs_go_to_their_own_bucket_for_as_long_as_backups_are_kept(both):
    source, logs = _bucket(both, SOURCE), _bucket(both, f"{SOURCE}-access-logs")
    (logging,) = both.of_type(LOGGING)
    assert logs.urn in logging.options.property_dependencies["targetBucket"]
    assert source.urn in logging.options.property_dependencies["bucket"]
    assert logging.inputs["targetPrefix"] == "access-logs/"
    (encryption,) = _of_bucket(both, ENCRYPTION, logs)
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert not _of_bucket(both, LOCK, logs)  # S3 delivers no access logs to a bucket with default retention
    (rule,) = _of_bucket(both, LIFECYCLE, logs)[0].inputs["rules"]
    assert rule["filter"] == {"prefix": "access-logs/"} and rule["expiration"] == {"days": 365}
    (policy,) = _of_bucket(both, "aws:s3/bucketPolicy:BucketPolicy", logs)
    (grant,) = [s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Effect"] == "Allow"]
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"} and grant["Action"] == "s3:PutObject"
    assert grant["Resource"] == f"{logs.state['arn']}/access-logs/*"
    assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                                  "ArnLike": {"aws:SourceArn": source.state["arn"]}}
    assert logging.options.retain_on_delete and logs.options.retain_on_delete


def test_each_switch_alone(tmp_path):
    replica_only = run_stack(tmp_path, "copy", storage={"replica_region": "us-west-2"})
    assert replica_only.of_type(REPLICATION) and not replica_only.of_type(LOGGING)
    assert not replica_only.of_type(LOCK)  # the replica locks when the source does
    assert policy_violations(replica_only.resources) == []
    logs_only = run_stack(tmp_path, "audit", storage={"access_logs": True})
    assert logs_only.of_type(LOGGING) and not logs_only.of_type(REPLICATION)
    assert policy_violations(logs_only.resources) == []


def test_long_bucket_names_still_fit():
    name = "b" * 60
    for suffix in ("replica", "access-logs"):
        derived = names.bucket_name(name, suffix)
        assert len(derived) <= 63 and derived.endswith(f"-{suffix}") and derived == names.bucket_name(name, suffix)
    assert names.bucket_name("short", "replica") == "short-replica"
