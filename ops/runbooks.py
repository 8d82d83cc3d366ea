"""Runbooks rendered from the live configuration, and the runnable blocks inside them.

Each runbook is a Jinja2 template in ``runbooks/templates/`` rendered with the
stack's real values (never secrets) into ``runbooks/<stack>/``, through the
one environment factory (``pgvault.core.render``).  Commands come from the
same builders the tasks use (``pgbackrest.command``, ``postgres.psql_argv``).  A block meant to be run carries its
metadata in the fence's info string, like pgBackRest's executed user guide::

    ```sh pgvault-run step=pitr-2 host=db user=postgres

``host=control`` runs where ``fab`` runs, ``host=db`` on the DB host as ``user``.
The line before each block says the same for people (:func:`where`: which
host, which user, the ``ssh`` and ``sudo`` that get there), and a block reads
its inputs only from variables it guards at its top (``: "${TABLE:?...}"``),
never from a default.  The tests extract these blocks (with markdown-it-py)
and run them in order against the sandbox, so a runbook whose commands stop
working fails CI.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from cron_descriptor import Options, get_description
from markdown_it import MarkdownIt

from pgvault.core import catalog, copyback, cron, pgbackrest, postgres, roles
from pgvault.core.bucket import drills_prefix
from pgvault.core.policy import (
    alarm_specs,
    archive_timeout_seconds,
    canary_interval_seconds,
    canary_lag_seconds,
    passphrase_parameter,
    topic_name,
)
from pgvault.core.render import environment
from pgvault.core.schema import HostConfig, StackConfig
from pgvault.core.scratch import scratch_for

#: the runbooks, in the order the tests run them (disaster recovery destroys the primary: last)
RUNBOOKS = ("alarms", "restore-latest", "pitr", "logical-restore", "drill", "rotate-keys", "failover",
            "disaster-recovery")
ROOT = Path(__file__).resolve().parents[1] / "runbooks"
MARKER = "pgvault-run"
#: a variable guard at the top of a block: ``: "${NAME:?message}"``
_GUARD = re.compile(r'^: "\$\{([A-Z][A-Z0-9_]*):\?[^"]+\}"$')


@dataclass(frozen=True)
class Block:
    """A runnable command block of a runbook."""

    runbook: str
    step: str
    host: str
    user: str
    code: str
    #: the line of its opening fence in the rendered runbook (0-based)
    line: int = 0

    @property
    def guarded(self) -> tuple[str, ...]:
        """The variables the block refuses to run without: the guards before its first command."""
        names = []
        for line in self.code.splitlines():
            found = _GUARD.match(line.strip())
            if not found:
                break
            names.append(found.group(1))
        return tuple(names)


def in_words(schedule: str) -> str:
    """A cron schedule in words, 24-hour clock, in UTC (``At 02:00 UTC``)."""
    options = Options()
    options.use_24hour_time_format = True
    return get_description(schedule, options) + " UTC"


def ssh_command(host: HostConfig) -> str:
    """The ``ssh`` command line that reaches ``host`` as the stack describes it."""
    argv = ["ssh"] + (["-p", str(host.ssh_port)] if host.ssh_port != 22 else [])
    argv += ["-i", host.identity_file] if host.identity_file else []
    return shlex.join(argv + [f"{host.ssh_user}@{host.address}" if host.ssh_user else host.address])


def where(cfg: StackConfig, host: str, user: str = "") -> str:
    """The line before a runnable block: where to run it, as whom, and how to get there.

    :param host: ``control`` (where ``fab`` runs), ``db`` (the primary) or ``restore`` (where restores land:
        the staging host when the stack has one, else the primary), as in the fence
    :param user: the OS user a ``db`` or ``restore`` block runs as
    """
    if host == "control":
        secrets = f"your environment or `{cfg.secrets.file}`" if cfg.secrets.file else "your environment"
        return ("**Where:** your workstation, in the pgvault checkout (`fab` from its `.venv`), with the stack's "
                f"secrets in {secrets}:")
    entry = roles.restore_host(cfg) if host == "restore" else cfg.primary
    hop = "" if user == entry.ssh_user else f", then `sudo -iu {user}`"
    kind = ", the staging host, not production," if entry.role == "staging" else ""
    return f"**Where:** on {entry.name}{kind} (`{entry.address}`) as `{user}`: `{ssh_command(entry)}`{hop}:"


def stop_for_good(cfg: StackConfig) -> str:
    """The root command that stops the stack's PostgreSQL at once and keeps it from starting (fencing)."""
    pg = cfg.postgres
    unit = f"postgresql@{pg.version}-{pg.cluster}"
    return {"pg_ctlcluster": f"pg_ctlcluster -m immediate {pg.version} {pg.cluster} stop && "
                             f"echo disabled > /etc/postgresql/{pg.version}/{pg.cluster}/start.conf",
            "systemd": f"systemctl stop {unit} && systemctl mask {unit}",
            "pg_ctl": f"runuser -u {pg.os_user} -- {pg.bin_dir}/pg_ctl -D {pg.data_dir} -m immediate stop",
            }[pg.control]


