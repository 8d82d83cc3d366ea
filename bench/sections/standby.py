"""8. Backups from the standby: production's throughput and p99 latency at half of its peak load while full
backups run from the primary, and from the standby (pgBackRest's ``backup-standby=y``), side by side.

It needs a lab with a standby (``Lab.create(roles=("standby",))``): the benchmark measures it in a sandbox of its
own, so that the other sections' backups keep reading the primary.  The cores are split between "the primary's
machine" and "elsewhere" (:mod:`bench.affinity`); pgBackRest's backup command runs on the primary in both
variants, as the primary's cron runs it.
"""

from __future__ import annotations

import os
import statistics
from contextlib import nullcontext
from pathlib import Path

from bench import affinity, stats
from bench.lab import BenchError, Lab, say
from bench.plan import LOAD_SHARE_OF_PEAK, Scale
from bench.sections.impact import under_backups
from bench.workload import pgbench
from pgvault.core import pgbackrest
from pgvault.edges.waiting import within
from sandbox.lifecycle import sshd_folder
from sandbox.processes import State, read_pidfile

#: the variants, in the order each repetition runs them
SOURCES = ("none", "primary", "standby")


def run(lab: Lab, scale: Scale) -> dict:
    """Build the standby, find the primary's peak, then per repetition: no backup, fulls from the primary,
    fulls from the standby, each at half of the peak."""
    standby = pgbackrest.backup_standby(lab.cfg)
    if standby is None:
        raise BenchError("the standby section needs a lab with a standby (python -m bench run does it)")
    lab.fab("backup.full")  # host.standby restores the newest set
    lab.fab("host.standby")
    _wait_streaming(lab)
    cores = affinity.halves()
    options = {"none": None, "primary": pgbackrest.primary_only(lab.cfg, "backup"), "standby": []}
    runs: dict[str, list[dict]] = {source: [] for source in SOURCES}
    load = [os.getloadavg()[0]]
    with affinity.placed(*cores, _primary_roots(lab), _elsewhere_roots(lab, standby)) if cores else nullcontext():
        peak = pgbench(lab, "crm", scale.load_seconds, scale.seed_scale, "standby")["tps"]
        rate = peak * LOAD_SHARE_OF_PEAK
        say(f"standby: the primary's peak {peak:.0f} tps; the load runs at {rate:.0f} tps")
        for rep in range(scale.impact_reps):
            for source in SOURCES:
                if options[source] is None:
                    found = pgbench(lab, "crm", scale.load_seconds, scale.seed_scale, "standby", rate=rate)
                else:
                    found = under_backups(lab, scale, options[source], lab.cfg.pgbackrest.backup_priority, rate,
                                          "standby")
                runs[source].append(found)
                load.append(os.getloadavg()[0])
                say(f"standby {rep + 1}/{scale.impact_reps}: backups from {source}: {found['tps']:.0f} tps, "
                    f"p99 {found['p99_ms']:.1f} ms")
    return {"standby_host": standby, "peak_tps": peak, "rate_tps": rate,
            "cores": {"primary": sorted(cores[0]), "elsewhere": sorted(cores[1])} if cores else None,
            "load": {"min": min(load), "median": statistics.median(load), "max": max(load)},
            **{source: {name: stats.summary([f[name] for f in found]) for name in found[0]}
               for source, found in runs.items()}}


def _wait_streaming(lab: Lab) -> None:
    """Wait until the standby streams from the primary (a backup from it waits for its replay otherwise)."""
    if not within(120, lambda: lab.psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming';")
                  != "0", interval=1):
        raise BenchError("the standby does not stream from the primary after 120 s: see its PostgreSQL log")


def _postmaster(lab: Lab, host: str) -> int:
    pid = read_pidfile(Path(lab.cfg.on(host).postgres.data_dir) / "postmaster.pid")
    if pid is None:
        raise BenchError(f"PostgreSQL on {host} is not running")
    return pid


def _primary_roots(lab: Lab) -> list[int]:
    """What runs on the primary's machine besides the lab itself: its PostgreSQL."""
    return [_postmaster(lab, lab.cfg.primary.name)]


def _elsewhere_roots(lab: Lab, standby: str) -> list[int]:
    """What runs elsewhere: the standby's PostgreSQL, its sshd (the pgBackRest remote starts under it), S3."""
    host = next(h for h in lab.cfg.hosts if h.name == standby)
    sshd = read_pidfile(sshd_folder(lab.folder, host) / "sshd.pid")
    return [_postmaster(lab, standby), State(lab.folder).load()["s3"]["pid"], *([sshd] if sshd else [])]
