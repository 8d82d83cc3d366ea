"""BackupDashboard: the CloudWatch dashboard of a stack."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import documents, names
from infra.components.base import Component
from pgvault.core.policy import AlarmSpec
from pgvault.core.schema import StackConfig


@dataclass(frozen=True)
class BackupDashboardArgs:
    """The figures the dashboard shows and the alarms it lists."""

    name: str
    stack: str
    stanza: str
    region: str
    bucket: pulumi.Input[str]
    alarms: tuple[AlarmSpec, ...]
    alarm_arns: tuple[pulumi.Input[str], ...]
    rpo_seconds: int

    @classmethod
    def from_config(cls, cfg: StackConfig, bucket, alarms, alarm_arns) -> BackupDashboardArgs:
        """Build the args from the stack, the bucket name and the alarms."""
        return cls(name=names.prefix(cfg), stack=cfg.name, stanza=cfg.pgbackrest.stanza,
                   region=cfg.repository.region, bucket=bucket, alarms=tuple(alarms), alarm_arns=tuple(alarm_arns),
                   rpo_seconds=cfg.targets.rpo_seconds)


class BackupDashboard(Component):
    """Last backup age, size history, WAL lag, drills (RTO, recovery point), storage by class, alarm states."""

    def __init__(self, name: str, args: BackupDashboardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pgvault:monitoring:BackupDashboard", name, False, opts)
        body = pulumi.Output.all(args.bucket, *args.alarm_arns).apply(lambda v: json.dumps(documents.dashboard_body(
            args.stack, args.stanza, args.region, v[0], list(args.alarms), list(v[1:]), args.rpo_seconds)))
        self.dashboard = aws.cloudwatch.Dashboard(**self.child("dashboard"), dashboard_name=args.name,
                                                  dashboard_body=body)
        self.url = pulumi.Output.concat("https://", args.region, ".console.aws.amazon.com/cloudwatch/home?region=",
                                        args.region, "#dashboards:name=", self.dashboard.dashboard_name)
        self.register_outputs({"url": self.url})
