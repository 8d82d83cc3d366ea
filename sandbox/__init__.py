"""The sandbox: real services on 127.0.0.1 standing in for the DB host, S3 and AWS, and the demo.

It lives outside the ``pgvault`` package, so it never reaches a DB host and
editing it never changes the host's build id.  One module per part (TLS material, SeaweedFS, moto_server, sshd, the
PostgreSQL cluster, the synthetic CRM dataset), plus the process helpers they
share.  All state lives under the stack's ``sandbox.dir``; nothing binds
anywhere but loopback.  ``ops.tasks.sandbox`` composes them into
``sandbox.up``, ``sandbox.down``, ``sandbox.status`` and ``sandbox.seed``;
``demo`` is ``make demo``'s end-to-end run; ``stackfile`` writes the private
stacks the tests and the benchmark use.
"""
