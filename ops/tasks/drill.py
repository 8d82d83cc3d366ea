"""``fab drill.*``: prove the backups restore, and measure the real data-loss window."""

from __future__ import annotations

from ops import ssh
from ops.tasks.common import emit_json, pgvault_task, reporter, say
from ops.tasks.restore import restore_targets
from pgvault.actions import drill
from pgvault.edges.stackfile import load_stack


@pgvault_task(help={
    "target": "latest, random (in the PITR window), oldest, or a timestamp with zone (default random)",
    "keep": "keep the scratch cluster afterwards for inspection",
})
def run(c, target="random", stack=None, host=None, keep=False, json_=False):
    """Restore into a scratch cluster and check it (on the staging host when the stack has one)."""
    cfg = load_stack(stack)
    progress = reporter(json_)
    for entry, conn, view, source in restore_targets(c, cfg, host, in_place=False):
        progress(f"drill on {entry.name} ({entry.role})")
        # the result goes to the bucket with this control side's keys (a staging host's cron uses its restore keys)
        result = drill.run(conn, entry, view, target, progress, keep, source=source, store=cfg.on(cfg.primary.name))
        if json_:
            emit_json(result)
        else:
            say(f"drill {result['name']} {'PASSED' if result['passed'] else 'FAILED'}: target "
                f"{result['target']['kind']} {result['target']['value']}, backup set {result.get('backup_set')}")
            for check in result["checks"]:
                say(f"  [{'ok' if check['passed'] else 'FAIL'}] {check['name']}: {check['detail']}")
            seconds = result["seconds"]
            if "rto" in seconds:
                say(f"  RTO {seconds['rto']} s (fetch {seconds['fetch']} s, replay {seconds['replay']} s), checks "
                    f"{seconds.get('checks', 0)} s; recovered to {result.get('recovered_to')}")
            say(f"  result stored at s3://{view.repository.bucket}/{result['key']}" if result["key"] else
                f"  result NOT stored in the bucket: {result['not_stored']['kept']}")
        drill.settle(result, view.repository.bucket)  # exit 7 on a failed check, else 1 or 5 for a refused result


@pgvault_task()
def rpo(c, stack=None, host=None, json_=False):
    """Kill the sandbox primary; measure the data lost."""
    cfg = load_stack(stack)
    progress = reporter(json_)
    for entry, conn, view in ssh.connections(c, cfg, host):
        result = drill.measure_rpo(conn, entry, view, progress)
        if json_:
            emit_json(result)
        else:
            say(f"data lost: {result['lost_seconds']} s (archive_timeout {result['archive_timeout_seconds']} s, "
                f"RPO target {result['rpo_target_seconds']} s): {'within' if result['within_rpo'] else 'OVER'} "
                "the target")
