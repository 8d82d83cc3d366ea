"""The policy pack passes the real program and refuses each way of breaking pgvault's invariants (issue 12, defect 7).

Every case edits a copy of the example stack's resource graph, as a hand edit or
another program would, and runs the whole pack (resource and stack policies) on it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable

import pytest

from infra.documents import drill_results_statements
from infra.policies import DEFAULT_DRILLS_PREFIX, DEFAULT_REPO_PREFIX, POLICIES
from infra.stack_checks import drill_results_only
from pgvault.core.lifecycle import from_engine, repository_violations
from tests.infra.harness import Resource, policy_violations

LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
ROLE = "aws:iam/role:Role"
USER = "aws:iam/user:User"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def test_the_program_passes_the_pack(graph):
    assert policy_violations(graph.resources) == []


def _one(resources: list[Resource], typ: str, name: str | None = None) -> Resource:
    (found,) = [r for r in resources if r.typ == typ and (name is None or r.name == name)]
    return found


def _document(resource: Resource, edit: Callable[[dict], None], key: str = "policy") -> None:
    doc = json.loads(resource.inputs[key])
    edit(doc)
    resource.inputs[key] = json.dumps(doc)


def _statement(doc: dict, sid: str) -> dict:
    (found,) = [s for s in doc["Statement"] if s.get("Sid") == sid]
    return found


def _grant(*actions: str, statement: str = "Action") -> Callable[[dict], None]:
    return lambda doc: doc["Statement"].append({"Effect": "Allow", statement: list(actions), "Resource": "*"})


def _widen(sid: str, edit: Callable[[str], str]) -> Callable[[dict], None]:
    """Rewrite the resource of statement ``sid``."""
    return lambda doc: _statement(doc, sid).update(Resource=edit(_statement(doc, sid)["Resource"]))


def _rule(resources, **fields):
    _one(resources, LIFECYCLE).inputs["rules"][0].update(fields)


def _tls(sid, **fields):
    return lambda r: _document(_one(r, BUCKET_POLICY), lambda doc: _statement(doc, sid).update(fields))


def _key(key_id):
    def edit(resources):
        rule = _one(resources, ENCRYPTION).inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        rule["kmsMasterKeyId"] = key_id
    return edit


def _restore_policy(resources):
    """The restore role's policy, renamed: the pack must find it through its role, not its name."""
    policy = _one(resources, ROLE_POLICY, "access-restore-policy")
    policy.name = "access-readers"
    return policy


def _restore_user_policy(resources):
    """The restore user's policy, renamed: the pack must find it through its user, not its name."""
    policy = _one(resources, USER_POLICY, "access-restore-user-policy")
    policy.name = "access-readers"
    return policy


def _attach(typ: str, prop: str, principal_type: str, principal_name: str, **inputs):
    """Add a ``typ`` resource whose ``prop`` comes from the named role or user (a managed policy, a group)."""
    def edit(resources):
        principal = _one(resources, principal_type, principal_name)
        template = _one(resources, USER_POLICY, "access-restore-user-policy")
        name = f"extra-{typ.rsplit(':', 1)[1]}"
        options = dataclasses.replace(template.options, dependencies=(principal.urn,),
                                      property_dependencies={prop: (principal.urn,)})
        resources.append(Resource(typ, name, {prop: principal.state["name"], **inputs}, {},
                                  template.urn.rsplit("::", 1)[0].rsplit("$", 1)[0] + f"${typ}::{name}", options))
    return edit


def _metric_queries(resources):
    alarm = _one(resources, ALARM, "alerts-backup-age").inputs
    metric = {k: alarm.pop(k) for k in ("namespace", "metricName", "dimensions", "period", "statistic")}
    alarm.pop("threshold")
    alarm["metricQueries"] = [
        {"id": "m1", "returnData": False, "metric": {"namespace": metric["namespace"],
                                                     "metricName": metric["metricName"], "period": metric["period"],
                                                     "stat": metric["statistic"], "dimensions": metric["dimensions"]}},
        {"id": "e1", "expression": "FILL(m1, 0)", "returnData": True}]


def _drop(typ, name=None):
    return lambda resources: resources.remove(_one(resources, typ, name))


