"""BackupAlerts: an encrypted SNS topic, its e-mail subscriptions, and the CloudWatch alarms."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import documents, names
from infra.components.base import Component, protects
from pgvault.core import metrics
from pgvault.core.policy import AlarmSpec, alarm_specs, topic_name
from pgvault.core.schema import StackConfig


@dataclass(frozen=True)
class BackupAlertsArgs:
    """The alarm specs derived from the stack, where to send them, and the metric dimensions."""

    prefix: str
    region: str
    topic_name: str
    stack: str
    stanza: str
    emails: tuple[str, ...]
    alarms: tuple[AlarmSpec, ...]
    account_id: pulumi.Input[str]
    protect: bool

    @classmethod
    def from_config(cls, cfg: StackConfig, account_id) -> BackupAlertsArgs:
        """Build the args from the stack."""
        return cls(prefix=names.prefix(cfg), region=cfg.repository.region, topic_name=topic_name(cfg), stack=cfg.name,
                   stanza=cfg.pgbackrest.stanza,
                   emails=cfg.alerts.emails, alarms=tuple(alarm_specs(cfg)), account_id=account_id,
                   protect=protects(cfg))


class BackupAlerts(Component):
    """Alarm and OK actions go to one KMS-encrypted topic; "too old" alarms treat missing data as breaching."""

    def __init__(self, name: str, args: BackupAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pgvault:monitoring:BackupAlerts", name, args.protect, opts)
        self._prefix = args.prefix
        self.key = key = aws.kms.Key(**self.child("key", stateful=True), description="pgvault alert topic key",
                                     enable_key_rotation=True, policy=pulumi.Output.from_input(args.account_id).apply(
                                         lambda account: json.dumps(documents.alerts_key_policy(
                                             account, args.region, self.alarm_name("")))))
        self.topic = aws.sns.Topic(**self.child("topic"), name=args.topic_name, kms_master_key_id=key.arn)
        for index, address in enumerate(args.emails):
            aws.sns.TopicSubscription(**self.child(f"email-{index}"), topic=self.topic.arn, protocol="email",
                                      endpoint=address)
        dims = {d["Name"]: d["Value"] for d in metrics.dimensions(args.stack, args.stanza)}
        self.alarms = [self._alarm(args, spec, dims) for spec in args.alarms]
        self.register_outputs({"topic_arn": self.topic.arn, "alarm_arns": [a.arn for a in self.alarms]})

    def alarm_name(self, key: str) -> str:
        """The CloudWatch name of the alarm ``key`` (``""``: the prefix every alarm of the stack shares)."""
        return f"{self._prefix}-{key}"

    def _alarm(self, args: BackupAlertsArgs, spec: AlarmSpec, dims: dict) -> aws.cloudwatch.MetricAlarm:
        common = dict(
            **self.child(spec.key), name=self.alarm_name(spec.key), alarm_description=spec.description,
            comparison_operator=spec.comparison, evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.evaluation_periods, treat_missing_data=spec.missing,
            alarm_actions=[self.topic.arn], ok_actions=[self.topic.arn],
        )
        if spec.anomaly:
            return aws.cloudwatch.MetricAlarm(
                threshold_metric_id="band", metric_queries=[
                    {"id": "m1", "return_data": True, "metric": {
                        "namespace": metrics.NAMESPACE, "metric_name": spec.metric.name, "dimensions": dims,
                        "period": spec.period, "stat": spec.statistic}},
                    {"id": "band", "expression": f"ANOMALY_DETECTION_BAND(m1, {spec.threshold:g})",
                     "label": "expected band", "return_data": True},
                ], **common)
        return aws.cloudwatch.MetricAlarm(
            namespace=metrics.NAMESPACE, metric_name=spec.metric.name, dimensions=dims,
            statistic=spec.statistic, period=spec.period, threshold=spec.threshold, unit=spec.metric.unit, **common)
