"""pgvault's invariants on one resource, as pure functions of its engine properties (camelCase).

The policy pack (``infra.policies``) calls them for each resource of a preview;
the relations between resources (which bucket a setting belongs to, which
role a policy is attached to) are judged in ``infra.stack_checks``.
Properties still unknown during a preview are ``None`` and are not judged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from pgvault.core import metrics
from pgvault.core.policy import DEAD_MAN_METRICS, alarm_window

Report = Callable[[str], None]
#: the lowest TLS version the bucket may accept
MIN_TLS = 1.2
_DEAD_MAN_NAMES = {m.name for m in DEAD_MAN_METRICS}


def as_list(value: Any) -> list:
    """``value`` as a list (IAM allows a single string where a list is meant)."""
    return value if isinstance(value, list) else [value]


def statements(document: Any) -> list[dict]:
    """The statements of a JSON policy document (none while the document is still unknown)."""
    if not isinstance(document, str):
        return []
    found = json.loads(document).get("Statement", [])
    return found if isinstance(found, list) else [found]


def allowed_actions(found: Iterable[dict]) -> list[str]:
    """Every action the ``Allow`` statements grant."""
    return [a for s in found if s.get("Effect") == "Allow" for a in as_list(s.get("Action", []))]


def _everyone(statement: dict) -> bool:
    return statement.get("Principal") in ("*", {"AWS": "*"}) and not {"NotPrincipal", "NotAction",
                                                                       "NotResource"} & statement.keys()


def _whole_bucket(resources: list) -> bool:
    if "*" in resources:
        return True
    return any(r.startswith("arn:aws:s3:::") and "/" not in r and f"{r}/*" in resources
               for r in resources if isinstance(r, str))


def _denies_all_s3(statement: dict) -> bool:
    """A Deny of every S3 action, by everyone, on the bucket and all its objects."""
    return (statement.get("Effect") == "Deny" and _everyone(statement)
            and bool({"s3:*", "*"} & set(as_list(statement.get("Action"))))
            and _whole_bucket(as_list(statement.get("Resource"))))


def _only(condition: Any, operator: str, key: str) -> Any:
    """The value of ``condition[operator][key]`` when that is the condition's only test, else ``None``."""
    if not isinstance(condition, dict) or list(condition) != [operator] or not isinstance(condition[operator], dict) \
            or list(condition[operator]) != [key]:
        return None
    value = condition[operator][key]
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _tls_floor(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def check_tls_only(props: dict, report: Report) -> None:
    """The bucket policy denies every S3 request, by anyone, on the bucket and its objects, made without TLS or
    below TLS 1.2; a deny narrowed to some actions, some objects or some principals does not count."""
    found = statements(props.get("policy"))
    if not found:
        return
    denies = [s for s in found if _denies_all_s3(s)]
    if not any(str(_only(s.get("Condition"), "Bool", "aws:SecureTransport")).lower() == "false" for s in denies):
        report("the bucket policy does not deny every request without TLS: it needs a Deny of s3:* on the bucket "
               "and its objects, for every principal, on aws:SecureTransport false alone")
    if not any(_tls_floor(_only(s.get("Condition"), "NumericLessThan", "s3:TlsVersion")) >= MIN_TLS for s in denies):
        report(f"the bucket policy does not deny TLS versions below {MIN_TLS}: it needs a Deny of s3:* on the bucket "
               f"and its objects, for every principal, on s3:TlsVersion NumericLessThan {MIN_TLS} (or higher) alone")


def policy_documents(props: dict) -> list[Any]:
    """The IAM policy documents of a resource: its ``policy``, and a role's ``inlinePolicies``."""
    inline = [p.get("policy") for p in props.get("inlinePolicies") or [] if isinstance(p, dict)]
    return [props.get("policy"), *inline]


def check_least_privilege(props: dict, report: Report) -> None:
    """IAM policies list each action they allow: no ``*`` anywhere in an action (``s3:*``, ``s3:Delete*``), and no
    ``NotAction`` or ``NotResource`` in an Allow (they grant everything else, including what AWS adds later)."""
    for document in policy_documents(props):
        found = statements(document)
        for action in allowed_actions(found):
            if "*" in action:
                report(f"IAM policy grants the wildcard action {action!r}; list the actions instead")
        for statement in found:
            for key in ("NotAction", "NotResource"):
                if statement.get("Effect") == "Allow" and key in statement:
                    report(f"IAM policy allows with {key}, which grants everything not listed; list what it allows")


def _alarm_metrics(props: dict) -> set[str]:
    named = [(props.get("namespace"), props.get("metricName"))]
    named += [((q.get("metric") or {}).get("namespace"), (q.get("metric") or {}).get("metricName"))
              for q in props.get("metricQueries") or []]
    return {name for namespace, name in named if namespace == metrics.NAMESPACE and name in _DEAD_MAN_NAMES}


def check_dead_man(props: dict, report: Report) -> None:
    """An alarm on a "too old" metric fires when the figure stops arriving: it names the metric itself (metric
    queries can fill the silence, e.g. ``FILL(m1, 0)``), treats missing data as breaching, and has actions."""
    watched = _alarm_metrics(props)
    if not watched:
        return
    what = ", ".join(sorted(watched))
    if props.get("metricQueries"):
        report(f"alarm on {what} is built from metric queries, which can turn missing data into values; name the "
               "metric on the alarm (namespace, metricName) so that silence alarms")
    if props.get("treatMissingData") != "breaching":
        report(f"alarm on {what} must treat missing data as breaching, so that a job that stops running alarms")
    if props.get("actionsEnabled") is False or not props.get("alarmActions"):
        report(f"alarm on {what} has no enabled alarm actions: nobody would hear it")


def check_alarm_window(props: dict, report: Report) -> None:
    """Period and evaluation periods that PutMetricAlarm accepts (``pgvault.core.policy.alarm_window``)."""
    evaluations = props.get("evaluationPeriods")
    periods = [props.get("period"), *((q.get("metric") or {}).get("period") for q in props.get("metricQueries") or [])]
    for period in periods:
        if isinstance(period, int | float) and isinstance(evaluations, int | float):
            if alarm_window(int(period), int(evaluations)) != (int(period), int(evaluations)):
                report(f"CloudWatch refuses a period of {period:g} s over {evaluations:g} evaluation periods "
                       "(a whole number of minutes, spanning at most 7 days, or 1 day under an hour)")


def check_service_principals(props: dict, report: Report) -> None:
    """A resource policy (bucket, key) that lets an AWS service act binds it to this account's own resources with
    ``aws:SourceAccount`` and ``aws:SourceArn``, or another account's alarms or buckets could use it (the confused
    deputy)."""
    for statement in statements(props.get("policy")):
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow" or not isinstance(principal, dict) or "Service" not in principal:
            continue
        condition = statement.get("Condition") or {}
        keys = {k for tests in condition.values() if isinstance(tests, dict) for k in tests}
        if not {"aws:SourceAccount", "aws:SourceArn"} <= keys:
            report(f"the policy lets {principal['Service']} act without aws:SourceAccount and aws:SourceArn "
                   "conditions; bind it to this account's own resources")
