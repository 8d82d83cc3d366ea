"""The actions: read facts through the edges, plan with the core, change through the edges.

One module per job, named like its pure counterpart in ``pgvault.core``
(``retention``, ``logical``, ``drill``, ``restore``, ``monitoring``), plus
``backup``.  ``pgvault-job`` on the DB host and the Fabric tasks call the
same functions.
"""
