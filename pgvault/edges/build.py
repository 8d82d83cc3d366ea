"""Which pgvault is this: its version plus a digest of exactly the files a DB host receives.

``host.setup`` compares the build on the DB host (``pgvault-job --version``)
with the one it runs from, and reinstalls only when they differ.  The digest
covers the ``pgvault`` package's own ``.py`` and ``.j2`` files, which is
exactly what its wheel holds (``tests/unit/test_build.py`` builds the wheel to
prove it): the Fabric tasks, the sandbox, the demo and the Pulumi program
live outside the package, so editing them never marks a host as outdated.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata
from pathlib import Path

#: the installed (or checked-out) ``pgvault`` package folder
PACKAGE = Path(__file__).resolve().parents[1]
#: the kinds of file the package consists of
SUFFIXES = (".py", ".j2")


def package_files(package: Path = PACKAGE) -> list[Path]:
    """The files of the package that a DB host receives, relative to its folder, sorted."""
    return sorted(path.relative_to(package) for path in package.rglob("*")
                  if path.suffix in SUFFIXES and "__pycache__" not in path.parts and path.is_file())


def digest(package: Path = PACKAGE) -> str:
    """12 hex digits of the SHA-256 over the package files' names and contents."""
    hashed = hashlib.sha256()
    for relative in package_files(package):
        hashed.update(str(relative).encode() + b"\0" + (package / relative).read_bytes() + b"\0")
    return hashed.hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def build_id() -> str:
    """``<version>+<digest>`` of this pgvault."""
    try:
        version = metadata.version("pgvault")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"{version}+{digest()}"
