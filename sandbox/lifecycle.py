"""Bring the whole sandbox up, report on it, and take it down again.

``up`` is idempotent: a part that already runs is left alone and reported as
such.  ``down`` stops every part it started (scratch clusters of restores
included), waits until each has exited and released its ports, and removes
the sandbox folder, so an ``up`` right after it starts cleanly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pgvault.core import standby
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.policy import topic_name
from pgvault.core.postgres import libpq_uri
from pgvault.core.schema import HostConfig, StackConfig
from pgvault.edges.cloud import s3_client
from sandbox import cluster, moto, seaweed, smtp, sshd
from sandbox.credentials import ADMIN_S3_KEY, ADMIN_S3_KEY_SECRET, APP_PASSWORD, ensure_secrets, write_private
from sandbox.processes import State, alive, port_open, read_pidfile, stop, wait_closed
from sandbox.stackfile import ROLE_HOSTS
from sandbox.tls import TlsFiles, ensure_tls


def require_sandbox(cfg: StackConfig) -> Path:
    """The sandbox folder of ``cfg``; refuses a stack that is not a sandbox."""
    if cfg.sandbox is None:
        raise PgvaultError(
            f"stack {cfg.name} is not a sandbox (no pgvault:sandbox section)",
            "use --stack sandbox; sandbox tasks never touch real hosts",
            ExitCode.USAGE,
        )
    return Path(cfg.sandbox.dir)


def _first(cfg: StackConfig, host: HostConfig) -> bool:
    """The sandbox's first host (``db1``, in ``ssh/`` and ``host/``), whatever role a failover gave it since."""
    return host.name not in ROLE_HOSTS.values()


def _ssh_port(cfg: StackConfig) -> int:
    return next(h.ssh_port for h in cfg.hosts if _first(cfg, h))


def sshd_folder(folder: Path, host: HostConfig) -> Path:
    """Where a sandbox host's sshd keeps its keys and config (the primary's in ``ssh/``, as before)."""
    return folder / host.name / "ssh" if host.name in ROLE_HOSTS.values() else folder / "ssh"


