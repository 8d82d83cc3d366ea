"""OpenSSH ``sshd`` on 127.0.0.1: the door to the sandbox's stand-in DB host.

Fabric reaches the sandbox host exactly as it reaches a production host: over
SSH with a key.  This sshd accepts only the generated key, only for the
invoking user, only on loopback.
"""

from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path

from pgvault.core.errors import ExitCode, PgvaultError
from sandbox.processes import port_open, read_pidfile, require_free_port, wait_started

SSHD = "/usr/sbin/sshd"


def config_text(folder: Path, port: int, user: str, db_user: str | None = None,
                db_user_keys: str | None = None) -> str:
    """The ``sshd_config`` of the sandbox.

    With ``db_user`` (a host with a peer), the PostgreSQL OS user may log in too, with the keys in
    ``db_user_keys`` only (the file ``host.setup`` writes inside the sandbox folder, never ~postgres/.ssh):
    that is pgBackRest's SSH between the primary and the standby.
    """
    lines = [
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {folder / 'host_ed25519'}",
        f"PidFile {folder / 'sshd.pid'}",
        f"AuthorizedKeysFile {folder / 'authorized_keys'}",
        f"AllowUsers {user}" + (f" {db_user}" if db_user and db_user != user else ""),
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        # the PostgreSQL OS user's password is locked ("!"): without PAM, sshd refuses a locked account even for
        # a key; with PAM it judges the key alone (the account stays locked for passwords)
        f"UsePAM {'yes' if db_user and db_user != user else 'no'}",
        "StrictModes no",
        "PrintMotd no",
        "X11Forwarding no",
        "AllowTcpForwarding no",
        "Subsystem sftp internal-sftp",
        "LogLevel VERBOSE",
    ]
    if db_user and db_user_keys and db_user != user:
        lines += [f"Match User {db_user}", f"    AuthorizedKeysFile {db_user_keys}"]
    return "\n".join(lines) + "\n"


def _keygen(path: Path, comment: str) -> None:
    if not path.is_file():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
            check=True, stdin=subprocess.DEVNULL,
        )


def start(folder: Path, port: int, identity_file: Path, db_user: str | None = None,
          db_user_keys: str | None = None) -> dict:
    """Generate keys and config once, start sshd, wait for its port; return ``{"pid"}``.

    ``db_user`` and ``db_user_keys``: see :func:`config_text`.
    """
    if not Path(SSHD).is_file():
        raise PgvaultError("OpenSSH server is not installed", "run make deps (installs openssh-server)",
                           ExitCode.FAILED)
    require_free_port(port, "the sandbox sshd", "pgvault:hosts[0].ssh_port")
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    _keygen(folder / "host_ed25519", "pgvault-sandbox-host")
    identity_file.parent.mkdir(parents=True, exist_ok=True)
    _keygen(identity_file, "pgvault-sandbox-operator")
    (folder / "authorized_keys").write_text(Path(f"{identity_file}.pub").read_text())
    config = folder / "sshd_config"
    config.write_text(config_text(folder, port, getpass.getuser(), db_user, db_user_keys))
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = folder / "sshd.log"
    subprocess.run([SSHD, "-t", "-f", str(config)], check=True, stdin=subprocess.DEVNULL)
    subprocess.run([SSHD, "-f", str(config), "-E", str(log)], check=True, stdin=subprocess.DEVNULL)
    wait_started(lambda: port_open(port), "sshd", log)
    return {"pid": read_pidfile(folder / "sshd.pid")}
