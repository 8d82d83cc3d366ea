"""7. A day of backups: what today's schedule and the adaptive hourly rule store in a day, side by side.

Time is compressed but the work is fixed: a simulated hour is a fixed number
of CRM read/write transactions (``Scale.transactions_per_hour``: by default
the seeded agents' day, ``bench.plan.AGENT_TRANSACTIONS_PER_DAY`` each, spread
over 24 hours), run by pgbench with ``-t`` as fast as they go, so a busy
machine changes how long an hour takes, not the bytes it writes.  The hour
runs in as many slices as the server has checkpoints in an hour
(``3600 / checkpoint_timeout``), each after a ``CHECKPOINT``, so the
full-page images that follow each checkpoint are written as often as in a real
hour; then the hourly job exactly as cron runs it (the installed
``pgvault-job incr``).  Each day starts with the 02:00 full and the 02:30
logical dump, also through ``pgvault-job``.  Checkpoints follow a simulated clock (:func:`simulated_hour`): the
lab's own timer is pinned to a day meanwhile.  The two rules run one after the
other on the same database, each from a copy of the host's stack file that
differs only in ``schedule.incremental_rule``; what each day stored is the
bucket's growth by category (fulls and incrementals from pgBackRest's sets),
as a multiple of the day's own full.

First the seeded database is settled (``VACUUM (FREEZE, ANALYZE)`` and one
unmeasured hour), as a years-old one would be.  Then the levers, each on one
hour's transactions: every ``wal_compression`` method the server offers; 12, 2 and 1
checkpoints an hour (``checkpoint_timeout`` 5, 30 and 60 minutes); the hour's
archived WAL compressed again as other ``compress-type``/``compress-level``
choices would (segments read back with ``archive-get``); and the day's logical
dump at other compressions.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import yaml

from bench.lab import Lab, say
from bench.plan import CLIENTS, Scale
from bench.workload import pgbench
from pgvault.core import cron, hourly, pgbackrest
from pgvault.edges import jobstate
from pgvault.edges.bucket import usage

RULES = ("always", "adaptive")
#: where a day's result is written as soon as it is known (ignored by git, like the runs)
PARTIAL = Path(__file__).resolve().parents[1] / "runs"
#: checkpoints an hour compared (checkpoint_timeout 5 min, PostgreSQL's default; 30 min; 60 min)
CHECKPOINT_VARIANTS = (12, 2, 1)
#: the hour's WAL segments compressed again locally as these pgBackRest choices would: (type, level, command)
ARCHIVE_COMPRESSIONS = (("zst", 3, "zstd -q -3 -c"), ("zst", 6, "zstd -q -6 -c"), ("zst", 9, "zstd -q -9 -c"),
                        ("gz", 6, "gzip -6 -c"), ("lz4", 1, "lz4 -q -1 -c"))
#: the logical dump at other compressions: pg_dump -Fc's own gzip levels, and an uncompressed dump through zstd
#: (at the small scale gzip-9 saved 0.4 % and zstd-3 of -Z 0 nothing, so they are not repeated)
DUMP_COMPRESSIONS = (("gzip-6 (pg_dump -Fc default)", "-Z 6", ""), ("zstd-9 of -Z 0", "-Z 0", "zstd -q -9 -c"))


def run(lab: Lab, scale: Scale, rules: tuple[str, ...] = RULES, levers: bool = True) -> dict:
    """The levers on one hour each, then a day under each rule."""
    started, load = time.time(), [os.getloadavg()[0]]
    timeout = checkpoint_timeout(lab)
    # only the simulated clock's checkpoints: the lab's own timer would add one every checkpoint_timeout of
    # wall-clock time, however many simulated hours that is
    lab.psql("ALTER SYSTEM SET checkpoint_timeout = '1d'; SELECT pg_reload_conf();", database="postgres")
    try:
        out = measure(lab, scale, rules, timeout, load, levers)
    finally:
        lab.psql("ALTER SYSTEM RESET checkpoint_timeout; SELECT pg_reload_conf();", database="postgres")
    load.append(os.getloadavg()[0])
    out["run"] = {"seconds": time.time() - started, "cpus": os.cpu_count(),
                  "load": {"min": min(load), "median": sorted(load)[len(load) // 2], "max": max(load)}}
    return out


def measure(lab: Lab, scale: Scale, rules: tuple[str, ...], timeout: int, load: list[float],
            levers: bool = True) -> dict:
    """Settle, the levers (unless not wanted), the days (the lab's own checkpoint timer pinned to a day); each
    day's result is also written to ``bench/runs/day-partial-<pid>.json`` as soon as it is known, so that a run
    stopped before its end keeps what it measured."""
    settle(lab, scale, timeout)
    switches = 3600 // max(1, int(lab.psql("SELECT setting FROM pg_settings WHERE name = 'archive_timeout';",
                                            database="postgres")))
    out = {"hours": scale.day_hours, "tps": transactions(scale) / 3600, "transactions_per_hour": transactions(scale),
           "checkpoint_timeout_seconds": timeout, "checkpoints_per_hour": 3600 / timeout,
           "wal_switches_per_hour": switches, "max_wal_size": lab.psql("SHOW max_wal_size;", database="postgres")}
    if levers:
        out.update(wal_compression=compare_wal_compression(lab, scale, timeout),
                   checkpoints=compare_checkpoints(lab, scale), dump_compression=compare_dumps(lab))
    partial = PARTIAL / f"day-partial-{os.getpid()}.json"
    for rule in rules:
        out[rule] = day(lab, scale, rule, timeout, switches, load)
        PARTIAL.mkdir(exist_ok=True)
        partial.write_text(json.dumps({"scale": asdict(scale), "day": out, "load": load}, indent=2) + "\n")
    return out


def settle(lab: Lab, scale: Scale, timeout: int) -> None:
    """Make the freshly seeded database look like a long-lived one before anything is measured.

    A seeded table has no hint bits and no visibility map yet, and with data checksums on the first read of each
    page after a checkpoint writes it whole into WAL: the first hour measured would pay for the seeding.  A
    production CRM's years-old rows were frozen by autovacuum long ago, so: ``VACUUM (FREEZE, ANALYZE)``, a
    checkpoint, then one hour of transactions that is not measured.
    """
    lab.psql("VACUUM (FREEZE, ANALYZE);")
    simulated_hour(lab, scale, "settle", timeout, timeout)
    lab.wait_archived()


def transactions(scale: Scale) -> int:
    """CRM transactions in one simulated hour."""
    return scale.transactions_per_hour


def checkpoint_timeout(lab: Lab) -> int:
    """The server's ``checkpoint_timeout`` in seconds, as ``host.setup`` left it."""
    return int(lab.psql("SELECT setting FROM pg_settings WHERE name = 'checkpoint_timeout';", database="postgres"))


def redo_lsn(lab: Lab) -> str:
    """Where the newest checkpoint's redo starts (it moves with every checkpoint, whoever asked for it)."""
    return lab.psql("SELECT redo_lsn FROM pg_control_checkpoint();", database="postgres")


def burst(lab: Lab, scale: Scale, tag: str, slices: int, switches: int = 0) -> None:
    """One simulated hour of the CRM read/write workload in ``slices``, each after a checkpoint (``0``: one slice
    and no checkpoint), and ``switches`` WAL segment switches spread over the hour (``archive_timeout``'s)."""
    chunks = max(1, slices) * max(1, switches // max(1, slices))
    per_client = -(-transactions(scale) // (CLIENTS * chunks))
    for chunk in range(chunks):
        if slices and chunk % (chunks // max(1, slices)) == 0:
            lab.checkpoint()  # each slice starts with the full-page images a checkpoint brings
        pgbench(lab, "crm", 0, scale.seed_scale, tag, transactions=per_client)
        if switches:
            lab.psql("SELECT pg_switch_wal();", database="postgres")


def simulated_hour(lab: Lab, scale: Scale, tag: str, timeout: int, since: int, switches: int = 0) -> int:
    """One simulated hour with the checkpoints ``checkpoint_timeout`` makes in it; return the simulated seconds
    since the newest checkpoint at its end.

    Shorter than an hour: ``3600 / timeout`` slices, each after a checkpoint.  An hour or longer: a checkpoint
    at the start of the hour in which ``timeout`` seconds since the last one run out (``since``: a backup's
    checkpoint resets it, as it resets the server's timer).  A checkpoint the server makes itself because
    ``max_wal_size`` filled up happens as in a real hour (it counts WAL, not time) and resets the clock too;
    so that it comes as often as in a real hour, the hour switches WAL segments as often as ``archive_timeout``
    does on a database that writes something every ``archive_timeout`` (``switches``): each switch ends a
    segment early, and the checkpoint counts segments.
    """
    if timeout < 3600:
        burst(lab, scale, tag, 3600 // timeout, switches)
        return 3600 % timeout
    due = since + 3600 >= timeout
    before = redo_lsn(lab)
    burst(lab, scale, tag, 1 if due else 0, switches)
    if not due and redo_lsn(lab) != before:
        return 0  # max_wal_size asked for one during the hour
    return 3600 if due else since + 3600


def one_hour(lab: Lab, scale: Scale, tag: str, slices: int, recompress: bool = False) -> dict:
    """One hour's transactions: WAL bytes written and archived (and recompressed)."""
    archived_before = stored(lab)["wal"]
    start = lab.wal_lsn()
    burst(lab, scale, tag, slices)
    end = lab.wal_lsn()
    lab.wait_archived()
    out = {"written_bytes": wal_diff(lab, start, end),
           "archived_bytes": stored(lab)["wal"] - archived_before}
    if recompress:
        out["recompressed"] = recompress_segments(lab, start, end)
    return out


def wal_diff(lab: Lab, start: str, end: str) -> int:
    """WAL bytes between two LSNs."""
    return int(float(lab.psql(f"SELECT pg_wal_lsn_diff('{end}', '{start}');")))


def recompress_segments(lab: Lab, start: str, end: str) -> dict:
    """The WAL segments from ``start`` to ``end``, read back with ``archive-get``, compressed as each of
    :data:`ARCHIVE_COMPRESSIONS` (pgBackRest compresses a segment as one stream, as these do)."""
    first, last = (lab.psql(f"SELECT pg_walfile_name('{lsn}');") for lsn in (start, end))
    names = segment_names(first, last)
    folder = lab.work / "segments"
    lab.shell('rm -rf "$1" && mkdir -p "$1"', str(folder))
    get = " ".join(shlex.quote(a) for a in pgbackrest_argv(lab, "archive-get"))
    for name in names:
        lab.shell(f'{get} "$1" "$2/$1"', name, str(folder))
    out = {"segments": len(names), "raw_bytes": int(lab.shell('cat "$1"/* | wc -c', str(folder)))}
    for kind, level, command in ARCHIVE_COMPRESSIONS:
        total = int(lab.shell(f'n=0; for f in "$1"/*; do s=$({command} "$f" | wc -c); n=$((n + s)); done; echo $n',
                              str(folder)))
        out[f"{kind}-{level}"] = total
        say(f"the hour's {len(names)} WAL segments as {kind}-{level}: {total:,} bytes")
    lab.shell('rm -rf "$1"', str(folder))
    return out


def segment_names(first: str, last: str) -> list[str]:
    """WAL file names from ``first`` to ``last`` on one timeline (16 MB segments: 256 a log file)."""
    def number(name: str) -> int:
        return int(name[8:16], 16) * 256 + int(name[16:24], 16)

    return [f"{first[:8]}{n // 256:08X}{n % 256:08X}" for n in range(number(first), number(last) + 1)]


def pgbackrest_argv(lab: Lab, name: str) -> list[str]:
    """argv of a pgBackRest command on the lab's stanza (synchronous: nothing queued in the spool)."""
    return pgbackrest.command(lab.cfg, name, "--no-archive-async")


def compare_wal_compression(lab: Lab, scale: Scale, timeout: int) -> dict:
    """WAL bytes of one hour's transactions under every ``wal_compression`` method the server offers."""
    configured = lab.psql("SHOW wal_compression;", database="postgres")
    offered = lab.psql("SELECT array_to_string(enumvals, ' ') FROM pg_settings WHERE name = 'wal_compression';",
                       database="postgres").split() or ["off", "on"]
    out: dict = {"configured": configured, "offered": offered}
    for setting in [m for m in offered if m not in ("on",)]:
        lab.psql(f"ALTER SYSTEM SET wal_compression = '{setting}'; SELECT pg_reload_conf();", database="postgres")
        try:
            out[setting] = one_hour(lab, scale, f"walc-{setting}", max(1, 3600 // timeout),
                                    recompress=setting == configured)
        finally:
            lab.psql("ALTER SYSTEM RESET wal_compression; SELECT pg_reload_conf();", database="postgres")
        say(f"one hour of CRM transactions with wal_compression={setting}: {out[setting]['written_bytes']:,} bytes "
            f"of WAL written, {out[setting]['archived_bytes']:,} archived")
    return out


def compare_checkpoints(lab: Lab, scale: Scale) -> dict:
    """WAL bytes of one hour's transactions with :data:`CHECKPOINT_VARIANTS` checkpoints (configured compression)."""
    out = {}
    for slices in CHECKPOINT_VARIANTS:
        out[str(slices)] = one_hour(lab, scale, f"ckpt-{slices}", slices)
        say(f"one hour of CRM transactions with {slices} checkpoint(s): {out[str(slices)]['written_bytes']:,} bytes "
            f"of WAL written, {out[str(slices)]['archived_bytes']:,} archived")
    return out


def compare_dumps(lab: Lab) -> dict:
    """Bytes of ``pg_dump -Fc`` of each stack database at :data:`DUMP_COMPRESSIONS` (nothing stored)."""
    pg = lab.cfg.postgres
    out = {}
    for label, option, pipe in DUMP_COMPRESSIONS:
        total = 0
        for database in pg.databases:
            dump = (f'"$1/pg_dump" -h "$2" -p "$3" -U "$4" -Fc {option} "$5"'
                    + (f" | {pipe}" if pipe else "") + " | wc -c")
            total += int(lab.shell(dump, pg.bin_dir, pg.socket_dir, str(pg.port), pg.os_user, database))
        out[label] = total
        say(f"logical dump as {label}: {total:,} bytes")
    return out


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


def day(lab: Lab, scale: Scale, rule: str, timeout: int, switches: int, load: list[float]) -> dict:
    """One compressed day under ``rule``: full, logical dump, then ``day_hours`` bursts each followed by the job."""
    stack_dir = variant_stack(lab, rule)
    before, labels = stored(lab), {b.label for b in lab.info().backups}
    run_job(lab, stack_dir, "full")
    run_job(lab, stack_dir, "logical")
    decisions: Counter = Counter()
    since = 0  # simulated seconds since the newest checkpoint: the full's
    for hour in range(scale.day_hours):
        since = simulated_hour(lab, scale, f"day-{rule}", timeout, since, switches)
        record = run_job(lab, stack_dir, "incr")
        load.append(os.getloadavg()[0])  # the machine is shared: the 1-minute load average, every hour
        decision = (record.get("sizes") or {}).get("decision", hourly.INCREMENTAL)
        decisions[decision] += 1
        since = 0 if decision == hourly.INCREMENTAL else since
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
