"""BackupBucket: the encrypted, versioned bucket, its data key and its lifecycle (also the replica's)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import documents, names
from infra.components.base import Component, protects
from pgvault.core.lifecycle import lifecycle_rules
from pgvault.core.schema import StackConfig


@dataclass(frozen=True)
class BackupBucketArgs:
    """What the bucket needs, taken from the stack."""

    bucket: str
    lifecycle: tuple[dict, ...]
    object_lock: bool
    object_lock_days: int
    force_destroy: bool
    protect: bool
    tags: tuple[tuple[str, str], ...]

    @classmethod
    def from_config(cls, cfg: StackConfig) -> BackupBucketArgs:
        """Build the args (``load_stack`` has already refused rules that could break pgBackRest)."""
        return cls._named(cfg, cfg.repository.bucket)

    @classmethod
    def replica_of(cls, cfg: StackConfig) -> BackupBucketArgs:
        """The second copy's bucket (``storage.replica_region``): the same settings under ``<bucket>-replica``."""
        return cls._named(cfg, names.bucket_name(cfg.repository.bucket, "replica"))

    @classmethod
    def _named(cls, cfg: StackConfig, bucket: str) -> BackupBucketArgs:
        return cls(bucket=bucket, lifecycle=tuple(lifecycle_rules(cfg)), object_lock=cfg.storage.object_lock,
                   object_lock_days=cfg.storage.object_lock_days, force_destroy=cfg.storage.force_destroy,
                   protect=protects(cfg), tags=(("pgvault:stack", cfg.name), ("pgvault:stanza", cfg.pgbackrest.stanza)))


def secure(component: Component, bucket: aws.s3.Bucket) -> tuple[aws.s3.BucketVersioning, tuple[pulumi.Resource, ...]]:
    """Version ``bucket``, block all public access to it and enforce bucket-owner ownership (no ACLs), as stateful
    children of ``component``.

    :returns: the versioning, and what a bucket policy must be put after (S3 answers 409 OperationAborted to a
        policy put while the public access block or the ownership controls are applied)
    """
    versioning = aws.s3.BucketVersioning(**component.child("versioning", stateful=True), bucket=bucket.id,
                                         versioning_configuration={"status": "Enabled"})
    public_access = aws.s3.BucketPublicAccessBlock(
        **component.child("public-access", stateful=True), bucket=bucket.id, block_public_acls=True,
        block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True)
    ownership = aws.s3.BucketOwnershipControls(**component.child("ownership", stateful=True), bucket=bucket.id,
                                               rule={"object_ownership": "BucketOwnerEnforced"})
    return versioning, (public_access, ownership)


class BackupBucket(Component):
    """The bucket: SSE-KMS with a rotating customer key and bucket keys, versioning, no public access,
    owner-enforced objects, lifecycle rules from ``pgvault.core.lifecycle``, optional Object Lock."""

    def __init__(self, name: str, args: BackupBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pgvault:storage:BackupBucket", name, args.protect, opts)
        tags = dict(args.tags)
        self.key = aws.kms.Key(**self.child("key", stateful=True), description=f"pgvault data key for s3://{args.bucket}",
                               enable_key_rotation=True, deletion_window_in_days=30, tags=tags)
        aws.kms.Alias(**self.child("key-alias"), name=f"alias/pgvault-{args.bucket}", target_key_id=self.key.key_id)
        # Object Lock is switched on by the lock configuration below, on the existing versioned bucket; a bucket
        # created with object_lock_enabled (earlier versions) is kept as it is rather than replaced
        self.bucket = aws.s3.Bucket(**self.child("bucket", stateful=True, ignore_changes=["object_lock_enabled"]),
                                    bucket=args.bucket, force_destroy=args.force_destroy, tags=tags)
        versioning, self.policy_after = secure(self, self.bucket)
        self.versioning = versioning
        aws.s3.BucketServerSideEncryptionConfiguration(
            **self.child("encryption", stateful=True), bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms",
                                                                 "kms_master_key_id": self.key.arn},
                    "bucket_key_enabled": True}])
        aws.s3.BucketLifecycleConfiguration(**self.child("lifecycle", stateful=True, depends_on=[versioning]),
                                            bucket=self.bucket.id,
                                            rules=documents.lifecycle_args(list(args.lifecycle)))
        if args.object_lock:
            aws.s3.BucketObjectLockConfiguration(
                **self.child("object-lock", stateful=True, depends_on=[versioning]), bucket=self.bucket.id,
                object_lock_enabled="Enabled",
                rule={"default_retention": {"mode": "GOVERNANCE", "days": args.object_lock_days}})
        self.register_outputs({"bucket": self.bucket.bucket, "bucket_arn": self.bucket.arn, "key_arn": self.key.arn})
