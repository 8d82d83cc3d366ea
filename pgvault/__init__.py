"""pgvault: keep a PostgreSQL database safe and prove it.

This package is what a DB host receives (``host.setup`` installs its wheel
for ``pgvault-job``), and what the control side builds on.  Its folders are
its layers:

* ``pgvault.core``: pure.  Configuration, derived policy, pgBackRest and
  PostgreSQL as data, plans, the status document and its renderings.  It
  imports nothing that talks to the network, a process or the disk.
* ``pgvault.edges``: everything that does: commands on a host (SSH or local),
  S3, CloudWatch/SNS/SMTP, job state on disk, the stack file, secrets.
* ``pgvault.actions``: the jobs, joining facts read through the edges,
  plans from the core and changes made through the edges.
* ``pgvault.job``: ``pgvault-job``, cron's entry point on the DB host.

The Fabric tasks (``ops``), the sandbox and demo (``sandbox``) and the
Pulumi program (``infra``) live outside it and are never shipped to a host.
"""
