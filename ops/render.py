"""The one Jinja2 environment, and a ``render_*`` function per generated file.

Templates are dumb (STYLE.md): they receive views computed by
``ops.pgbackrest``, ``ops.postgres`` and ``ops.policy`` and only loop and
print.  The environment is strict (an undefined name is an error), keeps
trailing newlines and never autoescapes, and it loads host-file templates
from ``ops/templates`` and runbook templates from ``runbooks/templates``.
"""

from __future__ import annotations

import functools
import shlex
from pathlib import Path

import jinja2

from ops import cron, pgbackrest, postgres
from ops.schema import StackConfig
from ops.secrets import Secret

HERE = Path(__file__).resolve().parent
RUNBOOK_TEMPLATES = HERE.parent / "runbooks" / "templates"


@functools.lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Return the shared, strict Jinja2 environment."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(HERE / "templates"), str(RUNBOOK_TEMPLATES)]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["shquote"] = shlex.quote
    return env


def banner(cfg: StackConfig, then: str = "fab host.setup") -> str:
    """Line 1 of every file pgvault writes."""
    return f"# Managed by pgvault from {cfg.file} — do not edit; run {then}"


def render_pgbackrest_conf(cfg: StackConfig) -> str:
    """Render ``pgbackrest.conf`` (no secrets in it)."""
    return environment().get_template("pgbackrest.conf.j2").render(
        banner=banner(cfg), sections=pgbackrest.conf_sections(cfg)
    )


def render_pgbackrest_secrets(cfg: StackConfig, secrets: dict[str, Secret]) -> str:
    """Render ``conf.d/pgvault-secrets.conf``; the only place a secret value is written."""
    return environment().get_template("pgvault-secrets.conf.j2").render(
        banner=banner(cfg), sections=pgbackrest.secret_sections(secrets)
    )


def render_pg_include(cfg: StackConfig) -> str:
    """Render the PostgreSQL include file with the settings pgvault owns."""
    return environment().get_template("pgvault.conf.j2").render(
        banner=banner(cfg), settings=postgres.owned_settings(cfg), rpo_seconds=cfg.targets.rpo_seconds
    )


def render_cron(cfg: StackConfig) -> str:
    """Render the host's pgvault cron file."""
    rows = [{"description": e.description, "schedule": e.schedule, "command": cron.job_command(cfg, e.job)}
            for e in cron.entries(cfg)]
    return environment().get_template("pgvault.cron.j2").render(
        banner=banner(cfg), stanza=cfg.pgbackrest.stanza, state_dir=cfg.jobs.state_dir, log_dir=cfg.jobs.log_dir,
        path=cron.CRON_PATH, config_dir=cfg.jobs.config_dir, user=cfg.postgres.os_user, entries=rows)
