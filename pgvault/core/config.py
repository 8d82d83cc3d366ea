"""The text of ``Pulumi.<stack>.yaml`` into a validated :class:`~pgvault.core.schema.StackConfig` (pure).

The stack file is the one source of truth (DESIGN.md): the Pulumi program, the
Fabric tasks, ``pgvault-job`` and the runbooks all read it through
``pgvault.edges.stackfile.load_stack``, which finds the file and hands its
text to :func:`parse_stack`.  Only keys under the ``pgvault:`` namespace are
ours; other namespaces (``aws:``) belong to Pulumi providers and are left
alone.  Any problem is a single :class:`~pgvault.core.errors.ConfigError`
line: file, key, what is wrong, the fix.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import ValidationError

from pgvault.core.errors import ConfigError, UsageError
from pgvault.core.lifecycle import lifecycle_rules, repository_violations
from pgvault.core.schema import StackConfig

DEFAULT_STACK = "sandbox"
NAMESPACE = "pgvault"
_STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def check_stack_name(name: str) -> str:
    """A stack name that cannot escape the stack folder.

    :raises UsageError: for separators, dots in front, spaces, or over 63 characters
    """
    if not _STACK_NAME.fullmatch(name):
        raise UsageError(
            f"stack name {name!r} is not valid", "use letters, digits, '-' and '_' only (e.g. --stack prod)"
        )
    return name


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
                f"{filename}: {key} holds a secret",
                "secrets never live in stack files; use the environment or a secrets file"
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
    storage = cfg.storage
    for problem in repository_violations(lifecycle_rules(cfg), cfg.repository.repo_prefix,
                                         storage.object_lock_days if storage.object_lock else None):
        raise ConfigError(f"{filename}: {problem.message}", problem.fix)
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
