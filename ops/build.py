"""Which pgvault is this: version plus a digest of the package's own files.

``host.setup`` compares the build on the DB host (``pgvault-job --version``)
with the one it runs from, and reinstalls only when they differ: a changed
source file is a new build even when the version number is not.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def build_id() -> str:
    """``<version>+<12 hex digits of the SHA-256 of the package's .py and .j2 files>``."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in (".py", ".j2") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes() + b"\0")
    try:
        version = metadata.version("pgvault")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"{version}+{digest.hexdigest()[:12]}"
