"""pgBackRest, as pure data: its configuration, its command lines, its JSON.

pgBackRest does the backups, archiving, verification and restores; pgvault
only configures and drives it.  This module holds everything about it that
needs no host:

* :func:`conf_sections` - the stack as pgBackRest options, sorted, each with
  a link to its upstream documentation (Crunchy PGO renders its
  ``pgbackrest.conf`` the same way);
* :func:`command` - argv builders, so a task, a cron job and a runbook spell a
  command identically;
* :func:`parse_info` - ``pgbackrest info --output=json`` into typed objects;
* :func:`summarise_error` - pgBackRest's numbered errors as one line with a hint.

Pinned behaviour (Debian 12 ships 2.45): block incremental is beta there and
stays off (from 2.52 on, ``repo1-block`` is set: ``pgvault.core.features``);
there is no ``verify --set``; the S3 endpoint is always TLS.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime

from pgvault.core import roles
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.features import UNKNOWN, Features
from pgvault.core.schema import StackConfig
from pgvault.core.secrets import Secret
from pgvault.core.standby import ssh_command

DOC = "https://pgbackrest.org/configuration.html"

#: option -> anchor in pgBackRest's configuration reference
_DOC_ANCHORS = {
    "archive-async": "section-archive/option-archive-async",
    "compress-level": "section-general/option-compress-level",
    "compress-type": "section-general/option-compress-type",
    "lock-path": "section-general/option-lock-path",
    "log-level-file": "section-log/option-log-level-file",
    "log-path": "section-log/option-log-path",
    "process-max": "section-general/option-process-max",
    "spool-path": "section-general/option-spool-path",
    "start-fast": "section-backup/option-start-fast",
    "expire-auto": "section-backup/option-expire-auto",
    "io-timeout": "section-general/option-io-timeout",
    "repo1-block": "section-repository/option-repo-block",
    "repo1-bundle": "section-repository/option-repo-bundle",
    "repo1-cipher-type": "section-repository/option-repo-cipher-type",
    "repo1-path": "section-repository/option-repo-path",
    "repo1-retention-full": "section-repository/option-repo-retention-full",
    "repo1-retention-full-type": "section-repository/option-repo-retention-full-type",
    "repo1-s3-bucket": "section-repository/option-repo-s3-bucket",
    "repo1-s3-endpoint": "section-repository/option-repo-s3-endpoint",
    "repo1-s3-key-type": "section-repository/option-repo-s3-key-type",
    "repo1-s3-region": "section-repository/option-repo-s3-region",
    "repo1-s3-uri-style": "section-repository/option-repo-s3-uri-style",
    "repo1-storage-ca-file": "section-repository/option-repo-storage-ca-file",
    "repo1-storage-port": "section-repository/option-repo-storage-port",
    "repo1-storage-verify-tls": "section-repository/option-repo-storage-verify-tls",
    "repo1-type": "section-repository/option-repo-type",
    "pg1-path": "section-stanza/option-pg-path",
    "pg1-port": "section-stanza/option-pg-port",
    "pg1-socket-path": "section-stanza/option-pg-socket-path",
    "pg1-user": "section-stanza/option-pg-user",
    "backup-standby": "section-backup/option-backup-standby",
    "cmd-ssh": "section-general/option-cmd-ssh",
    "pg2-host": "section-stanza/option-pg-host",
    "pg2-host-config-path": "section-stanza/option-pg-host-config-path",
    "pg2-host-port": "section-stanza/option-pg-host-port",
    "pg2-host-user": "section-stanza/option-pg-host-user",
    "pg2-path": "section-stanza/option-pg-path",
    "pg2-port": "section-stanza/option-pg-port",
    "pg2-socket-path": "section-stanza/option-pg-socket-path",
    "pg2-user": "section-stanza/option-pg-user",
}

#: the largest full-backup count pgBackRest accepts: retention is decided by
#: pgvault's selector (``backup.expire``), never by pgBackRest's count, and
#: ``expire-auto=n`` keeps pgBackRest from expiring anything after a backup.
RETENTION_FULL_MAX = 9999999


@dataclass(frozen=True)
class Option:
    """One ``key=value`` line of ``pgbackrest.conf`` with its doc link."""

    key: str
    value: str

    @property
    def doc(self) -> str:
        """Link to the option's upstream documentation."""
        return f"{DOC}#{_DOC_ANCHORS[self.key]}"


def _yn(flag: bool) -> str:
    return "y" if flag else "n"


