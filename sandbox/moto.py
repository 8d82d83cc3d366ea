"""``moto_server`` as the sandbox's AWS control plane (CloudWatch, SNS, SQS)."""

from __future__ import annotations

import json
from pathlib import Path

from pgvault.core.policy import topic_name
from pgvault.core.schema import StackConfig
from pgvault.edges.cloud import aws_client
from sandbox.processes import port_open, require_free_port, spawn, venv_binary, wait_started


def start(folder: Path, port: int) -> dict:
    """Start ``moto_server`` on 127.0.0.1:``port``; return ``{"pid"}``."""
    require_free_port(port, "moto_server", "pgvault:sandbox.moto_port")
    log = folder / "moto.log"
    pid = spawn([venv_binary("moto_server"), "-H", "127.0.0.1", "-p", str(port)], log)
    wait_started(lambda: port_open(port), "moto_server", log)
    return {"pid": pid}


def inbox_name(cfg: StackConfig) -> str:
    """The SQS queue subscribed to the sandbox's alert topic, to read alerts back."""
    return f"pgvault-{cfg.name}-alerts-inbox"


def ensure_alert_topic(cfg: StackConfig) -> str:
    """Create the stack's alert topic in moto and subscribe the inbox queue; return the queue URL."""
    topic = aws_client(cfg, "sns").create_topic(Name=topic_name(cfg))["TopicArn"]
    sqs = aws_client(cfg, "sqs")
    queue_url = sqs.create_queue(QueueName=inbox_name(cfg))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscriptions = aws_client(cfg, "sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    if not any(s["Endpoint"] == queue_arn for s in subscriptions):
        aws_client(cfg, "sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": queue_arn}]})})
    return queue_url
