"""``host.setup`` and ``host.check`` on the control side: read the facts, preflight, apply, re-check.

The desired state and the plan are pure (``pgvault.core.host``); this module
reads a host's facts over SSH (read-only commands only), proves a changed
pgBackRest configuration against the repository before writing it, and
carries out exactly the plan.
"""

from __future__ import annotations

from ops import jobinstall, ssh
from pgvault.core import catalog, pgbackrest, postgres, roles, standby
from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.features import Features
from pgvault.core.host import HostFacts, HostPlan, desired_paths, plan, refusal
from pgvault.core.plan import DesiredDir, DesiredFile
from pgvault.core.postgres import LiveSetting
from pgvault.core.schema import StackConfig
from pgvault.core.secrets import secrets_file
from pgvault.edges import remote, service
from pgvault.edges.build import build_id
from pgvault.edges.execute import Conn
from pgvault.edges.secretstore import repository_secrets, restore_secrets
from pgvault.edges.stackfile import stack_path
from pgvault.edges.waiting import within


def features(conn: Conn, cfg: StackConfig) -> Features:
    """What the host's pgBackRest and PostgreSQL can do (read before the desired files are rendered)."""
    version = None
    if remote.command_exists(conn, "pgbackrest"):
        version = remote.run(conn, ["pgbackrest", "version"]).stdout.strip().removeprefix("pgBackRest ")
    choices = None
    if service.is_running(conn, cfg):
        try:
            rows = remote.sql_json(conn, cfg, postgres.settings_query(["wal_compression"]))
            choices = tuple((rows[0].get("enumvals") or ()) if rows else ())
        except remote.RemoteError:
            pass  # unknown: the value every version accepts, and live_settings says why PostgreSQL did not answer
    return Features(version, choices)


def gather(conn: Conn, cfg: StackConfig, targets: list, found: Features | None = None) -> HostFacts:
    """Read the facts (read-only commands only); ``found`` are the host's :func:`features`, when already read."""
    found = found or features(conn, cfg)
    version = found.pgbackrest_version
    include_dir = cfg.postgres.include_dir
    include_ok = remote.run(conn, ["test", "-d", include_dir], warn=True).ok
    up = service.is_running(conn, cfg)
    if not include_ok and up and roles.archives(cfg.hosts[0]):
        raise PgvaultError(
            f"PostgreSQL include directory {include_dir} does not exist on {conn.host}",
            "create it and add include_dir = 'conf.d' to postgresql.conf, or set pgvault:postgres.include_dir",
            ExitCode.FAILED,
        )
    settings = live_settings(conn, cfg, found) if up else {}
    paths = remote.path_facts(conn, [*targets, *_absent_on(cfg)])
    stanza_ok, unreadable = False, None
    if up and version and all(p.path in paths and paths[p.path].exists for p in targets):
        code, message = stanza_status(conn, cfg)
        stanza_ok, unreadable = code in (0, 2), message if code == UNREADABLE else None
    catalog_ok = remote.sql(conn, cfg, catalog.EXISTS_SQL).strip() == "t" if up else True
    offset = remote.run(conn, ["date", "+%z"]).stdout.strip()
    return HostFacts(version, paths, settings, stanza_ok, catalog_ok, jobinstall.installed_build(conn, cfg), offset,
                     up, include_ok, unreadable, found, user_key(conn, cfg))


def user_key(conn: Conn, cfg: StackConfig) -> str | None:
    """The PostgreSQL OS user's pgBackRest public key on the host (``None``: none yet, or no peer to use it)."""
    if not standby.peers(cfg):
        return None
    result = remote.run(conn, ["cat", f"{standby.key_file(cfg)}.pub"], user=cfg.postgres.os_user, warn=True)
    return result.stdout.strip() or None if result.ok else None


def host_key(conn: Conn) -> str | None:
    """``<type> <base64>`` of the host's SSH server key, as this control side's connection received it."""
    transport = conn.client.get_transport() if getattr(conn, "client", None) else None
    key = transport.get_remote_server_key() if transport is not None else None
    return f"{key.get_name()} {key.get_base64()}" if key is not None else None


