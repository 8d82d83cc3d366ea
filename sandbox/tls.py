"""A private CA and a ``localhost`` certificate for the sandbox's S3 endpoint.

pgBackRest 2.45 rejects a certificate that names only an IP address, so the
certificate names ``localhost`` (and 127.0.0.1); pgBackRest and boto3 verify it
against ``ca.pem`` instead of switching verification off.  ``trustme`` makes
the material (a well-kept library built for exactly this).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class TlsFiles:
    """Where the CA, the certificate and its key live."""

    folder: Path

    @property
    def ca(self) -> Path:
        """The CA certificate clients trust."""
        return self.folder / "ca.pem"

    @property
    def cert(self) -> Path:
        """The server certificate for ``localhost``."""
        return self.folder / "cert.pem"

    @property
    def key(self) -> Path:
        """The server certificate's private key (mode 0600)."""
        return self.folder / "key.pem"


def ensure_tls(files: TlsFiles) -> bool:
    """Create the CA and certificate once; return True when created now."""
    if files.ca.is_file() and files.cert.is_file() and files.key.is_file():
        return False
    files.folder.mkdir(parents=True, exist_ok=True)
    os.chmod(files.folder, 0o755)
    ca = trustme.CA(organization_name="pgvault sandbox CA")
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    ca.cert_pem.write_to_path(str(files.ca))
    leaf.private_key_pem.write_to_path(str(files.key))
    with open(files.cert, "wb") as out:
        for pem in leaf.cert_chain_pems:
            out.write(pem.bytes())
    os.chmod(files.ca, 0o644)
    os.chmod(files.cert, 0o644)
    os.chmod(files.key, 0o600)
    return True
