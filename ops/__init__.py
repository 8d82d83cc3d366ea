"""pgvault's Fabric task collection: ``fab <namespace>.<task>``.

Nothing but the namespace lives here (STYLE.md); each namespace is a thin
module under ``ops.tasks`` over the pure core and the edges.
"""

from invoke import Collection

from ops.tasks import backup, host, restore, sandbox

ns = Collection(sandbox, host, backup, restore)
ns.configure({"run": {"echo": False}})