def presented_keys(opened: list) -> dict[str, standby.PeerKeys]:
    """What each opened primary or standby presents to the other: its user's public key and its host key."""
    return {entry.name: standby.PeerKeys(entry.name, user_key(conn, view), host_key(conn))
            for entry, conn, view in opened if entry.role in ("primary", "standby")}


def generate_key(conn: Conn, cfg: StackConfig, say) -> None:
    """Generate the PostgreSQL OS user's key for pgBackRest's SSH on the host, unless it has one."""
    if not standby.peers(cfg) or user_key(conn, cfg):
        return
    owner = cfg.postgres.os_user
    remote.ensure_dir(conn, DesiredDir(cfg.pgbackrest.config_path, owner, 0o750))
    remote.ensure_dir(conn, DesiredDir(standby.ssh_dir(cfg), owner, 0o700))
    say(f"  generating {standby.key_file(cfg)} on {conn.host} (pgBackRest's SSH to the other database host)")
    remote.run(conn, ["ssh-keygen", "-q", "-t", standby.KEY_TYPE, "-N", "", "-C",
                      f"pgbackrest@{cfg.hosts[0].name}", "-f", standby.key_file(cfg)], user=owner)


def _absent_on(cfg: StackConfig) -> list[DesiredFile]:
    """Files the host must not hold, read with the facts so that ``host.check`` names them (staging: the
    backup keys' file; its content is never read)."""
    if roles.holds_backup_keys(cfg.hosts[0]):
        return []
    return [DesiredFile(secrets_file(cfg), "", cfg.postgres.os_user, 0o600, secret=True)]


def live_settings(conn: Conn, cfg: StackConfig, found: Features) -> dict[str, LiveSetting]:
    """``pg_settings`` rows of the settings pgvault owns."""
    names = [s.name for s in postgres.owned_settings(cfg, found)]
    try:
        rows = remote.sql_json(conn, cfg, postgres.settings_query(names))
    except remote.RemoteError as exc:
        raise PgvaultError(
            f"cannot query PostgreSQL on {conn.host} (port {cfg.postgres.port}): {exc.message}",
            "start PostgreSQL, or correct pgvault:postgres.port and socket_dir",
            ExitCode.UNREACHABLE,
        ) from None
    return {r["name"]: LiveSetting(r["name"], r["setting"], r["context"], r["pending_restart"]) for r in rows}


#: ``pgbackrest info``'s stanza status "other": the repository could not be read (unreachable, refused, timed out)
UNREADABLE = 99


def stanza_status(conn: Conn, cfg: StackConfig) -> tuple[int, str]:
    """``(code, message)`` of the stanza in ``pgbackrest info`` (:data:`UNREADABLE` with pgBackRest's reason
    when the repository could not be read)."""
    result = remote.run(conn, pgbackrest.command(cfg, "info", "--output=json"), user=cfg.postgres.os_user, warn=True)
    if not result.ok:
        return UNREADABLE, pgbackrest.summarise_error(result.stdout + result.stderr)[1]
    try:
        info = pgbackrest.parse_info(result.stdout, cfg.pgbackrest.stanza)
    except ValueError as exc:  # no entry for the stanza: as good as missing
        return 1, str(exc)
    if info.status_code == UNREADABLE:
        return UNREADABLE, info.repo_message or info.status_message
    return info.status_code, info.status_message


def preflight(conn: Conn, cfg: StackConfig, targets: list, host_plan: HostPlan) -> None:
    """Before changing pgBackRest's files, prove the new ones open the repository (passphrase, keys, TLS).

    The candidate configuration goes to a private temporary folder on the host
    and ``pgbackrest info`` reads the repository with it; a refusal stops
    ``host.setup`` with the cause, and nothing on the host changes.
    """
    watched = {pgbackrest.config_file(cfg), secrets_file(cfg)}
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
        raise PgvaultError(refusal(result.stdout + result.stderr), "nothing on the host was changed", ExitCode.FAILED)
    try:
        found = pgbackrest.parse_info(result.stdout, cfg.pgbackrest.stanza)
    except ValueError:
        raise PgvaultError(f"pgBackRest's answer to the new settings could not be read: {result.stdout[:200]}",
                           "nothing on the host was changed", ExitCode.FAILED) from None
    # 0 ok, 1 a new repository (missing stanza path), 2 no valid backup yet, 6 a backup is running
    if found.status_code not in (0, 1, 2, 6):
        reason = found.repo_message or found.status_message
        raise PgvaultError(refusal(reason), "nothing on the host was changed", ExitCode.FAILED)