def conf_sections(cfg: StackConfig, features: Features = UNKNOWN) -> list[tuple[str, list[Option]]]:
    """Return ``pgbackrest.conf`` as ``[(section, options)]``, options sorted.

    Secrets are not here: they go to :func:`secret_sections`, a separate 0600
    file under ``conf.d`` so that this one can be shown, diffed and tested.

    :param features: the host's pgBackRest (block incremental from 2.52 on, bundled: ``repo1-block`` needs
        ``repo1-bundle``, which pgvault always sets)
    """
    repo, pgb, pg = cfg.repository, cfg.pgbackrest, cfg.postgres
    glob = {
        "repo1-type": "s3",
        "repo1-path": repo.path,
        "repo1-s3-bucket": repo.bucket,
        "repo1-s3-endpoint": repo.endpoint_host,
        "repo1-storage-port": str(repo.endpoint_port),
        "repo1-s3-region": repo.region,
        "repo1-s3-uri-style": repo.uri_style,
        "repo1-s3-key-type": "auto" if repo.credentials == "instance-role" else "shared",
        "repo1-storage-verify-tls": _yn(repo.verify_tls),
        "repo1-cipher-type": "aes-256-cbc",
        "repo1-bundle": "y",
        "repo1-retention-full-type": "count",
        "repo1-retention-full": str(RETENTION_FULL_MAX),
        "compress-type": pgb.compress_type,
        "compress-level": str(pgb.compress_level),
        "process-max": str(pgb.process_max),
        "io-timeout": str(pgb.io_timeout),
        "start-fast": "y",
        "expire-auto": "n",
        "archive-async": _yn(pgb.archive_async),
        "spool-path": pgb.spool_path,
        "log-path": pgb.log_path,
        "lock-path": pgb.lock_path,
        "log-level-file": "detail",
    }
    if repo.ca_file:
        glob["repo1-storage-ca-file"] = repo.ca_file
    if features.block_incremental:
        glob["repo1-block"] = "y"
    stanza = {
        "pg1-path": pg.data_dir,
        "pg1-port": str(pg.port),
        "pg1-socket-path": pg.socket_dir,
        "pg1-user": pg.os_user,
    }
    standby = backup_standby(cfg)
    if standby is not None:
        glob |= {"backup-standby": "y", "cmd-ssh": ssh_command(cfg)}
        stanza |= standby_options(cfg.on(standby))
    return [
        ("global", [Option(k, v) for k, v in sorted(glob.items())]),
        ("global:backup", [Option("process-max", str(pgb.backup_process_max))]),
        (pgb.stanza, [Option(k, v) for k, v in sorted(stanza.items())]),
    ]


def backup_standby(cfg: StackConfig) -> str | None:
    """The standby host the primary's backups read from (``cfg`` as the primary sees it), else ``None``."""
    standby = cfg.with_role("standby")
    return standby.name if standby is not None and cfg.hosts[0].role == "primary" else None


def standby_options(standby: StackConfig) -> dict[str, str]:
    """The ``pg2-*`` options naming the standby (``standby``: the stack as the standby sees it).

    pgBackRest reaches it over SSH as its PostgreSQL OS user and runs ``pgbackrest`` there with the standby's
    own configuration; in 2.45 a backup with ``backup-standby=y`` needs both hosts up
    (``pgvault.actions.backup`` falls back to the primary alone when the standby is down).
    """
    host, pg = standby.hosts[0], standby.postgres
    return {
        "pg2-host": host.address,
        "pg2-host-port": str(host.ssh_port),
        "pg2-host-user": pg.os_user,
        "pg2-host-config-path": standby.pgbackrest.config_path,
        "pg2-path": pg.data_dir,
        "pg2-port": str(pg.port),
        "pg2-socket-path": pg.socket_dir,
        "pg2-user": pg.os_user,
    }


def primary_only(cfg: StackConfig, name: str) -> list[str]:
    """Options that leave the standby out of command ``name`` (``stanza-create`` and ``check`` in
    ``host.setup``: the stanza is the primary's, and the standby's own setup may not have run yet); none
    without a standby.  ``backup-standby`` is valid for ``check`` and ``backup`` only."""
    if backup_standby(cfg) is None:
        return []
    resets = [f"--reset-{key}" for key in sorted(standby_options(cfg.on(cfg.with_role("standby").name)))]
    return (["--no-backup-standby"] if name in ("check", "backup") else []) + resets


