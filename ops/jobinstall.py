"""Install ``pgvault-job`` on the DB host: the ``pgvault`` package's wheel in a virtualenv.

Cron runs every scheduled job through ``pgvault-job``, so the host needs
pgvault itself.  ``host.setup`` builds the wheel of this checkout's
``pgvault`` package (hatchling builds it with nothing else: no Fabric tasks,
no sandbox, no demo, no Pulumi program), uploads it, and installs it into
``jobs.install_dir`` with only the core dependencies, as the PostgreSQL OS
user.  The build id (version plus a digest of exactly the package's files)
says whether the host is current.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from pgvault.core import cron
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.schema import StackConfig
from pgvault.edges import remote
from pgvault.edges.build import build_id
from pgvault.edges.execute import Conn

PROJECT = Path(__file__).resolve().parents[1]


def installed_build(conn: Conn, cfg: StackConfig) -> str | None:
    """The build of ``pgvault-job`` on the host, or ``None`` when it is not installed."""
    result = remote.run(conn, [cron.job_binary(cfg), "--version"], user=cfg.postgres.os_user, warn=True)
    return result.stdout.strip().removeprefix("pgvault-job ") if result.ok else None


def build_wheel(folder: Path) -> Path:
    """Build a wheel of this checkout into ``folder``.

    :raises PgvaultError: when pgvault does not run from a checkout
    """
    if not (PROJECT / "pyproject.toml").is_file():
        raise PgvaultError("cannot build pgvault for the host: this pgvault is not a checkout",
                           "run fab from a pgvault checkout", ExitCode.FAILED)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(folder), str(PROJECT)], capture_output=True, text=True)
    wheels = sorted(folder.glob("pgvault-*.whl"))
    if done.returncode or not wheels:
        raise PgvaultError(f"building the pgvault wheel failed: {done.stderr.strip()[-200:]}",
                           "check the checkout builds (pip wheel .)", ExitCode.FAILED)
    return wheels[-1]


def install(conn: Conn, cfg: StackConfig, say) -> None:
    """Create the host's virtualenv if needed and install this build of pgvault into it."""
    owner, venv = cfg.postgres.os_user, cfg.jobs.install_dir
    if not remote.run(conn, [cfg.jobs.python, "-c", "import ensurepip, venv"], warn=True).ok:
        say("  installing python3-venv on the host")
        remote.run(conn, remote.as_root(conn) + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install",
                                                 "-y", "-q", "python3-venv"])
    with tempfile.TemporaryDirectory(prefix="pgvault-wheel-") as folder:
        wheel = build_wheel(Path(folder))
        say(f"  installing pgvault-job {build_id()} into {venv}")
        if not remote.run(conn, ["test", "-x", f"{venv}/bin/pip"], warn=True).ok:
            remote.run(conn, [cfg.jobs.python, "-m", "venv", venv], user=owner)
        staging = remote.run(conn, ["mktemp", "-d", "/tmp/pgvault-wheel.XXXXXXXX"], user=owner).stdout.strip()
        try:
            staged = f"{staging}/{wheel.name}"
            with open(wheel, "rb") as source:
                remote.install_stream(conn, source, staged, owner, 0o644)
            pip = [f"{venv}/bin/pip", "install", "-q", "--disable-pip-version-check"]
            remote.run(conn, pip + ["--force-reinstall", "--no-deps", staged], user=owner, timeout=600)
            remote.run(conn, pip + [staged], user=owner, timeout=900)
        finally:
            remote.run(conn, ["rm", "-rf", "--", staging], user=owner, warn=True)
