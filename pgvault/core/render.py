"""The one Jinja2 environment factory, and a ``render_*`` function per generated host file.

Templates are dumb (STYLE.md): they receive views computed by
``pgvault.core.pgbackrest``, ``postgres``, ``cron`` and ``policy`` and only
loop and print.  The environment is strict (an undefined name is an error)
and keeps trailing newlines; it autoescapes HTML templates (``*.html.j2``)
and nothing else, so a value that reaches the dashboard is escaped however it
got there, and a configuration file is written exactly.  Host-file templates
are this package's resources; the control side adds its runbook folder
(``ops.runbooks``) through :func:`environment`'s ``folders``.
"""

from __future__ import annotations

import functools
import shlex

import jinja2

from pgvault.core import cron, pgbackrest, postgres, standby
from pgvault.core.features import UNKNOWN, Features
from pgvault.core.schema import StackConfig
from pgvault.core.secrets import Secret

#: templates whose output is HTML: autoescaped
HTML_SUFFIX = "html.j2"


@functools.lru_cache(maxsize=4)
def environment(folders: tuple[str, ...] = ()) -> jinja2.Environment:
    """The shared, strict Jinja2 environment: this package's templates, then ``folders``."""
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("pgvault.core", "templates")]
    loaders += [jinja2.FileSystemLoader(folder) for folder in folders]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=jinja2.select_autoescape(enabled_extensions=(HTML_SUFFIX,), default_for_string=False),
    )
    env.filters["shquote"] = shlex.quote
    return env


def banner(cfg: StackConfig, then: str = "fab host.setup") -> str:
    """Line 1 of every file pgvault writes."""
    return f"# Managed by pgvault from {cfg.file} — do not edit; run {then}"


def render_pgbackrest_conf(cfg: StackConfig, features: Features = UNKNOWN) -> str:
    """Render ``pgbackrest.conf`` (no secrets in it) for a host with ``features``."""
    return environment().get_template("pgbackrest.conf.j2").render(
        banner=banner(cfg), sections=pgbackrest.conf_sections(cfg, features)
    )


def render_pgbackrest_secrets(cfg: StackConfig, secrets: dict[str, Secret]) -> str:
    """Render ``conf.d/pgvault-secrets.conf``; the only place a secret value is written."""
    return environment().get_template("pgvault-secrets.conf.j2").render(
        banner=banner(cfg), sections=pgbackrest.secret_sections(secrets)
    )


def render_pg_include(cfg: StackConfig, features: Features = UNKNOWN) -> str:
    """Render the PostgreSQL include file with the settings pgvault owns on a host with ``features``."""
    return environment().get_template("pgvault.conf.j2").render(
        banner=banner(cfg), settings=postgres.owned_settings(cfg, features), rpo_seconds=cfg.targets.rpo_seconds
    )


def render_cron(cfg: StackConfig) -> str:
    """Render the host's pgvault cron file."""
    rows = [{"description": e.description, "schedule": e.schedule, "command": cron.job_command(cfg, e.job)}
            for e in cron.entries(cfg)]
    return environment().get_template("pgvault.cron.j2").render(
        banner=banner(cfg), stanza=cfg.pgbackrest.stanza, state_dir=cfg.jobs.state_dir, log_dir=cfg.jobs.log_dir,
        path=cron.CRON_PATH, config_dir=cfg.jobs.config_dir, user=cfg.postgres.os_user, entries=rows)


def render_ssh_files(cfg: StackConfig, keys: dict[str, standby.PeerKeys]) -> dict[str, str]:
    """The pgBackRest SSH files of a primary or standby host: ``config``, ``known_hosts``, ``pgvault-ssh`` (the
    ``cmd-ssh`` wrapper) and ``authorized_keys``, from what the peers presented (``keys`` by host name)."""
    top = banner(cfg)
    return {
        "config": standby.ssh_config_text(cfg, top),
        "known_hosts": standby.known_hosts_text(cfg, keys, top),
        "pgvault-ssh": standby.wrapper_text(cfg, top),
        "authorized_keys": standby.authorized_keys_text(cfg, keys, top),
    }
