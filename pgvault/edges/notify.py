"""Deliver metrics and messages: CloudWatch, the SNS alert topic, SMTP.

Delivery problems are returned, not raised, where a failing channel must not
hide the event being reported (a failed job still exits with its own code).
"""

from __future__ import annotations

import functools
import smtplib
import ssl
from email.message import EmailMessage

from botocore.exceptions import BotoCoreError, ClientError

from pgvault.core import metrics
from pgvault.core.policy import topic_name
from pgvault.core.schema import StackConfig
from pgvault.core.secrets import SMTP_PASSWORD
from pgvault.edges.cloud import aws_client
from pgvault.edges.secretstore import SecretError, read_secret


@functools.lru_cache(maxsize=8)
def _account(cfg: StackConfig) -> str:
    return aws_client(cfg, "sts").get_caller_identity()["Account"]


def topic_arn(cfg: StackConfig) -> str:
    """ARN of the stack's alert topic (its name is derived, the account comes from STS)."""
    return f"arn:aws:sns:{cfg.repository.region}:{_account(cfg)}:{topic_name(cfg)}"


def put_metrics(cfg: StackConfig, values: dict[str, float]) -> str | None:
    """Send metric values (by ``pgvault.core.metrics`` name) to CloudWatch; return a problem or None."""
    if not values or not cfg.monitoring.cloudwatch:
        return None
    units = {m.name: m.unit for m in metrics.ALL}
    data = [{"MetricName": name, "Value": value, "Unit": units[name],
             "Dimensions": metrics.dimensions(cfg.name, cfg.pgbackrest.stanza)}
            for name, value in sorted(values.items())]
    try:
        client = aws_client(cfg, "cloudwatch")
        for start in range(0, len(data), 20):
            client.put_metric_data(Namespace=metrics.NAMESPACE, MetricData=data[start:start + 20])
    except (ClientError, BotoCoreError) as exc:
        return f"CloudWatch: {exc}"
    return None


def send(cfg: StackConfig, subject: str, body: str) -> list[str]:
    """Send a message to the alert topic and, when configured, by SMTP; return delivery problems."""
    problems = []
    if cfg.alerts.sns:
        try:
            aws_client(cfg, "sns").publish(TopicArn=topic_arn(cfg), Subject=subject[:99], Message=body)
        except (ClientError, BotoCoreError) as exc:
            problems.append(f"SNS: {exc}")
    if cfg.alerts.smtp is not None:
        try:
            _smtp(cfg, subject, body)
        except (OSError, smtplib.SMTPException, SecretError) as exc:
            problems.append(f"SMTP: {exc}")
    return problems


def _smtp(cfg: StackConfig, subject: str, body: str) -> None:
    smtp = cfg.alerts.smtp
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, smtp.sender, ", ".join(smtp.recipients)
    message.set_content(body)
    context = ssl.create_default_context()
    if smtp.tls == "implicit":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=30, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=30)
    with client:
        if smtp.tls == "starttls":
            client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, read_secret(cfg, SMTP_PASSWORD).reveal())
        client.send_message(message)
