"""The repository passphrase can come from the SSM parameter the Pulumi program creates."""

from __future__ import annotations

import pytest

from pgvault.core.config import parse_stack
from pgvault.core.policy import passphrase_parameter
from pgvault.core.secrets import REPO_CIPHER_PASS
from pgvault.edges.cloud import aws_client
from pgvault.edges.secretstore import SecretError, read_secret
from tests.builders import merge, sandbox_config, stack_text


def _stack(sandbox, ssm: bool):
    ports = {"moto": sandbox.cfg.sandbox.moto_port, "ssh": 1, "pg": 2, "s3": 3, "smtp": 4}
    config = merge(sandbox_config(str(sandbox.folder / "elsewhere"), ports),
                   {"pgvault:secrets": {"ssm_passphrase": ssm}})
    return parse_stack(stack_text(config), "Pulumi.ssm.yaml", "ssm")


def test_passphrase_is_read_from_ssm_when_nowhere_else(sandbox, monkeypatch):
    monkeypatch.delenv(REPO_CIPHER_PASS, raising=False)
    cfg = _stack(sandbox, ssm=True)
    aws_client(cfg, "ssm").put_parameter(Name=passphrase_parameter(cfg), Value="from-parameter-store",
                                         Type="SecureString", Overwrite=True)
    assert read_secret(cfg, REPO_CIPHER_PASS).reveal() == "from-parameter-store"
    monkeypatch.setenv(REPO_CIPHER_PASS, "from-environment")
    assert read_secret(cfg, REPO_CIPHER_PASS).reveal() == "from-environment"


def test_ssm_is_not_asked_unless_the_stack_says_so(sandbox, monkeypatch):
    monkeypatch.delenv(REPO_CIPHER_PASS, raising=False)
    with pytest.raises(SecretError, match="is not set"):
        read_secret(_stack(sandbox, ssm=False), REPO_CIPHER_PASS)
