"""BackupAccess: least-privilege roles, the passphrase in SSM, and the bucket policy."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from infra import documents, names
from infra.components.base import Component, generation_arguments, protects
from pgvault.core.bucket import drills_prefix
from pgvault.core.policy import passphrase_parameter
from pgvault.core.schema import StackConfig


@dataclass(frozen=True)
class BackupAccessArgs:
    """What the access component needs: the bucket and key outputs plus the stack's prefixes and switches."""

    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    alerts_key_arn: pulumi.Input[str]
    prefix: str
    repo_prefix: str
    logical_prefix: str
    drills_prefix: str
    #: the restore principal's one writable prefix (``pgvault.core.bucket.drills_prefix``: ``drills/<stanza>/``)
    stanza_drills_prefix: str
    region: str
    parameter_name: str
    iam_user: bool
    break_glass_principals: tuple[str, ...]
    restore_principals: tuple[str, ...]
    protect: bool
    #: what the bucket policy is put after (the bucket's public access block and ownership controls)
    policy_after: tuple[pulumi.Resource, ...] = ()

    @classmethod
    def from_config(cls, cfg: StackConfig, bucket_name, bucket_arn, key_arn, account_id, topic_arn,
                    alerts_key_arn, policy_after: tuple[pulumi.Resource, ...] = ()) -> BackupAccessArgs:
        """Build the args from the stack, the bucket's outputs and the alert topic's."""
        return cls(bucket_name=bucket_name, bucket_arn=bucket_arn, key_arn=key_arn, account_id=account_id,
                   topic_arn=topic_arn, alerts_key_arn=alerts_key_arn,
                   prefix=names.prefix(cfg), repo_prefix=cfg.repository.repo_prefix,
                   logical_prefix=cfg.repository.logical_prefix, drills_prefix=cfg.repository.drills_prefix,
                   stanza_drills_prefix=drills_prefix(cfg), region=cfg.repository.region,
                   parameter_name=passphrase_parameter(cfg), iam_user=cfg.access.iam_user,
                   break_glass_principals=cfg.access.break_glass_principals,
                   restore_principals=cfg.access.restore_principals, protect=protects(cfg),
                   policy_after=tuple(policy_after))


def _purpose(purpose: str) -> dict[str, str]:
    return {names.PURPOSE_TAG: purpose}


class BackupAccess(Component):
    """Roles for backup and restore (read only, but for putting drill results), each also an instance profile, and
    break-glass; optional IAM users for hosts outside AWS, one with the backup policy and one with the restore
    policy (for drills and restores); the repository passphrase as an SSM SecureString; the bucket policy.

    Operators listed in ``access.restore_principals`` may assume the restore role (roles have no access keys).
    Each role and user carries the ``pgvault:purpose`` tag by which the policy pack judges its policies.

    The passphrase is generated once and kept: it ignores changes to its generation arguments (a new length
    would regenerate it), its parameter ignores changes to its value, and both are retained on delete and
    protected, because the repository encrypted with it is unreadable without it.
    """

    def __init__(self, name: str, args: BackupAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pgvault:access:BackupAccess", name, args.protect, opts)
        passphrase = random.RandomPassword(
            **self.child("passphrase", stateful=True, ignore_changes=generation_arguments(random.RandomPasswordArgs)),
            length=64, special=False)
        self.parameter = aws.ssm.Parameter(
            **self.child("passphrase", stateful=True, ignore_changes=["value"]), name=args.parameter_name,
            type="SecureString", value=passphrase.result, key_id=args.key_arn,
            description="pgBackRest repository passphrase (repo1-cipher-pass)")
        common = pulumi.Output.all(args.bucket_arn, args.key_arn, self.parameter.arn)
        backup_doc = pulumi.Output.all(common, args.topic_arn, args.alerts_key_arn).apply(
            lambda v: json.dumps(documents.backup_policy(*v[0], args.repo_prefix, args.logical_prefix,
                                                         args.drills_prefix, v[1], v[2])))
        restore_doc = common.apply(lambda v: json.dumps(documents.restore_policy(
            v[0], v[1], v[2], args.repo_prefix, args.logical_prefix, args.stanza_drills_prefix, args.region)))

        backup_name, restore_name = names.iam_name(args.prefix, names.BACKUP), names.iam_name(args.prefix,
                                                                                             names.RESTORE)
        self.backup_role = aws.iam.Role(**self.child("backup"), name=backup_name, tags=_purpose(names.BACKUP),
                                        assume_role_policy=json.dumps(documents.ec2_trust()))
        aws.iam.RolePolicy(**self.child("backup-policy"), role=self.backup_role.id, policy=backup_doc)
        self.instance_profile = aws.iam.InstanceProfile(**self.child("backup-profile"), name=backup_name,
                                                        role=self.backup_role.name)

        self.restore_role = aws.iam.Role(
            **self.child("restore"), name=restore_name, tags=_purpose(names.RESTORE),
            assume_role_policy=json.dumps(documents.restore_trust(list(args.restore_principals))))
        aws.iam.RolePolicy(**self.child("restore-policy"), role=self.restore_role.id, policy=restore_doc)
        self.restore_profile = aws.iam.InstanceProfile(**self.child("restore-profile"), name=restore_name,
                                                       role=self.restore_role.name)

        principals = list(args.break_glass_principals) or None
        trust = (pulumi.Output.from_input(json.dumps(documents.break_glass_trust(principals))) if principals else
                 pulumi.Output.from_input(args.account_id).apply(
                     lambda account: json.dumps(documents.break_glass_trust([f"arn:aws:iam::{account}:root"]))))
        self.break_glass_role = aws.iam.Role(**self.child("break-glass"),
                                             name=names.iam_name(args.prefix, names.BREAK_GLASS),
                                             tags=_purpose(names.BREAK_GLASS), assume_role_policy=trust,
                                             max_session_duration=3600)
        aws.iam.RolePolicy(**self.child("break-glass-policy"), role=self.break_glass_role.id,
                           policy=pulumi.Output.all(args.bucket_arn, args.key_arn).apply(
                               lambda v: json.dumps(documents.break_glass_policy(v[0], v[1]))))

        aws.s3.BucketPolicy(**self.child("bucket-policy", stateful=True, depends_on=args.policy_after),
                            bucket=args.bucket_name,
                            policy=pulumi.Output.all(args.bucket_arn, args.key_arn, self.break_glass_role.arn).apply(
                                lambda v: json.dumps(documents.bucket_policy(v[0], v[1], v[2]))))

        self.access_key = self.restore_access_key = None
        if args.iam_user:
            user = aws.iam.User(**self.child("backup-user"), name=backup_name, tags=_purpose(names.BACKUP))
            aws.iam.UserPolicy(**self.child("backup-user-policy"), user=user.name, policy=backup_doc)
            self.access_key = aws.iam.AccessKey(**self.child("backup-user-key"), user=user.name)
            # restores and drills on such a host use keys of their own, with exactly the restore role's policy
            restore_user = aws.iam.User(**self.child("restore-user"), name=restore_name, tags=_purpose(names.RESTORE))
            aws.iam.UserPolicy(**self.child("restore-user-policy"), user=restore_user.name, policy=restore_doc)
            self.restore_access_key = aws.iam.AccessKey(**self.child("restore-user-key"), user=restore_user.name)
        self.register_outputs({"backup_role_arn": self.backup_role.arn, "restore_role_arn": self.restore_role.arn,
                               "restore_instance_profile": self.restore_profile.name,
                               "break_glass_role_arn": self.break_glass_role.arn,
                               "parameter_name": self.parameter.name})
