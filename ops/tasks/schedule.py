"""``fab schedule.*``: the schedule installed on the DB host, in words."""

from __future__ import annotations

from ops import ssh
from ops.runbooks import in_words
from ops.tasks.common import emit_json, pgvault_task, say
from pgvault.actions import backup
from pgvault.core import cron, hourly
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.edges import remote
from pgvault.edges.stackfile import load_stack


@pgvault_task()
def show(c, stack=None, host=None, json_=False):
    """Show the installed schedule in words, with next run times."""
    cfg = load_stack(stack)
    for entry, conn, view in ssh.connections(c, cfg, host):
        path = cron.cron_file(view)
        found = remote.run(conn, ["cat", "--", path], warn=True)
        if not found.ok:
            raise PgvaultError(f"no pgvault cron file {path} on {entry.name}", "run fab host.setup", ExitCode.DRIFT)
        _, lines = cron.parse(found.stdout)
        now = backup.host_now(conn)
        rows = [{"job": line.job, "schedule": line.schedule, "words": in_words(line.schedule), "user": line.user,
                 "next_run": cron.next_run(line.schedule, now).isoformat(), "command": line.command} for line in lines]
        rule = hourly.explain(view.schedule.incremental_rule, view.targets.rto_seconds,
                              backup.measured_replay_rate(view))
        if json_:
            emit_json({"host": entry.name, "cron_file": path, "jobs": rows,
                       "incremental_rule": {"rule": view.schedule.incremental_rule, "explained": rule}})
            continue
        say(f"schedule on {entry.name} ({path}), host time {now:%Y-%m-%d %H:%M} UTC")
        for row in rows:
            say(f"  {row['job']:8} {row['words']:38} next {row['next_run'][:16].replace('T', ' ')}  "
                f"as {row['user']}")
        say(f"  incr: {rule}")
