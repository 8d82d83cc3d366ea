"""7. A day of backups: what today's schedule and the adaptive hourly rule store in a day, side by side.

Time is compressed: a simulated hour is one hour's CRM read/write
transactions (``Scale.day_tps`` a second, the measured CRM rate) run as fast
as they go, in as many slices as the server has checkpoints in an hour
(``3600 / checkpoint_timeout``) with a ``CHECKPOINT`` between them, so the
full-page images that follow each checkpoint are written as often as in a real
hour; then the hourly job exactly as cron runs it (the installed
``pgvault-job incr``).  Each day starts with the 02:00 full and the 02:30
logical dump, also through ``pgvault-job``.  The two rules run one after the
other on the same database, each from a copy of the host's stack file that
differs only in ``schedule.incremental_rule``; what each day stored is the
bucket's growth by category (fulls and incrementals from pgBackRest's sets),
as a multiple of the day's own full.

Before the days, one hour's transactions run twice after a checkpoint, with
``wal_compression`` off and as ``host.setup`` set it: the WAL bytes written
and archived with and without.
"""

from __future__ import annotations

from collections import Counter

import yaml

from bench.lab import Lab, say
from bench.plan import CLIENTS, Scale
from bench.workload import pgbench
from pgvault.core import cron, hourly
from pgvault.edges import jobstate
from pgvault.edges.bucket import usage

RULES = ("always", "adaptive")


def run(lab: Lab, scale: Scale) -> dict:
    """The WAL compression comparison, then a day under each rule."""
    out = {"hours": scale.day_hours, "tps": scale.day_tps, "transactions_per_hour": transactions(scale),
           "checkpoints_per_hour": checkpoints_per_hour(lab), "wal_compression": compare_wal_compression(lab, scale)}
    for rule in RULES:
        out[rule] = day(lab, scale, rule)
    return out


def transactions(scale: Scale) -> int:
    """CRM transactions in one simulated hour."""
    return scale.day_tps * 3600


def checkpoints_per_hour(lab: Lab) -> int:
    """How many timed checkpoints the server makes in an hour (``checkpoint_timeout``)."""
    seconds = int(lab.psql("SELECT setting FROM pg_settings WHERE name = 'checkpoint_timeout';", database="postgres"))
    return max(1, 3600 // max(1, seconds))


def burst(lab: Lab, scale: Scale, tag: str) -> None:
    """One simulated hour of the CRM read/write workload, a checkpoint between its slices."""
    slices = checkpoints_per_hour(lab)
    for done in range(slices):
        if done:
            lab.checkpoint()
        pgbench(lab, "crm", 0, scale.seed_scale, tag, transactions=-(-transactions(scale) // (CLIENTS * slices)))


def compare_wal_compression(lab: Lab, scale: Scale) -> dict:
    """WAL bytes of one hour's transactions with ``wal_compression`` off and as configured."""
    configured = lab.psql("SHOW wal_compression;", database="postgres")
    out = {}
    for setting in ("off", configured):
        lab.psql(f"ALTER SYSTEM SET wal_compression = '{setting}'; SELECT pg_reload_conf();", database="postgres")
        try:
            lab.checkpoint()  # every burst starts with the full-page images a checkpoint brings
            archived_before = stored(lab)["wal"]
            start = lab.wal_lsn()
            burst(lab, scale, f"walc-{setting}")
            written = lab.wal_bytes_since(start)
            lab.wait_archived()
            out[setting] = {"written_bytes": written, "archived_bytes": stored(lab)["wal"] - archived_before}
        finally:
            lab.psql("ALTER SYSTEM RESET wal_compression; SELECT pg_reload_conf();", database="postgres")
        say(f"one hour of CRM transactions with wal_compression={setting}: {written:,} bytes of WAL written, "
            f"{out[setting]['archived_bytes']:,} archived")
    return {"configured": configured, **out}


def stored(lab: Lab) -> dict[str, int]:
    """Bytes in the bucket by category."""
    return usage(lab.s3(), lab.cfg)


def variant_stack(lab: Lab, rule: str) -> str:
    """A folder holding the host's stack file with ``schedule.incremental_rule`` set to ``rule``."""
    cfg = lab.cfg
    doc = yaml.safe_load((lab.folder / f"Pulumi.{cfg.name}.yaml").read_text())
    doc["config"].setdefault("pgvault:schedule", {})["incremental_rule"] = rule
    folder = lab.work / f"stack-{rule}"
    folder.mkdir(exist_ok=True)
    (folder / f"Pulumi.{cfg.name}.yaml").write_text(yaml.safe_dump(doc, sort_keys=True))
    return str(folder)


def run_job(lab: Lab, stack_dir: str, job: str) -> dict:
    """Run ``pgvault-job <job>`` as cron does (the DB user, the job's own stack folder); return its record."""
    lab.run(["env", f"PGVAULT_STACK_DIR={stack_dir}", cron.job_binary(lab.cfg), "--stack", lab.cfg.name, job])
    return jobstate.read(lab.cfg.jobs.state_dir)["last"][job]


def day(lab: Lab, scale: Scale, rule: str) -> dict:
    """One compressed day under ``rule``: full, logical dump, then ``day_hours`` bursts each followed by the job."""
    stack_dir = variant_stack(lab, rule)
    before, labels = stored(lab), {b.label for b in lab.info().backups}
    run_job(lab, stack_dir, "full")
    run_job(lab, stack_dir, "logical")
    decisions: Counter = Counter()
    for hour in range(scale.day_hours):
        burst(lab, scale, f"day-{rule}")
        record = run_job(lab, stack_dir, "incr")
        decisions[(record.get("sizes") or {}).get("decision", hourly.INCREMENTAL)] += 1
        say(f"{rule} hour {hour + 1}/{scale.day_hours}: {(record.get('sizes') or {}).get('reason', '')}")
    lab.wait_archived()
    after = stored(lab)
    new = [b for b in lab.info().backups if b.label not in labels]
    result = {
        "full_bytes": sum(b.repo_delta for b in new if b.type == "full"),
        "incremental_bytes": sum(b.repo_delta for b in new if b.type != "full"),
        "wal_bytes": after["wal"] - before["wal"],
        "dump_bytes": after["logical"] - before["logical"],
        "incrementals": sum(1 for b in new if b.type != "full"),
        "restore_points": decisions.get(hourly.RESTORE_POINT, 0),
    }
    result["total_bytes"] = sum(result[k] for k in ("full_bytes", "incremental_bytes", "wal_bytes", "dump_bytes"))
    say(f"a day with rule {rule}: {result['total_bytes']:,} bytes stored, "
        f"{result['total_bytes'] / max(1, result['full_bytes']):.2f}x its full")
    return result
