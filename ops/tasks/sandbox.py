"""``fab sandbox.*``: the local stand-ins for the DB host, S3 and AWS."""

from __future__ import annotations

import psycopg

from ops.tasks.common import emit_json, pgvault_task, say
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.edges.stackfile import load_stack
from sandbox import lifecycle
from sandbox.demo import run as run_demo
from sandbox.seed import row_counts, seed_sql


def _sandbox(stack):
    cfg = load_stack(stack)
    lifecycle.require_sandbox(cfg)
    return cfg


@pgvault_task()
def up(c, stack=None):
    """Start S3 (TLS), moto, sshd and PostgreSQL on 127.0.0.1."""
    cfg = _sandbox(stack)
    for part, what in lifecycle.up(cfg):
        say(f"{part:9} {what}")
    say(f"sandbox up; psql \"{lifecycle.dsn(cfg)}\"")


@pgvault_task()
def down(c, stack=None):
    """Stop every sandbox part and delete its folder."""
    cfg = _sandbox(stack)
    stopped = lifecycle.down(cfg)
    say(f"sandbox down: stopped {', '.join(stopped) if stopped else 'nothing (nothing was running)'}; "
        f"removed {cfg.sandbox.dir}")


@pgvault_task()
def status(c, stack=None, json_=False):
    """Show each sandbox part and the database DSN."""
    cfg = _sandbox(stack)
    report = lifecycle.status(cfg)
    if json_:
        emit_json(report)
    else:
        for part, info in report["parts"].items():
            where = info.get("endpoint") or info.get("address")
            say(f"{part:9} {'running' if info['running'] else 'stopped':8} {where}")
        say(f"dsn       {report['dsn']}")
    if not report["running"]:
        raise PgvaultError("the sandbox is not (fully) running", "run fab sandbox.up", ExitCode.FAILED)


@pgvault_task(help={"scale": "dataset size: 1 is about 12 MB of tables, rows grow linearly (default 1)"})
def seed(c, stack=None, scale=1):
    """Load the synthetic CRM dataset (replaces the CRM tables)."""
    cfg = _sandbox(stack)
    scale = int(scale)
    if scale < 1 or scale > 10000:
        raise PgvaultError(f"scale {scale} is out of range", "use --scale between 1 and 10000", ExitCode.USAGE)
    say(f"seeding {cfg.postgres.databases[0]} at scale {scale} ({sum(row_counts(scale).values()):,} rows)...")
    with psycopg.connect(lifecycle.dsn(cfg), autocommit=True) as conn:
        conn.execute(seed_sql(scale))
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    say(f"seeded: {', '.join(f'{t} {n:,}' for t, n in row_counts(scale).items())}; database size {size}")


@pgvault_task(help={"scale": "dataset size for the demo (default 1, about 20 MB)"})
def demo(c, stack=None, scale=1):
    """Run the backup and point-in-time restore demo end to end."""
    cfg = _sandbox(stack)
    summary = run_demo(c, cfg, int(scale), say)
    say("")
    say("demo passed: the point-in-time restore matches the database at the target time")
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        say(f"  {key.replace('_', ' '):{width}}  {value}")