CASES = {
    "a repository rule expiring by date": (
        lambda r: _rule(r, expiration={"date": "2027-01-01T00:00:00Z"}), "expires live objects under pgbackrest/"),
    "noncurrent expiry shorter than the lock": (
        lambda r: _rule(r, noncurrentVersionExpiration={"noncurrentDays": 1}), "14-day Object Lock retention"),
    "a TLS deny on GetObject only": (_tls("DenyInsecureTransport", Action="s3:GetObject"), "aws:SecureTransport"),
    "a TLS deny on objects only": (
        lambda r: _document(_one(r, BUCKET_POLICY), lambda doc: _statement(doc, "DenyInsecureTransport").update(
            Resource=_statement(doc, "DenyInsecureTransport")["Resource"][1])), "aws:SecureTransport"),
    "TLS 1.0 allowed": (_tls("DenyOldTls", Condition={"NumericLessThan": {"s3:TlsVersion": "1.0"}}),
                        "TLS versions below 1.2"),
    "the TLS deny narrowed to one principal": (
        _tls("DenyOldTls", Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"},
                                      "StringEquals": {"aws:PrincipalAccount": "999999999999"}}),
        "TLS versions below 1.2"),
    "the AWS-managed key": (_key("alias/aws/s3"), "AWS-managed key"),
    "a key from outside the stack": (_key("arn:aws:kms:eu-west-1:999999999999:key/x"), "the stack's own KMS key"),
    "s3:Delete* for the host": (
        lambda r: _document(_one(r, ROLE_POLICY, "access-backup-policy"), _grant("s3:Delete*")), "wildcard"),
    "s3:* for the restore role": (lambda r: _document(_restore_policy(r), _grant("s3:*")), "wildcard"),
    "NotAction for the host": (
        lambda r: _document(_one(r, ROLE_POLICY, "access-backup-policy"), _grant("iam:*", statement="NotAction")),
        "NotAction"),
    "kms:Encrypt for the restore role": (lambda r: _document(_restore_policy(r), _grant("kms:Encrypt")),
                                         "restore role may kms:Encrypt"),
    "s3:PutObject for the restore role": (lambda r: _document(_restore_policy(r), _grant("s3:PutObject")),
                                          "restore role may s3:PutObject on *"),
    "the drill results' put widened to every stanza": (
        lambda r: _document(_restore_policy(r), _widen("DrillResults", lambda v: v.rsplit("/", 2)[0] + "/*")),
        "restore role may s3:PutObject on arn:aws:s3:::"),
    "the drill results' put moved under the repository": (
        lambda r: _document(_restore_policy(r), _widen("DrillResults",
                                                       lambda v: v.replace("/drills/", "/pgbackrest/"))),
        "restore role may s3:PutObject on arn:aws:s3:::"),
    "s3:DeleteObject on the drill results": (
        lambda r: _document(_restore_policy(r), lambda doc: _statement(doc, "DrillResults")["Action"].append(
            "s3:DeleteObject")), "restore role may s3:DeleteObject"),
    "the drill results' key grant outside S3": (
        lambda r: _document(_restore_policy(r), lambda doc: _statement(doc, "DrillResultsKey").pop("Condition")),
        "restore role may kms:GenerateDataKey without a kms:ViaService condition"),
    "the drill results' key grant on every key": (
        lambda r: _document(_restore_policy(r), _widen("DrillResultsKey", lambda v: "*")),
        "restore role may kms:GenerateDataKey on * (only the data key's own ARN)"),
    "the drill results' key grant on an alias": (
        lambda r: _document(_restore_policy(r), _widen("DrillResultsKey", lambda v: v.split(":key/")[0] + ":alias/x")),
        "restore role may kms:GenerateDataKey on arn:aws:kms:"),
    "NotAction for the restore role": (
        lambda r: _document(_restore_policy(r), _grant("s3:DeleteObject", statement="NotAction")),
        "restore role is allowed everything but ['s3:DeleteObject'] (NotAction)"),
    "s3:PutObject for the restore user": (lambda r: _document(_restore_user_policy(r), _grant("s3:PutObject")),
                                          "restore user may s3:PutObject"),
    "s3:DeleteObject for the restore user": (
        lambda r: _document(_restore_user_policy(r), lambda doc: _statement(doc, "ReadObjects")["Action"].append(
            "s3:DeleteObject")), "restore user may s3:DeleteObject"),
    "a managed policy on the restore user": (
        _attach("aws:iam/userPolicyAttachment:UserPolicyAttachment", "user", USER, "access-restore-user",
                policyArn=ADMIN), "restore user has a managed policy or a group attached"),
    "a managed policy on the restore user through a policy attachment": (
        _attach("aws:iam/policyAttachment:PolicyAttachment", "users", USER, "access-restore-user", policyArn=ADMIN),
        "restore user has a managed policy or a group attached"),
    "the restore user in a group": (
        _attach("aws:iam/userGroupMembership:UserGroupMembership", "user", USER, "access-restore-user",
                groups=["admins"]), "restore user has a managed policy or a group attached"),
    "a managed policy on the restore role through a policy attachment": (
        _attach("aws:iam/policyAttachment:PolicyAttachment", "roles", ROLE, "access-restore", policyArn=ADMIN),
        "restore role has a managed policy attached"),
    "a user without a declared purpose": (
        lambda r: _one(r, USER, "access-backup-user").inputs["tags"].clear(), "user access-backup-user declares no"),
    "a role without a declared purpose": (
        lambda r: _one(r, "aws:iam/role:Role", "access-restore").inputs["tags"].clear(), "pgvault:purpose"),
    "an age alarm on metric queries": (_metric_queries, "metric queries"),
    "an age alarm that ignores silence": (
        lambda r: _one(r, ALARM, "alerts-full-backup-age").inputs.update(treatMissingData="notBreaching"),
        "missing data as breaching"),
    "an age alarm without actions": (
        lambda r: _one(r, ALARM, "alerts-drill-age").inputs.update(actionsEnabled=False), "actions"),
    "an alarm CloudWatch refuses": (
        lambda r: _one(r, ALARM, "alerts-job-failed").inputs.update(period=600, evaluationPeriods=1000),
        "CloudWatch"),
    "a service principal bound to no account": (
        lambda r: _document(_one(r, "aws:kms/key:Key", "alerts-key"),
                            lambda doc: _statement(doc, "CloudWatchPublishes").pop("Condition")), "aws:SourceAccount"),
    "a missing age alarm": (_drop(ALARM, "alerts-drill-age"), "no alarm on pgvault LastDrillAgeSeconds"),
    "a missing bucket policy": (_drop(BUCKET_POLICY), "has no bucket policy"),
    "a bucket policy not ordered after the public access block": (
        lambda r: setattr(_one(r, BUCKET_POLICY), "options", dataclasses.replace(
            _one(r, BUCKET_POLICY).options, dependencies=())), "public access block"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_pack_refuses(graphs, case):
    edit, words = CASES[case]
    resources = copy.deepcopy(graphs["example"].resources)
    edit(resources)
    found = policy_violations(resources)
    assert any(words in v for v in found), found


@pytest.mark.parametrize("days", [1, 30, 396, 400, 4000])
def test_the_pack_applies_the_loaders_own_rule(graphs, days):
    """One rule, two callers: the pack refuses exactly what the stack loader would (an expiry of any length)."""
    resources = copy.deepcopy(graphs["example"].resources)
    _rule(resources, expiration={"days": days})
    pack = [v for v in policy_violations(resources) if v.startswith("pgbackrest-repository-lifecycle: ")]
    loader = repository_violations(from_engine(_one(resources, LIFECYCLE).inputs["rules"]), "pgbackrest/", 14)
    assert pack and pack == [f"pgbackrest-repository-lifecycle: {v.message}" for v in loader]


def test_deep_archive_under_the_repository_is_refused(graphs):
    resources = copy.deepcopy(graphs["example"].resources)
    _one(resources, LIFECYCLE).inputs["rules"][0]["transitions"].append({"days": 180, "storageClass": "DEEP_ARCHIVE"})
    assert any("DEEP_ARCHIVE" in v for v in policy_violations(resources))


def test_the_repository_prefix_comes_from_the_packs_config(graphs):
    resources = copy.deepcopy(graphs["example"].resources)
    rules = _one(resources, LIFECYCLE).inputs["rules"]
    rules.append({"id": "other", "status": "Enabled", "filter": {"prefix": "elsewhere/"}, "expiration": {"days": 3}})
    assert policy_violations(resources) == []
    assert any("elsewhere/" in v for v in policy_violations(resources, {"repoPrefix": "elsewhere/"}))


def test_the_packs_config_keys_have_a_schema():
    schemas = {p.name: p.config_schema for p in POLICIES if p.config_schema is not None}
    assert set(schemas) == {"pgbackrest-repository-lifecycle", "restore-role-read-only"}
    lifecycle, restore = schemas["pgbackrest-repository-lifecycle"], schemas["restore-role-read-only"]
    assert lifecycle.properties["repoPrefix"]["default"] == DEFAULT_REPO_PREFIX == "pgbackrest/"
    assert lifecycle.properties["repoPrefix"]["type"] == "string"
    assert restore.properties["drillsPrefix"]["default"] == DEFAULT_DRILLS_PREFIX == "drills"


def test_the_drill_results_prefix_comes_from_the_packs_config(graphs):
    """The program's drill-results grant passes under its own prefix and is refused under another."""
    resources = copy.deepcopy(graphs["example"].resources)
    assert policy_violations(resources, {"drillsPrefix": "drills"}) == []
    found = policy_violations(resources, {"drillsPrefix": "results"})
    assert any("restore role may s3:PutObject on arn:aws:s3:::" in v and "/drills/crm/*" in v for v in found), found


@pytest.mark.parametrize("stanza", ["crm", "Main", "a_b-C9"])
def test_the_programs_own_drill_results_grant_passes_for_any_stanza_the_schema_allows(stanza):
    """The pack's stanza match is the schema's name pattern: an uppercase stanza is a stanza too."""
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    for statement in drill_results_statements("arn:aws:s3:::b", key, f"drills/{stanza}/", "eu-west-1"):
        for action in statement["Action"]:
            assert drill_results_only(statement, action, "drills") is None, (stanza, statement)


def test_a_put_below_a_name_the_schema_refuses_is_beyond_drill_results():
    statement = {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::b/drills/a.b/*"}
    assert drill_results_only(statement, "s3:PutObject", "drills") == "on arn:aws:s3:::b/drills/a.b/*"
