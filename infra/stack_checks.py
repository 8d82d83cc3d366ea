"""pgvault's invariants over the whole stack: what one resource alone cannot show (pure).

Each function takes the stack's resources (``pulumi_policy.PolicyResource``:
type, properties, URN, dependencies) and reports what is missing or wrong.
Relations come from the engine's property dependencies (a lifecycle
configuration's ``bucket`` depends on its Bucket, a role policy's ``role`` on
its Role, a user policy's ``user`` on its User), so they hold during a
preview, while names and ARNs are unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from infra.checks import as_list, policy_documents, statements
from infra.documents import DRILL_RESULT_ACTIONS, DRILL_RESULT_KEY_ACTIONS
from infra.names import PURPOSE_TAG, PURPOSES, RESTORE
from pgvault.core import metrics
from pgvault.core.lifecycle import from_engine, repository_violations
from pgvault.core.policy import DEAD_MAN_METRICS
from pgvault.core.schema import NAME_PATTERN, RepositoryConfig

#: report(message, urn): a violation, attached to a resource when ``urn`` is given
Report = Callable[[str, "str | None"], None]

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER = "aws:iam/user:User"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
USER_GROUPS = "aws:iam/userGroupMembership:UserGroupMembership"
GROUP_MEMBERSHIP = "aws:iam/groupMembership:GroupMembership"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
#: what a restore role or user may do anywhere: read objects, list, decrypt with the data key, read the passphrase
READ_ONLY_ACTIONS = ("s3:Get", "s3:List", "kms:Decrypt", "kms:DescribeKey", "ssm:GetParameter")
#: and its one write, which :func:`drill_results_only` confines (``infra.documents.drill_results_statements``)
DRILL_RESULT_WRITES = (*DRILL_RESULT_ACTIONS, *DRILL_RESULT_KEY_ACTIONS)
#: what S3 server access logging accepts as its target bucket's default encryption
LOG_TARGET_ENCRYPTION = "AES256"
#: the drill results' prefix when the pack's config does not say otherwise: the schema's default
DEFAULT_DRILLS_PREFIX = RepositoryConfig.model_fields["drills_prefix"].default
#: a stanza as the schema allows one to be named (``pgvault.core.schema.NAME_PATTERN``, without its anchors)
_STANZA = NAME_PATTERN.removeprefix("^").removesuffix("$")
#: a KMS key's own ARN (not an alias, not a wildcard)
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")


def _of_type(resources: Iterable, typ: str) -> list:
    return [r for r in resources if r.resource_type == typ]


def _depends(resource, prop: str, target) -> bool:
    return any(d.urn == target.urn for d in (resource.property_dependencies or {}).get(prop) or [])


def _attached(resources: Iterable, typ: str, prop: str, target) -> list:
    """Resources of ``typ`` whose ``prop`` comes from ``target`` (a bucket's settings, a role's policies)."""
    return [r for r in _of_type(resources, typ) if _depends(r, prop, target)]


def log_targets(resources: list) -> set[str]:
    """URNs of the buckets that receive S3 server access logs."""
    return {d.urn for r in _of_type(resources, LOGGING) for d in (r.property_dependencies or {}).get(
        "targetBucket") or []}


def check_buckets(resources: list, report: Report) -> None:
    """Every bucket has a bucket policy (put after its public access block and ownership controls, or S3 answers
    409), a public access block, default encryption, and versioning (an overwrite or delete can be undone)."""
    for bucket in _of_type(resources, BUCKET):
        policies = _attached(resources, BUCKET_POLICY, "bucket", bucket)
        guards = _attached(resources, PUBLIC_ACCESS, "bucket", bucket) + _attached(resources, OWNERSHIP, "bucket",
                                                                                    bucket)
        if not policies:
            report(f"bucket {bucket.name} has no bucket policy (TLS only, no other encryption)", bucket.urn)
        if not _attached(resources, PUBLIC_ACCESS, "bucket", bucket):
            report(f"bucket {bucket.name} has no public access block", bucket.urn)
        if not _attached(resources, ENCRYPTION, "bucket", bucket):
            report(f"bucket {bucket.name} has no default encryption", bucket.urn)
        if not _attached(resources, VERSIONING, "bucket", bucket):
            report(f"bucket {bucket.name} is not versioned: an overwrite or delete could not be undone", bucket.urn)
        for policy in policies:
            waits_for = {d.urn for d in policy.dependencies or []}
            if any(guard.urn not in waits_for for guard in guards):
                report(f"the bucket policy of {bucket.name} is not ordered after its public access block and "
                       "ownership controls (depends_on): S3 answers 409 OperationAborted", policy.urn)


def _key_ids(key) -> set[str]:
    return {v for v in (key.props.get("arn"), key.props.get("keyId"), key.props.get("id")) if isinstance(v, str)}


def check_encryption(resources: list, report: Report) -> None:
    """Default encryption is SSE-KMS with a customer key of this stack (never the AWS-managed ``alias/aws/s3``,
    whose key policy nobody controls) and bucket keys; a bucket that only receives server access logs uses SSE-S3,
    the only default encryption S3 delivers access logs to."""
    keys = _of_type(resources, KEY)
    own = set().union(*(_key_ids(k) for k in keys)) if keys else set()
    logs = log_targets(resources)
    for config in _of_type(resources, ENCRYPTION):
        rules = config.props.get("rules") or []
        if not rules:
            report("the bucket has no default encryption rule", config.urn)
        to_logs = any(d.urn in logs for d in (config.property_dependencies or {}).get("bucket") or [])
        from_keys = any(_depends(config, "rules", k) for k in keys)
        for rule in rules:
            default = rule.get("applyServerSideEncryptionByDefault") or {}
            algorithm, key_id = default.get("sseAlgorithm"), default.get("kmsMasterKeyId")
            if to_logs:
                if algorithm != LOG_TARGET_ENCRYPTION:
                    report(f"an access-log bucket must use {LOG_TARGET_ENCRYPTION} (S3 does not deliver access logs "
                           "to an SSE-KMS bucket)", config.urn)
                continue
            if algorithm != "aws:kms":
                report("the bucket's default encryption must be aws:kms with the stack's own KMS key", config.urn)
            elif isinstance(key_id, str) and "alias/aws/" in key_id:
                report(f"the bucket's default encryption uses the AWS-managed key {key_id}, whose policy cannot be "
                       "limited or audited; use the stack's own KMS key", config.urn)
            elif (isinstance(key_id, str) and key_id not in own) or (key_id is None and not from_keys):
                report("the bucket's default encryption is not the stack's own KMS key", config.urn)
            if not rule.get("bucketKeyEnabled"):
                report("the bucket's default encryption must enable bucket keys", config.urn)


def _lock_days(lock) -> int | None:
    retention = ((lock.props.get("rule") or {}).get("defaultRetention")) or {}
    if retention.get("days") is not None:
        return int(retention["days"])
    return int(retention["years"]) * 365 if retention.get("years") is not None else None


def check_lifecycle(resources: list, repo_prefix: str, report: Report) -> None:
    """The stack loader's own rule (``pgvault.core.lifecycle.repository_violations``) over each bucket's rules,
    with the bucket's Object Lock retention: nothing under the repository prefix expires or freezes, and
    noncurrent versions outlive the lock."""
    locks = _of_type(resources, LOCK)
    for config in _of_type(resources, LIFECYCLE):
        buckets = (config.property_dependencies or {}).get("bucket") or []
        days = [d for lock in locks for d in [_lock_days(lock)] if d is not None and any(
            _depends(lock, "bucket", b) for b in buckets)]
        for problem in repository_violations(from_engine(config.props.get("rules") or []), repo_prefix,
                                             max(days) if days else None):
            report(problem.message, config.urn)


def _purpose(principal) -> Any:
    return (principal.props.get("tags") or {}).get(PURPOSE_TAG)


@dataclass(frozen=True)
class _Principal:
    """How the pack finds what a kind of IAM principal may do: its inline policies (each a resource whose
    ``prop`` comes from the principal), and what it cannot read (managed policies, and a user's groups)."""

    kind: str
    typ: str
    inline: tuple[str, str]
    #: (type, property) of each resource that would give the principal permissions the pack cannot judge
    opaque: tuple[tuple[str, str], ...]
    #: what those resources are, in a violation's message
    opaque_what: str


PRINCIPALS = (
    _Principal("role", ROLE, (ROLE_POLICY, "role"),
               ((ROLE_POLICY_ATTACHMENT, "role"), (POLICY_ATTACHMENT, "roles")), "a managed policy"),
    _Principal("user", USER, (USER_POLICY, "user"),
               ((USER_POLICY_ATTACHMENT, "user"), (POLICY_ATTACHMENT, "users"), (USER_GROUPS, "user"),
                (GROUP_MEMBERSHIP, "users")), "a managed policy or a group"),
)


def drill_results_only(statement: dict, action: str, drills_prefix: str) -> str | None:
    """Why ``action``, granted by ``statement`` to a restore principal, reaches beyond drill results (``None`` when
    it does not): a put only on objects below ``<bucket>/<drills_prefix>/<one stanza>/``, and the data key's
    GenerateDataKey only on a key's own ARN (no ``*``, no alias) and only through S3 (``kms:ViaService``
    ``s3.<region>.amazonaws.com``), as ``infra.documents.drill_results_statements`` writes them."""
    if "NotResource" in statement:
        return "with NotResource"
    if action in DRILL_RESULT_ACTIONS:
        below = re.compile(rf"^arn:aws[a-z-]*:s3:::[a-z0-9.-]+/{re.escape(drills_prefix)}/{_STANZA}/\*$")
        outside = [r for r in as_list(statement.get("Resource")) if not (isinstance(r, str) and below.match(r))]
        return f"on {', '.join(map(str, outside))}" if outside else None
    not_keys = [r for r in as_list(statement.get("Resource")) if not (isinstance(r, str) and _KEY_ARN.match(r))]
    if not_keys or not statement.get("Resource"):
        return f"on {', '.join(map(str, not_keys)) or 'no resource'} (only the data key's own ARN)"
    via = ((statement.get("Condition") or {}).get("StringEquals") or {}).get("kms:ViaService")
    if isinstance(via, str) and re.fullmatch(r"s3\.[a-z0-9-]+\.amazonaws\.com", via):
        return None
    return "without a kms:ViaService condition naming S3"


def check_principals(resources: list, report: Report, drills_prefix: str = DEFAULT_DRILLS_PREFIX) -> None:
    """Every role and IAM user declares its purpose; a restore role's or restore user's policies, found through
    the principal they are attached to (not by their names), only read, but for putting drill results below
    ``<drills_prefix>/<stanza>/`` (:func:`drill_results_only`), and it has no managed policy and (a user) no
    group, whose permissions the pack cannot read."""
    for kind in PRINCIPALS:
        for principal in _of_type(resources, kind.typ):
            purpose = _purpose(principal)
            if purpose not in PURPOSES:
                report(f"{kind.kind} {principal.name} declares no {PURPOSE_TAG} tag ({', '.join(PURPOSES)}); the "
                       f"pack judges a {kind.kind}'s policies by its purpose", principal.urn)
            if purpose != RESTORE:
                continue
            documents = policy_documents(principal.props) + [p.props.get("policy") for p in _attached(
                resources, *kind.inline, principal)]
            for statement in (s for d in documents for s in statements(d) if s.get("Effect") == "Allow"):
                if "NotAction" in statement:  # allows everything but what it names: never read only
                    report(f"the restore {kind.kind} is allowed everything but {statement['NotAction']} (NotAction); "
                           "it must stay read only, but for putting drill results", principal.urn)
                for action in as_list(statement.get("Action", [])):
                    if action.startswith(READ_ONLY_ACTIONS):
                        continue
                    beyond = drill_results_only(statement, action, drills_prefix) if action in \
                        DRILL_RESULT_WRITES else ""
                    if beyond is not None:
                        report(f"the restore {kind.kind} may {action}{' ' + beyond if beyond else ''}; it must stay "
                               f"read only, but for putting drill results below {drills_prefix}/<stanza>/, so a "
                               "drill cannot touch the repository", principal.urn)
            opaque = [a for typ, prop in kind.opaque for a in _attached(resources, typ, prop, principal)]
            if opaque or principal.props.get("managedPolicyArns"):
                report(f"the restore {kind.kind} has {kind.opaque_what} attached, whose permissions the pack "
                       "cannot judge; keep it to its inline read-only policy", principal.urn)


def check_dead_man_alarms(resources: list, report: Report) -> None:
    """Each "too old" metric has an alarm: without one, a job that stops running is never noticed."""
    watched = {r.props.get("metricName") for r in _of_type(resources, ALARM)
               if r.props.get("namespace") == metrics.NAMESPACE}
    for metric in DEAD_MAN_METRICS:
        if metric.name not in watched:
            report(f"no alarm on {metrics.NAMESPACE} {metric.name}: a job that stops running would go unnoticed",
                   None)
