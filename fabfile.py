"""Entry point for a bare ``fab``: the task collection is ``ops.tasks.ns``.

Fabric looks for a collection named ``fabfile`` before it reads the project's
``fabric.yaml`` (so ``tasks.collection_name`` there cannot redirect it); this
shim is the whole of the fabfile, with one hook: ``fab``'s parse errors (a
mistyped task or option) become one line with a "did you mean" (``ops.cli``).
"""

from ops.cli import install
from ops.tasks import ns  # noqa: F401

install()
