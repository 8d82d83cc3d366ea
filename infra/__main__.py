"""pgvault's infrastructure for one stack: read this file to see the architecture.

The stack file ``Pulumi.<stack>.yaml`` is read by pgvault's own loader (the
same one ``fab`` uses), so retention, schedule and thresholds are declared once.
"""

import pulumi
import pulumi_aws as aws

from infra import outputs
from infra.components.access import BackupAccess, BackupAccessArgs
from infra.components.alerting import BackupAlerts, BackupAlertsArgs
from infra.components.audit import AccessLogs, AccessLogsArgs
from infra.components.dashboard import BackupDashboard, BackupDashboardArgs
from infra.components.replication import BackupReplication, BackupReplicationArgs
from infra.components.storage import BackupBucket, BackupBucketArgs
from pgvault.edges.stackfile import load_stack

cfg = load_stack(pulumi.get_stack())
region = cfg.repository.region
provider = aws.Provider("aws", region=region)
opts = pulumi.ResourceOptions(provider=provider)
account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id

storage = BackupBucket("backups", BackupBucketArgs.from_config(cfg), opts)
alert_args = BackupAlertsArgs.from_config(cfg, account_id)
alerts = BackupAlerts("alerts", alert_args, opts)
access = BackupAccess("access", BackupAccessArgs.from_config(
    cfg, storage.bucket.bucket, storage.bucket.arn, storage.key.arn, account_id, alerts.topic.arn, alerts.key.arn,
    policy_after=storage.policy_after), opts)
alarms = list(alerts.alarms)

replication = None
if cfg.storage.replica_region:  # the second copy, in its own region
    replica_provider = aws.Provider("aws-replica", region=cfg.storage.replica_region)
    replica = BackupBucket("replica", BackupBucketArgs.replica_of(cfg),
                           pulumi.ResourceOptions(provider=replica_provider))
    replication = BackupReplication("replication", BackupReplicationArgs.from_config(
        cfg, storage, replica, replica_provider, account_id, alerts.topic.arn, access.break_glass_role.arn), opts)
    alarms += replication.alarms

audit = None
if cfg.storage.access_logs:  # who touched the bucket, kept as long as the backups
    audit = AccessLogs("audit", AccessLogsArgs.from_config(cfg, storage.bucket.id, storage.bucket.arn, account_id),
                       opts)

dashboard = BackupDashboard("dashboard", BackupDashboardArgs.from_config(
    cfg, storage.bucket.bucket, alert_args.alarms, tuple(a.arn for a in alarms)), opts)

pulumi.export(outputs.BUCKET_NAME, storage.bucket.bucket)
pulumi.export(outputs.BUCKET_ARN, storage.bucket.arn)
pulumi.export(outputs.REGION, region)
pulumi.export(outputs.KMS_KEY_ARN, storage.key.arn)
pulumi.export(outputs.BACKUP_ROLE_ARN, access.backup_role.arn)
pulumi.export(outputs.RESTORE_ROLE_ARN, access.restore_role.arn)
pulumi.export(outputs.BREAK_GLASS_ROLE_ARN, access.break_glass_role.arn)
pulumi.export(outputs.INSTANCE_PROFILE, access.instance_profile.name)
pulumi.export(outputs.RESTORE_INSTANCE_PROFILE, access.restore_profile.name)
pulumi.export(outputs.RESTORE_INSTANCE_PROFILE_ARN, access.restore_profile.arn)
pulumi.export(outputs.PASSPHRASE_PARAMETER, access.parameter.name)
pulumi.export(outputs.TOPIC_ARN, alerts.topic.arn)
pulumi.export(outputs.DASHBOARD_URL, dashboard.url)
if replication is not None:
    pulumi.export(outputs.REPLICA_BUCKET_NAME, replica.bucket.bucket)
    pulumi.export(outputs.REPLICA_REGION, cfg.storage.replica_region)
    pulumi.export(outputs.REPLICA_KMS_KEY_ARN, replica.key.arn)
if audit is not None:
    pulumi.export(outputs.ACCESS_LOG_BUCKET, audit.bucket.bucket)
if access.access_key is not None:
    pulumi.export(outputs.BACKUP_USER_KEY_ID, access.access_key.id)
    pulumi.export(outputs.BACKUP_USER_KEY_SECRET, pulumi.Output.secret(access.access_key.secret))
if access.restore_access_key is not None:
    pulumi.export(outputs.RESTORE_USER_KEY_ID, access.restore_access_key.id)
    pulumi.export(outputs.RESTORE_USER_KEY_SECRET, pulumi.Output.secret(access.restore_access_key.secret))
