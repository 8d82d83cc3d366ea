"""4. Impact on production: pgbench throughput and p99 latency with full backups running back to back."""

from __future__ import annotations

import os
import threading

from bench import stats
from bench.lab import BenchError, Lab, say, stopwatch
from bench.plan import IMPACT_VARIANTS, Scale
from bench.workload import pgbench
from pgvault.core.pgbackrest import priority_prefix


def run(lab: Lab, scale: Scale) -> dict:
    """For each repetition: a run without backups, then one per (process-max, priority) variant."""
    runs: dict[str, list[dict]] = {"none": []}
    for rep in range(scale.impact_reps):
        runs["none"].append(pgbench(lab, "crm", scale.load_seconds, scale.seed_scale, "impact"))
        say(f"impact {rep + 1}/{scale.impact_reps}: no backup {runs['none'][-1]['tps']:.0f} tps")
        for process_max, priority in IMPACT_VARIANTS:
            key = f"process-max {process_max}, {priority} priority"
            runs.setdefault(key, []).append(under_backups(lab, scale, [f"--process-max={process_max}"], priority))
            found = runs[key][-1]
            say(f"impact {rep + 1}/{scale.impact_reps}: {key}: {found['tps']:.0f} tps, "
                f"{found['backups']} backup(s) of {found['backup_seconds']:.1f} s")
    return {key: {name: stats.summary([f[name] for f in found]) for name in found[0]} for key, found in runs.items()}


def under_backups(lab: Lab, scale: Scale, options: list[str], priority: str, rate: float | None = None,
                  tag: str = "impact") -> dict:
    """pgbench (as fast as it goes, or at ``rate`` transactions a second) while full backups with these pgBackRest
    ``options`` and priority run one after another for the whole load."""
    stop, durations, failures = threading.Event(), [], []

    def back_to_back() -> None:
        try:
            while not stop.is_set():
                with stopwatch() as elapsed:
                    lab.pgbackrest("backup", "--type=full", *options, priority=priority_prefix(priority))
                durations.append(elapsed[0])
        except BenchError as exc:
            failures.append(exc)

    worker = threading.Thread(target=back_to_back, name="backups")
    s3_cpu = lab.s3_cpu_seconds()
    worker.start()
    try:
        found = pgbench(lab, "crm", scale.load_seconds, scale.seed_scale, tag, rate=rate)
    finally:
        stop.set()
        worker.join()
        s3_cpu = lab.s3_cpu_seconds() - s3_cpu
    if failures or not durations:
        raise failures[0] if failures else BenchError("no backup finished during the load")
    return {**found, "backups": len(durations), "backup_seconds": sum(durations) / len(durations),
            "s3_cpu_share": s3_cpu / (sum(durations) * (os.cpu_count() or 1))}
