"""Properties of the resource graph the real program builds, for each committed stack."""

from __future__ import annotations

import json

import pytest

from infra import outputs
from infra.components.storage import BackupBucketArgs
from pgvault.core import metrics
from pgvault.core.policy import DEAD_MAN_METRICS, alarm_specs, overdue_after, passphrase_parameter
from tests.infra.harness import ACCOUNT, committed_stack, run_stack

BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def policy_doc(graph, name):
    return json.loads(graph.one(ROLE_POLICY, name).inputs["policy"])


def actions(doc):
    out = []
    for statement in doc["Statement"]:
        acts = statement["Action"]
        out += acts if isinstance(acts, list) else [acts]
    return out


def test_components_show_the_architecture(graph):
    types = {r.typ for r in graph.resources}
    assert {"pgvault:storage:BackupBucket", "pgvault:access:BackupAccess", "pgvault:monitoring:BackupAlerts",
            "pgvault:monitoring:BackupDashboard"} <= types


def test_bucket_is_encrypted_with_a_rotating_customer_key_and_bucket_keys(graph):
    key = graph.one(KEY, "backups-key")
    assert key.inputs["enableKeyRotation"] is True
    (rule,) = graph.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
                        ).inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.state["arn"]}
    assert rule["bucketKeyEnabled"] is True


def test_versioning_public_access_and_ownership(graph):
    assert graph.one("aws:s3/bucketVersioning:BucketVersioning").inputs["versioningConfiguration"] == {
        "status": "Enabled"}
    block = graph.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets"))
    assert graph.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs["rule"] == {
        "objectOwnership": "BucketOwnerEnforced"}


