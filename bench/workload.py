"""EDGE: pgbench workloads on the lab's database, CRM-like (``workloads/*.pgbench``)."""

from __future__ import annotations

import re
from pathlib import Path

from bench import stats
from bench.lab import BenchError, Lab
from bench.plan import CLIENTS, THREADS
from sandbox.seed import row_counts

SCRIPTS = Path(__file__).resolve().parent / "workloads"

#: ids of inserted rows come from sequences past the seeded ones
PREPARE_SQL = """
CREATE SEQUENCE IF NOT EXISTS bench_contacts_id;
CREATE SEQUENCE IF NOT EXISTS bench_notes_id;
SELECT setval('bench_contacts_id', (SELECT max(id) FROM contacts));
SELECT setval('bench_notes_id', (SELECT max(id) FROM notes));
ALTER TABLE contacts ALTER COLUMN id SET DEFAULT nextval('bench_contacts_id');
ALTER TABLE notes ALTER COLUMN id SET DEFAULT nextval('bench_notes_id');
"""

_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)


def prepare(lab: Lab) -> None:
    """Copy the scripts where the PostgreSQL OS user reads them; give inserted rows a source of ids."""
    for script in SCRIPTS.glob("*.pgbench"):
        (lab.work / script.name).write_text(script.read_text())
    lab.psql(PREPARE_SQL)


def pgbench(lab: Lab, script: str, seconds: int, seed_scale: int, tag: str, clients: int = CLIENTS,
            transactions: int | None = None, rate: float | None = None) -> dict:
    """Run ``workloads/<script>.pgbench`` for ``seconds`` (or ``transactions`` per client, as fast as they go;
    or ``rate`` transactions a second in all, pgbench's ``-R``, whose latencies count the wait behind a late
    schedule); return tps and latency percentiles in ms."""
    pg = lab.cfg.postgres
    counts = row_counts(seed_scale)
    prefix = lab.work / f"pgbench-{tag}"
    for old in lab.work.glob(f"pgbench-{tag}.*"):
        old.unlink()
    output = lab.run([
        f"{pg.bin_dir}/pgbench", "-n", "-h", pg.socket_dir, "-p", str(pg.port), "-U", pg.os_user,
        "-c", str(clients), "-j", str(THREADS), *(("-t", str(transactions)) if transactions else ("-T", str(seconds))),
        *(("-R", f"{rate:.1f}") if rate else ()),
        "-f", str(lab.work / f"{script}.pgbench"),
        "-D", f"clients={counts['clients']}", "-D", f"agents={counts['agents']}",
        "-D", f"properties={counts['properties']}", "-l", f"--log-prefix={prefix}", "crm",
    ])
    found = _TPS.search(output)
    if not found:
        raise BenchError(f"pgbench printed no tps: {output[-300:]}")
    latencies = []
    for log in lab.work.glob(f"pgbench-{tag}.*"):
        latencies += stats.pgbench_latencies_ms(log.read_text().splitlines())
        log.unlink()
    return {
        "tps": float(found.group(1)),
        "transactions": len(latencies),
        "p50_ms": stats.percentile(latencies, 50),
        "p99_ms": stats.percentile(latencies, 99),
    }


def write_wal(lab: Lab, megabytes: int, seed_scale: int) -> int:
    """Run the write-heavy workload until at least ``megabytes`` of WAL were written; return the bytes."""
    start = lab.wal_lsn()
    written = 0
    while written < megabytes * 1024 * 1024:
        pgbench(lab, "crm_write", 5, seed_scale, "wal")
        written = lab.wal_bytes_since(start)
    return written
