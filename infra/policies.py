"""pgvault's safety invariants as Pulumi policies (``pulumi preview --policy-pack infra/policypack``).

The program never produces a violation (its tests prove it over the committed
stacks); these policies refuse a hand edit, another program or a future
refactor that would.  The checks are plain functions: of one resource's
engine-level properties (camelCase) in ``infra.checks``, of the whole stack in
``infra.stack_checks``; this module only registers them.  The ``PolicyPack``
object is built only in ``infra/policypack/__main__.py``, because its
constructor starts a gRPC server.

The pack reads two settings, given with ``--policy-pack-config``: ``repoPrefix``
(the pgBackRest repository's key prefix) as
``{"pgbackrest-repository-lifecycle": {"repoPrefix": "pgbackrest/"}}``, and
``drillsPrefix`` (``repository.drills_prefix``, below which the restore
principal may put drill results) as
``{"restore-role-read-only": {"drillsPrefix": "drills"}}``.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from infra import checks, stack_checks
from pgvault.core.schema import RepositoryConfig

#: the pgBackRest repository prefix when the pack's config does not say otherwise: the schema's default path
DEFAULT_REPO_PREFIX = RepositoryConfig.model_fields["path"].default.strip("/") + "/"
REPO_PREFIX_SCHEMA = PolicyConfigSchema(properties={"repoPrefix": {
    "type": "string", "pattern": "^[a-z0-9][a-z0-9_/-]*/$", "default": DEFAULT_REPO_PREFIX,
    "description": "key prefix of the pgBackRest repository (repository.path without its leading slash, plus '/')"}})
#: the drill results' prefix when the pack's config does not say otherwise: the schema's default
DEFAULT_DRILLS_PREFIX = stack_checks.DEFAULT_DRILLS_PREFIX
DRILLS_PREFIX_SCHEMA = PolicyConfigSchema(properties={"drillsPrefix": {
    "type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$", "default": DEFAULT_DRILLS_PREFIX,
    "description": "key prefix of drill results (repository.drills_prefix), below which, in its stanza's folder, "
                   "the restore principal may put drill results"}})
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
IAM_POLICIES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy", "aws:iam/policy:Policy",
                "aws:iam/role:Role")
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def _resource(name: str, description: str, types: tuple[str, ...], check) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation) -> None:
        if args.resource_type in types:
            check(args.props, lambda message: report_violation(message, None))

    return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                    enforcement_level=EnforcementLevel.MANDATORY)


def _stack(name: str, description: str, check, config_schema: PolicyConfigSchema | None = None
           ) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation) -> None:
        check(args, lambda message, urn=None: report_violation(message, urn))

    return StackValidationPolicy(name=name, description=description, validate=validate,
                                 enforcement_level=EnforcementLevel.MANDATORY, config_schema=config_schema)


def _repo_prefix(args) -> str:
    return (args.get_config() or {}).get("repoPrefix", DEFAULT_REPO_PREFIX)


def _drills_prefix(args) -> str:
    return (args.get_config() or {}).get("drillsPrefix", DEFAULT_DRILLS_PREFIX)


POLICIES = [
    _resource("bucket-tls-only", "every bucket policy denies all S3 requests without TLS or below TLS 1.2",
              (BUCKET_POLICY,), checks.check_tls_only),
    _resource("service-principals-bound", "services act on a bucket or key only for this account's resources",
              (BUCKET_POLICY, "aws:kms/key:Key"), checks.check_service_principals),
    _resource("iam-least-privilege", "IAM policies list their actions: no wildcards, no NotAction or NotResource",
              IAM_POLICIES, checks.check_least_privilege),
    _resource("age-alarms-dead-man", "age alarms name their metric, treat missing data as breaching, have actions",
              (ALARM,), checks.check_dead_man),
    _resource("alarm-within-cloudwatch-limits", "alarm periods and evaluation periods CloudWatch accepts", (ALARM,),
              checks.check_alarm_window),
    _stack("pgbackrest-repository-lifecycle", "lifecycle rules never expire or freeze live repository objects, and "
           "noncurrent versions outlive the Object Lock retention",
           lambda a, r: stack_checks.check_lifecycle(a.resources, _repo_prefix(a), r), REPO_PREFIX_SCHEMA),
    _stack("bucket-sse-kms", "buckets encrypt with the stack's own KMS key and bucket keys",
           lambda a, r: stack_checks.check_encryption(a.resources, r)),
    _stack("buckets-guarded", "every bucket has a bucket policy, a public access block, encryption and versioning",
           lambda a, r: stack_checks.check_buckets(a.resources, r)),
    _stack("restore-role-read-only", "roles and IAM users declare their purpose; the restore role and the restore "
           "user can only read, but for putting drill results below <drillsPrefix>/<stanza>/",
           lambda a, r: stack_checks.check_principals(a.resources, r, _drills_prefix(a)), DRILLS_PREFIX_SCHEMA),
    _stack("dead-man-alarms-present", "every \"too old\" metric has an alarm",
           lambda a, r: stack_checks.check_dead_man_alarms(a.resources, r)),
]
