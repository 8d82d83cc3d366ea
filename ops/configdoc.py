"""Generate ``docs/configuration.md`` from the schema, so the reference cannot drift.

Run ``python -m ops.configdoc`` to rewrite the file; a unit test fails when
the committed file differs from what the schema says.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from pgvault.core.schema import StackConfig

TARGET = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"

INTRO = """# Configuration reference

Generated from `pgvault/core/schema.py` by `python -m ops.configdoc`; do not edit by hand.

Each environment ("stack") has one file, `Pulumi.<stack>.yaml`, with every
pgvault setting under the `pgvault:` namespace, one key per section below
(`pgvault:postgres`, `pgvault:repository`, ...). `fab` selects the stack with
`--stack` or `$PGVAULT_STACK` (default `sandbox`), and reads stack files from
`$PGVAULT_STACK_DIR` (default: the folder holding `Pulumi.yaml`). Unknown keys,
wrong types and impossible values stop every command with one line naming the
file, the key and the fix. Secrets never go here: see `pgvault:secrets`.
"""


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is tuple:
        return f"list of {_type_name(args[0])}"
    return getattr(annotation, "__name__", str(annotation))


def _default(field) -> str:
    if field.default_factory is not None:
        return "(section defaults)"
    if field.default is PydanticUndefined:
        return "**required**"
    if field.default is None:
        return "derived" if "default" in (field.description or "") else "unset"
    value = field.default
    if isinstance(value, tuple):
        value = list(value)
    return f"`{value}`"


def render() -> str:
    """The whole reference page."""
    out = [INTRO]
    for name, field in StackConfig.model_fields.items():
        if name in ("name", "file"):
            continue
        model = field.annotation
        args = [a for a in typing.get_args(model) if a is not type(None)]
        is_list = typing.get_origin(model) is tuple
        model = args[0] if args else model
        required = "required" if field.is_required() else "optional"
        out.append(f"\n## `pgvault:{name}` ({'a list, ' if is_list else ''}{required})\n")
        if isinstance(model, type) and issubclass(model, BaseModel):
            out.append(f"{(model.__doc__ or '').strip()}\n")
            out.append("| key | type | default | meaning |\n| --- | --- | --- | --- |")
            for key, sub in model.model_fields.items():
                out.append(f"| `{key}` | {_type_name(sub.annotation)} | {_default(sub)} | {sub.description or ''} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET
    path.write_text(render())
    print(f"wrote {path}")
