"""The sandbox host's PostgreSQL cluster (Debian's binaries, ``initdb`` layout).

PostgreSQL refuses to run as root, so the cluster runs as the stack's
``postgres.os_user`` (``postgres`` when you are root, else you).  An
``initdb`` cluster has no ``conf.d`` include, so one is added here, the way
Debian's layout provides it; pgvault's ``host.setup`` then writes its own
include file there like on any host.  The application role's password goes
through psql's stdin, never a command line.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.postgres import psql_argv, sql_identifier, sql_literal
from pgvault.core.schema import StackConfig

APP_ROLE = "crm_app"


def as_db_user(cfg: StackConfig, argv: Sequence[str]) -> list[str]:
    """argv run as the cluster's OS user (``runuser`` when we are root)."""
    if os.geteuid() == 0 and cfg.postgres.os_user != "root":
        return ["runuser", "-u", cfg.postgres.os_user, "--", "env", "-C", "/", *argv]
    return list(argv)


def _run(cfg: StackConfig, argv: Sequence[str], stdin: str | None = None) -> str:
    proc = subprocess.run(as_db_user(cfg, argv), input=stdin, capture_output=True, text=True)
    if proc.returncode:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PgvaultError(f"{Path(argv[0]).name} failed: {tail[0]}", "see the sandbox's host/log", ExitCode.FAILED)
    return proc.stdout


def _owned_dir(cfg: StackConfig, path: str) -> None:
    Path(path).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        subprocess.run(["chown", f"{cfg.postgres.os_user}:", path], check=True)


def running(cfg: StackConfig) -> bool:
    """True when the cluster answers ``pg_isready``."""
    pg = cfg.postgres
    argv = [f"{pg.bin_dir}/pg_isready", "-q", "-h", pg.socket_dir, "-p", str(pg.port)]
    return subprocess.run(argv, capture_output=True).returncode == 0


def initialise(cfg: StackConfig) -> bool:
    """``initdb`` the cluster with checksums unless it exists; True if created now."""
    pg = cfg.postgres
    if Path(pg.data_dir, "PG_VERSION").is_file():
        return False
    for folder in (str(Path(pg.data_dir).parent), pg.socket_dir, str(Path(pg.log_file).parent)):
        _owned_dir(cfg, folder)
    _run(cfg, [f"{pg.bin_dir}/initdb", "-D", pg.data_dir, "--data-checksums", "-E", "UTF8", "--locale=C.UTF-8",
               "--auth-local=peer", "--auth-host=scram-sha-256"])
    conf_d = Path(pg.data_dir, "conf.d")
    _run(cfg, ["mkdir", "-p", str(conf_d)])
    settings = "\n".join([
        "",
        "# pgvault sandbox: a DB host stand-in on loopback only",
        f"port = {pg.port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{pg.socket_dir}'",
        "shared_buffers = 128MB",
        "max_wal_size = 1GB",
        "log_line_prefix = '%m [%p] '",
        "# like Debian's layout: settings of other tools live in conf.d",
        "include_dir = 'conf.d'",
        "",
    ])
    _run(cfg, ["sh", "-c", 'cat >> "$1"', "sh", f"{pg.data_dir}/postgresql.conf"], stdin=settings)
    return True


def start(cfg: StackConfig) -> bool:
    """Start the cluster unless it runs; True if started now."""
    if running(cfg):
        return False
    pg = cfg.postgres
    _run(cfg, [f"{pg.bin_dir}/pg_ctl", "-D", pg.data_dir, "-l", pg.log_file, "-w", "-t", "120", "start"])
    return True


def stop(cfg: StackConfig) -> None:
    """Stop the cluster (fast shutdown) if it runs."""
    pg = cfg.postgres
    if Path(pg.data_dir, "postmaster.pid").exists():
        subprocess.run(as_db_user(cfg, [f"{pg.bin_dir}/pg_ctl", "-D", pg.data_dir, "-m", "fast", "-w", "stop"]),
                       capture_output=True)


def ensure_app_database(cfg: StackConfig, password: str) -> None:
    """Create the application role and the stack's databases, owned by it."""
    role, pw = sql_identifier(APP_ROLE), sql_literal(password)
    statements = [
        "SELECT set_config('password_encryption', 'scram-sha-256', false);",
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {sql_literal(APP_ROLE)}) "
        f"THEN CREATE ROLE {role} LOGIN; END IF; END $$;",
        f"ALTER ROLE {role} PASSWORD {pw};",
    ]
    _run(cfg, psql_argv(cfg), stdin="\n".join(statements))
    for db in cfg.postgres.databases:
        exists = _run(cfg, psql_argv(cfg), stdin=f"SELECT 1 FROM pg_database WHERE datname = {sql_literal(db)};")
        if not exists.strip():
            _run(cfg, psql_argv(cfg), stdin=f"CREATE DATABASE {sql_identifier(db)} OWNER {role};")
