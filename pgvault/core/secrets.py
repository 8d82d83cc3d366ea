"""Secrets as data: a type that never prints its value, the names pgvault reads, where they go.

Secrets never live in stack files, on command lines, in logs or in rendered
runbooks (DESIGN.md).  A :class:`Secret` masks itself in ``repr``/``str``
(like pyinfra's ``MaskString``); only :meth:`Secret.reveal` gives the value,
and its only callers write a 0600 file or call an API.  Where the values come
from (the environment, a private file, the host's pgBackRest file, SSM) is an
edge: ``pgvault.edges.secretstore``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgvault.core.schema import StackConfig

#: environment variable names of the secrets pgvault reads
REPO_CIPHER_PASS = "PGVAULT_REPO_CIPHER_PASS"
S3_KEY = "PGVAULT_S3_KEY"
S3_KEY_SECRET = "PGVAULT_S3_KEY_SECRET"
#: restore S3 keys for restores and drills: read, and put drill results (the restore role's, or its user's)
RESTORE_S3_KEY = "PGVAULT_RESTORE_S3_KEY"
RESTORE_S3_KEY_SECRET = "PGVAULT_RESTORE_S3_KEY_SECRET"
#: the SMTP relay's password, when ``alerts.smtp.username`` is set
SMTP_PASSWORD = "PGVAULT_SMTP_PASSWORD"
#: secret -> its option name in pgBackRest's configuration
PGBACKREST_OPTIONS = {REPO_CIPHER_PASS: "repo1-cipher-pass", S3_KEY: "repo1-s3-key",
                      S3_KEY_SECRET: "repo1-s3-key-secret"}
#: read-only secret -> the pgBackRest option it fills in the restore configuration
RESTORE_OPTIONS = {RESTORE_S3_KEY: "repo1-s3-key", RESTORE_S3_KEY_SECRET: "repo1-s3-key-secret"}


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


def repository_secret_names(cfg: StackConfig) -> list[str]:
    """The secrets pgBackRest needs for this stack: the passphrase, and S3 keys unless an instance role."""
    return [REPO_CIPHER_PASS] + ([S3_KEY, S3_KEY_SECRET] if cfg.repository.credentials == "keys" else [])


def secrets_file(cfg: StackConfig) -> str:
    """Path on the DB host of the 0600 pgBackRest file that holds the repository secrets."""
    return f"{cfg.pgbackrest.config_path}/conf.d/pgvault-secrets.conf"


def restore_secrets_file(cfg: StackConfig) -> str:
    """Path on the DB host of the read-only configuration's secrets file."""
    return f"{cfg.pgbackrest.config_path}/restore/conf.d/pgvault-secrets.conf"