def context(cfg: StackConfig) -> dict:
    """The values runbooks print: names, paths and exact commands of this stack."""
    pg, repo = cfg.postgres, cfg.repository
    restore_host = roles.restore_host(cfg)
    landing = cfg.on(restore_host.name)  # where scratch clusters are: the staging host's paths when it has one

    def export(name: str) -> str:
        return f"{scratch_for(landing, name).root}/{copyback.EXPORT_FILE}"

    return {
        "banner": f"<!-- Managed by pgvault from {cfg.file} — do not edit; run fab runbooks.render -->",
        "cfg": cfg,
        "stack": cfg.name,
        "host": cfg.primary,
        "fab": lambda task: f"fab {task} --stack {cfg.name}",
        "db": pg.databases[0],
        "psql": lambda database: shlex.join(postgres.psql_argv(cfg, database, script=False)),
        "scratch_psql": lambda name, database: shlex.join(postgres.psql_argv(
            landing, database, socket_dir=scratch_for(landing, name).root, script=False)),
        "restore_host": restore_host,
        "restore_ssh": ssh_command(restore_host),
        "primary_ssh": ssh_command(cfg.primary),
        "staging": cfg.with_role("staging"),
        "staging_view": landing,
        "staging_psql": lambda database: shlex.join(postgres.psql_argv(landing, database, script=False)),
        "staging_cron": cron.cron_file(landing),
        "where": lambda host, user="": where(cfg, host, user),
        "scratch_export": export,
        "copy_back": lambda before, after: copyback.script(export(before), export(after)),
        "exact_counts_sql": catalog.EXACT_COUNTS_TABLE_SQL,
        "job": lambda name: f"PGVAULT_STACK_DIR={cfg.jobs.config_dir} {cron.job_command(cfg, name)}",
        "socket_lock": f"{pg.socket_dir}/.s.PGSQL.{pg.port}.lock",
        "stop_cluster": stop_for_good(cfg),
        "include_in_data_dir": pg.include_dir.startswith(pg.data_dir.rstrip("/") + "/"),
        "canary_interval": canary_interval_seconds(cfg),
        "canary_lag": canary_lag_seconds(cfg),
        "pgbackrest_info": shlex.join(pgbackrest.command(cfg, "info")),
        "pgbackrest_check": shlex.join(pgbackrest.command(cfg, "check")),
        "pgbackrest_verify": shlex.join(pgbackrest.command(cfg, "verify")),
        "restore_config": pgbackrest.restore_config_path(cfg),
        "include_file": postgres.include_file(cfg),
        "schedule": {e.job: in_words(e.schedule) for h in cfg.ordered_hosts() for e in cron.entries(cfg.on(h.name))},
        "cron_file": cron.cron_file(cfg),
        "job_log": f"{cfg.jobs.log_dir}/pgvault-job.log",
        "drill_log": f"{landing.jobs.log_dir}/pgvault-job.log",  # the drill's host: staging's, when there is one
        "drill_kept": f"{landing.jobs.state_dir}/drills/",
        "drills_prefix": drills_prefix(cfg),
        "alarms": alarm_specs(cfg),
        "thresholds": {a.key: int(a.threshold) for a in alarm_specs(cfg)},
        "archive_timeout": archive_timeout_seconds(cfg.targets),
        "passphrase_parameter": passphrase_parameter(cfg),
        "topic": topic_name(cfg),
        "repo_url": f"s3://{repo.bucket}/{repo.repo_prefix}",
        "example_table": "notes" if cfg.is_sandbox else "the_damaged_table",
    }


def render_all(cfg: StackConfig) -> dict[str, str]:
    """Every runbook of the stack: ``{file name: Markdown}``."""
    values = context(cfg)
    templates = environment((str(ROOT / "templates"),))
    return {f"{name}.md": templates.get_template(f"{name}.md.j2").render(**values) for name in RUNBOOKS}


def blocks(runbook: str, text: str) -> list[Block]:
    """The runnable blocks of a rendered runbook, in order."""
    found = []
    for token in MarkdownIt().parse(text):
        words = token.info.split() if token.type == "fence" else []
        if MARKER not in words:
            continue
        meta = dict(w.split("=", 1) for w in words if "=" in w)
        found.append(Block(runbook, meta.get("step", "?"), meta.get("host", "control"), meta.get("user", ""),
                           token.content, token.map[0] if token.map else 0))
    return found


def write(cfg: StackConfig, folder: Path) -> list[str]:
    """Render into ``folder``, writing only files that changed; return the names written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all(cfg).items():
        path = folder / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(name)
    return written
