"""Find and read the selected stack file, ``Pulumi.<stack>.yaml``.

The stack is ``--stack``, else ``$PGVAULT_STACK``, else ``sandbox``; its file
lives in ``$PGVAULT_STACK_DIR`` (on a DB host, where ``host.setup`` copies
it), else in the folder holding ``Pulumi.yaml``.  The text goes to the pure
:func:`pgvault.core.config.parse_stack`.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from pgvault.core.config import DEFAULT_STACK, check_stack_name, parse_stack
from pgvault.core.errors import ConfigError, did_you_mean
from pgvault.core.schema import StackConfig


def project_root() -> Path:
    """The folder holding ``Pulumi.yaml``: the nearest one above the working
    directory, else the checkout this package runs from."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return Path(__file__).resolve().parents[2]


def stack_dir() -> Path:
    """Folder of the stack files: ``$PGVAULT_STACK_DIR`` or the project root."""
    return Path(os.environ.get("PGVAULT_STACK_DIR") or project_root())


def stack_name(explicit: str | None = None) -> str:
    """The selected stack: ``--stack``, else ``$PGVAULT_STACK``, else ``sandbox``.

    :raises UsageError: for a name that could escape the stack folder
    """
    return check_stack_name(explicit or os.environ.get("PGVAULT_STACK") or DEFAULT_STACK)


def stack_path(name: str) -> Path:
    """Where the stack file of ``name`` is (``name`` already validated)."""
    return stack_dir() / f"Pulumi.{name}.yaml"


def stacks() -> list[str]:
    """The names of the stack files in :func:`stack_dir`, sorted."""
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in stack_dir().glob("Pulumi.*.yaml"))


def load_stack(name: str | None = None) -> StackConfig:
    """Read and validate the selected stack file.

    :param name: stack name; ``None`` selects as :func:`stack_name` does
    :raises ConfigError: when the file is missing or invalid
    """
    name = stack_name(name)
    path = stack_path(name)
    if not path.is_file():
        known = stacks()
        raise ConfigError(
            f"no stack file {path}",
            f"{did_you_mean(name, known)}existing stacks: {', '.join(known) or 'none'} (select one with --stack), "
            "or create it (copy Pulumi.sandbox.yaml)",
        )
    return parse_stack(path.read_text(encoding="utf-8"), path.name, name, default_os_user=local_db_user())


def local_db_user() -> str:
    """The OS user a sandbox cluster runs as: ``postgres`` when root, else you."""
    return "postgres" if os.geteuid() == 0 else getpass.getuser()
