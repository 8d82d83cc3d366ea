"""pgvault's Fabric task collection: ``fab <namespace>.<task>``, one thin module per namespace."""

from invoke import Collection

from ops.tasks import backup, host, monitor, restore, sandbox, schedule

ns = Collection(sandbox, host, backup, restore, schedule, monitor)
ns.configure({"run": {"echo": False}})
