"""The base of pgvault's components: children that keep their URNs across renames, stateful ones that survive.

Two rules, written once here and used by every component:

* **Renames keep state.**  A child is named ``<component>-<suffix>``.  When a
  component is renamed, the caller gives it ``aliases=[pulumi.Alias(name=<old
  name>)]``; every child then carries an explicit alias spec to the URN it had
  under the old name (the old component's URN as parent, ``<old>-<suffix>`` as
  name), so the engine moves its state instead of creating a new resource and
  deleting the old one.  (The engine infers such aliases from name prefixes
  too; being explicit keeps a child whose name does not follow the prefix.)
  ``tests/infra/test_protection.py`` renames every component of the real
  program and checks that no child would be replaced.
* **Stateful children survive.**  The bucket, its keys, the passphrase and the
  settings S3 holds once per bucket (versioning, encryption, lifecycle, public
  access block, ownership, Object Lock, bucket policy) are ``retain_on_delete``:
  if a refactor still drops one, Pulumi forgets it instead of deleting it (a
  deleted versioning or encryption resource suspends versioning or resets the
  bucket's encryption, even right after its replacement was created).  Outside
  a sandbox they are also ``protect``\\ ed, so such a refactor stops at
  ``pulumi preview`` instead of going unnoticed.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence

import pulumi

from pgvault.core.schema import StackConfig


def protects(cfg: StackConfig) -> bool:
    """Whether the stack's stateful resources are ``protect``\\ ed: everywhere but in a sandbox."""
    return not cfg.is_sandbox


def generation_arguments(args_type: type) -> list[str]:
    """Every argument of a generated resource's ``Args`` class (e.g. ``random.RandomPasswordArgs``), to
    ``ignore_changes``: a change of any of them would replace, that is regenerate, the resource."""
    return [name for name in inspect.signature(args_type).parameters if re.fullmatch(r"[a-z_]+", name)]


class Component(pulumi.ComponentResource):
    """A pgvault component: its children keep their URNs when it is renamed, and stateful ones survive."""

    def __init__(self, t: str, name: str, protect: bool, opts: pulumi.ResourceOptions | None = None):
        super().__init__(t, name, None, opts)
        self._type, self._name, self._protect = t, name, protect
        self._parent = opts.parent if opts is not None else None
        self._former = tuple(alias.name for alias in ((opts.aliases if opts is not None else None) or ())
                             if isinstance(alias, pulumi.Alias) and isinstance(alias.name, str))

    def child(self, suffix: str, *, stateful: bool = False, depends_on: Sequence[pulumi.Resource] | None = None,
              ignore_changes: Sequence[str] | None = None, provider: pulumi.ProviderResource | None = None) -> dict:
        """``resource_name`` and ``opts`` of the child ``<component>-<suffix>`` (pass them as ``**``).

        :param stateful: retain it on delete, and protect it unless the stack is a sandbox
        :param provider: another provider than the component's (a resource in the replica's region)
        """
        aliases = [pulumi.Alias(name=f"{old}-{suffix}", parent=pulumi.create_urn(old, self._type, self._parent))
                   for old in self._former]
        opts = pulumi.ResourceOptions(parent=self, aliases=aliases or None, depends_on=list(depends_on or []) or None,
                                      ignore_changes=list(ignore_changes or []) or None, provider=provider)
        if stateful:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=self._protect,
                                                                             retain_on_delete=True))
        return {"resource_name": f"{self._name}-{suffix}", "opts": opts}
