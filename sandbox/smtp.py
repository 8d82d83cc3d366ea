"""An SMTP catcher for the sandbox: aiosmtpd on 127.0.0.1, every message kept in a Maildir.

It stands in for the operator's mail relay, so failure alerts and the daily
report are really sent by SMTP and can be read back (``mailbox.Maildir``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sandbox.processes import port_open, require_free_port, spawn, wait_started


def start(folder: Path, port: int) -> dict:
    """Start aiosmtpd on 127.0.0.1:``port`` delivering to ``folder/Maildir``; return ``{"pid"}``."""
    require_free_port(port, "the sandbox SMTP catcher", "pgvault:alerts.smtp.port")
    maildir = folder / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    log = folder / "smtp.log"
    pid = spawn([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                 "-c", "aiosmtpd.handlers.Mailbox", str(maildir)], log)
    wait_started(lambda: port_open(port), "the SMTP catcher", log)
    return {"pid": pid}


def maildir(folder: Path) -> Path:
    """Where the catcher keeps messages."""
    return folder / "Maildir"
