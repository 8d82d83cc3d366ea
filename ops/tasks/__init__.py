"""pgvault's Fabric task collection: ``fab <namespace>.<task>``, one thin module per namespace."""

from invoke import Collection

from ops.tasks import backup, drill, host, monitor, repo, restore, runbooks, sandbox, schedule

ns = Collection(sandbox, host, backup, restore, repo, schedule, monitor, drill, runbooks)
ns.configure({"run": {"echo": False}})
