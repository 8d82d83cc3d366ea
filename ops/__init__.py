"""pgvault: keep a PostgreSQL database safe and prove it.

The Fabric task collection lives in ``ops.tasks`` (``fab`` finds it through
``fabfile.py``), not here: ``pgvault-job`` on a DB host imports this package
with only the core dependencies installed, without Fabric or Invoke.
"""
