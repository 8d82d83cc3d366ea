"""Typed exit codes and the one error type every pgvault task raises.

Cron, alerting and CI read exit codes, so they are part of pgvault's interface
(like Patroni's ``ExitCode`` and Barman's client exits): each failure class has
its own number, documented in the README, and every error carries a one-line
message plus the fix.  ``ops.tasks.common`` turns a :class:`PgvaultError` into a
single stderr line and ``invoke.Exit(code)``.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable


class ExitCode(enum.IntEnum):
    """Process exit codes of every ``fab`` task and of ``pgvault-job``."""

    OK = 0
    #: the operation ran and failed (a backup, a restore, a dump)
    FAILED = 1
    #: bad command-line input (a target, a name, a flag); nothing was changed
    USAGE = 2
    #: the stack file is invalid; nothing was changed
    CONFIG = 3
    #: ``host.check`` found the host different from the stack
    DRIFT = 4
    #: a host, the S3 endpoint or a database could not be reached
    UNREACHABLE = 5
    #: the same job is already running (the lock is held); not a failure of the job
    LOCKED = 6
    #: a verification found a problem (verify, drill checks, checksums)
    VERIFY = 7
    #: a required secret is missing or unreadable
    SECRET = 8
    #: refused to do something destructive without ``--force``
    REFUSED = 9


class PgvaultError(Exception):
    """An error with a one-line message, the fix, and an exit code.

    :param message: what went wrong, one line, no secret values
    :param fix: what the operator should do about it
    :param code: the process exit code for this failure class
    """

    def __init__(self, message: str, fix: str = "", code: ExitCode = ExitCode.FAILED):
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.code = code

    def one_line(self) -> str:
        """Return ``message; fix`` on a single line, as printed to stderr."""
        text = self.message if not self.fix else f"{self.message}; {self.fix}"
        return " ".join(text.split())


class ConfigError(PgvaultError):
    """The stack file is invalid: names the file, the key and the fix."""

    def __init__(self, message: str, fix: str = ""):
        super().__init__(message, fix, ExitCode.CONFIG)


class UsageError(PgvaultError):
    """A command-line value is invalid; raised before anything changes."""

    def __init__(self, message: str, fix: str = ""):
        super().__init__(message, fix, ExitCode.USAGE)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"did you mean <closest>? "`` for a mistyped ``word`` (difflib), or ``""`` when no choice is close."""
    found = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean {found[0]}? " if found else ""
