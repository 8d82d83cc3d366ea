"""The sandbox's own secrets, generated once into ``secrets.env`` (mode 0600).

They stand in for what an operator exports in production: the repository
passphrase, S3 keys (SeaweedFS accepts exactly these), and the password of
the sandbox's application role.  The file is the stack's ``secrets.file``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dotenv import dotenv_values

from ops.secrets import REPO_CIPHER_PASS, S3_KEY, S3_KEY_SECRET

#: password of the sandbox database's application role
APP_PASSWORD = "PGVAULT_SANDBOX_APP_PASSWORD"


def ensure_secrets(path: Path) -> dict[str, str]:
    """Create ``path`` with fresh random secrets unless it exists; return them."""
    if not path.is_file():
        values = {
            REPO_CIPHER_PASS: secrets.token_urlsafe(32),
            S3_KEY: "PGV" + secrets.token_hex(8).upper(),
            S3_KEY_SECRET: secrets.token_urlsafe(30),
            APP_PASSWORD: secrets.token_urlsafe(18),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("# pgvault sandbox secrets (generated; mode 0600)\n")
            out.writelines(f"{k}={v}\n" for k, v in values.items())
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)