def apply(conn: Conn, cfg: StackConfig, host_plan: HostPlan, say) -> None:
    """Carry out ``host_plan``: install, write, restart or reload, stanza-create, check."""
    if host_plan.install:
        say(f"  installing pgbackrest on {conn.host}")
        remote.run(conn, remote.as_root(conn) + ["env", "DEBIAN_FRONTEND=noninteractive",
                                                  "apt-get", "install", "-y", "-q", "pgbackrest"])
    for change in host_plan.changes:
        if isinstance(change.target, DesiredDir):
            remote.ensure_dir(conn, change.target)
    if host_plan.keygen:
        generate_key(conn, cfg, say)
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
            argv = pgbackrest.command(cfg, name, *pgbackrest.primary_only(cfg, name))
            runs = []

            def done(argv=argv, runs=runs) -> bool:
                # right after the reload above, archive-push catching up (asynchronously) holds the archive lock
                # for a few seconds: wait for it rather than fail
                runs.append(remote.run(conn, argv, user=cfg.postgres.os_user, warn=True))
                return runs[-1].ok or pgbackrest.summarise_error(runs[-1].stdout + runs[-1].stderr)[0] != (
                    pgbackrest.LOCK_HELD)

            within(60, done, interval=2)
            result = runs[-1]
            if not result.ok:
                raise PgvaultError(pgbackrest.summarise_error(result.stdout + result.stderr)[1],
                                   "fix the cause and run fab host.setup again", ExitCode.FAILED)


def converge(conn: Conn, cfg: StackConfig, name: str, targets: list, host_plan: HostPlan, say) -> None:
    """Apply a non-empty plan: prove the new settings, change the host, then re-read it.

    :raises PgvaultError: (exit 4) when the host still differs afterwards
    """
    preflight(conn, cfg, targets, host_plan)
    apply(conn, cfg, host_plan, say)
    after = plan(cfg, targets, gather(conn, cfg, targets), build_id())
    if not after.settled or after.keygen:
        raise PgvaultError(f"host {name} still differs after setup", "run fab host.check to see how", ExitCode.DRIFT)


def survey(conn: Conn, cfg: StackConfig,
           keys: dict[str, standby.PeerKeys] | None = None) -> tuple[list, HostFacts, HostPlan]:
    """Desired state, facts and plan for one host: the first half of setup, all of check.

    :param keys: what the other database host presents (:func:`presented_keys`), for pgBackRest's SSH
    """
    found = features(conn, cfg)
    targets = desired_paths(cfg, repository_secrets(cfg), stack_path(cfg.name).read_text(), restore_secrets(cfg),
                            found, keys)
    facts = gather(conn, cfg, targets, found)
    return targets, facts, plan(cfg, targets, facts, build_id())


def peer_keys(c, cfg: StackConfig, opened: list, generate: bool, say) -> dict[str, standby.PeerKeys]:
    """The keys the primary and the standby present to each other, read before any host is planned.

    Missing user keys are generated first on the opened hosts (unless ``generate`` is off: a dry run), so that
    each host's ``authorized_keys`` is planned with its peer's key in one run.  A peer that is not among
    ``opened`` is reached only to read its keys; one that cannot be reached presents none (its lines in the
    files say so), which is what a failover onto the other host needs.
    """
    if generate:
        for _, conn, view in opened:
            generate_key(conn, view, say)
    found = presented_keys(opened)
    names = {entry.name for entry, _, _ in opened}
    for other in (cfg.primary, cfg.with_role("standby")):
        if other is None or other.name in names or not any(standby.peers(v) for _, _, v in opened):
            continue
        try:
            found |= presented_keys(ssh.connections(c, cfg, other.name))
        except PgvaultError as exc:
            say(f"  note: {exc.message}: its keys are left out")
    return found
