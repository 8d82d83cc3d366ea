"""A DB host's desired state, the plan that gets it there, and how it differs (pure).

The desired state is a list of directories and files rendered from the stack
(:func:`desired_paths`) plus the PostgreSQL settings pgvault owns.  The
control side (``ops.host``) reads the :class:`HostFacts`, :func:`plan`
compares them with the desired state, and only the plan is applied:
PostgreSQL restarts only when a ``postmaster`` setting changed and reloads
otherwise; a second run finds an empty plan and says "no changes".
:func:`drifts` is ``host.check``'s reading of the same plan, and
:func:`refusal` names why pgBackRest refused a candidate configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pgvault.core import cron, pgbackrest, postgres, render, roles, standby
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.features import UNKNOWN, Features
from pgvault.core.monitoring.status import textfile_path
from pgvault.core.plan import Change, DesiredDir, DesiredFile, PathFact, describe, plan_paths
from pgvault.core.postgres import LiveSetting
from pgvault.core.schema import StackConfig
from pgvault.core.secrets import Secret, restore_secrets_file, secrets_file


def desired_paths(cfg: StackConfig, repo_secrets: dict[str, Secret], stack_text: str,
                  read_only: dict[str, Secret] | None = None,
                  features: Features = UNKNOWN,
                  peer_keys: dict[str, standby.PeerKeys] | None = None) -> list[DesiredDir | DesiredFile]:
    """Directories and files pgvault owns on a DB host, parents first.

    :param stack_text: the stack file, copied to the host for ``pgvault-job``
    :param read_only: secrets of the read-only configuration restores and drills use, when provided
    :param features: what the host's pgBackRest and PostgreSQL can do (block incremental, WAL compression)
    :param peer_keys: what the other database host presents (its keys), for pgBackRest's SSH between them
    """
    if not roles.holds_backup_keys(cfg.hosts[0]):
        return staging_paths(cfg, stack_text, read_only, features)
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
        DesiredDir(textfile_path(cfg).rsplit("/", 1)[0], owner, 0o755),
    ]
    if cfg.is_sandbox:  # on a real host /etc/cron.d belongs to the cron package
        dirs.append(DesiredDir(cron_path.rsplit("/", 1)[0], owner, 0o755))
    files = [
        DesiredFile(pgbackrest.config_file(cfg), render.render_pgbackrest_conf(cfg, features), owner, 0o640),
        DesiredFile(secrets_file(cfg), render.render_pgbackrest_secrets(cfg, repo_secrets), owner, 0o600,
                    secret=True),
        DesiredFile(postgres.include_file(cfg), render.render_pg_include(cfg, features), owner, 0o640),
        DesiredFile(f"{jobs.config_dir}/Pulumi.{cfg.name}.yaml", stack_text, owner, 0o640),
        DesiredFile(cron_path, render.render_cron(cfg), cron.cron_owner(cfg), 0o644),
    ]
    if read_only:
        restore_path = pgbackrest.restore_config_path(cfg)
        dirs += [DesiredDir(restore_path, owner, 0o750), DesiredDir(f"{restore_path}/conf.d", owner, 0o750)]
        files += [DesiredFile(f"{restore_path}/pgbackrest.conf", render.render_pgbackrest_conf(cfg, features), owner,
                              0o640),
                  DesiredFile(restore_secrets_file(cfg), render.render_pgbackrest_secrets(cfg, read_only),
                              owner, 0o600, secret=True)]
    ssh_dirs, ssh_files = ssh_paths(cfg, peer_keys or {})
    return [*dirs, *ssh_dirs, *files, *ssh_files]


def ssh_paths(cfg: StackConfig, peer_keys: dict[str, standby.PeerKeys]) -> tuple[list[DesiredDir],
                                                                                     list[DesiredFile]]:
    """pgBackRest's SSH files on a host with a peer (primary and standby); nothing elsewhere.

    The private key is not among them: it is generated on the host (:attr:`HostPlan.keygen`) and never read.
    """
    if not standby.peers(cfg):
        return [], []
    owner = cfg.postgres.os_user
    folder, authorized = standby.ssh_dir(cfg), cfg.pgbackrest.ssh_authorized_keys
    texts = render.render_ssh_files(cfg, peer_keys)
    dirs = [DesiredDir(folder, owner, 0o700), DesiredDir(authorized.rsplit("/", 1)[0], owner, 0o700)]
    files = [DesiredFile(standby.ssh_config_file(cfg), texts["config"], owner, 0o600),
             DesiredFile(standby.known_hosts_file(cfg), texts["known_hosts"], owner, 0o600),
             DesiredFile(standby.ssh_command(cfg), texts["pgvault-ssh"], owner, 0o700),
             DesiredFile(authorized, texts["authorized_keys"], owner, 0o600)]
    return dirs, files


@dataclass(frozen=True)
class HostFacts:
    """What ``host.setup`` needs to know about a host before planning."""

    pgbackrest_version: str | None
    paths: dict[str, PathFact]
    settings: dict[str, LiveSetting]
    stanza_ok: bool = False
    catalog_ok: bool = False
    job_build: str | None = None
    utc_offset: str = "+0000"
    postgres_up: bool = True
    include_ok: bool = True
    #: why pgBackRest could not read the repository (unreachable, refused, timed out); ``None`` when it could
    repository_unreadable: str | None = None
    #: what the host's software can do; the desired files were rendered for it
    features: Features = UNKNOWN
    #: the PostgreSQL OS user's pgBackRest public key on the host, ``None`` when it has none yet
    user_key: str | None = None


@dataclass
class HostPlan:
    """Everything ``host.setup`` would do on one host."""

    install: bool = False
    job_install: str | None = None
    changes: list[Change] = field(default_factory=list)
    server_action: str | None = None
    stanza: bool = False
    catalog: bool = False
    notes: list[str] = field(default_factory=list)
    #: generate the PostgreSQL OS user's key for pgBackRest's SSH (a host with a peer that has none yet)
    keygen: bool = False

    def steps(self) -> list[str]:
        """Non-file steps, in the order :func:`apply` runs them."""
        out = ["install pgbackrest"] if self.install else []
        if self.keygen:
            out.append("generate the PostgreSQL OS user's SSH key for pgBackRest")
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
    def settled(self) -> bool:
        """True when a re-check after applying finds nothing left to do (the stanza and catalog are checked once)."""
        return not (self.changes or self.server_action or self.job_install)

    @property
    def empty(self) -> bool:
        """True when the host already matches the stack."""
        return not (self.install or self.job_install or self.changes or self.server_action or self.stanza
                    or self.catalog or self.keygen)


def plan(cfg: StackConfig, targets: list, facts: HostFacts, build: str) -> HostPlan:
    """The pure plan for one host from its facts.

    :param build: the build id of the pgvault this control side would install

    With PostgreSQL down (a replacement host before its restore), the files are
    still written so that pgBackRest can restore; the settings, the stanza and
    the catalog wait for a run with the cluster up.
    """
    if not facts.include_ok:
        targets = [t for t in targets if not t.path.startswith(cfg.postgres.include_dir.rstrip("/") + "/")]
    changes = plan_paths(targets, facts.paths)
    if not roles.archives(cfg.hosts[0]):  # staging: files and pgvault-job only; its clusters never archive
        return HostPlan(install=facts.pgbackrest_version is None,
                        job_install=build if facts.job_build != build else None, changes=changes)
    keygen = bool(standby.peers(cfg)) and not facts.user_key
    if not facts.postgres_up:
        return HostPlan(install=facts.pgbackrest_version is None,
                        job_install=build if facts.job_build != build else None, changes=changes, keygen=keygen,
                        notes=["PostgreSQL is not running: its settings, the stanza and pgvault's catalog are "
                               "checked by the next fab host.setup once it runs"])
    include_changes = any(c.path == postgres.include_file(cfg) for c in changes)
    action = postgres.server_action(postgres.owned_settings(cfg, facts.features), facts.settings)
    if include_changes and action is None:
        action = "reload"
    writes = writes_to_repository(cfg)
    return HostPlan(
        install=facts.pgbackrest_version is None,
        job_install=build if facts.job_build != build else None,
        changes=changes,
        server_action=action,
        # a repository that cannot be read is not a missing stanza: stanza-create would not help
        stanza=writes and (any(c.path in _pgbackrest_files(cfg) for c in changes)
                           or not (facts.stanza_ok or facts.repository_unreadable)),
        catalog=writes and not facts.catalog_ok,
        notes=[f"the repository cannot be read ({facts.repository_unreadable}): the stanza is checked by the next "
               "fab host.setup once it can"] if facts.repository_unreadable else [],
        keygen=keygen,
    )


def writes_to_repository(cfg: StackConfig) -> bool:
    """Whether this host creates the stanza and pgvault's catalog: the primary does; a standby is read-only
    (it replays the primary's catalog) and archives nothing until it is promoted."""
    return cfg.hosts[0].role != "standby"


def _pgbackrest_files(cfg: StackConfig) -> set[str]:
    """Files whose change means pgBackRest must re-check the stanza."""
    return {pgbackrest.config_file(cfg), secrets_file(cfg), postgres.include_file(cfg)}


def refusal(output: str) -> str:
    """Why pgBackRest refused a candidate configuration (its output), named by cause, with the key to fix."""
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


def drifts(cfg: StackConfig, host_plan: HostPlan, facts: HostFacts, archiver: dict, build: str) -> list[str]:
    """Every way the host differs from the stack, one line each (``host.check``).

    A repository pgBackRest cannot read comes first, as the cause: the stanza is then unknown, not missing.

    :param archiver: the primary's ``pg_stat_archiver`` row (empty when PostgreSQL is down)
    :param build: the build id of the pgvault this control side would install
    """
    out = [f"the repository cannot be read: {facts.repository_unreadable}"] if facts.repository_unreadable else []
    if not roles.archives(cfg.hosts[0]):
        return out + staging_drifts(cfg, host_plan, facts, build)
    out += [] if facts.postgres_up else [f"PostgreSQL is not running (port {cfg.postgres.port})"]
    if host_plan.install:
        out.append("pgbackrest is not installed")
    out += [describe(c) for c in host_plan.changes]
    for want in postgres.owned_settings(cfg, facts.features):
        live = facts.settings.get(want.name)
        if live is None:
            continue
        if live.setting != want.value:
            out.append(f"setting {want.name} is {live.setting!r}, stack wants {want.value!r}")
        elif live.pending_restart:
            out.append(f"setting {want.name} waits for a restart")
    if host_plan.job_install:
        out.append(f"pgvault-job on the host is {facts.job_build or 'not installed'}, this checkout is {build}")
    if facts.utc_offset != "+0000":
        out.append(f"the host's clock is in zone {facts.utc_offset}, not UTC: cron would run the UTC schedule at "
                   "other hours")
    if facts.postgres_up and not facts.stanza_ok and not facts.repository_unreadable and not host_plan.changes:
        out.append(f"stanza {cfg.pgbackrest.stanza} is missing or invalid in the repository")
    failed, archived = archiver.get("last_failed_time"), archiver.get("last_archived_time")
    if failed and (not archived or failed > archived):
        out.append(f"WAL archiving is failing: {archiver.get('last_failed_wal')} failed at {failed}")
    return out


# ---------------------------------------------------------------- the staging role


def staging_paths(cfg: StackConfig, stack_text: str, read_only: dict[str, Secret] | None,
                  features: Features = UNKNOWN) -> list[DesiredDir | DesiredFile]:
    """What a staging host holds: the read-only pgBackRest configuration and its keys, pgvault-job, the stack
    file and its cron file (the drill).  Never the backup keys' file, never PostgreSQL archiving settings.

    :raises PgvaultError: (exit 8) without restore keys: a staging host takes no other
    """
    name = cfg.hosts[0].name
    if not read_only:
        raise PgvaultError(f"staging host {name} takes only the restore keys, and none are set",
                           "export PGVAULT_RESTORE_S3_KEY and PGVAULT_RESTORE_S3_KEY_SECRET (or add them to "
                           "pgvault:secrets.file), then run fab host.setup again", ExitCode.SECRET)
    owner, pgb, jobs = cfg.postgres.os_user, cfg.pgbackrest, cfg.jobs
    restore_path, cron_path = pgbackrest.restore_config_path(cfg), cron.cron_file(cfg)
    dirs = [DesiredDir(path, owner, 0o750) for path in (
        pgb.config_path, restore_path, f"{restore_path}/conf.d", pgb.log_path, pgb.spool_path, pgb.lock_path,
        cfg.postgres.scratch_dir)]
    dirs += [DesiredDir(jobs.install_dir, owner, 0o755),
             *(DesiredDir(path, owner, 0o750) for path in (jobs.config_dir, jobs.state_dir, jobs.log_dir))]
    if cfg.is_sandbox:
        dirs.append(DesiredDir(cron_path.rsplit("/", 1)[0], owner, 0o755))
    files = [
        DesiredFile(f"{restore_path}/pgbackrest.conf", render.render_pgbackrest_conf(cfg, features), owner, 0o640),
        DesiredFile(restore_secrets_file(cfg), render.render_pgbackrest_secrets(cfg, read_only), owner, 0o600,
                    secret=True),
        DesiredFile(f"{jobs.config_dir}/Pulumi.{cfg.name}.yaml", stack_text, owner, 0o640),
        DesiredFile(cron_path, render.render_cron(cfg), cron.cron_owner(cfg), 0o644),
    ]
    return [*dirs, *files]


def staging_drifts(cfg: StackConfig, host_plan: HostPlan, facts: HostFacts, build: str) -> list[str]:
    """How a staging host differs from the stack: its files and pgvault-job, and the backup keys' file if it
    is there (``facts.paths`` holds it when the control side looked)."""
    out = ["pgbackrest is not installed"] if host_plan.install else []
    out += [describe(c) for c in host_plan.changes]
    if host_plan.job_install:
        out.append(f"pgvault-job on the host is {facts.job_build or 'not installed'}, this checkout is {build}")
    keys = facts.paths.get(secrets_file(cfg))
    if keys is not None and keys.exists:
        out.append(f"{secrets_file(cfg)} holds the backup keys on staging host {cfg.hosts[0].name}; a staging "
                   "host holds only the restore keys: delete that file")
    return out