#: what pgBackRest 2.45 says when a backup with ``backup-standby=y`` cannot use the standby (PostgreSQL down, or
#: SSH refused): ``WARN: unable to check pg2: ...`` then ``ERROR: [056]: unable to find standby cluster``
_STANDBY_UNAVAILABLE = re.compile(r"\b(WARN|ERROR):.*(unable to check pg\d|unable to find standby)", re.IGNORECASE)


def standby_unavailable(output: str) -> bool:
    """Whether a failed backup's output says the standby could not be used (then back up from the primary).

    Only pgBackRest's warnings and errors count: the ``command begin`` line it echoes names ``pg2`` every time.
    """
    return any(_STANDBY_UNAVAILABLE.search(line) for line in output.splitlines())


def secret_sections(secrets: dict[str, Secret]) -> list[tuple[str, list[tuple[str, Secret]]]]:
    """Return the secrets file's ``[global]`` section, options sorted."""
    return [("global", sorted(secrets.items()))]


def config_file(cfg: StackConfig) -> str:
    """Path of the main ``pgbackrest.conf`` on the host."""
    return f"{cfg.pgbackrest.config_path}/pgbackrest.conf"


def restore_config_path(cfg: StackConfig) -> str:
    """``--config-path`` of the read-only configuration restores and drills use."""
    return f"{cfg.pgbackrest.config_path}/restore"


def stop_files(cfg: StackConfig) -> list[str]:
    """The files whose presence means pgBackRest is stopped on a host (``pgbackrest stop``: the fence): the
    stanza's, and the global one a ``stop`` without ``--stanza`` leaves (2.45: ``<lock-path>/<stanza>.stop``,
    ``<lock-path>/all.stop``)."""
    return [f"{cfg.pgbackrest.lock_path}/{cfg.pgbackrest.stanza}.stop", f"{cfg.pgbackrest.lock_path}/all.stop"]


def command(cfg: StackConfig, name: str, *options: str, params: tuple[str, ...] = (),
            config_path: str | None = None) -> list[str]:
    """Build the argv of a pgBackRest command for this stack.

    :param name: pgBackRest command (``backup``, ``info``, ``restore``, ...)
    :param options: further ``--key=value`` options, in order
    :param params: positional parameters after the command (``%p`` for archive-push)
    :param config_path: another configuration (the read-only one) instead of the main one
    :returns: argv, to be shell-quoted by the caller (``shlex.join``); on a host without the backup keys
        (staging) the read-only configuration is the default (:func:`pgvault.core.roles.repository_config_path`)
    """
    return [
        "pgbackrest",
        f"--config-path={config_path or roles.repository_config_path(cfg)}",
        f"--stanza={cfg.pgbackrest.stanza}",
        *options,
        name,
        *params,
    ]


#: argv prefixes of ``pgvault:pgbackrest.backup_priority``
PRIORITIES = {
    "normal": (),
    "low": ("nice", "-n", "10", "ionice", "-c", "2", "-n", "7"),
}


def priority_prefix(priority: str) -> list[str]:
    """argv prefix that runs a backup at ``priority`` (``normal`` or ``low``)."""
    return list(PRIORITIES[priority])


def archive_command(cfg: StackConfig) -> str:
    """The ``archive_command`` PostgreSQL runs for each WAL segment."""
    return shlex.join(command(cfg, "archive-push", params=("%p",)))


# ---------------------------------------------------------------- info JSON


@dataclass(frozen=True)
class BackupSet:
    """One backup set as ``pgbackrest info`` reports it."""

    label: str
    type: str
    start: datetime
    stop: datetime
    size: int
    delta: int
    repo_size: int
    repo_delta: int
    wal_start: str | None
    wal_stop: str | None
    lsn_start: str | None
    lsn_stop: str | None
    prior: str | None
    references: tuple[str, ...]
    error: bool
    annotations: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict:
        """JSON-ready form used by ``backup.list --json`` and status documents."""
        return {
            "label": self.label,
            "type": self.type,
            "start": self.start.isoformat(),
            "stop": self.stop.isoformat(),
            "database_bytes": self.size,
            "repository_bytes": self.repo_size,
            "repository_delta_bytes": self.repo_delta,
            "wal_start": self.wal_start,
            "wal_stop": self.wal_stop,
            "lsn_start": self.lsn_start,
            "lsn_stop": self.lsn_stop,
            "prior": self.prior,
            "error": self.error,
            "annotations": dict(self.annotations),
        }


