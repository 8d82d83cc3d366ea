"""BackupReplication: the second copy's S3 replication, its role, the replica's bucket policy and lag alarms."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import documents, names
from infra.components.base import Component, protects
from infra.components.storage import BackupBucket
from pgvault.core.policy import alarm_window, replication_lag_seconds
from pgvault.core.schema import StackConfig
from pgvault.core.units import duration

#: S3's replication metrics arrive every minute; an alarm looks at 5-minute maxima, two in a row
LAG_PERIOD, LAG_EVALUATIONS = alarm_window(300, 2)


@dataclass(frozen=True)
class BackupReplicationArgs:
    """The source and replica buckets, what to copy, where alarms go, and who may bypass the replica's lock."""

    source: BackupBucket
    replica: BackupBucket
    source_region: str
    replica_region: str
    replica_provider: pulumi.ProviderResource
    prefixes: tuple[str, ...]
    role_name: str
    alarm_prefix: str
    lag_seconds: int
    account_id: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    break_glass_arn: pulumi.Input[str]
    protect: bool

    @classmethod
    def from_config(cls, cfg: StackConfig, source: BackupBucket, replica: BackupBucket,
                    replica_provider: pulumi.ProviderResource, account_id, topic_arn,
                    break_glass_arn) -> BackupReplicationArgs:
        """Build the args from the stack (``storage.replica_region`` is set), both buckets and the alert topic."""
        return cls(source=source, replica=replica, source_region=cfg.repository.region,
                   replica_region=cfg.storage.replica_region, replica_provider=replica_provider,
                   prefixes=(cfg.repository.repo_prefix, f"{cfg.repository.logical_prefix}/"),
                   role_name=names.iam_name(names.prefix(cfg), names.REPLICATION),
                   alarm_prefix=names.prefix(cfg), lag_seconds=replication_lag_seconds(cfg), account_id=account_id,
                   topic_arn=topic_arn, break_glass_arn=break_glass_arn, protect=protects(cfg))


def rule_id(prefix: str) -> str:
    """The replication rule of a key prefix (``pgbackrest/`` -> ``pgbackrest``), also the alarms' RuleId."""
    return prefix.rstrip("/")


class BackupReplication(Component):
    """S3 replication of the repository and the logical dumps to the replica, deletions included (a deleted version
    is never replicated: the replica's noncurrent versions, and its lock, are the undo window), with metrics;
    alarms when a rule lags more than ``lag_seconds`` or fails an operation."""

    def __init__(self, name: str, args: BackupReplicationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pgvault:storage:BackupReplication", name, args.protect, opts)
        source, replica = args.source, args.replica
        aws.s3.BucketPolicy(**self.child("replica-policy", stateful=True, depends_on=replica.policy_after,
                                         provider=args.replica_provider), bucket=replica.bucket.id,
                            policy=pulumi.Output.all(replica.bucket.arn, replica.key.arn, args.break_glass_arn).apply(
                                lambda v: json.dumps(documents.bucket_policy(v[0], v[1], v[2]))))
        role = aws.iam.Role(**self.child("role"), name=args.role_name, tags={names.PURPOSE_TAG: names.REPLICATION},
                            assume_role_policy=pulumi.Output.all(args.account_id, source.bucket.arn).apply(
                                lambda v: json.dumps(documents.replication_trust(v[0], v[1]))))
        policy = aws.iam.RolePolicy(**self.child("role-policy"), role=role.id, policy=pulumi.Output.all(
            source.bucket.arn, source.key.arn, replica.bucket.arn, replica.key.arn).apply(
            lambda v: json.dumps(documents.replication_policy(v[0], v[1], args.source_region, v[2], v[3],
                                                              args.replica_region, list(args.prefixes)))))
        self.config = aws.s3.BucketReplicationConfig(
            **self.child("config", stateful=True, depends_on=[source.versioning, replica.versioning, policy]),
            bucket=source.bucket.id, role=role.arn, rules=[{
                "id": rule_id(prefix), "status": "Enabled", "priority": index + 1, "filter": {"prefix": prefix},
                "delete_marker_replication": {"status": "Enabled"},
                "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                "destination": {"bucket": replica.bucket.arn, "metrics": {"status": "Enabled"},
                                "encryption_configuration": {"replica_kms_key_id": replica.key.arn}},
            } for index, prefix in enumerate(args.prefixes)])
        self.alarms = [alarm for prefix in args.prefixes for alarm in self._alarms(args, rule_id(prefix))]
        self.register_outputs({"alarm_arns": [a.arn for a in self.alarms]})

    def _alarms(self, args: BackupReplicationArgs, rule: str) -> list[aws.cloudwatch.MetricAlarm]:
        dims = {"SourceBucket": args.source.bucket.bucket, "DestinationBucket": args.replica.bucket.bucket,
                "RuleId": rule}
        common = dict(namespace="AWS/S3", dimensions=dims, period=LAG_PERIOD, evaluation_periods=LAG_EVALUATIONS,
                      datapoints_to_alarm=LAG_EVALUATIONS, treat_missing_data="notBreaching",
                      alarm_actions=[args.topic_arn], ok_actions=[args.topic_arn])
        where = f"the copy in {args.replica_region} of {rule}/"
        return [
            aws.cloudwatch.MetricAlarm(
                **self.child(f"lag-{rule}"), name=f"{args.alarm_prefix}-replication-lag-{rule}",
                metric_name="ReplicationLatency", statistic="Maximum", threshold=args.lag_seconds,
                comparison_operator="GreaterThanThreshold",
                alarm_description=f"{where} is more than {duration(args.lag_seconds)} behind: losing the bucket's "
                "region now would lose that much; check the replication rule and OperationsFailedReplication",
                **common),
            aws.cloudwatch.MetricAlarm(
                **self.child(f"failed-{rule}"), name=f"{args.alarm_prefix}-replication-failed-{rule}",
                metric_name="OperationsFailedReplication", statistic="Sum", threshold=0,
                comparison_operator="GreaterThanThreshold",
                alarm_description=f"S3 failed to replicate objects to {where}: check the replication role's "
                "permissions and both KMS keys (aws s3api head-object shows ReplicationStatus FAILED)", **common),
        ]
