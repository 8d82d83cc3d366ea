"""Every JSON document the Pulumi program writes, as pure functions of plain values.

Bucket policy, IAM trust and permission policies, the alerts key's policy,
lifecycle rules and the dashboard body are built here from strings (ARNs,
prefixes) and the stack's derived specs, unit-tested without Pulumi, and fed
to moto's S3/IAM/CloudWatch in tests so a malformed document fails.  The
components only join them with Pulumi outputs (``Output.all(...).apply``).

The backup role follows pgBackRest's sample S3 policy (user guide, "S3-Compatible
Object Store Support"): list the bucket only at and below the repository
prefix, and Get/Put/Delete objects only below it.
"""

from __future__ import annotations

from pgvault.core import metrics
from pgvault.core.lifecycle import ABORT_MULTIPART_DAYS
from pgvault.core.policy import AlarmSpec

VERSION = "2012-10-17"
#: seconds per point of pgvault's own metrics on the dashboard (the monitor publishes every few minutes)
DASHBOARD_PERIOD = 300
#: S3 publishes its storage metrics (BucketSizeBytes, NumberOfObjects) once a day
S3_STORAGE_PERIOD = 86400

#: object actions pgBackRest needs under its prefix (pgBackRest's sample policy)
BACKUP_OBJECT_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectTagging",
                         "s3:DeleteObject", "s3:AbortMultipartUpload"]
#: listing the host needs: objects (pgBackRest, WAL lag) and their versions (the monitor's noncurrent bytes)
BACKUP_LIST_ACTIONS = ["s3:ListBucket", "s3:ListBucketVersions"]
#: read-only object actions for restores and drills
RESTORE_OBJECT_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"]
#: the restore principal's one write: a drill's result, below its stanza's drill results (no delete, no tagging;
#: the bucket is versioned, so even an overwrite keeps the older version)
DRILL_RESULT_ACTIONS = ["s3:PutObject"]
#: what S3 asks of a writer's KMS permissions to encrypt a put with the bucket's default SSE-KMS key
DRILL_RESULT_KEY_ACTIONS = ["kms:GenerateDataKey"]
#: what the break-glass role may do on the bucket (explicit, no wildcards)
BREAK_GLASS_ACTIONS = ["s3:BypassGovernanceRetention", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject",
                       "s3:GetObjectRetention", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions",
                       "s3:PutObject", "s3:PutObjectRetention", "s3:RestoreObject", "s3:GetBucketVersioning",
                       "s3:GetBucketObjectLockConfiguration"]


def _list_statements(bucket_arn: str, prefixes: list[str], actions: list[str] | str = "s3:ListBucket") -> list[dict]:
    """List (``actions``) at the root (delimiter '/') and below each prefix, nowhere else.

    Every request is conditioned on ``s3:prefix``, so a listing of the whole
    bucket and ``HeadBucket`` (authorised as an unconditioned ListBucket) are
    denied: the host proves the bucket is reachable by listing its own prefix.
    """
    tops = [p.rstrip("/") for p in prefixes]
    return [
        {"Sid": "ListRoots", "Effect": "Allow", "Action": actions, "Resource": bucket_arn,
         "Condition": {"StringEquals": {"s3:prefix": ["", *tops], "s3:delimiter": ["/"]}}},
        {"Sid": "ListPrefixes", "Effect": "Allow", "Action": actions, "Resource": bucket_arn,
         "Condition": {"StringLike": {"s3:prefix": [f"{t}/*" for t in tops]}}},
    ]