def up(cfg: StackConfig) -> list[tuple[str, str]]:
    """Start every part that is not running; return ``[(part, what happened)]``."""
    folder = require_sandbox(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    state = State(folder)
    secrets = ensure_secrets(Path(cfg.secrets.file or folder / "secrets.env"))
    tls = TlsFiles(Path(cfg.repository.ca_file).parent if cfg.repository.ca_file else folder / "tls")
    ensure_tls(tls)
    report = []

    recorded = state.load()
    if alive(recorded.get("s3", {}).get("pid")) and port_open(cfg.repository.endpoint_port):
        report.append(("s3", f"already running on {cfg.repository.endpoint}"))
    else:
        started = seaweed.start(cfg, folder / "s3", tls, secrets)
        state.update("s3", started)
        report.append(("s3", f"started on https://{cfg.repository.endpoint}"))
    created = seaweed.ensure_bucket(admin_client(cfg), cfg)
    lock = f", Object Lock {cfg.storage.object_lock_days} d GOVERNANCE" if cfg.storage.object_lock else ""
    report.append(("bucket", f"{cfg.repository.bucket} {'created' if created else 'exists'} (versioned{lock})"))

    if alive(recorded.get("moto", {}).get("pid")) and port_open(cfg.sandbox.moto_port):
        report.append(("moto", f"already running on 127.0.0.1:{cfg.sandbox.moto_port}"))
    else:
        state.update("moto", moto.start(folder / "moto", cfg.sandbox.moto_port))
        report.append(("moto", f"started on http://127.0.0.1:{cfg.sandbox.moto_port}"))
    moto.ensure_alert_topic(cfg)
    report.append(("alerts", f"SNS topic {topic_name(cfg)} -> SQS queue {moto.inbox_name(cfg)}"))

    smtp_port = _smtp_port(cfg)
    if smtp_port and alive(recorded.get("smtp", {}).get("pid")) and port_open(smtp_port):
        report.append(("smtp", f"already running on 127.0.0.1:{smtp_port}"))
    elif smtp_port:
        state.update("smtp", smtp.start(folder / "mail", smtp_port))
        report.append(("smtp", f"started on 127.0.0.1:{smtp_port}, mail in {smtp.maildir(folder / 'mail')}"))

    for host in cfg.ordered_hosts():
        identity = Path(host.identity_file or folder / "ssh" / "id_ed25519")
        part = "sshd" if host.role == "primary" else f"sshd {host.name} ({host.role})"
        if alive(read_pidfile(sshd_folder(folder, host) / "sshd.pid")) and port_open(host.ssh_port):
            report.append((part, f"already running on 127.0.0.1:{host.ssh_port}"))
        else:
            view = cfg.on(host.name)
            peered = bool(standby.peers(view))
            sshd.start(sshd_folder(folder, host), host.ssh_port, identity,
                       view.postgres.os_user if peered else None,
                       view.pgbackrest.ssh_authorized_keys if peered else None)
            report.append((part, f"started on 127.0.0.1:{host.ssh_port}"))

    cfg = cfg.on(cfg.primary.name)
    created = cluster.initialise(cfg)
    started = cluster.start(cfg)
    cluster.ensure_app_database(cfg, secrets[APP_PASSWORD])
    write_private(_pgpass(folder), f"*:*:*:{cluster.APP_ROLE}:{secrets[APP_PASSWORD]}\n")
    what = "created and started" if created else ("started" if started else "already running")
    report.append(("postgres", f"{what} on 127.0.0.1:{cfg.postgres.port}"))
    return report


def admin_client(cfg: StackConfig):
    """An S3 client with the sandbox's admin keys: bucket set-up and fault injection only, never pgvault's jobs."""
    secrets = ensure_secrets(Path(cfg.secrets.file or require_sandbox(cfg) / "secrets.env"))
    return s3_client(cfg, keys=(secrets[ADMIN_S3_KEY], secrets[ADMIN_S3_KEY_SECRET]))


def _smtp_port(cfg: StackConfig) -> int | None:
    """The SMTP catcher's port when the stack sends mail to loopback."""
    relay = cfg.alerts.smtp
    return relay.port if relay is not None and relay.host in ("127.0.0.1", "localhost") else None


def mailbox(cfg: StackConfig) -> Path:
    """The Maildir where the sandbox's SMTP catcher keeps what it received."""
    return smtp.maildir(require_sandbox(cfg) / "mail")


def _pgpass(folder: Path) -> Path:
    return folder / "pgpass"


def dsn(cfg: StackConfig) -> str:
    """libpq URI of the sandbox database, password kept in the 0600 passfile."""
    folder = require_sandbox(cfg)
    return libpq_uri(cluster.APP_ROLE, "127.0.0.1", cfg.postgres.port, cfg.postgres.databases[0], str(_pgpass(folder)))


def scratch_dsn(cfg: StackConfig, socket_dir: str, port: int) -> str:
    """libpq URI of a restored scratch cluster of the sandbox: its Unix socket, the app role's passfile."""
    folder = require_sandbox(cfg)
    return (f"postgresql://{cluster.APP_ROLE}@/{cfg.postgres.databases[0]}?host={socket_dir}&port={port}"
            f"&passfile={_pgpass(folder)}")


def status(cfg: StackConfig) -> dict:
    """Each part's state, plus the database DSN."""
    folder = require_sandbox(cfg)
    recorded = State(folder).load()
    parts = {
        "s3": {"running": alive(recorded.get("s3", {}).get("pid")) and port_open(cfg.repository.endpoint_port),
               "endpoint": cfg.repository.endpoint_url, "bucket": cfg.repository.bucket},
        "moto": {"running": alive(recorded.get("moto", {}).get("pid")) and port_open(cfg.sandbox.moto_port),
                 "endpoint": f"http://127.0.0.1:{cfg.sandbox.moto_port}"},
        **{("sshd" if h.role == "primary" else f"sshd-{h.name}"): {
            "running": alive(read_pidfile(sshd_folder(folder, h) / "sshd.pid")) and port_open(h.ssh_port),
            "address": f"127.0.0.1:{h.ssh_port}"} for h in cfg.ordered_hosts()},
        "postgres": {"running": cluster.running(cfg), "address": f"127.0.0.1:{cfg.postgres.port}",
                     "data_dir": cfg.postgres.data_dir},
    }
    if _smtp_port(cfg):
        parts["smtp"] = {"running": alive(recorded.get("smtp", {}).get("pid")) and port_open(_smtp_port(cfg)),
                         "address": f"127.0.0.1:{_smtp_port(cfg)}"}
    return {
        "stack": cfg.name,
        "dir": str(folder),
        "exists": folder.is_dir(),
        "parts": parts,
        "running": all(p["running"] for p in parts.values()),
        "dsn": dsn(cfg),
    }


def down(cfg: StackConfig) -> list[str]:
    """Stop everything the sandbox started and remove its folder; return what was stopped."""
    folder = require_sandbox(cfg)
    stopped = []
    pg_ports = []
    for host in reversed(cfg.ordered_hosts()):  # staging, then the standby, then the primary it follows
        view = cfg.on(host.name)
        scratch = Path(view.postgres.scratch_dir)
        for pidfile in sorted(scratch.glob("*/data/postmaster.pid")) if scratch.is_dir() else []:
            subprocess.run(cluster.as_db_user(view, [f"{view.postgres.bin_dir}/pg_ctl", "-D", str(pidfile.parent),
                                                     "-m", "immediate", "-w", "stop"]), capture_output=True)
            stopped.append(f"scratch cluster {pidfile.parent.parent.name}")
        if cluster.running(view) or Path(view.postgres.data_dir, "postmaster.pid").exists():
            cluster.stop(view)
            stopped.append("postgres" if host.role == "primary" else f"postgres {host.name}")
            pg_ports.append(view.postgres.port)
    recorded = State(folder).load()
    extra_sshd = [(f"sshd {h.name}", read_pidfile(sshd_folder(folder, h) / "sshd.pid"), h.ssh_port)
                  for h in cfg.hosts if not _first(cfg, h)]
    for part, pid, _ in extra_sshd:
        if alive(pid):
            stopped.append(part)
        stop(pid, grace=5)
    for part, pid in (("sshd", read_pidfile(folder / "ssh" / "sshd.pid")),
                      ("smtp", recorded.get("smtp", {}).get("pid")),
                      ("moto", recorded.get("moto", {}).get("pid")),
                      ("s3", recorded.get("s3", {}).get("pid"))):
        if alive(pid):
            stopped.append(part)
        stop(pid, grace=5)
    s3_ports = recorded.get("s3", {}).get("ports", {})
    ports = {"sshd": [_ssh_port(cfg)], "smtp": [_smtp_port(cfg)],
             "moto": [cfg.sandbox.moto_port], "s3": [cfg.repository.endpoint_port, *s3_ports.values()],
             **{part: [port] for part, pid, port in extra_sshd}}
    ours = [port for part in stopped for port in ports.get(part, []) if port]  # ours only, not a stranger's
    wait_closed(ours + pg_ports)
    seaweed.remove_sockets(cfg.repository.endpoint_port, s3_ports)
    shutil.rmtree(folder, ignore_errors=True)
    return stopped
