"""BackupBucket: the encrypted, versioned bucket, its data key and its lifecycle."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import documents
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
        return cls(bucket=cfg.repository.bucket, lifecycle=tuple(lifecycle_rules(cfg)),
                   object_lock=cfg.storage.object_lock,
                   object_lock_days=cfg.storage.object_lock_days, force_destroy=cfg.storage.force_destroy,
                   protect=not cfg.is_sandbox, tags=(("pgvault:stack", cfg.name),
                                                     ("pgvault:stanza", cfg.pgbackrest.stanza)))


class BackupBucket(pulumi.ComponentResource):
    """The bucket: SSE-KMS with a rotating customer key and bucket keys, versioning, no public access,
    owner-enforced objects, lifecycle rules from ``pgvault.core.lifecycle``, optional Object Lock."""

    def __init__(self, name: str, args: BackupBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pgvault:storage:BackupBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        tags = dict(args.tags)
        self.key = aws.kms.Key(f"{name}-key", description=f"pgvault data key for s3://{args.bucket}",
                               enable_key_rotation=True, deletion_window_in_days=30, tags=tags, opts=stateful)
        aws.kms.Alias(f"{name}-key-alias", name=f"alias/pgvault-{args.bucket}", target_key_id=self.key.key_id,
                      opts=child)
        self.bucket = aws.s3.Bucket(f"{name}-bucket", bucket=args.bucket, object_lock_enabled=args.object_lock,
                                    force_destroy=args.force_destroy, tags=tags, opts=stateful)
        versioning = aws.s3.BucketVersioning(f"{name}-versioning", bucket=self.bucket.id,
                                             versioning_configuration={"status": "Enabled"}, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms",
                                                                 "kms_master_key_id": self.key.arn},
                    "bucket_key_enabled": True}], opts=child)
        aws.s3.BucketPublicAccessBlock(f"{name}-public-access", bucket=self.bucket.id, block_public_acls=True,
                                       block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
                                       opts=child)
        aws.s3.BucketOwnershipControls(f"{name}-ownership", bucket=self.bucket.id,
                                       rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
        aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", bucket=self.bucket.id,
                                            rules=documents.lifecycle_args(list(args.lifecycle)),
                                            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]))
        if args.object_lock:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock", bucket=self.bucket.id,
                rule={"default_retention": {"mode": "GOVERNANCE", "days": args.object_lock_days}},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]))
        self.register_outputs({"bucket": self.bucket.bucket, "bucket_arn": self.bucket.arn, "key_arn": self.key.arn})