def test_bucket_policy_denies_plain_http_old_tls_other_keys_and_retention_bypass(graph):
    doc = json.loads(graph.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert all(s["Effect"] == "Deny" for s in doc["Statement"])
    assert by_sid["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert by_sid["DenyOldTls"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    key_arn = graph.one(KEY, "backups-key").state["arn"]
    assert by_sid["DenyOtherKey"]["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}
    assert by_sid["DenyOtherEncryption"]["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption": "aws:kms"}
    break_glass = graph.one("aws:iam/role:Role", "access-break-glass").state["arn"]
    assert by_sid["OnlyBreakGlassBypassesRetention"]["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": break_glass}}


def test_lifecycle_rules_filters_and_days(graph):
    cfg = committed_stack(_stack_of(graph))
    rules = {r["id"]: r for r in graph.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
                                           ).inputs["rules"]}
    repo = rules["pgbackrest-repository"]
    assert repo["filter"] == {"prefix": "pgbackrest/"}
    assert repo["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    assert repo["noncurrentVersionExpiration"] == {"noncurrentDays": cfg.storage.protection_days}
    assert repo["expiration"] == {"expiredObjectDeleteMarker": True}
    assert [(t["days"], t["storageClass"]) for t in repo["transitions"]] == [(30, "STANDARD_IA"), (90, "GLACIER_IR")]
    assert "pgbackrest-backstop" not in rules
    for tier, days in (("daily", 30), ("weekly", 90), ("monthly", 365)):
        rule = rules[f"logical-{tier}"]
        assert rule["filter"] == {"and": {"prefix": "logical/", "tags": {"tier": tier}}}
        assert rule["expiration"] == {"days": days}
    assert rules["logical-housekeeping"]["filter"] == {"prefix": "logical/"}


def _stack_of(graph):
    return "example" if graph.one(BUCKET).inputs["bucket"].startswith("example") else "sandbox"


def test_object_lock_only_when_switched_on(graphs):
    example, sandbox = graphs["example"], graphs["sandbox"]
    lock = example.one("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").inputs["rule"]
    assert lock == {"defaultRetention": {"mode": "GOVERNANCE", "days": 14}}
    assert not sandbox.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")


def test_stateful_resources_are_protected_outside_the_sandbox():
    assert BackupBucketArgs.from_config(committed_stack("example")).protect is True
    assert BackupBucketArgs.from_config(committed_stack("sandbox")).protect is False


def test_backup_role_is_limited_to_its_prefixes(graph):
    doc = policy_doc(graph, "access-backup-policy")
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["ListRoots"]["Condition"]["StringEquals"]["s3:prefix"] == ["", "pgbackrest", "logical", "drills"]
    assert by_sid["ListPrefixes"]["Condition"]["StringLike"]["s3:prefix"] == ["pgbackrest/*", "logical/*", "drills/*"]
    bucket = graph.one(BUCKET).state["arn"]
    assert by_sid["Objects"]["Resource"] == [f"{bucket}/pgbackrest/*", f"{bucket}/logical/*", f"{bucket}/drills/*"]
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} <= set(by_sid["Objects"]["Action"])
    assert by_sid["DataKey"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert by_sid["DataKey"]["Resource"] == graph.one(KEY, "backups-key").state["arn"]


def test_backup_role_reports_only_to_pgvaults_metrics_and_its_alert_topic(graph):
    by_sid = {s["Sid"]: s for s in policy_doc(graph, "access-backup-policy")["Statement"]}
    assert by_sid["Metrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": metrics.NAMESPACE}}
    assert by_sid["Alerts"]["Resource"] == graph.one("aws:sns/topic:Topic").state["arn"]
    assert by_sid["AlertsKey"]["Resource"] == graph.one(KEY, "alerts-key").state["arn"]


def test_restore_role_reads_and_puts_drill_results_only(graph):
    """The restore principal's policy document as the program deploys it: reads under the repository and the
    logical dumps; its one write is PutObject below ``drills/<stanza>/`` (no delete anywhere), with the data key's
    GenerateDataKey only through S3 (the bucket's default SSE-KMS encryption of that put)."""
    cfg = committed_stack(_stack_of(graph))
    doc = policy_doc(graph, "access-restore-policy")
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    bucket, key = graph.one(BUCKET).state["arn"], graph.one(KEY, "backups-key").state["arn"]
    assert by_sid["DrillResults"] == {"Sid": "DrillResults", "Effect": "Allow", "Action": ["s3:PutObject"],
                                      "Resource": f"{bucket}/drills/{cfg.pgbackrest.stanza}/*"}
    assert by_sid["DrillResultsKey"] == {
        "Sid": "DrillResultsKey", "Effect": "Allow", "Action": ["kms:GenerateDataKey"], "Resource": key,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{cfg.repository.region}.amazonaws.com"}}}
    assert by_sid["ReadObjects"]["Resource"] == [f"{bucket}/pgbackrest/*", f"{bucket}/logical/*"]
    acts = actions(doc)
    assert "s3:GetObject" in acts
    writes = [a for a in acts if a.startswith(("s3:Put", "s3:Delete", "s3:Abort", "kms:Encrypt",
                                                "kms:GenerateDataKey"))]
    assert writes == ["s3:PutObject", "kms:GenerateDataKey"], "no write but the drill result's put"


def test_no_iam_policy_uses_wildcard_actions(graph):
    docs = [json.loads(r.inputs["policy"]) for r in graph.of_type(ROLE_POLICY) + graph.of_type(
        "aws:iam/userPolicy:UserPolicy")]
    for doc in docs:
        assert not [a for a in actions(doc) if a == "*" or a.endswith(":*")]


def test_only_the_break_glass_role_may_bypass_governance(graph):
    grants = [r.name for r in graph.of_type(ROLE_POLICY) if "s3:BypassGovernanceRetention" in actions(
        json.loads(r.inputs["policy"]))]
    assert grants == ["access-break-glass-policy"]
    trust = json.loads(graph.one("aws:iam/role:Role", "access-break-glass").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert trust["Statement"][0]["Principal"] == {"AWS": [f"arn:aws:iam::{ACCOUNT}:root"]}


def test_backup_and_restore_roles_are_instance_profiles(graph):
    """A DB host or a restore host runs as one of them, without access keys (roles cannot have any)."""
    for role in ("access-backup", "access-restore"):
        (profile,) = [p for p in graph.of_type("aws:iam/instanceProfile:InstanceProfile")
                      if p.inputs["role"] == graph.one("aws:iam/role:Role", role).state["name"]]
        trust = json.loads(graph.one("aws:iam/role:Role", role).inputs["assumeRolePolicy"])
        assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
        assert profile.inputs["name"]


def test_operators_assume_the_restore_role_only_when_listed(graph, tmp_path):
    trust = json.loads(graph.one("aws:iam/role:Role", "access-restore").inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "ec2.amazonaws.com"}]
    oncall = [f"arn:aws:iam::{ACCOUNT}:role/oncall", f"arn:aws:iam::{ACCOUNT}:user/alice"]
    listed = run_stack(tmp_path, "ops", access={"restore_principals": oncall})
    trust = json.loads(listed.one("aws:iam/role:Role", "access-restore").inputs["assumeRolePolicy"])
    assert trust["Statement"][1] == {"Sid": "Operators", "Effect": "Allow", "Principal": {"AWS": oncall},
                                     "Action": "sts:AssumeRole"}
    assert listed.outputs[outputs.RESTORE_ROLE_ARN] == listed.one("aws:iam/role:Role", "access-restore").state["arn"]


def test_passphrase_is_a_secure_string_readable_by_backup_and_restore_only(graph):
    param = graph.one("aws:ssm/parameter:Parameter")
    assert param.inputs["type"] == "SecureString"
    assert param.inputs["name"] == passphrase_parameter(committed_stack(_stack_of(graph)))
    assert param.inputs["keyId"] == graph.one(KEY, "backups-key").state["arn"]
    readers = [r.name for r in graph.of_type(ROLE_POLICY) if param.state["arn"] in r.inputs["policy"]]
    assert sorted(readers) == ["access-backup-policy", "access-restore-policy"]


def test_iam_user_only_when_asked_and_its_secret_stays_secret(graphs):
    example, sandbox = graphs["example"], graphs["sandbox"]
    assert example.one("aws:iam/accessKey:AccessKey", "access-backup-user-key")
    assert example.secret_outputs[outputs.BACKUP_USER_KEY_SECRET] is True
    assert not sandbox.of_type("aws:iam/user:User")
    assert outputs.BACKUP_USER_KEY_SECRET not in sandbox.outputs


def test_alarms_thresholds_missing_data_and_actions(graph):
    cfg = committed_stack(_stack_of(graph))
    alarms = {r.inputs["name"]: r for r in graph.of_type(ALARM)}
    topic = graph.one("aws:sns/topic:Topic").state["arn"]
    assert len(alarms) == len(alarm_specs(cfg))
    prefix = f"pgvault-{cfg.name}-{cfg.pgbackrest.stanza}-"
    by_key = {name.removeprefix(prefix): alarm.inputs for name, alarm in alarms.items()}
    assert by_key["full-backup-age"]["threshold"] == overdue_after(86400)
    # the adaptive hourly job (the default) may mark only restore points: the nightly full bounds a backup's age
    assert by_key["backup-age"]["threshold"] == overdue_after(86400)
    assert by_key["wal-archive-lag"]["threshold"] == cfg.targets.rpo_seconds
    for key in ("full-backup-age", "backup-age", "logical-dump-age", "drill-age", "wal-archive-lag"):
        assert by_key[key]["treatMissingData"] == "breaching", key
        assert by_key[key]["namespace"] == metrics.NAMESPACE
        assert by_key[key]["dimensions"] == {"Stack": cfg.name, "Stanza": cfg.pgbackrest.stanza}
    assert by_key["job-failed"]["treatMissingData"] == "notBreaching"
    assert by_key["repository-size-anomaly"]["thresholdMetricId"] == "band"
    for inputs in by_key.values():
        assert inputs["alarmActions"] == [topic] and inputs["okActions"] == [topic]


def test_topic_is_encrypted_and_emails_subscribed(graphs):
    for graph in graphs.values():
        assert graph.one("aws:sns/topic:Topic").inputs["kmsMasterKeyId"]
    subs = graphs["example"].of_type("aws:sns/topicSubscription:TopicSubscription")
    assert [(s.inputs["protocol"], s.inputs["endpoint"]) for s in subs] == [("email", "oncall@example.com")]


def test_dashboard_shows_the_agreed_metrics(graph):
    body = json.loads(graph.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    text = json.dumps(body)
    for metric in (metrics.LAST_BACKUP_AGE, metrics.BACKUP_SIZE, metrics.WAL_ARCHIVE_LAG, metrics.DRILL_RTO,
                   metrics.DRILL_RECOVERY_LAG):
        assert metric.name in text
    assert "GlacierInstantRetrievalStorage" in text and "StandardIAStorage" in text
    alarm_widget = [w for w in body["widgets"] if w["type"] == "alarm"][0]
    assert len(alarm_widget["properties"]["alarms"]) == len(graph.of_type(ALARM))


@pytest.mark.parametrize("name", outputs.ALWAYS)
def test_outputs(graphs, name):
    for graph in graphs.values():
        assert graph.outputs[name]
    assert graphs["example"].outputs[outputs.BUCKET_NAME] == "example-crm-pgvault"
    profiles = {p.state["name"]: p.state["arn"] for p in graphs["example"].of_type(
        "aws:iam/instanceProfile:InstanceProfile")}
    assert graphs["example"].outputs[outputs.RESTORE_INSTANCE_PROFILE] in profiles
    assert graphs["example"].outputs[outputs.RESTORE_INSTANCE_PROFILE_ARN] in profiles.values()
    assert graphs["example"].outputs[outputs.REGION] == "eu-west-1"


def test_the_alarms_that_treat_silence_as_breaching_are_the_packs_dead_man_metrics():
    for stack in ("sandbox", "example"):
        breaching = {s.metric for s in alarm_specs(committed_stack(stack)) if s.missing == "breaching"}
        assert breaching == set(DEAD_MAN_METRICS)