@dataclass(frozen=True)
class StanzaInfo:
    """A stanza as ``pgbackrest info`` reports it."""

    name: str
    status_code: int
    status_message: str
    backups: tuple[BackupSet, ...]
    archive_min: str | None
    archive_max: str | None
    #: the repository's own status message when it is not ok (the real reason behind "other")
    repo_message: str = ""

    @property
    def valid_backups(self) -> tuple[BackupSet, ...]:
        """Backups pgBackRest completed without page errors, oldest first."""
        return tuple(b for b in self.backups if not b.error)


def _ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_info(text: str, stanza: str) -> StanzaInfo:
    """Parse ``pgbackrest info --output=json`` for one stanza.

    :raises ValueError: when the text is not pgBackRest's JSON or lacks the stanza
    """
    data = json.loads(text, strict=False)  # a decryption error can quote raw bytes
    entry = next((s for s in data if s.get("name") == stanza), None)
    if entry is None:
        raise ValueError(f"stanza {stanza!r} not in pgbackrest info")
    backups = []
    for b in entry.get("backup", []):
        archive, lsn, info = b.get("archive") or {}, b.get("lsn") or {}, b.get("info") or {}
        repo = info.get("repository") or {}
        backups.append(
            BackupSet(
                label=b["label"],
                type=b["type"],
                start=_ts(b["timestamp"]["start"]),
                stop=_ts(b["timestamp"]["stop"]),
                size=int(info.get("size", 0)),
                delta=int(info.get("delta", 0)),
                repo_size=int(repo.get("size", 0)),
                repo_delta=int(repo.get("delta", 0)),
                wal_start=archive.get("start"),
                wal_stop=archive.get("stop"),
                lsn_start=lsn.get("start"),
                lsn_stop=lsn.get("stop"),
                prior=b.get("prior"),
                references=tuple(b.get("reference") or ()),
                error=bool(b.get("error", False)),
                annotations=tuple(sorted((b.get("annotation") or {}).items())),
            )
        )
    archives = entry.get("archive") or []
    mins = [a["min"] for a in archives if a.get("min")]
    maxs = [a["max"] for a in archives if a.get("max")]
    status = entry.get("status") or {}
    repo_problems = [r["status"].get("message", "") for r in entry.get("repo") or []
                     if (r.get("status") or {}).get("code", 0) != 0]
    return StanzaInfo(
        name=stanza,
        status_code=int(status.get("code", 99)),
        status_message=str(status.get("message", "")),
        backups=tuple(sorted(backups, key=lambda b: b.start)),
        archive_min=min(mins) if mins else None,
        archive_max=max(maxs) if maxs else None,
        repo_message=" ".join(" ".join(repo_problems).split())[:400],
    )


# ---------------------------------------------------------------- errors

#: pgBackRest error code -> what it usually means and what to do (src/build/error/error.yaml)
ERROR_HINTS = {
    26: "a file's checksum does not match: the repository is damaged; run fab backup.verify",
    28: "a repository file is invalid: it may be corrupt; run fab backup.verify",
    29: "a repository file has an unexpected format: wrong passphrase or a damaged file",
    31: "pgBackRest rejects an option; run fab host.setup to re-render its configuration",
    32: "pgBackRest rejects an option value; run fab host.setup to re-render its configuration",
    37: "a required pgBackRest option is missing; run fab host.setup",
    39: "the S3 endpoint refused the request or stopped answering: check the endpoint, the keys and the network",
    38: "PostgreSQL is running on the target directory; stop it or restore into a scratch cluster",
    40: "the target directory is not empty; choose an empty directory",
    41: "a file could not be opened: check ownership and modes on the host",
    42: "a repository file could not be read: the S3 endpoint stopped answering, or the file is damaged",
    44: "the database does not match the stanza's archive (system id or version); check the stanza name",
    45: "this WAL segment is already archived with different content; another cluster uses the stanza",
    49: "could not connect to a remote host; check SSH between hosts",
    50: "another pgBackRest process holds the lock (a backup already running?); wait for it",
    55: "a file is missing in the repository or on the host; run fab backup.verify",
    56: "pgBackRest could not connect to PostgreSQL; check that it runs and the socket path and port are right",
    58: "the database does not match the stanza; check pg1-path and the port",
    62: "the stanza is stopped; run `pgbackrest start`",
    73: "a path is missing; run fab host.setup",
    75: "the backup set is not valid for this target; choose another set (fab backup.list)",
    82: "WAL was not archived in time; check archive_command and the S3 endpoint (fab host.check)",
    87: "archive_mode is off; run fab host.setup",
    95: "decryption failed: the repository passphrase (PGVAULT_REPO_CIPHER_PASS) is wrong",
    101: "the S3 endpoint failed or is unreachable; check the endpoint, the credentials, TLS and the network",
    103: "no valid repository: the stanza may not exist yet (fab host.setup) or the bucket is unreachable",
    104: "pgBackRest reported errors; see the lines above",
    105: "the S3 endpoint refused the credentials; check the access keys or the instance role",
    106: "the host clock differs from the S3 server's; fix the clock (NTP)",
}

