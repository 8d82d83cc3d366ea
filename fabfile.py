"""Entry point for a bare ``fab``: the task collection is ``ops.tasks.ns``.

Fabric looks for a collection named ``fabfile`` before it reads the project's
``fabric.yaml`` (so ``tasks.collection_name`` there cannot redirect it); this
shim is the whole of the fabfile.
"""

from ops.tasks import ns  # noqa: F401
