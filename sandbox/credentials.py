"""The sandbox's own secrets, generated once into ``secrets.env`` (mode 0600).

They stand in for what an operator exports in production: the repository
passphrase, the DB host's S3 keys (SeaweedFS grants them exactly the backup
policy the Pulumi program deploys), restore S3 keys for restores and drills (read, and put drill results)
(exactly the restore policy), and the password of the sandbox's application
role.  Two entries have no production counterpart: the application role's
password and the sandbox's S3 admin keys, used only to create the bucket and by
fault-injection tests (pgvault itself never reads them).  The file is the
stack's ``secrets.file``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dotenv import dotenv_values

from pgvault.core.secrets import REPO_CIPHER_PASS, RESTORE_S3_KEY, RESTORE_S3_KEY_SECRET, S3_KEY, S3_KEY_SECRET

#: password of the sandbox database's application role
APP_PASSWORD = "PGVAULT_SANDBOX_APP_PASSWORD"
#: the sandbox S3's admin identity (bucket set-up and fault injection only)
ADMIN_S3_KEY = "PGVAULT_SANDBOX_ADMIN_S3_KEY"
ADMIN_S3_KEY_SECRET = "PGVAULT_SANDBOX_ADMIN_S3_KEY_SECRET"


def _fresh() -> dict[str, str]:
    return {
        REPO_CIPHER_PASS: secrets.token_urlsafe(32),
        S3_KEY: "PGV" + secrets.token_hex(8).upper(),
        S3_KEY_SECRET: secrets.token_urlsafe(30),
        RESTORE_S3_KEY: "PGVR" + secrets.token_hex(8).upper(),
        RESTORE_S3_KEY_SECRET: secrets.token_urlsafe(30),
        APP_PASSWORD: secrets.token_urlsafe(18),
        ADMIN_S3_KEY: "PGVA" + secrets.token_hex(8).upper(),
        ADMIN_S3_KEY_SECRET: secrets.token_urlsafe(30),
    }


def ensure_secrets(path: Path) -> dict[str, str]:
    """Create ``path`` with fresh random secrets, or add the ones it lacks; return them all."""
    existing = {k: v for k, v in dotenv_values(path).items() if v} if path.is_file() else {}
    missing = {k: v for k, v in _fresh().items() if k not in existing}
    if missing:
        text = path.read_text() if path.is_file() else "# pgvault sandbox secrets (generated; mode 0600)\n"
        write_private(path, text + "".join(f"{k}={v}\n" for k, v in missing.items()))
    return {**existing, **missing}


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)
