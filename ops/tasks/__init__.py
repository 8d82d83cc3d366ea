"""pgvault's Fabric task collection: ``fab <namespace>.<task>``, one thin module per namespace."""

from invoke import Collection

from ops.tasks import backup, drill, host, monitor, restore, runbooks, sandbox, schedule

ns = Collection(sandbox, host, backup, restore, schedule, monitor, drill, runbooks)
ns.configure({"run": {"echo": False}})
