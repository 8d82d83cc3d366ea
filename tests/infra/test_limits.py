"""AWS's limits and ordering rules, met by the program for any stack (issue 12, defect 8)."""

from __future__ import annotations

import json

import pytest

from infra.names import IAM_NAME_MAX, iam_name
from tests.infra.harness import ACCOUNT, run_stack

IAM_NAMED = ("aws:iam/role:Role", "aws:iam/user:User", "aws:iam/instanceProfile:InstanceProfile")
LONGEST = "s" * 63  # the longest stack name and stanza the loader accepts


def test_the_bucket_policy_waits_for_the_public_access_block_and_ownership_controls(graph):
    """S3 answers 409 OperationAborted to a bucket policy put while either is still being applied."""
    policy = graph.one("aws:s3/bucketPolicy:BucketPolicy").options.dependencies
    assert graph.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").urn in policy
    assert graph.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").urn in policy


def test_iam_names_fit_64_characters_for_the_longest_stack_and_stanza(tmp_path):
    graph = run_stack(tmp_path, LONGEST, pgbackrest={"stanza": "z" * 63}, access={"iam_user": True})
    names = [r.inputs["name"] for typ in IAM_NAMED for r in graph.of_type(typ)]
    assert names and all(len(n) <= IAM_NAME_MAX for n in names), names
    roles = [r.inputs["name"] for r in graph.of_type("aws:iam/role:Role")]
    assert len(set(roles)) == len(roles)
    users = [r.inputs["name"] for r in graph.of_type("aws:iam/user:User")]
    assert len(users) == 2 and len(set(users)) == len(users)
    assert all(len(r.inputs["name"]) <= 255 for r in graph.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"))


def test_short_iam_names_are_unchanged(graph):
    """Existing stacks keep their role names (a new name would replace the role)."""
    roles = {r.inputs["name"] for r in graph.of_type("aws:iam/role:Role")}
    assert any(name.endswith("-crm-backup") and name.startswith("pgvault-") for name in roles)


@pytest.mark.parametrize("prefix", ["pgvault-x-y", "pgvault-" + "a" * 80, "pgvault-" + "a" * 80 + "b"])
def test_iam_name_is_short_stable_and_distinct(prefix):
    name = iam_name(prefix, "break-glass")
    assert len(name) <= IAM_NAME_MAX and name.endswith("-break-glass") and name == iam_name(prefix, "break-glass")
    assert name != iam_name(prefix + "c", "break-glass")


def _service_statements(graph):
    for resource in graph.resources:
        for key in ("policy", "assumeRolePolicy"):
            text = resource.inputs.get(key)
            if isinstance(text, str) and text.startswith("{"):
                for statement in json.loads(text)["Statement"]:
                    principal = statement.get("Principal")
                    if isinstance(principal, dict) and "Service" in principal and statement["Effect"] == "Allow" \
                            and statement["Action"] != "sts:AssumeRole":
                        yield resource.name, statement


def test_service_principals_in_resource_policies_act_only_for_this_account(graph):
    """A service principal without aws:SourceAccount/aws:SourceArn lets another account's alarms (or buckets) use
    the key: the confused deputy."""
    found = list(_service_statements(graph))
    assert found
    for name, statement in found:
        condition = statement.get("Condition", {})
        assert condition.get("StringEquals", {}).get("aws:SourceAccount") == ACCOUNT, name
        assert condition.get("ArnLike", {}).get("aws:SourceArn", "").startswith("arn:aws:"), name


def test_the_alarm_key_is_bound_to_this_stacks_alarms(graph):
    key = graph.one("aws:kms/key:Key", "alerts-key")
    (statement,) = [s for s in json.loads(key.inputs["policy"])["Statement"] if "Service" in s["Principal"]]
    prefix = graph.one("aws:cloudwatch/metricAlarm:MetricAlarm", "alerts-backup-age").inputs["name"].removesuffix(
        "backup-age")
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:cloudwatch:{_region(graph)}:{ACCOUNT}:" \
        f"alarm:{prefix}*"


def _region(graph):
    return graph.outputs["region"]


def test_the_dashboard_graphs_daily_s3_metrics_by_the_day(graph):
    """S3 publishes storage metrics once a day: at 300 s the graph is empty but for one point a day."""
    body = json.loads(graph.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    daily = [w for w in body["widgets"] if w["type"] == "metric" and any(
        line[:2] == ["AWS/S3", "BucketSizeBytes"] for line in w["properties"]["metrics"])]
    assert daily and all(w["properties"]["period"] == 86400 for w in daily)
    others = [w for w in body["widgets"] if w["type"] == "metric" and w not in daily]
    assert all(w["properties"]["period"] == 300 for w in others)
