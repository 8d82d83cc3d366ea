"""The sandbox: real services on 127.0.0.1 standing in for the DB host, S3 and AWS.

One module per part (TLS material, SeaweedFS, moto_server, sshd, the
PostgreSQL cluster, the synthetic CRM dataset), plus the process helpers they
share.  All state lives under the stack's ``sandbox.dir``; nothing binds
anywhere but loopback.  ``ops.tasks.sandbox`` composes them into
``sandbox.up``, ``sandbox.down``, ``sandbox.status`` and ``sandbox.seed``.
"""
