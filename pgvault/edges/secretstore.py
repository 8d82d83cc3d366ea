"""Where secrets come from: the environment, a private file, the host's pgBackRest file, SSM.

Sources, in order: the environment (``PGVAULT_*``), then the stack's
``secrets.file`` (a ``KEY=value`` file that must be mode 0640 or stricter),
then the host's own pgBackRest secrets file when it is readable (that is how
``pgvault-job`` on the DB host finds the S3 keys for logical dumps), then, for
the repository passphrase only, the SSM parameter the Pulumi program creates
(``secrets.ssm_passphrase``).  With ``repository.credentials: instance-role``
no S3 keys are needed at all.  Values travel as :class:`~pgvault.core.secrets.Secret`.
"""

from __future__ import annotations

import configparser
import os
import stat
from pathlib import Path

from dotenv import dotenv_values

from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.policy import passphrase_parameter
from pgvault.core.schema import StackConfig
from pgvault.core.secrets import (
    PGBACKREST_OPTIONS,
    REPO_CIPHER_PASS,
    RESTORE_OPTIONS,
    Secret,
    repository_secret_names,
    restore_secrets_file,
    secrets_file,
)


class SecretError(PgvaultError):
    """A secret is missing, or its file is readable by others."""

    def __init__(self, message: str, fix: str):
        super().__init__(message, fix, ExitCode.SECRET)


def read_secret(cfg: StackConfig, name: str) -> Secret:
    """Return the secret ``name`` from the first source that has it.

    :param cfg: the stack, for ``secrets.file`` and the host's pgBackRest paths
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

    from pgvault.edges.cloud import aws_client

    parameter = passphrase_parameter(cfg)
    try:
        answer = aws_client(cfg, "ssm").get_parameter(Name=parameter, WithDecryption=True)
    except (ClientError, BotoCoreError) as exc:
        raise SecretError(f"cannot read SSM parameter {parameter}: {exc}",
                          "check your AWS credentials, or export PGVAULT_REPO_CIPHER_PASS") from None
    return answer["Parameter"]["Value"]


def _pgbackrest_values(cfg: StackConfig) -> dict[str, str]:
    """Secrets from the host's pgBackRest secrets files, when readable (``pgvault-job`` on the host): the
    backup keys' file, and the read-only configuration's file for the restore keys (all a staging host has)."""
    out: dict[str, str] = {}
    for path, options in ((restore_secrets_file(cfg), {**RESTORE_OPTIONS, REPO_CIPHER_PASS: "repo1-cipher-pass"}),
                          (secrets_file(cfg), PGBACKREST_OPTIONS)):
        if not os.access(path, os.R_OK):
            continue
        parser = configparser.ConfigParser(interpolation=None)
        parser.read_string(Path(path).read_text())
        section = parser["global"] if parser.has_section("global") else {}
        out.update({env: section[key] for env, key in options.items() if key in section})
    return out


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
    return {PGBACKREST_OPTIONS[name]: read_secret(cfg, name) for name in repository_secret_names(cfg)}


def restore_secrets(cfg: StackConfig) -> dict[str, Secret] | None:
    """Secrets of the read-only pgBackRest configuration used by restores and drills.

    :returns: ``None`` when no restore keys are provided (restores then use the backup keys)
    """
    try:
        keys = {option: read_secret(cfg, name) for name, option in RESTORE_OPTIONS.items()}
    except SecretError:
        return None
    return {PGBACKREST_OPTIONS[REPO_CIPHER_PASS]: read_secret(cfg, REPO_CIPHER_PASS), **keys}
