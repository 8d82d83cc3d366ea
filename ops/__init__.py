"""The control side: what runs where ``fab`` runs, never shipped to a DB host.

``ops.tasks`` is the Fabric task collection (``fab`` finds it through
``fabfile.py``).  Beside it: SSH connections to the stack's hosts
(``ssh``), ``host.setup``'s facts, preflight and apply (``host``), building
and installing the host package (``jobinstall``), the runbooks
(``runbooks``) and the generated configuration reference (``configdoc``).
Everything they compute comes from the pure core in ``pgvault.core``.
"""
