"""``host.setup`` and ``host.check``: facts, a pure plan, apply, re-check.

The desired state of a DB host is a list of directories and files rendered
from the stack (:func:`desired_paths`) plus the PostgreSQL settings pgvault
owns.  :func:`gather` reads the host, :func:`plan` compares (pure), and
:func:`apply` changes only what the plan lists, restarting PostgreSQL only when
a ``postmaster`` setting changed and reloading otherwise.  A second run finds
an empty plan and says "no changes".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


from ops import catalog, cron, jobinstall, monitoring, pgbackrest, postgres, remote, render, secrets, service
from ops.build import build_id
from ops.config import stack_path
from ops.execute import Conn
from ops.errors import ExitCode, PgvaultError
from ops.plan import Change, DesiredDir, DesiredFile, PathFact, describe, plan_paths
from ops.postgres import LiveSetting
from ops.schema import StackConfig
from ops.secrets import Secret


def desired_paths(cfg: StackConfig, repo_secrets: dict[str, Secret], stack_text: str,
                  read_only: Optional[dict[str, Secret]] = None) -> list[DesiredDir | DesiredFile]:
    """Directories and files pgvault owns on a DB host, parents first.

    :param stack_text: the stack file, copied to the host for ``pgvault-job``
    :param read_only: secrets of the read-only configuration restores and drills use, when provided
    """
    owner = cfg.postgres.os_user
    pgb, jobs = cfg.pgbackrest, cfg.jobs
    cron_path = cron.cron_file(cfg)
    dirs = [
        DesiredDir(pgb.config_path, owner, 0o750),
        DesiredDir(f"{pgb.config_path}/conf.d", owner, 0o750),
        DesiredDir(pgb.log_path, owner, 0o750),
        DesiredDir(pgb.spool_path, owner, 0o750),
        DesiredDir(pgb.lock_path, owner, 0o750),
        DesiredDir(cfg.postgres.scratch_dir, owner, 0o750),
        DesiredDir(jobs.install_dir, owner, 0o755),
        DesiredDir(jobs.config_dir, owner, 0o750),
        DesiredDir(jobs.state_dir, owner, 0o750),
        DesiredDir(jobs.log_dir, owner, 0o750),
        DesiredDir(monitoring.textfile_path(cfg).rsplit("/", 1)[0], owner, 0o755),
    ]
    if cfg.is_sandbox:  # on a real host /etc/cron.d belongs to the cron package
        dirs.append(DesiredDir(cron_path.rsplit("/", 1)[0], owner, 0o755))
    files = [
        DesiredFile(pgbackrest.config_file(cfg), render.render_pgbackrest_conf(cfg), owner, 0o640),
        DesiredFile(secrets.secrets_file(cfg), render.render_pgbackrest_secrets(cfg, repo_secrets), owner, 0o600,
                    secret=True),
        DesiredFile(postgres.include_file(cfg), render.render_pg_include(cfg), owner, 0o640),
        DesiredFile(f"{jobs.config_dir}/Pulumi.{cfg.name}.yaml", stack_text, owner, 0o640),
        DesiredFile(cron_path, render.render_cron(cfg), cron.cron_owner(cfg), 0o644),
    ]
    if read_only:
        restore_path = pgbackrest.restore_config_path(cfg)
        dirs += [DesiredDir(restore_path, owner, 0o750), DesiredDir(f"{restore_path}/conf.d", owner, 0o750)]
        files += [DesiredFile(f"{restore_path}/pgbackrest.conf", render.render_pgbackrest_conf(cfg), owner, 0o640),
                  DesiredFile(secrets.restore_secrets_file(cfg), render.render_pgbackrest_secrets(cfg, read_only),
                              owner, 0o600, secret=True)]
    return [*dirs, *files]


@dataclass(frozen=True)
class HostFacts:
    """What ``host.setup`` needs to know about a host before planning."""

    pgbackrest_version: Optional[str]
    paths: dict[str, PathFact]
    settings: dict[str, LiveSetting]
    stanza_ok: bool = False
    catalog_ok: bool = False
    job_build: Optional[str] = None
    utc_offset: str = "+0000"
    postgres_up: bool = True
    include_ok: bool = True


@dataclass
class HostPlan:
    """Everything ``host.setup`` would do on one host."""

    install: bool = False
    job_install: Optional[str] = None
    changes: list[Change] = field(default_factory=list)
    server_action: Optional[str] = None
    stanza: bool = False
    catalog: bool = False
    notes: list[str] = field(default_factory=list)

    def steps(self) -> list[str]:
        """Non-file steps, in the order :func:`apply` runs them."""
        out = ["install pgbackrest"] if self.install else []
        if self.job_install:
            out.append(f"install pgvault-job {self.job_install}")
        if self.server_action:
            out.append(f"{self.server_action} PostgreSQL")
        if self.stanza:
            out.append("stanza-create and check")
        if self.catalog:
            out.append("create the pgvault catalog schema")
        return out

    @property
    def empty(self) -> bool:
        """True when the host already matches the stack."""
        return not (self.install or self.job_install or self.changes or self.server_action or self.stanza
                    or self.catalog)


def gather(conn: Conn, cfg: StackConfig, targets: list) -> HostFacts:
    """Read the facts (read-only commands only)."""
    version = None
    if remote.command_exists(conn, "pgbackrest"):
        version = remote.run(conn, ["pgbackrest", "version"]).stdout.strip().removeprefix("pgBackRest ")
    include_dir = cfg.postgres.include_dir
    include_ok = remote.run(conn, ["test", "-d", include_dir], warn=True).ok
    up = service.is_running(conn, cfg)
    if not include_ok and up:
        raise PgvaultError(
            f"PostgreSQL include directory {include_dir} does not exist on {conn.host}",
            "create it and add include_dir = 'conf.d' to postgresql.conf, or set pgvault:postgres.include_dir",
            ExitCode.FAILED,
        )
    settings = live_settings(conn, cfg) if up else {}
    paths = remote.path_facts(conn, targets)
    stanza_ok = False
    if up and version and all(p.path in paths and paths[p.path].exists for p in targets):
        stanza_ok = stanza_status(conn, cfg)[0] in (0, 2)
    catalog_ok = remote.sql(conn, cfg, catalog.EXISTS_SQL).strip() == "t" if up else True
    offset = remote.run(conn, ["date", "+%z"]).stdout.strip()
    return HostFacts(version, paths, settings, stanza_ok, catalog_ok, jobinstall.installed_build(conn, cfg), offset,
                     up, include_ok)


def live_settings(conn: Conn, cfg: StackConfig) -> dict[str, LiveSetting]:
    """``pg_settings`` rows of the settings pgvault owns."""
    names = [s.name for s in postgres.owned_settings(cfg)]
    try:
        rows = remote.sql_json(conn, cfg, postgres.settings_query(names))
    except remote.RemoteError as exc:
        raise PgvaultError(
            f"cannot query PostgreSQL on {conn.host} (port {cfg.postgres.port}): {exc.message}",
            "start PostgreSQL, or correct pgvault:postgres.port and socket_dir",
            ExitCode.UNREACHABLE,
        ) from None
    return {r["name"]: LiveSetting(r["name"], r["setting"], r["context"], r["pending_restart"]) for r in rows}


def stanza_status(conn: Conn, cfg: StackConfig) -> tuple[int, str]:
    """``(code, message)`` of the stanza in ``pgbackrest info`` (99 when unreadable)."""
    result = remote.run(conn, pgbackrest.command(cfg, "info", "--output=json"), user=cfg.postgres.os_user, warn=True)
    if not result.ok:
        return 99, pgbackrest.summarise_error(result.stdout + result.stderr)[1]
    try:
        info = pgbackrest.parse_info(result.stdout, cfg.pgbackrest.stanza)
    except ValueError as exc:
        return 99, str(exc)
    return info.status_code, info.status_message


def plan(cfg: StackConfig, targets: list, facts: HostFacts) -> HostPlan:
    """The pure plan for one host from its facts.

    With PostgreSQL down (a replacement host before its restore), the files are
    still written so that pgBackRest can restore; the settings, the stanza and
    the catalog wait for a run with the cluster up.
    """
    if not facts.include_ok:
        targets = [t for t in targets if not t.path.startswith(cfg.postgres.include_dir.rstrip("/") + "/")]
    changes = plan_paths(targets, facts.paths)
    if not facts.postgres_up:
        return HostPlan(install=facts.pgbackrest_version is None,
                        job_install=build_id() if facts.job_build != build_id() else None, changes=changes,
                        notes=[f"PostgreSQL is not running: its settings, the stanza and pgvault's catalog are "
                               "checked by the next fab host.setup once it runs"])
    include_changes = any(c.path == postgres.include_file(cfg) for c in changes)
    action = postgres.server_action(postgres.owned_settings(cfg), facts.settings)
    if include_changes and action is None:
        action = "reload"
    return HostPlan(
        install=facts.pgbackrest_version is None,
        job_install=build_id() if facts.job_build != build_id() else None,
        changes=changes,
        server_action=action,
        stanza=any(c.path in _pgbackrest_files(cfg) for c in changes) or not facts.stanza_ok,
        catalog=not facts.catalog_ok,
    )


def _pgbackrest_files(cfg: StackConfig) -> set[str]:
    """Files whose change means pgBackRest must re-check the stanza."""
    return {pgbackrest.config_file(cfg), secrets.secrets_file(cfg), postgres.include_file(cfg)}


def preflight(conn: Conn, cfg: StackConfig, targets: list, host_plan: HostPlan) -> None:
    """Before changing pgBackRest's files, prove the new ones open the repository (passphrase, keys, TLS).

    The candidate configuration goes to a private temporary folder on the host
    and ``pgbackrest info`` reads the repository with it; a refusal stops
    ``host.setup`` with the cause, and nothing on the host changes.
    """
    watched = {pgbackrest.config_file(cfg), secrets.secrets_file(cfg)}
    if host_plan.install or not watched & {c.path for c in host_plan.changes}:
        return
    owner = cfg.postgres.os_user
    folder = remote.run(conn, ["mktemp", "-d", "/tmp/pgvault-preflight.XXXXXXXX"], user=owner).stdout.strip()
    try:
        remote.ensure_dir(conn, DesiredDir(f"{folder}/conf.d", owner, 0o700))
        for target in targets:
            if target.path in watched:
                name = target.path.removeprefix(cfg.pgbackrest.config_path + "/")
                remote.put_file(conn, DesiredFile(f"{folder}/{name}", target.content, owner, 0o600, target.secret))
        argv = pgbackrest.command(cfg, "info", "--output=json", config_path=folder)
        result = remote.run(conn, argv, user=owner, warn=True)
    finally:
        remote.run(conn, ["rm", "-rf", "--", folder], user=owner, warn=True)
    if not result.ok:
        raise PgvaultError(_refusal(result.stdout + result.stderr), "nothing on the host was changed", ExitCode.FAILED)
    try:
        found = pgbackrest.parse_info(result.stdout, cfg.pgbackrest.stanza)
    except ValueError:
        raise PgvaultError(f"pgBackRest's answer to the new settings could not be read: {result.stdout[:200]}",
                           "nothing on the host was changed", ExitCode.FAILED) from None
    # 0 ok, 1 a new repository (missing stanza path), 2 no valid backup yet, 6 a backup is running
    if found.status_code not in (0, 1, 2, 6):
        reason = found.repo_message or found.status_message
        raise PgvaultError(_refusal(reason), "nothing on the host was changed", ExitCode.FAILED)


def _refusal(output: str) -> str:
    """Why pgBackRest refused the candidate configuration, named by cause."""
    code, line = pgbackrest.summarise_error(output)
    if code is None:
        line = " ".join(output.split(" *** ")[0].split(" FormatError: ")[0].split())[:200]
    line = "".join(ch for ch in line if ch.isprintable())
    lowered = output.lower()
    if "certificate" in lowered or ("tls" in lowered and code in (39, 101)):
        return f"the S3 endpoint's TLS certificate is not trusted ({line}); set pgvault:repository.ca_file"
    if code in (29, 95) or "formaterror" in lowered or "decrypt" in lowered or "cipher" in lowered:
        return f"the repository passphrase does not open the repository ({line}); check PGVAULT_REPO_CIPHER_PASS"
    if "403" in output or "invalidaccesskeyid" in lowered or "signaturedoesnotmatch" in lowered:
        return f"the S3 endpoint refuses the access keys ({line}); check PGVAULT_S3_KEY and PGVAULT_S3_KEY_SECRET"
    return f"pgBackRest cannot read the repository with the new settings: {line}"


def apply(conn: Conn, cfg: StackConfig, host_plan: HostPlan, say) -> None:
    """Carry out ``host_plan``: install, write, restart or reload, stanza-create, check."""
    if host_plan.install:
        say(f"  installing pgbackrest on {conn.host}")
        remote.run(conn, remote.as_root(conn) + ["env", "DEBIAN_FRONTEND=noninteractive",
                                                  "apt-get", "install", "-y", "-q", "pgbackrest"])
    for change in host_plan.changes:
        if isinstance(change.target, DesiredDir):
            remote.ensure_dir(conn, change.target)
    if host_plan.job_install:
        jobinstall.install(conn, cfg, say)
    for change in host_plan.changes:
        if isinstance(change.target, DesiredFile):
            remote.put_file(conn, change.target)
    if host_plan.server_action == "restart":
        say("  restarting PostgreSQL (a postmaster setting changed)")
        service.control(conn, cfg, "restart")
    elif host_plan.server_action == "reload":
        say("  reloading PostgreSQL")
        remote.sql(conn, cfg, "SELECT pg_reload_conf();")
    if host_plan.catalog:
        remote.sql(conn, cfg, catalog.ENSURE_SQL)
    if host_plan.stanza:
        say(f"  pgbackrest stanza-create and check for stanza {cfg.pgbackrest.stanza}")
        for name in ("stanza-create", "check"):
            result = remote.run(conn, pgbackrest.command(cfg, name), user=cfg.postgres.os_user, warn=True)
            if not result.ok:
                raise PgvaultError(pgbackrest.summarise_error(result.stdout + result.stderr)[1],
                                   "fix the cause and run fab host.setup again", ExitCode.FAILED)


def survey(conn: Conn, cfg: StackConfig) -> tuple[list, HostFacts, HostPlan]:
    """Desired state, facts and plan for one host: the first half of setup, all of check."""
    targets = desired_paths(cfg, secrets.repository_secrets(cfg), stack_path(cfg.name).read_text(),
                            secrets.restore_secrets(cfg))
    facts = gather(conn, cfg, targets)
    return targets, facts, plan(cfg, targets, facts)


def drifts(cfg: StackConfig, host_plan: HostPlan, facts: HostFacts, archiver: dict) -> list[str]:
    """Every way the host differs from the stack, one line each (``host.check``)."""
    out = [] if facts.postgres_up else [f"PostgreSQL is not running (port {cfg.postgres.port})"]
    if host_plan.install:
        out.append("pgbackrest is not installed")
    out += [describe(c) for c in host_plan.changes]
    for want in postgres.owned_settings(cfg):
        live = facts.settings.get(want.name)
        if live is None:
            continue
        if live.setting != want.value:
            out.append(f"setting {want.name} is {live.setting!r}, stack wants {want.value!r}")
        elif live.pending_restart:
            out.append(f"setting {want.name} waits for a restart")
    if host_plan.job_install:
        out.append(f"pgvault-job on the host is {facts.job_build or 'not installed'}, this checkout is {build_id()}")
    if facts.utc_offset != "+0000":
        out.append(f"the host's clock is in zone {facts.utc_offset}, not UTC: cron would run the UTC schedule at "
                   "other hours")
    if facts.postgres_up and not facts.stanza_ok and not host_plan.changes:
        out.append(f"stanza {cfg.pgbackrest.stanza} is missing or invalid in the repository")
    failed, archived = archiver.get("last_failed_time"), archiver.get("last_archived_time")
    if failed and (not archived or failed > archived):
        out.append(f"WAL archiving is failing: {archiver.get('last_failed_wal')} failed at {failed}")
    return out
