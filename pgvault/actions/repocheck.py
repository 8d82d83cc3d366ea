"""Check every backup set against the repository's listing (``pgvault.core.repocheck``), on the DB host.

pgBackRest lists and reads the repository (``repo-ls``, ``repo-get``), with
the stanza's own settings and keys; decrypted files are piped through a
filter on the host so that ``cipher-pass`` lines, and backup.info's content,
never leave it.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from pgvault.actions import backup, retention, walproof
from pgvault.core import pgbackrest, repocheck
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.schema import StackConfig
from pgvault.core.walproof import summary
from pgvault.edges import remote
from pgvault.edges.execute import Conn

#: shell code that prints a repository file decrypted, failing (exit 3) when pgBackRest cannot read it
_READ = 'out=$({get}) || exit 3; printf "%s\\n" "$out" | {filter}'


def _backup_path(cfg: StackConfig, name: str = "") -> str:
    return f"backup/{cfg.pgbackrest.stanza}" + (f"/{name}" if name else "")


def _read(conn: Conn, cfg: StackConfig, name: str, filter_argv: list[str]) -> str | None:
    """A repository file below ``backup/<stanza>/``, decrypted and piped through ``filter_argv``; None if unreadable."""
    get = shlex.join(pgbackrest.command(cfg, "repo-get", params=(_backup_path(cfg, name),)))
    script = _READ.format(get=get, filter=shlex.join(filter_argv))
    result = remote.run(conn, ["sh", "-c", script], user=cfg.postgres.os_user, warn=True)
    return result.stdout if result.ok else None


def problems(conn: Conn, cfg: StackConfig) -> list[str]:
    """What the repository lacks: backup.info or its copy, a listed set's manifest, a file a manifest names.

    :raises PgvaultError: when pgBackRest cannot list the repository at all, or both backup.info files are gone
    """
    files = backup.repo_listing(conn, cfg, _backup_path(cfg), repocheck.listed_files)
    digests = {name: _read(conn, cfg, name, ["sha256sum"]) for name in (repocheck.INFO, repocheck.INFO_COPY)
               if name in files}
    found = repocheck.info_problems(files, digests)
    if found and not ({repocheck.INFO, repocheck.INFO_COPY} & files):
        # without either, pgBackRest cannot say which sets there are, and no backup or expire can run
        raise PgvaultError(found[0], "bring back their previous versions before any backup or expire runs: "
                           "fab repo.history, then fab repo.undo --key <key>", ExitCode.VERIFY)
    labels = [s.label for s in backup.info(conn, cfg).backups]
    manifests = {label: _read(conn, cfg, f"{label}/{repocheck.MANIFEST}", ["grep", "-v", "^cipher-pass="])
                 for label in labels if f"{label}/{repocheck.MANIFEST}" in files}
    return found + repocheck.set_problems(labels, files, manifests)


def daily(conn: Conn, cfg: StackConfig, say: Callable[[str], None]) -> list[str]:
    """The daily check: every set against the listing, and the WAL proof of what arrived since the last one."""
    found = problems(conn, cfg)
    proof = walproof.prove(conn, cfg, say)
    return found + ([proof.broken.describe()] if proof.broken else [])


def verify(conn: Conn, cfg: StackConfig, say: Callable[[str], None], all_wal: bool = False) -> tuple[bool, list[str]]:
    """The whole repository check: every set against the listing, the WAL proof (all kept WAL with ``all_wal``),
    then ``pgbackrest verify`` (every file read).

    :returns: (clean, problem lines)
    """
    missing = problems(conn, cfg)
    proof = walproof.prove(conn, cfg, say, again=all_wal)
    if proof.broken:
        missing.append(proof.broken.describe())
    elif proof.newest:
        say(f"  {summary(proof)}")
    clean, found = backup.verify(conn, cfg, *retention.wal_kept_from(conn, cfg))
    return clean and not missing, missing + found
