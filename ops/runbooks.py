"""Runbooks rendered from the live configuration, and the runnable blocks inside them.

Each runbook is a Jinja2 template in ``runbooks/templates/`` rendered with the
stack's real values (never secrets) into ``runbooks/<stack>/``, through the
one environment factory (``pgvault.core.render``).  Commands come from the
same builders the tasks use (``pgbackrest.command``, ``postgres.psql_argv``).  A block meant to be run carries its
metadata in the fence's info string, like pgBackRest's executed user guide::

    ```sh pgvault-run step=pitr-2 host=db user=postgres

``host=control`` runs where ``fab`` runs, ``host=db`` on the DB host as ``user``.
The tests extract these blocks (with markdown-it-py) and run them in order
against the sandbox, so a runbook whose commands stop working fails CI.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from cron_descriptor import Options, get_description
from markdown_it import MarkdownIt

from pgvault.core import cron, pgbackrest, postgres
from pgvault.core.policy import alarm_specs, archive_timeout_seconds, passphrase_parameter, topic_name
from pgvault.core.render import environment
from pgvault.core.schema import StackConfig
from pgvault.core.scratch import scratch_for

#: the runbooks, in the order the tests run them (disaster recovery destroys the primary: last)
RUNBOOKS = ("alarms", "restore-latest", "pitr", "logical-restore", "drill", "rotate-keys", "disaster-recovery")
ROOT = Path(__file__).resolve().parents[1] / "runbooks"
MARKER = "pgvault-run"


@dataclass(frozen=True)
class Block:
    """A runnable command block of a runbook."""

    runbook: str
    step: str
    host: str
    user: str
    code: str


def in_words(schedule: str) -> str:
    """A cron schedule in words, 24-hour clock, in UTC (``At 02:00 UTC``)."""
    options = Options()
    options.use_24hour_time_format = True
    return get_description(schedule, options) + " UTC"


def context(cfg: StackConfig) -> dict:
    """The values runbooks print: names, paths and exact commands of this stack."""
    pg, repo = cfg.postgres, cfg.repository
    return {
        "banner": f"<!-- Managed by pgvault from {cfg.file} — do not edit; run fab runbooks.render -->",
        "cfg": cfg,
        "stack": cfg.name,
        "host": cfg.hosts[0],
        "fab": lambda task: f"fab {task} --stack {cfg.name}",
        "db": pg.databases[0],
        "psql": lambda database: shlex.join(postgres.psql_argv(cfg, database, script=False)),
        "scratch_psql": lambda name, database: shlex.join(postgres.psql_argv(
            cfg, database, socket_dir=scratch_for(cfg, name).root, script=False)),
        "pgbackrest_info": shlex.join(pgbackrest.command(cfg, "info")),
        "pgbackrest_check": shlex.join(pgbackrest.command(cfg, "check")),
        "pgbackrest_verify": shlex.join(pgbackrest.command(cfg, "verify")),
        "restore_config": pgbackrest.restore_config_path(cfg),
        "include_file": postgres.include_file(cfg),
        "schedule": {e.job: in_words(e.schedule) for e in cron.entries(cfg)},
        "cron_file": cron.cron_file(cfg),
        "job_log": f"{cfg.jobs.log_dir}/pgvault-job.log",
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
                           token.content))
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
