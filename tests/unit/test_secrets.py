"""Secrets: masked everywhere, read from the environment or a private file only."""

from __future__ import annotations

import os

import pytest

from ops.errors import ExitCode
from ops.secrets import REPO_CIPHER_PASS, Secret, SecretError, read_secret, repository_secrets
from tests.builders import make_stack


def test_secret_never_prints_its_value():
    secret = Secret("PGVAULT_X", "hunter2")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret) and "hunter2" not in f"{secret}"
    assert secret.reveal() == "hunter2"


def test_environment_wins(monkeypatch):
    monkeypatch.setenv(REPO_CIPHER_PASS, "from-env")
    assert read_secret(make_stack(), REPO_CIPHER_PASS).reveal() == "from-env"


def test_private_file_is_read(tmp_path):
    path = tmp_path / "secrets.env"
    path.write_text(f"{REPO_CIPHER_PASS}=from-file\nPGVAULT_S3_KEY=k\nPGVAULT_S3_KEY_SECRET=s\n")
    os.chmod(path, 0o600)
    cfg = make_stack(secrets={"file": str(path)})
    found = repository_secrets(cfg)
    assert sorted(found) == ["repo1-cipher-pass", "repo1-s3-key", "repo1-s3-key-secret"]
    assert found["repo1-cipher-pass"].reveal() == "from-file"


def test_instance_role_needs_no_keys(tmp_path, monkeypatch):
    monkeypatch.setenv(REPO_CIPHER_PASS, "p")
    cfg = make_stack(repository={"credentials": "instance-role"})
    assert sorted(repository_secrets(cfg)) == ["repo1-cipher-pass"]


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o660])
def test_open_file_modes_are_refused(tmp_path, mode):
    path = tmp_path / "secrets.env"
    path.write_text(f"{REPO_CIPHER_PASS}=x\n")
    os.chmod(path, mode)
    with pytest.raises(SecretError) as caught:
        read_secret(make_stack(secrets={"file": str(path)}), REPO_CIPHER_PASS)
    assert f"chmod 0600 {path}" in caught.value.one_line()


def test_missing_secret_names_the_variable():
    with pytest.raises(SecretError) as caught:
        read_secret(make_stack(), REPO_CIPHER_PASS)
    assert caught.value.code == ExitCode.SECRET
    assert f"export {REPO_CIPHER_PASS}" in caught.value.one_line()
