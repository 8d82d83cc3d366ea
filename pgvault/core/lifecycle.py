"""The bucket's S3 lifecycle rules, and the one rule that keeps them from breaking pgBackRest (pure).

DESIGN.md's invariant: **no lifecycle rule may expire live objects under the
pgBackRest repository prefix**.  pgBackRest writes ``archive.info`` and
``backup.info`` once and keeps WAL and backup files for as long as its own
retention says; an S3 expiry that reaches them silently breaks WAL chains and
backup sets (with encryption, ``archive.info`` holds the archive's key).  So
under that prefix rules only abort stale multipart uploads, expire noncurrent
versions after the protection window, and move objects to classes pgBackRest
reads directly.  Logical dumps are separate objects that S3 expires by their
tier tag.

:func:`repository_violations` is that rule, written once: the stack loader
refuses a stack whose rules break it, and the Pulumi policy pack
(``infra.policies``) refuses a lifecycle resource that breaks it, after
:func:`from_engine` has turned the engine's camelCase into the S3 API's shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pgvault.core.schema import StackConfig

#: days an incomplete multipart upload may linger before S3 aborts it
ABORT_MULTIPART_DAYS = 7
#: the only storage classes pgBackRest can read without a restore request
READABLE_CLASSES = ("STANDARD_IA", "GLACIER_IR")
#: field names the S3 API spells with more than a capital first letter
_API_NAMES = {"id": "ID"}


@dataclass(frozen=True)
class Violation:
    """A lifecycle rule that would break the repository: which, why, and the fix."""

    rule: str
    message: str
    fix: str


def lifecycle_rules(cfg: StackConfig) -> list[dict]:
    """The bucket's lifecycle rules, in the S3 API's own shape (PascalCase)."""
    storage, retention, repo = cfg.storage, cfg.retention, cfg.repository
    housekeeping = {
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
        "NoncurrentVersionExpiration": {"NoncurrentDays": storage.protection_days},
        "Expiration": {"ExpiredObjectDeleteMarker": True},
    }
    transitions = [{"Days": days, "StorageClass": cls}
                   for days, cls in ((storage.standard_ia_days, "STANDARD_IA"), (storage.glacier_ir_days, "GLACIER_IR"))
                   if days]
    rules = [{"ID": "pgbackrest-repository", "Status": "Enabled", "Filter": {"Prefix": repo.repo_prefix},
              **housekeeping, **({"Transitions": transitions} if transitions else {})}]
    logical = f"{repo.logical_prefix}/"
    rules.append({"ID": "logical-housekeeping", "Status": "Enabled", "Filter": {"Prefix": logical}, **housekeeping})
    for tier, days in (("daily", retention.daily_days), ("weekly", retention.weekly_days),
                       ("monthly", retention.monthly_days)):
        rules.append({"ID": f"logical-{tier}", "Status": "Enabled",
                      "Filter": {"And": {"Prefix": logical, "Tags": [{"Key": "tier", "Value": tier}]}},
                      "Expiration": {"Days": days}})
    rules.append({"ID": "drill-results", "Status": "Enabled", "Filter": {"Prefix": f"{repo.drills_prefix}/"},
                  "Expiration": {"Days": retention.monthly_days},
                  "NoncurrentVersionExpiration": {"NoncurrentDays": storage.protection_days},
                  "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS}})
    return rules


def rule_prefix(rule: dict) -> str:
    """The key prefix a lifecycle rule applies to (empty: the whole bucket)."""
    flt = rule.get("Filter") or {}
    return flt.get("Prefix", (flt.get("And") or {}).get("Prefix", "")) or ""


def repository_violations(rules: Iterable[dict], repo_prefix: str,
                          object_lock_days: int | None = None) -> list[Violation]:
    """Every way ``rules`` (S3 API shape) could corrupt the pgBackRest repository under ``repo_prefix``.

    :param object_lock_days: the bucket's default Object Lock retention, when the bucket has one: noncurrent
        versions must outlive it, or the rule fights the lock
    """
    found = []
    for rule in rules:
        prefix = rule_prefix(rule)
        if not (prefix.startswith(repo_prefix) or repo_prefix.startswith(prefix)):
            continue
        rid = rule.get("ID", "?")
        expiration = rule.get("Expiration") or {}
        if expiration.get("Days") is not None or expiration.get("Date") is not None:
            when = f"after {expiration['Days']} days" if expiration.get("Days") is not None else \
                f"on {expiration['Date']}"
            found.append(Violation(
                rid, f"lifecycle rule {rid} expires live objects under {repo_prefix} {when}: S3 would silently delete "
                "backup files, WAL and archive.info that pgBackRest still needs and break restores",
                "remove the expiration; pgBackRest's own expire (fab backup.expire) removes what retention allows"))
        for step in rule.get("Transitions") or []:
            if step.get("StorageClass") not in READABLE_CLASSES:
                found.append(Violation(
                    rid, f"lifecycle rule {rid} moves {repo_prefix} objects to {step.get('StorageClass')}, which "
                    "pgBackRest cannot read without a restore request: restores and WAL fetches would fail",
                    f"use only {' or '.join(READABLE_CLASSES)} under the repository prefix"))
        noncurrent = (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays")
        if object_lock_days is not None and noncurrent is not None and noncurrent <= object_lock_days:
            found.append(Violation(
                rid, f"lifecycle rule {rid} expires noncurrent versions after {noncurrent} days, not after the "
                f"{object_lock_days}-day Object Lock retention",
                "raise pgvault:storage.protection_days above storage.object_lock_days"))
    return found


def from_engine(value: Any) -> Any:
    """Pulumi engine properties (``noncurrentDays``) in the S3 API's spelling (``NoncurrentDays``)."""
    if isinstance(value, list):
        return [from_engine(v) for v in value]
    if isinstance(value, dict):
        return {_API_NAMES.get(k, k[:1].upper() + k[1:]): from_engine(v) for k, v in value.items()}
    return value


def shape_errors(rules: list[dict]) -> list[str]:
    """AWS's own constraints on lifecycle rules, which moto does not enforce.

    :returns: one message per broken constraint (empty when S3 would accept the rules)
    """
    errors = []
    ids = [r.get("ID", "") for r in rules]
    if len(set(ids)) != len(ids):
        errors.append("lifecycle rule IDs must be unique")
    for rule in rules:
        rid = rule.get("ID", "")
        tagged = "And" in (rule.get("Filter") or {}) and (rule["Filter"]["And"].get("Tags"))
        expiration = rule.get("Expiration") or {}
        if not rid or len(rid) > 255:
            errors.append(f"rule {rid!r}: an ID of 1 to 255 characters is required")
        if "ExpiredObjectDeleteMarker" in expiration and ("Days" in expiration or "Date" in expiration):
            errors.append(f"rule {rid}: ExpiredObjectDeleteMarker cannot be combined with Days or Date")
        if tagged and ("ExpiredObjectDeleteMarker" in expiration or "AbortIncompleteMultipartUpload" in rule):
            errors.append(f"rule {rid}: delete-marker cleanup and multipart aborts cannot use a tag filter")
        for step in rule.get("Transitions") or []:
            if step.get("StorageClass") in ("STANDARD_IA", "ONEZONE_IA") and step.get("Days", 0) < 30:
                errors.append(f"rule {rid}: {step['StorageClass']} transitions need at least 30 days")
        if rule.get("Status") not in ("Enabled", "Disabled"):
            errors.append(f"rule {rid}: Status must be Enabled or Disabled")
    return errors