def backup_policy(bucket_arn: str, key_arn: str, parameter_arn: str, repo_prefix: str, logical_prefix: str,
                  drills_prefix: str, topic_arn: str, alerts_key_arn: str) -> dict:
    """The DB host's permissions: its prefixes read-write, the data key, the passphrase, and reporting:
    pgvault's metric namespace and the alert topic (whose key SNS needs to encrypt a published message)."""
    prefixes = [repo_prefix, f"{logical_prefix}/", f"{drills_prefix}/"]
    return {"Version": VERSION, "Statement": [
        *_list_statements(bucket_arn, prefixes, BACKUP_LIST_ACTIONS),
        {"Sid": "Objects", "Effect": "Allow", "Action": BACKUP_OBJECT_ACTIONS,
         "Resource": [f"{bucket_arn}/{p}*" for p in prefixes]},
        {"Sid": "DataKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key_arn},
        {"Sid": "Passphrase", "Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": parameter_arn},
        # PutMetricData has no resource-level permissions; the namespace condition is the documented limit
        {"Sid": "Metrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
         "Condition": {"StringEquals": {"cloudwatch:namespace": metrics.NAMESPACE}}},
        {"Sid": "Alerts", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn},
        {"Sid": "AlertsKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": alerts_key_arn},
    ]}


def restore_policy(bucket_arn: str, key_arn: str, parameter_arn: str, repo_prefix: str, logical_prefix: str,
                   stanza_drills_prefix: str, region: str) -> dict:
    """Restores and drills: read the repository and the logical dumps, and put one thing, a drill's result, under
    ``stanza_drills_prefix`` (``pgvault.core.bucket.drills_prefix``: ``drills/<stanza>/``).  No delete anywhere, no put
    elsewhere, so a mistake on a restore host cannot touch the repository; the result's encryption with the data
    key is allowed only through S3 (``kms:ViaService``), which is how the bucket's default encryption asks."""
    prefixes = [repo_prefix, f"{logical_prefix}/"]
    return {"Version": VERSION, "Statement": [
        *_list_statements(bucket_arn, prefixes),
        {"Sid": "ReadObjects", "Effect": "Allow", "Action": RESTORE_OBJECT_ACTIONS,
         "Resource": [f"{bucket_arn}/{p}*" for p in prefixes]},
        *drill_results_statements(bucket_arn, key_arn, stanza_drills_prefix, region),
        {"Sid": "DataKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": key_arn},
        {"Sid": "Passphrase", "Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": parameter_arn},
    ]}


def drill_results_statements(bucket_arn: str, key_arn: str, stanza_drills_prefix: str, region: str) -> list[dict]:
    """The restore principal's drill-results grant: PutObject below ``stanza_drills_prefix`` only, and the data key's
    GenerateDataKey only when S3 asks for it (a put under the bucket's default SSE-KMS encryption)."""
    return [
        {"Sid": "DrillResults", "Effect": "Allow", "Action": DRILL_RESULT_ACTIONS,
         "Resource": f"{bucket_arn}/{stanza_drills_prefix}*"},
        {"Sid": "DrillResultsKey", "Effect": "Allow", "Action": DRILL_RESULT_KEY_ACTIONS, "Resource": key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}}},
    ]


