"""boto3 clients built from the stack (endpoint, CA bundle, credentials).

S3 goes to the repository endpoint over TLS, verified against
``repository.ca_file`` when one is set, never with verification off outside a
sandbox.  Credentials are the stack's secrets (``keys``) or boto3's default
chain (``instance-role``), never a developer's stray ``AWS_*`` variables for a
sandbox.
"""

from __future__ import annotations

import boto3
from botocore.config import Config

from pgvault.core.roles import holds_backup_keys
from pgvault.core.schema import StackConfig
from pgvault.core.secrets import RESTORE_S3_KEY, RESTORE_S3_KEY_SECRET, S3_KEY, S3_KEY_SECRET
from pgvault.edges.secretstore import read_secret


def s3_client(cfg: StackConfig, config: Config | None = None, keys: tuple[str, str] | None = None):
    """An S3 client for the stack's bucket (``config`` merges over the defaults, e.g. shorter timeouts).

    ``keys`` (access key, secret) replace the stack's credentials, e.g. the
    restore keys.  Every upload carries a checksum
    (``request_checksum_calculation="when_supported"``): S3 refuses a put
    without one into a bucket with Object Lock retention.
    """
    repo = cfg.repository
    kwargs = _keys(cfg) if keys is None else {"aws_access_key_id": keys[0], "aws_secret_access_key": keys[1]}
    verify = repo.ca_file if (repo.verify_tls and repo.ca_file) else repo.verify_tls
    base = Config(
        s3={"addressing_style": "path" if repo.uri_style == "path" else "virtual"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
        request_checksum_calculation="when_supported",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3", region_name=repo.region, endpoint_url=repo.endpoint_url if repo.endpoint else None,
        verify=verify, config=base.merge(config) if config else base, **kwargs,
    )


def aws_client(cfg: StackConfig, service: str):
    """A client for an AWS control-plane service (CloudWatch, SNS, SQS, SSM) of the stack's region.

    In a sandbox it talks to moto_server on loopback with moto's dummy
    credentials; elsewhere it uses the stack's access keys, or boto3's
    default chain (an instance role) with ``credentials: instance-role``.
    """
    quick = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 2, "mode": "standard"})
    if cfg.sandbox is not None:
        return boto3.client(service, region_name=cfg.repository.region, config=quick,
                            endpoint_url=f"http://127.0.0.1:{cfg.sandbox.moto_port}",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    return boto3.client(service, region_name=cfg.repository.region, config=quick, **_keys(cfg))


def _keys(cfg: StackConfig) -> dict:
    """The stack's access keys (the backup IAM user may publish metrics and alerts), or boto3's chain; on a host
    without the backup keys (staging), the restore keys (read, and put drill results)."""
    if cfg.repository.credentials != "keys":
        return {}
    key, secret = (S3_KEY, S3_KEY_SECRET) if holds_backup_keys(cfg.hosts[0]) else (RESTORE_S3_KEY,
                                                                                     RESTORE_S3_KEY_SECRET)
    return {"aws_access_key_id": read_secret(cfg, key).reveal(),
            "aws_secret_access_key": read_secret(cfg, secret).reveal()}
