"""pgvault's safety invariants as Pulumi policies (``pulumi preview --policy-pack infra/policypack``).

The program never produces a violation (its tests prove it over the committed
stacks); these policies refuse a hand edit, another program or a future
refactor that would.  Each validator is a plain function of the resource's
engine-level properties (camelCase), so the tests call them directly; the
``PolicyPack`` object is built only in ``infra/policypack/__main__.py``,
because its constructor starts a gRPC server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy

from pgvault.core import metrics
from pgvault.core.lifecycle import from_engine, repository_violations

#: the pgBackRest repository prefix when the pack's config does not say otherwise
DEFAULT_REPO_PREFIX = "pgbackrest/"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
IAM_POLICIES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy", "aws:iam/policy:Policy")
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
WRITE_ACTIONS = ("s3:Put", "s3:Delete", "s3:Replicate", "s3:Restore", "s3:Bypass")

Report = Callable[[str], None]


def _statements(document: Any) -> list[dict]:
    if not isinstance(document, str):
        return []  # unknown during preview: nothing to judge yet
    statements = json.loads(document).get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _actions(statements: Iterable[dict]) -> list[str]:
    return [a for s in statements if s.get("Effect") == "Allow" for a in _as_list(s.get("Action", []))]


def check_lifecycle(props: dict, repo_prefix: str, report: Report) -> None:
    """The stack loader's own rule (``pgvault.core.lifecycle.repository_violations``) over the engine's rules.

    No expiry of current objects and no unreadable storage class under the repository prefix.
    """
    for problem in repository_violations(from_engine(props.get("rules") or []), repo_prefix):
        report(problem.message)


def check_tls_only(props: dict, report: Report) -> None:
    """The bucket policy denies every request made without TLS, or below TLS 1.2."""
    statements = _statements(props.get("policy"))
    if not statements:
        return
    denies = [s for s in statements if s.get("Effect") == "Deny"]
    if not any((s.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport") == "false" for s in denies):
        report("the bucket policy does not deny requests without TLS (aws:SecureTransport false)")
    if not any("s3:TlsVersion" in (s.get("Condition") or {}).get("NumericLessThan", {}) for s in denies):
        report("the bucket policy does not deny TLS versions below 1.2 (s3:TlsVersion)")


def check_encryption(props: dict, report: Report) -> None:
    """Default encryption is SSE-KMS with a named key and bucket keys."""
    rules = props.get("rules") or []
    for rule in rules:
        default = rule.get("applyServerSideEncryptionByDefault") or {}
        if default.get("sseAlgorithm") != "aws:kms" or not default.get("kmsMasterKeyId"):
            report("the bucket's default encryption must be aws:kms with the stack's key (kmsMasterKeyId)")
        if not rule.get("bucketKeyEnabled"):
            report("the bucket's default encryption must enable bucket keys")
    if not rules:
        report("the bucket has no default encryption rule")


def check_no_wildcards(props: dict, report: Report) -> None:
    """No IAM policy grants ``*`` or ``service:*``."""
    for action in _actions(_statements(props.get("policy"))):
        if action == "*" or action.endswith(":*"):
            report(f"IAM policy grants the wildcard action {action!r}; list the actions instead")


def check_restore_read_only(name: str, props: dict, report: Report) -> None:
    """The restore role's policy (resource name containing 'restore') never writes or deletes."""
    if "restore" not in name:
        return
    for action in _actions(_statements(props.get("policy"))):
        if action.startswith(WRITE_ACTIONS):
            report(f"the restore role may {action}; it must stay read only so a drill cannot touch the repository")


#: metrics whose alarms must fire when the figure stops arriving
DEAD_MAN_METRICS = {m.name for m in (metrics.LAST_FULL_BACKUP_AGE, metrics.LAST_BACKUP_AGE,
                                     metrics.LAST_LOGICAL_DUMP_AGE, metrics.LAST_DRILL_AGE, metrics.WAL_ARCHIVE_LAG)}


def check_dead_man(props: dict, report: Report) -> None:
    """"Too old" alarms on pgvault metrics treat missing data as breaching."""
    if props.get("namespace") == metrics.NAMESPACE and props.get("metricName") in DEAD_MAN_METRICS:
        if props.get("treatMissingData") != "breaching":
            report(f"alarm on {props.get('metricName')} must treat missing data as breaching, so that a job that "
                   "stops running alarms")


def _policy(name: str, description: str, types: tuple[str, ...], check) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation) -> None:
        if args.resource_type in types:
            check(args, lambda message: report_violation(message, None))

    return ResourceValidationPolicy(name=name, description=description, validate=validate,
                                    enforcement_level=EnforcementLevel.MANDATORY)


POLICIES = [
    _policy("pgbackrest-repository-lifecycle", "lifecycle rules never expire or freeze live repository objects",
            (LIFECYCLE,), lambda a, r: check_lifecycle(a.props, a.get_config().get("repoPrefix", DEFAULT_REPO_PREFIX),
                                                       r)),
    _policy("bucket-tls-only", "the bucket policy denies non-TLS and pre-1.2 TLS requests", (BUCKET_POLICY,),
            lambda a, r: check_tls_only(a.props, r)),
    _policy("bucket-sse-kms", "the bucket encrypts with the stack's KMS key and bucket keys", (ENCRYPTION,),
            lambda a, r: check_encryption(a.props, r)),
    _policy("iam-no-wildcards", "IAM policies list their actions", IAM_POLICIES,
            lambda a, r: check_no_wildcards(a.props, r)),
    _policy("restore-role-read-only", "the restore role cannot write or delete", IAM_POLICIES,
            lambda a, r: check_restore_read_only(a.name, a.props, r)),
    _policy("age-alarms-dead-man", "age alarms treat missing data as breaching", (ALARM,),
            lambda a, r: check_dead_man(a.props, r)),
]
