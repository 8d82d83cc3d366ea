"""1. Full backup: pgvault (pgBackRest) against ``pg_dump -Fc | gzip`` to the bucket and ``tar | zstd -1 -T0``."""

from __future__ import annotations

from boto3.s3.transfer import TransferConfig

from bench import stats
from bench.lab import BenchError, Lab, say, stopwatch
from bench.plan import Scale

BASELINE_KEY = "bench/baseline/crm.dump.gz"
#: the data directory as tar reads it: pg_wal is not part of a backup (pgBackRest skips it too)
TAR = "(tar -C \"$1\" --exclude=./pg_wal --exclude=./postmaster.pid -cf - . || [ $? -eq 1 ])"
TRANSFER = TransferConfig(multipart_chunksize=16 * 1024 * 1024, max_concurrency=4)


def run(lab: Lab, scale: Scale) -> dict:
    """Time each kind of full backup ``scale.reps`` times, interleaved; sizes from the bucket."""
    samples = {"pgvault": [], "baseline": [], "floor": []}
    for rep in range(scale.reps):
        samples["pgvault"].append(pgvault(lab))
        samples["baseline"].append(baseline(lab))
        samples["floor"].append(floor(lab))
        say(f"full backup {rep + 1}/{scale.reps}: "
            + ", ".join(f"{k} {v[-1]['seconds']:.1f} s" for k, v in samples.items()))
    return {kind: combine(found) for kind, found in samples.items()}


def combine(found: list[dict]) -> dict:
    """Summaries of each figure over repetitions."""
    return {key: stats.summary([f[key] for f in found]) for key in found[0]}


def pgvault(lab: Lab) -> dict:
    """``fab backup.full``, as cron runs it; bytes stored from pgBackRest's repository figures."""
    with stopwatch() as elapsed:
        lab.fab("backup.full")
    newest = lab.info().backups[-1]
    return {"seconds": elapsed[0], "stored_bytes": newest.repo_size, "copied_bytes": newest.size}


def baseline(lab: Lab) -> dict:
    """What the CRM planned: ``pg_dump -Fc | gzip`` streamed into a multipart upload."""
    pg = lab.cfg.postgres
    dump = (f"{pg.bin_dir}/pg_dump -Fc -h \"$1\" -p \"$2\" -U \"$3\" crm | gzip")
    client, bucket = lab.s3(), lab.cfg.repository.bucket
    with stopwatch() as elapsed:
        proc = lab.popen(["bash", "-o", "pipefail", "-c", dump, "bench", pg.socket_dir, str(pg.port), pg.os_user],
                         stdout=-1)
        client.upload_fileobj(proc.stdout, bucket, BASELINE_KEY, Config=TRANSFER)
        if proc.wait():
            raise BenchError(f"pg_dump | gzip failed with exit {proc.returncode}")
    stored = client.head_object(Bucket=bucket, Key=BASELINE_KEY)["ContentLength"]
    return {"seconds": elapsed[0], "stored_bytes": stored}


def floor(lab: Lab) -> dict:
    """The machine's floor: read the data directory and compress it with ``zstd -1 -T0``, nothing stored."""
    with stopwatch() as elapsed:
        out = lab.shell(f"{TAR} | zstd -q -1 -T0 | wc -c", lab.data_dir())
    return {"seconds": elapsed[0], "stored_bytes": int(out.strip())}
