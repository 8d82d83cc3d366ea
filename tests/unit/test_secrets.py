"""Secrets: masked everywhere, read from the environment, a private file or the host's pgBackRest file only.

Every stack here keeps pgBackRest's configuration under the test's own
folder: the sources never read this machine's /etc.
"""

from __future__ import annotations

import os

import pytest

from pgvault.core.errors import ExitCode
from pgvault.core.secrets import REPO_CIPHER_PASS, S3_KEY, Secret, secrets_file
from pgvault.edges.secretstore import SecretError, read_secret, repository_secrets, restore_secrets
from tests.builders import make_stack


@pytest.fixture
def stack(tmp_path):
    """A production-like stack whose pgBackRest folder is the test's own."""
    def build(**sections):
        return make_stack(pgbackrest={"stanza": "crm", "config_path": str(tmp_path / "pgbackrest")}, **sections)
    return build


def test_secret_never_prints_its_value():
    secret = Secret("PGVAULT_X", "hunter2")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret) and "hunter2" not in f"{secret}"
    assert secret.reveal() == "hunter2"


def test_environment_wins(monkeypatch, stack):
    monkeypatch.setenv(REPO_CIPHER_PASS, "from-env")
    assert read_secret(stack(), REPO_CIPHER_PASS).reveal() == "from-env"


def test_private_file_is_read(tmp_path, stack):
    path = tmp_path / "secrets.env"
    path.write_text(f"{REPO_CIPHER_PASS}=from-file\nPGVAULT_S3_KEY=k\nPGVAULT_S3_KEY_SECRET=s\n")
    os.chmod(path, 0o600)
    found = repository_secrets(stack(secrets={"file": str(path)}))
    assert sorted(found) == ["repo1-cipher-pass", "repo1-s3-key", "repo1-s3-key-secret"]
    assert found["repo1-cipher-pass"].reveal() == "from-file"


def test_the_hosts_own_pgbackrest_file_is_a_source(stack):
    cfg = stack()
    path = secrets_file(cfg)
    os.makedirs(os.path.dirname(path))
    with open(path, "w") as out:
        out.write("[global]\nrepo1-cipher-pass=on-the-host\nrepo1-s3-key=AKIAHOST\n")
    assert read_secret(cfg, REPO_CIPHER_PASS).reveal() == "on-the-host"
    assert read_secret(cfg, S3_KEY).reveal() == "AKIAHOST"


def test_instance_role_needs_no_keys(monkeypatch, stack):
    monkeypatch.setenv(REPO_CIPHER_PASS, "p")
    assert sorted(repository_secrets(stack(repository={"credentials": "instance-role"}))) == ["repo1-cipher-pass"]


def test_no_read_only_keys_means_restores_use_the_backup_configuration(monkeypatch, stack):
    monkeypatch.setenv(REPO_CIPHER_PASS, "p")
    assert restore_secrets(stack()) is None
    monkeypatch.setenv("PGVAULT_RESTORE_S3_KEY", "r")
    monkeypatch.setenv("PGVAULT_RESTORE_S3_KEY_SECRET", "rs")
    assert sorted(restore_secrets(stack())) == ["repo1-cipher-pass", "repo1-s3-key", "repo1-s3-key-secret"]


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o660])
def test_open_file_modes_are_refused(tmp_path, stack, mode):
    path = tmp_path / "secrets.env"
    path.write_text(f"{REPO_CIPHER_PASS}=x\n")
    os.chmod(path, mode)
    with pytest.raises(SecretError) as caught:
        read_secret(stack(secrets={"file": str(path)}), REPO_CIPHER_PASS)
    assert f"chmod 0600 {path}" in caught.value.one_line()


def test_missing_secret_names_the_variable(stack):
    with pytest.raises(SecretError) as caught:
        read_secret(stack(), REPO_CIPHER_PASS)
    assert caught.value.code == ExitCode.SECRET
    assert f"export {REPO_CIPHER_PASS}" in caught.value.one_line()
