"""Load ``Pulumi.<stack>.yaml`` into a validated :class:`~ops.schema.StackConfig`.

The stack file is the one source of truth (DESIGN.md): the Pulumi program, the
Fabric tasks and the runbooks all read it through :func:`load_stack`.  Only
keys under the ``pgvault:`` namespace are ours; other namespaces (``aws:``)
belong to Pulumi providers and are left alone.  Any problem is a single
:class:`~ops.errors.ConfigError` line: file, key, what is wrong, the fix.
"""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path
from typing import Any, Optional

import yaml
from pydantic import ValidationError

from ops.errors import ConfigError, UsageError
from ops.policy import check_lifecycle, lifecycle_rules
from ops.schema import StackConfig

DEFAULT_STACK = "sandbox"
NAMESPACE = "pgvault"
_STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def project_root() -> Path:
    """Return the folder holding ``Pulumi.yaml``: the nearest one above the
    working directory, else the checkout this package was installed from."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    return Path(__file__).resolve().parents[1]


def stack_dir() -> Path:
    """Folder of the stack files: ``$PGVAULT_STACK_DIR`` or the project root."""
    return Path(os.environ.get("PGVAULT_STACK_DIR") or project_root())


def stack_name(explicit: Optional[str] = None) -> str:
    """Return the selected stack: ``--stack``, else ``$PGVAULT_STACK``, else ``sandbox``.

    :raises UsageError: for a name that could escape the stack folder
    """
    name = explicit or os.environ.get("PGVAULT_STACK") or DEFAULT_STACK
    if not _STACK_NAME.fullmatch(name):
        raise UsageError(
            f"stack name {name!r} is not valid", "use letters, digits, '-' and '_' only (e.g. --stack prod)"
        )
    return name


def stack_path(name: str) -> Path:
    """Where the stack file of ``name`` is (``name`` already validated)."""
    return stack_dir() / f"Pulumi.{name}.yaml"


def load_stack(name: Optional[str] = None) -> StackConfig:
    """Read and validate the selected stack file.

    :param name: stack name; ``None`` selects as :func:`stack_name` does
    :raises ConfigError: when the file is missing or invalid
    """
    name = stack_name(name)
    path = stack_path(name)
    if not path.is_file():
        raise ConfigError(
            f"no stack file {path}", f"create it (copy Pulumi.sandbox.yaml) or select another stack with --stack"
        )
    return parse_stack(path.read_text(encoding="utf-8"), path.name, name, default_os_user=_local_db_user())


def _local_db_user() -> str:
    """The OS user a sandbox cluster runs as: ``postgres`` when root, else you."""
    return "postgres" if os.geteuid() == 0 else getpass.getuser()


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys instead of keeping the last one."""


def _mapping_without_duplicates(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict:
    seen: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise ConfigError(
                f"duplicate key {key!r} on line {key_node.start_mark.line + 1}", "keep one of them"
            )
        seen[key] = loader.construct_object(value_node, deep=True)
    return seen


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def parse_stack(text: str, filename: str, name: str, default_os_user: str = "postgres") -> StackConfig:
    """Validate the text of a stack file (pure; the unit tests' entry point).

    :param text: YAML text of ``Pulumi.<name>.yaml``
    :param filename: file name used in messages
    :param name: the stack name
    :param default_os_user: PostgreSQL's OS user when a sandbox stack leaves it out
    :raises ConfigError: naming the file, key and fix
    """
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader) or {}
    except ConfigError as exc:
        raise ConfigError(f"{filename}: {exc.message}", exc.fix) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{filename}:{where} is not valid YAML", "fix the indentation or quoting") from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ConfigError(f"{filename}: has no 'config:' mapping", "put the pgvault: keys under config:")
    sections: dict[str, Any] = {}
    for key, value in (document.get("config") or {}).items():
        namespace, _, section = str(key).partition(":")
        if namespace != NAMESPACE:
            continue
        if isinstance(value, dict) and "secure" in value:
            raise ConfigError(
                f"{filename}: {key} holds a secret", "secrets never live in stack files; use the environment or a secrets file"
            )
        sections[section] = _freeze(value)
    if not sections:
        raise ConfigError(f"{filename}: no pgvault: keys", "add pgvault:hosts, pgvault:repository, ...")
    if "sandbox" in sections and isinstance(sections.get("postgres", {}), dict):
        postgres = dict(sections.get("postgres") or {})
        postgres.setdefault("os_user", default_os_user)
        sections["postgres"] = postgres
    try:
        cfg = StackConfig(name=name, file=filename, **sections)
    except ValidationError as exc:
        raise ConfigError(*_describe(filename, exc.errors()[0])) from None
    check_lifecycle(cfg, lifecycle_rules(cfg))
    return cfg


def _freeze(value: Any) -> Any:
    """Turn YAML lists into tuples so that strict, frozen models accept them."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return {k: _freeze(v) for k, v in value.items()}
    return value


def _describe(filename: str, error: dict) -> tuple[str, str]:
    """Turn one pydantic error into (message, fix) naming the stack key."""
    loc = [str(p) for p in error["loc"]]
    key = NAMESPACE + ":" + ".".join(loc) if loc else NAMESPACE
    key = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", key)
    kind = error["type"]
    message = str(error.get("msg", "invalid"))
    if kind == "extra_forbidden":
        return f"{filename}: unknown key {key}", "remove it or correct its spelling (see docs/configuration.md)"
    if kind == "missing":
        return f"{filename}: {key} is required", "add it (see docs/configuration.md)"
    if kind == "value_error":
        text = message.removeprefix("Value error, ")
        what, _, fix = text.partition("; ")
        return f"{filename}: {key}: {what}", fix
    if kind == "string_pattern_mismatch":
        return (
            f"{filename}: {key}: {error.get('input')!r} has characters pgvault does not accept",
            "use letters, digits, '.', '_', '-' (and '/' in absolute paths), no spaces or quotes",
        )
    shown = repr(error.get("input"))[:60]
    return f"{filename}: {key}: {message.lower()} (got {shown})", "correct the value (see docs/configuration.md)"
