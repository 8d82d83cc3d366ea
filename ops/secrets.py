"""Secrets: where they come from, and a type that never prints its value.

Secrets never live in stack files, on command lines, in logs or in rendered
runbooks (DESIGN.md).  A :class:`Secret` masks itself in ``repr``/``str`` (like
pyinfra's ``MaskString``); only :meth:`Secret.reveal` gives the value, and the
only callers are the renderer of the 0600 pgBackRest secrets file and the
boto3 client factory.

Sources, in order: the environment (``PGVAULT_*``), then the stack's
``secrets.file`` (a ``KEY=value`` file that must be mode 0640 or stricter),
then the host's own pgBackRest secrets file when it is readable (that is how
``pgvault-job`` on the DB host finds the S3 keys for logical dumps), then, for
the repository passphrase only, the SSM parameter the Pulumi program creates
(``secrets.ssm_passphrase``).
With ``repository.credentials: instance-role`` no S3 keys are needed at all.
"""

from __future__ import annotations

import configparser
import os
import stat
from dataclasses import dataclass
from typing import Optional
from pathlib import Path

from dotenv import dotenv_values

from ops.errors import ExitCode, PgvaultError
from ops.schema import StackConfig

#: environment variable names of the secrets pgvault reads
REPO_CIPHER_PASS = "PGVAULT_REPO_CIPHER_PASS"
S3_KEY = "PGVAULT_S3_KEY"
S3_KEY_SECRET = "PGVAULT_S3_KEY_SECRET"
#: read-only S3 keys for restores and drills (the restore role's, or a read-only user's)
RESTORE_S3_KEY = "PGVAULT_RESTORE_S3_KEY"
RESTORE_S3_KEY_SECRET = "PGVAULT_RESTORE_S3_KEY_SECRET"
#: secret -> its option name in pgBackRest's configuration
_PGBACKREST_KEYS = {REPO_CIPHER_PASS: "repo1-cipher-pass", S3_KEY: "repo1-s3-key", S3_KEY_SECRET: "repo1-s3-key-secret"}


@dataclass(frozen=True)
class Secret:
    """A secret value that shows as ``****`` everywhere except :meth:`reveal`."""

    name: str
    _value: str

    def reveal(self) -> str:
        """Return the value; call only where it is written to a protected file or an API."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.name}=****)"

    __str__ = __repr__


class SecretError(PgvaultError):
    """A secret is missing, or its file is readable by others."""

    def __init__(self, message: str, fix: str):
        super().__init__(message, fix, ExitCode.SECRET)


def read_secret(cfg: StackConfig, name: str) -> Secret:
    """Return the secret ``name`` from the environment or the stack's secrets file.

    :param cfg: the stack, for ``secrets.file``
    :param name: an environment variable name such as ``PGVAULT_REPO_CIPHER_PASS``
    :raises SecretError: when it is nowhere, or the file's mode is too open
    """
    value = os.environ.get(name)
    if value:
        return Secret(name, value)
    path = cfg.secrets.file
    if path and os.access(path, os.R_OK):
        value = _file_values(Path(path)).get(name)
        if value:
            return Secret(name, value)
    value = _pgbackrest_values(cfg).get(name)
    if value:
        return Secret(name, value)
    if name == REPO_CIPHER_PASS and cfg.secrets.ssm_passphrase:
        return Secret(name, _ssm_value(cfg))
    where = f"the environment or {path}" if path else "the environment"
    raise SecretError(f"secret {name} is not set in {where}", f"export {name} (or add it to pgvault:secrets.file)")


def _ssm_value(cfg: StackConfig) -> str:
    """The passphrase from SSM Parameter Store (decrypted by the caller's AWS credentials)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ops.cloud import aws_client
    from ops.policy import passphrase_parameter

    parameter = passphrase_parameter(cfg)
    try:
        answer = aws_client(cfg, "ssm").get_parameter(Name=parameter, WithDecryption=True)
    except (ClientError, BotoCoreError) as exc:
        raise SecretError(f"cannot read SSM parameter {parameter}: {exc}",
                          "check your AWS credentials, or export PGVAULT_REPO_CIPHER_PASS") from None
    return answer["Parameter"]["Value"]


def secrets_file(cfg: StackConfig) -> str:
    """Path on the DB host of the 0600 pgBackRest file that holds the repository secrets."""
    return f"{cfg.pgbackrest.config_path}/conf.d/pgvault-secrets.conf"


def _pgbackrest_values(cfg: StackConfig) -> dict[str, str]:
    """Secrets from the host's pgBackRest secrets file, when readable (``pgvault-job`` on the host)."""
    path = Path(secrets_file(cfg))
    if not os.access(path, os.R_OK):
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(path.read_text())
    section = parser["global"] if parser.has_section("global") else {}
    return {env: section[key] for env, key in _PGBACKREST_KEYS.items() if key in section}


def _file_values(path: Path) -> dict[str, str]:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o037:
        raise SecretError(
            f"secrets file {path} has mode {mode:04o}, readable or writable by others", f"chmod 0600 {path}"
        )
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def repository_secrets(cfg: StackConfig) -> dict[str, Secret]:
    """The secrets pgBackRest needs, keyed by pgBackRest option name.

    :raises SecretError: when one is missing
    """
    names = [REPO_CIPHER_PASS] + ([S3_KEY, S3_KEY_SECRET] if cfg.repository.credentials == "keys" else [])
    return {_PGBACKREST_KEYS[name]: read_secret(cfg, name) for name in names}


def restore_secrets(cfg: StackConfig) -> Optional[dict[str, Secret]]:
    """Secrets of the read-only pgBackRest configuration used by restores and drills.

    :returns: ``None`` when no read-only keys are provided (restores then use the backup keys)
    """
    try:
        keys = {"repo1-s3-key": read_secret(cfg, RESTORE_S3_KEY),
                "repo1-s3-key-secret": read_secret(cfg, RESTORE_S3_KEY_SECRET)}
    except SecretError:
        return None
    return {"repo1-cipher-pass": read_secret(cfg, REPO_CIPHER_PASS), **keys}


def restore_secrets_file(cfg: StackConfig) -> str:
    """Path on the DB host of the read-only configuration's secrets file."""
    return f"{cfg.pgbackrest.config_path}/restore/conf.d/pgvault-secrets.conf"