_ERROR_LINE = re.compile(r"ERROR: \[(\d{3})\]: (.*)")


def summarise_error(output: str) -> tuple[int | None, str]:
    """Return ``(code, one line)`` for the first pgBackRest error in ``output``.

    The line is pgBackRest's own message, shortened, followed by the hint for
    its code.  ``code`` is ``None`` when no numbered error is found.
    """
    lines = output.splitlines()
    for index, line in enumerate(lines):
        match = _ERROR_LINE.search(line)
        if match:
            cause = [x.strip() for x in lines[index + 1:index + 3] if x.startswith(" ") and x.strip()]
            code, text = int(match.group(1)), " ".join((match.group(2) + " " + " ".join(cause)).split())
            if len(text) > 200:
                text = text[:197] + "..."
            hint = ERROR_HINTS.get(code)
            return code, f"pgBackRest error [{code:03d}]: {text}" + (f" ({hint})" if hint else "")
    tail = [line.strip() for line in output.splitlines() if line.strip()]
    return None, (tail[-1][:200] if tail else "pgBackRest failed without output")


#: pgBackRest's error code for "another process holds the lock"
LOCK_HELD = 50
#: pgBackRest's error codes for a repository file that is damaged or gone (checksum, invalid, format, missing,
#: undecryptable: a wrong passphrase fails ``info`` before any restore starts)
REPOSITORY_DAMAGE = frozenset({26, 28, 29, 55, 95})


def failure(output: str, fix: str) -> PgvaultError:
    """The :class:`PgvaultError` for a failed pgBackRest command: its numbered error, a hint and ``fix``.

    A held lock (another backup running) exits ``LOCKED``, which cron and alerting do not treat as a failure.
    """
    code, line = summarise_error(output)
    return PgvaultError(line, fix, ExitCode.LOCKED if code == LOCK_HELD else ExitCode.FAILED)


_LOG_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} P\d+ +(\w+): (.*)$")


_WAL_FILE = re.compile(r"^(\d+-\d+)/[0-9A-F]{16}/([0-9A-F]{24})-[0-9a-f]{40}")
_BACKUP_FILE = re.compile(r"^(\d{8}-\d{6}F(?:_\d{8}-\d{6}[DI])?)/")


_BACKUP_RESULT = re.compile(r"^backup: (\S+), status: invalid, (.*)$")
_ARCHIVE_RESULT = re.compile(r"^archiveId: (\S+), (total WAL checked: \d+, total valid WAL: \d+)$")


def _affected(problem: str) -> str:
    """Say what a verify finding damages: a WAL segment, a backup set, or the WAL of an archive."""
    wal, backup = _WAL_FILE.match(problem), _BACKUP_FILE.match(problem)
    if wal:
        return f"WAL segment {wal.group(2)} (archive {wal.group(1)}) is damaged: {problem}"
    if backup:
        return f"backup {backup.group(1)} is damaged: {problem}"
    result = _BACKUP_RESULT.match(problem)
    if result:
        return f"backup {result.group(1)} is damaged ({result.group(2)}); restore another set"
    archive = _ARCHIVE_RESULT.match(problem)
    if archive:
        return f"WAL of archive {archive.group(1)} is damaged ({archive.group(2)})"
    return problem


def verify_problems(output: str) -> list[str]:
    """Problems that ``pgbackrest verify`` reported.

    pgBackRest 2.45 exits 0 even when it finds damage, so the output is read:
    each ``invalid result <file>: ...`` line, and the result block that
    follows ``status: error`` (which names the archive id or backup label and
    the counts of missing and invalid files).
    """
    problems: list[str] = []
    in_block = False
    for raw in output.splitlines():
        match = _LOG_LINE.match(raw)
        text = match.group(2) if match else raw.strip()
        if match:
            in_block = False
        if text.startswith("invalid result "):
            problems.append(_affected(" ".join(text.removeprefix("invalid result ").split())))
        elif text == "status: error":
            in_block = True
        elif in_block and text and not text.startswith("["):
            problems.append(_affected(" ".join(text.split())))
    return problems
