"""Every JSON document the program writes, fed to moto's real S3, IAM, KMS and CloudWatch APIs.

moto (in-process, no network) parses and validates what AWS would: a
malformed policy or body fails here, not at ``pulumi up``.  moto does not
enforce all of S3's lifecycle constraints, so those are checked by
``pgvault.core.lifecycle.shape_errors`` as well.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra import documents, names
from pgvault.core.lifecycle import lifecycle_rules, shape_errors
from pgvault.core.policy import alarm_specs
from tests.infra.harness import ACCOUNT, committed_stack

REGION = "eu-west-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PARAM_ARN = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/pgvault/example/crm/repo-cipher-pass"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/pgvault-example-crm-break-glass"


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)


@pytest.fixture(params=["sandbox", "example"])
def cfg(request):
    return committed_stack(request.param)


def _bucket(aws, name):
    s3 = aws("s3")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3


def test_bucket_policy_is_accepted_by_s3(aws, cfg):
    s3 = _bucket(aws, cfg.repository.bucket)
    doc = documents.bucket_policy(f"arn:aws:s3:::{cfg.repository.bucket}", KEY_ARN, ROLE_ARN)
    s3.put_bucket_policy(Bucket=cfg.repository.bucket, Policy=json.dumps(doc))
    assert json.loads(s3.get_bucket_policy(Bucket=cfg.repository.bucket)["Policy"]) == doc


def test_the_access_log_bucket_policy_and_lifecycle_are_accepted_by_s3(aws):
    s3 = _bucket(aws, "b-access-logs")
    doc = documents.access_log_bucket_policy("arn:aws:s3:::b-access-logs", "access-logs/", "arn:aws:s3:::b", ACCOUNT)
    s3.put_bucket_policy(Bucket="b-access-logs", Policy=json.dumps(doc))
    rules = documents.access_log_lifecycle("access-logs/", 365, 30)
    assert shape_errors(rules) == []
    s3.put_bucket_lifecycle_configuration(Bucket="b-access-logs", LifecycleConfiguration={"Rules": rules})


def test_lifecycle_rules_are_accepted_by_s3_and_meet_aws_constraints(aws, cfg):
    rules = lifecycle_rules(cfg)
    assert shape_errors(rules) == []
    s3 = _bucket(aws, cfg.repository.bucket)
    s3.put_bucket_lifecycle_configuration(Bucket=cfg.repository.bucket, LifecycleConfiguration={"Rules": rules})
    stored = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=cfg.repository.bucket)["Rules"]}
    assert stored.keys() == {r["ID"] for r in rules}
    assert stored["logical-monthly"]["Expiration"]["Days"] == cfg.retention.monthly_days
    assert "Days" not in stored["pgbackrest-repository"].get("Expiration", {})


@pytest.mark.parametrize("make", [
    lambda: documents.backup_policy("arn:aws:s3:::b", KEY_ARN, PARAM_ARN, "pgbackrest/", "logical", "drills",
                                    f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts", KEY_ARN),
    lambda: documents.restore_policy("arn:aws:s3:::b", KEY_ARN, PARAM_ARN, "pgbackrest/", "logical", "drills/crm/",
                                     REGION),
    lambda: documents.break_glass_policy("arn:aws:s3:::b", KEY_ARN),
    lambda: documents.replication_policy("arn:aws:s3:::b", KEY_ARN, REGION, "arn:aws:s3:::b-replica",
                                         KEY_ARN.replace(REGION, "eu-central-1"), "eu-central-1",
                                         ["pgbackrest/", "logical/"]),
], ids=["backup", "restore", "break-glass", "replication"])
def test_iam_policies_are_accepted_by_iam(aws, make):
    iam = aws("iam")
    created = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(make()))
    assert created["Policy"]["Arn"].startswith(f"arn:aws:iam::{ACCOUNT}:policy/")


@pytest.mark.parametrize("trust", [documents.ec2_trust(),
                                   documents.restore_trust([f"arn:aws:iam::{ACCOUNT}:role/oncall"]),
                                   documents.break_glass_trust([f"arn:aws:iam::{ACCOUNT}:root"]),
                                   documents.replication_trust(ACCOUNT, "arn:aws:s3:::b")],
                         ids=["ec2", "restore", "break-glass", "replication"])
def test_trust_policies_are_accepted_by_iam(aws, trust):
    aws("iam").create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))


def test_a_malformed_policy_is_refused(aws):
    broken = documents.restore_policy("arn:aws:s3:::b", KEY_ARN, PARAM_ARN, "pgbackrest/", "logical", "drills/crm/",
                                      REGION)
    broken["Statement"][2]["Effect"] = "Maybe"
    with pytest.raises(ClientError, match="MalformedPolicyDocument"):
        aws("iam").create_policy(PolicyName="p", PolicyDocument=json.dumps(broken))


def test_alerts_key_policy_is_accepted_by_kms(aws):
    key = aws("kms").create_key(Policy=json.dumps(documents.alerts_key_policy(ACCOUNT, REGION, "pgvault-x-")))
    policy = aws("kms").get_key_policy(KeyId=key["KeyMetadata"]["KeyId"], PolicyName="default")["Policy"]
    assert "cloudwatch.amazonaws.com" in policy


def test_dashboard_body_and_alarms_are_accepted_by_cloudwatch(aws, cfg):
    cw = aws("cloudwatch")
    specs = alarm_specs(cfg)
    for spec in specs:
        if spec.anomaly:
            continue
        cw.put_metric_alarm(AlarmName=spec.key, Namespace="pgvault", MetricName=spec.metric.name,
                            Statistic=spec.statistic, Period=spec.period, EvaluationPeriods=spec.evaluation_periods,
                            Threshold=spec.threshold, ComparisonOperator=spec.comparison,
                            TreatMissingData=spec.missing, Dimensions=[{"Name": "Stack", "Value": cfg.name}])
    arns = [a["AlarmArn"] for a in cw.describe_alarms()["MetricAlarms"]]
    body = documents.dashboard_body(cfg.name, cfg.pgbackrest.stanza, REGION, cfg.repository.bucket, specs, arns,
                                    cfg.targets.rpo_seconds)
    answer = cw.put_dashboard(DashboardName="pgvault", DashboardBody=json.dumps(body))
    assert answer.get("DashboardValidationMessages", []) == []
    assert json.loads(cw.get_dashboard(DashboardName="pgvault")["DashboardBody"]) == body


@pytest.mark.parametrize("rules, words", [
    ([{"ID": "a", "Status": "Enabled", "Filter": {"Prefix": "x/"}, "Expiration": {"Days": 3,
                                                                                  "ExpiredObjectDeleteMarker": True}}],
     "cannot be combined"),
    ([{"ID": "a", "Status": "Enabled", "Filter": {"And": {"Prefix": "x/", "Tags": [{"Key": "t", "Value": "v"}]}},
       "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}], "tag filter"),
    ([{"ID": "a", "Status": "Enabled", "Filter": {"Prefix": "x/"},
       "Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]}], "at least 30 days"),
    ([{"ID": "a", "Status": "Enabled", "Filter": {"Prefix": "x/"}}] * 2, "unique"),
])
def test_shape_errors_catch_what_moto_lets_through(rules, words):
    assert any(words in e for e in shape_errors(rules))


def test_the_restore_user_its_tag_policy_and_key_are_accepted_by_iam(aws, graphs):
    """The read-only user as the program declares it (name, purpose tag, inline policy, access key)."""
    declared = graphs["example"]
    user = declared.one("aws:iam/user:User", "access-restore-user").inputs
    (policy,) = [p for p in declared.of_type("aws:iam/userPolicy:UserPolicy") if p.name == "access-restore-user-policy"]
    iam = aws("iam")
    iam.create_user(UserName=user["name"], Tags=[{"Key": k, "Value": v} for k, v in user["tags"].items()])
    iam.put_user_policy(UserName=user["name"], PolicyName="restore", PolicyDocument=policy.inputs["policy"])
    restore = documents.restore_policy("arn:aws:s3:::b", KEY_ARN, PARAM_ARN, "pgbackrest/", "logical",
                                       "drills/crm/", REGION)
    iam.put_user_policy(UserName=user["name"], PolicyName="restore-realistic-arns", PolicyDocument=json.dumps(restore))
    key = iam.create_access_key(UserName=user["name"])["AccessKey"]
    assert key["Status"] == "Active" and key["UserName"] == user["name"]
    stored = iam.get_user_policy(UserName=user["name"], PolicyName="restore")["PolicyDocument"]
    assert (stored if isinstance(stored, dict) else json.loads(stored)) == json.loads(policy.inputs["policy"])
    assert {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=user["name"])["Tags"]} == {
        names.PURPOSE_TAG: names.RESTORE}
    restore["Statement"][0]["Effect"] = "Maybe"  # moto validates a user's policy as it does a managed one
    with pytest.raises(ClientError, match="MalformedPolicyDocument"):
        iam.put_user_policy(UserName=user["name"], PolicyName="broken", PolicyDocument=json.dumps(restore))