def break_glass_policy(bucket_arn: str, key_arn: str) -> dict:
    """The only principal that may bypass GOVERNANCE retention (ransomware recovery)."""
    return {"Version": VERSION, "Statement": [
        {"Sid": "Bucket", "Effect": "Allow", "Action": BREAK_GLASS_ACTIONS,
         "Resource": [bucket_arn, f"{bucket_arn}/*"]},
        {"Sid": "DataKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key_arn},
    ]}


def ec2_trust() -> dict:
    """Trust policy of a role used as an EC2 instance profile."""
    return {"Version": VERSION, "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def restore_trust(operators: list[str]) -> dict:
    """Trust policy of the restore role: EC2 (its instance profile) and the listed operators.

    Operators assume it with ``aws sts assume-role`` or an ``AWS_PROFILE`` with ``role_arn``; no MFA
    condition, because it can only read (and put drill results) and SSO sessions carry no MFA flag.
    """
    trust = ec2_trust()
    if operators:
        trust["Statement"].append({"Sid": "Operators", "Effect": "Allow", "Principal": {"AWS": list(operators)},
                                   "Action": "sts:AssumeRole"})
    return trust


def break_glass_trust(principals: list[str]) -> dict:
    """Trust policy of the break-glass role: the given principals, with MFA only."""
    return {"Version": VERSION, "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}


def tls_only(bucket_arn: str) -> list[dict]:
    """Statements denying every request to the bucket and its objects made without TLS, or below TLS 1.2."""
    everything = [bucket_arn, f"{bucket_arn}/*"]
    return [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": everything,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "DenyOldTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": everything,
         "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}},
    ]


def bucket_policy(bucket_arn: str, key_arn: str, break_glass_arn: str) -> dict:
    """Deny plain HTTP, TLS below 1.2, puts with another encryption or key, and retention bypass (but for break-glass).

    A put without encryption headers is allowed: the bucket's default
    encryption applies the stack's key to it (pgBackRest sends none).
    """
    return {"Version": VERSION, "Statement": [
        *tls_only(bucket_arn),
        {"Sid": "DenyOtherEncryption", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"{bucket_arn}/*",
         "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                       "Null": {"s3:x-amz-server-side-encryption": "false"}}},
        {"Sid": "DenyOtherKey", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"{bucket_arn}/*",
         "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn},
                       "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"}}},
        {"Sid": "OnlyBreakGlassBypassesRetention", "Effect": "Deny", "Principal": "*",
         "Action": "s3:BypassGovernanceRetention", "Resource": f"{bucket_arn}/*",
         "Condition": {"ArnNotEquals": {"aws:PrincipalArn": break_glass_arn}}},
    ]}


def for_this_account(account_id: str, source_arn: str) -> dict:
    """The condition that binds a service principal to this account's own resources (no confused deputy)."""
    return {"StringEquals": {"aws:SourceAccount": account_id}, "ArnLike": {"aws:SourceArn": source_arn}}


def alerts_key_policy(account_id: str, region: str, alarm_prefix: str) -> dict:
    """Key policy of the alert topic's key: the account administers it; CloudWatch may encrypt to it for this
    stack's alarms (named ``<alarm_prefix>...``) only."""
    root = f"arn:aws:iam::{account_id}:root"
    alarms = f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{alarm_prefix}*"
    return {"Version": VERSION, "Statement": [
        {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "CloudWatchPublishes", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": for_this_account(account_id, alarms)},
    ]}


def access_log_bucket_policy(log_bucket_arn: str, log_prefix: str, source_bucket_arn: str, account_id: str) -> dict:
    """The access-log bucket's policy: TLS only, and S3's log delivery may put logs of the backup bucket, of this
    account, under ``log_prefix`` (a bucket with enforced ownership takes no log-delivery ACL)."""
    return {"Version": VERSION, "Statement": [
        *tls_only(log_bucket_arn),
        {"Sid": "S3DeliversAccessLogs", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"{log_bucket_arn}/{log_prefix}*",
         "Condition": for_this_account(account_id, source_bucket_arn)},
    ]}


def access_log_lifecycle(log_prefix: str, days: int, noncurrent_days: int) -> list[dict]:
    """The access-log bucket's lifecycle (S3 API shape): logs expire after ``days``, overwritten or deleted ones
    after ``noncurrent_days`` more, stale multipart uploads after a week."""
    return [{"ID": "access-logs", "Status": "Enabled", "Filter": {"Prefix": log_prefix}, "Expiration": {"Days": days},
             "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent_days},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS}}]


def replication_trust(account_id: str, source_bucket_arn: str) -> dict:
    """Trust policy of the replication role: S3, replicating this account's backup bucket only."""
    return {"Version": VERSION, "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole",
         "Condition": for_this_account(account_id, source_bucket_arn)}]}


def replication_policy(source_arn: str, source_key_arn: str, source_region: str, replica_arn: str,
                       replica_key_arn: str, replica_region: str, prefixes: list[str]) -> dict:
    """What S3 replication needs (S3 user guide, "Setting up permissions" for replication, with Object Lock and
    SSE-KMS): read the configuration and each version under ``prefixes`` with its tags, retention and legal hold,
    decrypt with the source key and encrypt with the replica's, both only through S3, write replicas and deletes."""
    return {"Version": VERSION, "Statement": [
        {"Sid": "SourceConfiguration", "Effect": "Allow",
         "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": source_arn},
        {"Sid": "SourceVersions", "Effect": "Allow",
         "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging",
                    "s3:GetObjectRetention", "s3:GetObjectLegalHold"],
         "Resource": [f"{source_arn}/{p}*" for p in prefixes]},
        {"Sid": "Replicas", "Effect": "Allow",
         "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
         "Resource": [f"{replica_arn}/{p}*" for p in prefixes]},
        {"Sid": "SourceKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": source_key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{source_region}.amazonaws.com"}}},
        {"Sid": "ReplicaKey", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
         "Resource": replica_key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{replica_region}.amazonaws.com"}}},
    ]}


def lifecycle_args(rules: list[dict]) -> list[dict]:
    """Lifecycle rules from the S3 API shape (``pgvault.core.lifecycle``) into pulumi-aws argument dicts."""
    out = []
    for rule in rules:
        flt = rule["Filter"]
        if "And" in flt:
            args_filter = {"and_": {"prefix": flt["And"]["Prefix"],
                                    "tags": {t["Key"]: t["Value"] for t in flt["And"]["Tags"]}}}
        else:
            args_filter = {"prefix": flt["Prefix"]}
        item: dict = {"id": rule["ID"], "status": rule["Status"], "filter": args_filter}
        if "Expiration" in rule:
            exp = rule["Expiration"]
            item["expiration"] = ({"days": exp["Days"]} if "Days" in exp
                                  else {"expired_object_delete_marker": exp["ExpiredObjectDeleteMarker"]})
        if "NoncurrentVersionExpiration" in rule:
            item["noncurrent_version_expiration"] = {
                "noncurrent_days": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]}
        if "AbortIncompleteMultipartUpload" in rule:
            item["abort_incomplete_multipart_upload"] = {
                "days_after_initiation": rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]}
        if "Transitions" in rule:
            item["transitions"] = [{"days": t["Days"], "storage_class": t["StorageClass"]} for t in rule["Transitions"]]
        out.append(item)
    return out


def _metric_line(spec_metric: metrics.Metric, stack: str, stanza: str, label: str | None = None) -> list:
    line = [metrics.NAMESPACE, spec_metric.name, "Stack", stack, "Stanza", stanza]
    return line + ([{"label": label}] if label else [])


def dashboard_body(stack: str, stanza: str, region: str, bucket: str, alarms: list[AlarmSpec],
                   alarm_arns: list[str], rpo_seconds: int) -> dict:
    """The CloudWatch dashboard: backup ages, sizes, WAL lag, drills, storage by class, alarm states."""
    def graph(title, lines, x, y, unit_label, annotations=None, stat="Maximum", width=12, period=DASHBOARD_PERIOD):
        props = {"title": title, "region": region, "view": "timeSeries", "stat": stat, "period": period,
                 "metrics": lines, "yAxis": {"left": {"label": unit_label, "showUnits": False}}}
        if annotations:
            props["annotations"] = {"horizontal": annotations}
        return {"type": "metric", "x": x, "y": y, "width": width, "height": 6, "properties": props}

    limits = {a.key: a.threshold for a in alarms}
    hours = [{"label": "full backup overdue", "value": limits["full-backup-age"] / 3600}]
    storage = [["AWS/S3", "BucketSizeBytes", "BucketName", bucket, "StorageType", kind, {"label": label}]
               for kind, label in (("StandardStorage", "STANDARD"), ("StandardIAStorage", "STANDARD_IA"),
                                   ("GlacierInstantRetrievalStorage", "GLACIER_IR"))]
    widgets = [
        {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {
            "markdown": f"# pgvault: {stack} (stanza {stanza})\nBackups of s3://{bucket}. "
                        "Alarms and what to do about each: see the alarms runbook."}},
        graph("Backup age (hours)", [
            [{"expression": "m1/3600", "label": "last full", "id": "e1"}],
            [{"expression": "m2/3600", "label": "last backup (any)", "id": "e2"}],
            _metric_line(metrics.LAST_FULL_BACKUP_AGE, stack, stanza) + [{"id": "m1", "visible": False}],
            _metric_line(metrics.LAST_BACKUP_AGE, stack, stanza) + [{"id": "m2", "visible": False}],
        ], 0, 2, "hours", hours),
        graph("WAL archive lag (seconds)", [_metric_line(metrics.WAL_ARCHIVE_LAG, stack, stanza, "lag")], 12, 2,
              "seconds", [{"label": "RPO target", "value": rpo_seconds}]),
        graph("Backup and repository size (bytes)", [
            _metric_line(metrics.BACKUP_SIZE, stack, stanza, "database in last backup"),
            _metric_line(metrics.REPOSITORY_SIZE, stack, stanza, "repository"),
        ], 0, 8, "bytes"),
        graph("Restore drills (seconds)", [
            _metric_line(metrics.DRILL_RTO, stack, stanza, "measured RTO"),
            _metric_line(metrics.DRILL_RECOVERY_LAG, stack, stanza, "recovery point lag"),
        ], 12, 8, "seconds"),
        graph("Bucket storage by class (bytes)", storage, 0, 14, "bytes", stat="Average", period=S3_STORAGE_PERIOD),
        {"type": "alarm", "x": 12, "y": 14, "width": 12, "height": 6,
         "properties": {"title": "Alarms", "alarms": alarm_arns}},
    ]
    return {"start": "-P7D", "widgets": widgets}
