"""3. Restore to a usable database (RTO): pgvault, ``pg_restore -j`` of the baseline dump, and the floor."""

from __future__ import annotations

import json
import os
import subprocess

from bench import stats
from bench.lab import BenchError, Lab, say, stopwatch
from bench.plan import Scale
from bench.sections.full import BASELINE_KEY, TAR, TRANSFER

FLOOR_KEY = "bench/floor/pgdata.tar.zst"
CHUNK = 4 * 1024 * 1024
RESTORED_DB = "crm_restored"


def run(lab: Lab, scale: Scale) -> dict:
    """Time each kind of restore ``scale.reps`` times.

    pgvault's restores come first, right after a settled incremental: a
    restore of the latest backup replays every WAL segment written after it,
    and the baseline's ``pg_restore`` into the same cluster writes gigabytes
    of it (the cost of replaying WAL is the point-in-time section's measure).
    """
    upload_floor_archive(lab)
    settle(lab)
    samples, phases = {"pgvault": [], "baseline": [], "floor": []}, []
    for rep in range(scale.reps):
        seconds, found = pgvault(lab, f"bench-{rep}")
        samples["pgvault"].append(seconds)
        phases.append(found)
    for rep in range(scale.reps):
        samples["baseline"].append(baseline(lab))
        samples["floor"].append(floor(lab))
        say(f"restore {rep + 1}/{scale.reps}: " + ", ".join(f"{k} {v[rep]:.1f} s" for k, v in samples.items()))
    lab.s3().delete_object(Bucket=lab.cfg.repository.bucket, Key=FLOOR_KEY)
    out = {kind: {"seconds": stats.summary(found)} for kind, found in samples.items()}
    out["pgvault"]["phases"] = {key: stats.summary([p[key] for p in phases]) for key in phases[0]}
    return out


def settle(lab: Lab) -> None:
    """VACUUM (hint bits and visibility maps are written once, not during the restores), archive its WAL,
    and take an incremental, so the latest backup is current."""
    lab.psql("VACUUM;")
    lab.checkpoint()
    lab.wait_archived()
    lab.fab("backup.incr")


def pgvault(lab: Lab, name: str) -> tuple[float, dict]:
    """``fab restore.full`` into a scratch cluster, timed until it accepts connections, then dropped;
    returns the wall time and the restore's own phases."""
    with stopwatch() as elapsed:
        doc = json.loads(lab.fab("restore.full", "--name", name, "--json"))
    rows = lab.run([f"{lab.cfg.postgres.bin_dir}/psql", "-X", "-At", "-h", doc["socket_dir"], "-p", str(doc["port"]),
                    "-U", lab.cfg.postgres.os_user, "-d", "crm", "-c", "SELECT count(*) FROM clients"])
    if int(rows) <= 0:
        raise BenchError(f"the restored cluster {name} has no clients")
    lab.fab("restore.drop", "--name", doc["name"])
    return elapsed[0], doc["seconds"]


def baseline(lab: Lab) -> float:
    """Download the baseline dump, gunzip it, and ``pg_restore -j <cores>`` it into a fresh database."""
    pg = lab.cfg.postgres
    gz, dump = lab.work / "baseline.dump.gz", lab.work / "baseline.dump"
    lab.psql(f"DROP DATABASE IF EXISTS {RESTORED_DB};", database="postgres")
    with stopwatch() as elapsed:
        lab.s3().download_file(lab.cfg.repository.bucket, BASELINE_KEY, str(gz), Config=TRANSFER)
        os.chmod(gz, 0o644)
        lab.shell('gunzip -c "$1" > "$2"', str(gz), str(dump))
        lab.psql(f"CREATE DATABASE {RESTORED_DB};", database="postgres")
        lab.run([f"{pg.bin_dir}/pg_restore", "-j", str(os.cpu_count() or 2), "-h", pg.socket_dir, "-p",
                 str(pg.port), "-U", pg.os_user, "-d", RESTORED_DB, str(dump)])
    lab.psql(f"DROP DATABASE {RESTORED_DB};", database="postgres")
    gz.unlink()
    lab.run(["rm", "-f", str(dump)])
    return elapsed[0]


def upload_floor_archive(lab: Lab) -> None:
    """Put ``tar | zstd -1`` of the data directory in the bucket once, for the floor to read back."""
    archive = lab.work / "pgdata.tar.zst"
    lab.shell(f'{TAR} | zstd -q -1 -T0 > "$2"', lab.data_dir(), str(archive))
    lab.s3().upload_file(str(archive), lab.cfg.repository.bucket, FLOOR_KEY, Config=TRANSFER)
    lab.run(["rm", "-f", str(archive)])


def floor(lab: Lab) -> float:
    """The floor: read the compressed data directory back from the bucket and decompress it, nothing written.

    One streamed GET into ``zstd -d`` (s3transfer's parallel download into a
    pipe stalled at 2 GB here); pgBackRest also reads each file with one GET.
    """
    with stopwatch() as elapsed:
        unzstd = subprocess.Popen(["zstd", "-q", "-d", "-c"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        body = lab.s3().get_object(Bucket=lab.cfg.repository.bucket, Key=FLOOR_KEY)["Body"]
        try:
            for chunk in body.iter_chunks(chunk_size=CHUNK):
                unzstd.stdin.write(chunk)
        finally:
            unzstd.stdin.close()
        if unzstd.wait():
            raise BenchError(f"zstd -d failed with exit {unzstd.returncode}")
    return elapsed[0]
