"""AccessLogs: S3 server access logging of the backup bucket into its own log bucket (``storage.access_logs``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import documents, names
from infra.components.base import Component, protects
from infra.components.storage import secure
from pgvault.core.schema import StackConfig

#: where in the log bucket S3 writes the backup bucket's access logs
LOG_PREFIX = "access-logs/"


@dataclass(frozen=True)
class AccessLogsArgs:
    """The log bucket's name, the bucket whose requests it records, and how long logs are kept."""

    bucket: str
    source_bucket: pulumi.Input[str]
    source_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    days: int
    noncurrent_days: int
    force_destroy: bool
    protect: bool

    @classmethod
    def from_config(cls, cfg: StackConfig, source_bucket, source_arn, account_id) -> AccessLogsArgs:
        """Build the args: logs are kept as long as the longest retention tier, so every kept backup's history is."""
        return cls(bucket=names.bucket_name(cfg.repository.bucket, "access-logs"), source_bucket=source_bucket,
                   source_arn=source_arn, account_id=account_id, days=cfg.retention.monthly_days,
                   noncurrent_days=cfg.storage.protection_days, force_destroy=cfg.storage.force_destroy,
                   protect=protects(cfg))


class AccessLogs(Component):
    """The log bucket (versioned, private, SSE-S3: the only default encryption S3 delivers access logs to, and no
    Object Lock default retention, which S3 refuses for a log target), its policy (TLS only; S3's log delivery may
    write this account's backup bucket's logs) and the backup bucket's logging configuration."""

    def __init__(self, name: str, args: AccessLogsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pgvault:audit:AccessLogs", name, args.protect, opts)
        self.bucket = aws.s3.Bucket(**self.child("bucket", stateful=True), bucket=args.bucket,
                                    force_destroy=args.force_destroy)
        versioning, policy_after = secure(self, self.bucket)
        aws.s3.BucketServerSideEncryptionConfiguration(
            **self.child("encryption", stateful=True), bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}])
        aws.s3.BucketLifecycleConfiguration(
            **self.child("lifecycle", stateful=True, depends_on=[versioning]), bucket=self.bucket.id,
            rules=documents.lifecycle_args(documents.access_log_lifecycle(LOG_PREFIX, args.days, args.noncurrent_days)))
        policy = aws.s3.BucketPolicy(
            **self.child("policy", stateful=True, depends_on=policy_after), bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, args.source_arn, args.account_id).apply(
                lambda v: json.dumps(documents.access_log_bucket_policy(v[0], LOG_PREFIX, v[1], v[2]))))
        aws.s3.BucketLogging(**self.child("logging", stateful=True, depends_on=[policy]), bucket=args.source_bucket,
                             target_bucket=self.bucket.id, target_prefix=LOG_PREFIX)
        self.register_outputs({"bucket": self.bucket.bucket})
