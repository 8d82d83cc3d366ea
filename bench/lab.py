"""EDGE: the benchmark's private sandbox and the commands it times.

A :class:`Lab` owns one sandbox stack (``stackfile.create``) on free loopback
ports with the production defaults for RPO and pgBackRest, and runs what the
sections measure: ``fab`` tasks as an operator would, pgBackRest with
per-run overrides, shell pipelines as the PostgreSQL OS user, SQL.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
import yaml

from pgvault.core import pgbackrest
from pgvault.core.pgbackrest import StanzaInfo, parse_info
from pgvault.core.postgres import psql_argv
from pgvault.edges.stackfile import load_stack
from pgvault.edges.waiting import within
from sandbox import lifecycle, stackfile
from sandbox.cluster import as_db_user
from sandbox.processes import State

ROOT = Path(__file__).resolve().parents[1]
FAB = str(Path(sys.executable).parent / "fab")
STACK = "bench"


class BenchError(RuntimeError):
    """A command the benchmark relies on failed; the run stops with its output's tail."""


def say(message: str) -> None:
    """Progress on stderr, so that a long run shows where it is."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Lab:
    """A private sandbox for one benchmark run, and the means to drive it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.env = dict(os.environ, PGVAULT_STACK_DIR=str(folder), PGVAULT_STACK=STACK)
        os.environ.update(PGVAULT_STACK_DIR=str(folder), PGVAULT_STACK=STACK)
        self.cfg = load_stack(STACK)
        self.work = folder / "bench"

    @classmethod
    def create(cls, overrides: dict[tuple[str, str], object] | None = None, roles: tuple[str, ...] = (),
               s3_in_memory: bool = False) -> Lab:
        """A new sandbox stack with the production defaults (RPO 300 s, io-timeout 60 s); not started.

        :param overrides: ``{(section, key): value}`` written into the stack file (``bench run --stack-set``)
        :param roles: extra hosts (``("standby",)``), as :func:`sandbox.stackfile.create` makes them
        :param s3_in_memory: keep the S3 server's files in /dev/shm, off the database's disk (a real bucket is
            another machine's disk; the section that compares where backups read from needs that)
        """
        folder = stackfile.create(STACK, prefix="pgv-bench-", bucket="pgvault-bench", rpo_seconds=300,
                                  io_timeout=60, roles=roles)
        if overrides:
            path = folder / f"Pulumi.{STACK}.yaml"
            doc = yaml.safe_load(path.read_text())
            for (section, key), value in overrides.items():
                doc["config"].setdefault(f"pgvault:{section}", {})[key] = value
            path.write_text(yaml.safe_dump(doc, sort_keys=True))
        lab = cls(folder)  # the stack file is valid before anything is made outside the folder
        if s3_in_memory:
            (folder / "s3").symlink_to(tempfile.mkdtemp(prefix="pgv-bench-s3-", dir="/dev/shm"))
        return lab

    def up(self) -> None:
        """Start every sandbox service and a work folder the PostgreSQL OS user may write."""
        lifecycle.up(self.cfg)
        self.work.mkdir(exist_ok=True)
        subprocess.run(as_db_user(self.cfg, ["true"]), check=True)
        if os.geteuid() == 0:
            os.chown(self.work, *_ids(self.cfg.postgres.os_user))

    @property
    def s3_elsewhere(self) -> Path | None:
        """Where the S3 server's files are when they are kept outside the sandbox folder (in memory), else None."""
        s3 = self.folder / "s3"
        return s3.resolve() if s3.is_symlink() else None

    def down(self) -> None:
        """Stop everything and remove the sandbox folder (and the S3 server's files where they were elsewhere)."""
        elsewhere = self.s3_elsewhere
        lifecycle.down(self.cfg)
        if elsewhere is not None:
            shutil.rmtree(elsewhere, ignore_errors=True)

    # ------------------------------------------------------------ commands

    def fab(self, *args: str, timeout: int = 7200) -> str:
        """Run ``fab <args>`` against the lab's stack; return stdout or raise :class:`BenchError`."""
        done = subprocess.run([FAB, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise BenchError(f"fab {' '.join(args)} failed ({done.returncode}): {_tail(done.stdout + done.stderr)}")
        return done.stdout

    def run(self, argv: Sequence[str], stdin: str | None = None) -> str:
        """Run ``argv`` as the PostgreSQL OS user; return stdout or raise :class:`BenchError`."""
        done = subprocess.run(as_db_user(self.cfg, argv), input=stdin, capture_output=True, text=True)
        if done.returncode:
            raise BenchError(f"{argv[0]} failed ({done.returncode}): {_tail(done.stderr or done.stdout)}")
        return done.stdout

    def shell(self, script: str, *args: str) -> str:
        """Run a bash pipeline (``pipefail`` on) as the PostgreSQL OS user; ``$1..`` are ``args``."""
        return self.run(["bash", "-o", "pipefail", "-c", script, "bench", *args])

    def popen(self, argv: Sequence[str], **kwargs) -> subprocess.Popen:
        """Start ``argv`` as the PostgreSQL OS user without waiting."""
        return subprocess.Popen(as_db_user(self.cfg, argv), **kwargs)

    def psql(self, text: str, database: str = "crm") -> str:
        """Run SQL as the superuser over the Unix socket; return the unaligned output."""
        return self.run(psql_argv(self.cfg, database), stdin=text).strip()

    def connect(self) -> psycopg.Connection:
        """A connection of the application role (what pollers use)."""
        return psycopg.connect(lifecycle.dsn(self.cfg), autocommit=True)

    def pgbackrest(self, name: str, *options: str, priority: Sequence[str] = ()) -> str:
        """Run a pgBackRest command with per-run ``options`` overriding pgbackrest.conf."""
        return self.run([*priority, *pgbackrest.command(self.cfg, name, *options)])

    def info(self) -> StanzaInfo:
        """``pgbackrest info`` of the lab's stanza."""
        return parse_info(self.pgbackrest("info", "--output=json"), self.cfg.pgbackrest.stanza)

    def s3(self):
        """An S3 client with the sandbox's admin keys: the lab keeps its baselines outside pgvault's prefixes."""
        return lifecycle.admin_client(self.cfg)

    # ------------------------------------------------------------ facts

    def cluster_bytes(self) -> int:
        """Bytes of every database in the cluster (what a backup has to protect)."""
        return int(self.psql("SELECT sum(pg_database_size(datname)) FROM pg_database;"))

    def wal_lsn(self) -> str:
        """The current WAL insert position."""
        return self.psql("SELECT pg_current_wal_lsn();")

    def wal_bytes_since(self, lsn: str) -> int:
        """WAL bytes written since ``lsn``."""
        return int(float(self.psql(f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{lsn}');")))

    def wait_archived(self, timeout: float = 1800) -> float:
        """Switch WAL and wait until every segment written so far is in the bucket; return the seconds waited."""
        segment = self.psql("SELECT pg_walfile_name(pg_switch_wal());")

        def archived() -> bool:
            return self.psql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver;") >= segment

        with stopwatch() as elapsed:
            if not within(timeout, archived, interval=0.5):
                raise BenchError(f"WAL segment {segment} was not archived within {timeout:.0f} s")
        return elapsed[0]

    def checkpoint(self) -> None:
        """Force a checkpoint so data files hold every change (incremental backups read files)."""
        self.psql("CHECKPOINT;")

    def s3_cpu_seconds(self) -> float:
        """CPU seconds the S3 server has used so far: on this one machine it competes with the database,
        which a remote S3 endpoint does not."""
        pid = State(self.folder).load()["s3"]["pid"]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def data_dir(self) -> str:
        """The production data directory."""
        return self.cfg.postgres.data_dir


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as elapsed:`` leaves the wall-clock seconds in ``elapsed[0]``."""
    elapsed = [0.0]
    start = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.perf_counter() - start


def _ids(user: str) -> tuple[int, int]:
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def _tail(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return " | ".join(lines[-3:])[:600] if lines else "no output"
