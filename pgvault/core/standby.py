"""The standby (pure): the SSH trust between the database hosts, how a standby is built, how one is promoted.

pgBackRest reads a standby's data files over its SSH protocol: the backup runs
on the primary, which starts ``pgbackrest`` on the standby as the PostgreSQL OS
user.  pgBackRest has no identity-file option, so each of the two hosts gets,
under ``<pgbackrest.config_path>/ssh/`` (0700): its own key (generated on the
host by ``host.setup``; the private half never leaves it), an ssh config that
names that key and a ``known_hosts`` pinning the peer's host key (strict
checking, batch mode), and a ``pgvault-ssh`` wrapper pgBackRest runs as
``cmd-ssh``.  The peer's public key goes into the OS user's
``authorized_keys`` (``pgbackrest.ssh_authorized_keys``) with ``restrict``.
Primary and standby trust each other both ways, so that after a failover the
new primary reaches the old one with no new keys.

The standby is built from the repository (``pgbackrest restore --type=standby``),
not with ``pg_basebackup``: it reads the bucket, not production, proves the
repository restores, and leaves a ``restore_command`` so that a standby that
fell behind catches up from the archive.  That is also why it streams without
a replication slot: a slot would keep WAL on the primary for as long as the
standby is away (a full disk is the primary's outage); the archive already
keeps every segment the standby may need.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgvault.core.errors import ExitCode, PgvaultError
from pgvault.core.schema import HostConfig, StackConfig

#: key type of the hosts' pgBackRest keys
KEY_TYPE = "ed25519"


def ssh_dir(cfg: StackConfig) -> str:
    """Folder of this host's pgBackRest SSH files (key, config, known_hosts, wrapper)."""
    return f"{cfg.pgbackrest.config_path}/ssh"


def key_file(cfg: StackConfig) -> str:
    """This host's private key for pgBackRest's SSH (its ``.pub`` beside it)."""
    return f"{ssh_dir(cfg)}/id_{KEY_TYPE}"


def ssh_command(cfg: StackConfig) -> str:
    """The wrapper pgBackRest runs instead of ``ssh`` (``cmd-ssh``)."""
    return f"{ssh_dir(cfg)}/pgvault-ssh"


def ssh_config_file(cfg: StackConfig) -> str:
    """The ssh config the wrapper gives ``ssh -F``."""
    return f"{ssh_dir(cfg)}/config"


def known_hosts_file(cfg: StackConfig) -> str:
    """The pinned host keys of the peers."""
    return f"{ssh_dir(cfg)}/known_hosts"


def peers(cfg: StackConfig) -> list[HostConfig]:
    """The hosts ``cfg.hosts[0]`` trusts for pgBackRest's SSH: the primary and the standby trust each other."""
    me = cfg.hosts[0]
    pair = [h for h in (cfg.primary, cfg.with_role("standby")) if h is not None]
    return [h for h in pair if h is not me] if me in pair and len(pair) == 2 else []


@dataclass(frozen=True)
class PeerKeys:
    """What one host presents to the other: its pgBackRest user's public key and its SSH host key."""

    name: str
    #: ``ssh-ed25519 AAAA... comment`` of the PostgreSQL OS user's key; ``None`` before it is generated
    user_key: str | None
    #: ``<type> <base64>`` of the host's SSH server key, as the control side saw it
    host_key: str | None


def known_host_name(host: HostConfig) -> str:
    """How ssh names ``host`` in ``known_hosts`` (``[address]:port`` off port 22)."""
    return host.address if host.ssh_port == 22 else f"[{host.address}]:{host.ssh_port}"


def wrapper_text(cfg: StackConfig, banner: str) -> str:
    """The ``cmd-ssh`` wrapper: ssh with this host's own config, whatever the user's ~/.ssh holds."""
    return f"#!/bin/sh\n{banner}\nexec ssh -F {ssh_config_file(cfg)} \"$@\"\n"


def ssh_config_text(cfg: StackConfig, banner: str) -> str:
    """The ssh config: this host's key only, the pinned host keys only, never a prompt."""
    lines = [banner, "Host *", f"    IdentityFile {key_file(cfg)}", "    IdentitiesOnly yes",
             f"    UserKnownHostsFile {known_hosts_file(cfg)}", "    GlobalKnownHostsFile /dev/null",
             "    StrictHostKeyChecking yes", "    BatchMode yes", "    ForwardAgent no"]
    return "\n".join(lines) + "\n"


def known_hosts_text(cfg: StackConfig, keys: dict[str, PeerKeys], banner: str) -> str:
    """``known_hosts``: each peer's host key (a peer whose key is unknown yet is left out, and said so)."""
    lines = [banner]
    for peer in peers(cfg):
        found = keys.get(peer.name)
        if found is None or not found.host_key:
            lines.append(f"# {peer.name}: host key not read yet")
        else:
            lines.append(f"{known_host_name(peer)} {found.host_key}")
    return "\n".join(lines) + "\n"


def authorized_keys_text(cfg: StackConfig, keys: dict[str, PeerKeys], banner: str) -> str:
    """``authorized_keys`` of the PostgreSQL OS user: each peer's pgBackRest key, ``restrict``ed."""
    lines = [banner]
    for peer in peers(cfg):
        found = keys.get(peer.name)
        if found is None or not found.user_key:
            lines.append(f"# {peer.name}: key not generated yet (fab host.setup generates it)")
        else:
            lines.append(f"restrict {found.user_key.strip()}")
    return "\n".join(lines) + "\n"


def primary_conninfo(standby: StackConfig, primary: StackConfig) -> str:
    """``primary_conninfo`` of the standby (``standby``/``primary`` are the stack as each host sees it).

    On one machine (the same address) the standby connects over the primary's Unix socket with peer
    authentication; across machines over TCP as the PostgreSQL OS user, whose password (if the primary's
    ``pg_hba.conf`` asks for one) comes from that user's ``~/.pgpass`` on the standby, never from here.
    """
    me, there = standby.hosts[0], primary.hosts[0]
    host = primary.postgres.socket_dir if me.address == there.address else there.address
    return (f"host={host} port={primary.postgres.port} user={primary.postgres.os_user} "
            f"application_name={me.name}")


def config_inside_data(cfg: StackConfig) -> bool:
    """True when the host's PostgreSQL configuration lives in its data directory (an ``initdb`` layout, the
    sandbox): a standby restored from the primary's backup then carries the primary's port and sockets."""
    data = cfg.postgres.data_dir.rstrip("/")
    return cfg.postgres.include_dir.startswith(data + "/")


def restore_options(standby: StackConfig, primary: StackConfig, delta: bool) -> list[str]:
    """Options of ``pgbackrest restore`` that build ``standby`` as a streaming standby of ``primary``.

    :param delta: rebuild over an existing data directory (``--delta``), only with the operator's ``--force``
    """
    options = ["--type=standby", "--archive-mode=preserve", f"--pg1-path={standby.postgres.data_dir}",
               f"--recovery-option=primary_conninfo={primary_conninfo(standby, primary)}",
               "--recovery-option=recovery_target_timeline=latest", "--log-level-console=info"]
    return options + own_address_options(standby) + (["--delta"] if delta else [])


def own_address_options(cfg: StackConfig) -> list[str]:
    """``--recovery-option``s that keep a cluster restored from another host's backup on ``cfg.hosts[0]``'s own
    port and socket folder, when its configuration comes with the data directory (:func:`config_inside_data`);
    none otherwise.  pgBackRest writes them into ``postgresql.auto.conf``, which outranks ``postgresql.conf``."""
    if not config_inside_data(cfg):
        return []
    return [f"--recovery-option=port={cfg.postgres.port}",
            f"--recovery-option=unix_socket_directories={cfg.postgres.socket_dir}"]


#: the state of a host's PostgreSQL that failover and host.check judge
ROLE_STATE_SQL = (
    "SELECT json_build_object('in_recovery', pg_is_in_recovery(), "
    "'timeline', (SELECT timeline_id FROM pg_control_checkpoint()), "
    "'replay_lsn', pg_last_wal_replay_lsn()::text, "
    "'streaming', (SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'));"
)


def role_drifts(cfg: StackConfig, state: dict | None, stopped: bool) -> list[str]:
    """How a host's PostgreSQL disagrees with its role in the stack (``host.check``).

    :param state: :data:`ROLE_STATE_SQL`'s answer; ``None`` when PostgreSQL is down
    :param stopped: pgBackRest is stopped on the host (``pgbackrest stop``: the fence)
    """
    me = cfg.hosts[0]
    out = []
    if me.role == "primary" and stopped:
        out.append(f"pgBackRest is stopped on {me.name} (fenced): the primary's WAL is not archived; if {me.name} "
                   "really is production, run pgbackrest start there (see the failover runbook)")
    if state is None:
        return out
    if me.role == "primary" and state.get("in_recovery"):
        out.append(f"the stack's primary {me.name} is in recovery (a standby): promote it, or swap the roles in "
                   f"{cfg.file} to match the hosts (the failover runbook)")
    if me.role == "standby" and not state.get("in_recovery"):
        out.append(f"{me.name} is not in recovery: a second primary; if it is the new primary (a failover), swap the "
                   f"roles in {cfg.file}; if it is an old primary left unfenced, fence it (fab host.fence --host "
                   f"{me.name})")
    if me.role == "standby" and state.get("in_recovery") and not state.get("streaming"):
        out.append(f"the standby {me.name} is not streaming from the primary (it replays the archive only)")
    return out


def control_fields(text: str) -> dict[str, str]:
    """``pg_controldata``'s output as ``{field: value}`` (it reads a stopped cluster too)."""
    return {k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in text.splitlines() if ":" in ln)}


#: the field of :func:`control_fields` that holds the cluster's timeline, running or stopped
CONTROL_TIMELINE = "Latest checkpoint's TimeLineID"


def build_refusal(target: StackConfig, primary: StackConfig, state: dict | None, primary_state: dict | None,
                  primary_fenced: bool = False, timeline: int | None = None) -> PgvaultError | None:
    """Why ``host.standby`` must not build ``target`` as a standby of ``primary``, even with ``--force``.

    Checked before anything changes, and before the ``--force`` a cluster in the way suggests, so that neither
    the build nor its messages ever reach production.  After a failover with the roles not swapped yet, the
    stack's standby is the new production even while it is down: a host running out of recovery is never
    rebuilt; nor a host whose cluster is on a newer timeline than the stack's primary (it was promoted); nor is a
    standby built while the stack's primary is not a running primary to stream from, or is fenced (pgBackRest
    stopped there: the old primary, which may have come back out of recovery after a reboot).

    :param state: :data:`ROLE_STATE_SQL`'s answer on ``target``; ``None`` when its PostgreSQL is down
    :param primary_state: the same on the stack's primary
    :param primary_fenced: pgBackRest is stopped on the stack's primary (the fence)
    :param timeline: the timeline of ``target``'s cluster (running, or stopped: ``pg_controldata``); ``None``
        when it holds none
    """
    name, there = target.hosts[0].name, primary.hosts[0].name
    swap = (f"after a failover, swap the roles in {target.file} first ({name}: role primary, the old primary: "
            "role standby; the failover runbook, step 2)")
    if state is not None and not state.get("in_recovery"):
        if primary_state is not None and not primary_state.get("in_recovery") and not primary_fenced:
            return PgvaultError(f"{name} and {there} both run as primaries (out of recovery): host.standby never "
                                "rebuilds a running primary", "see fab host.check, and fence the one that is not "
                                "production (fab host.fence --host <it>) before rebuilding it", ExitCode.USAGE)
        return PgvaultError(f"{name} runs as a primary (out of recovery): host.standby never rebuilds a running "
                            "primary", swap, ExitCode.USAGE)
    ahead = primary_state is not None and None not in (timeline, primary_state.get("timeline"))
    if ahead and timeline > int(primary_state["timeline"]):
        return PgvaultError(f"{name}'s cluster is on timeline {timeline}, newer than the stack's primary {there}'s "
                            f"({primary_state['timeline']}): {name} was promoted, and host.standby never rebuilds "
                            "the newer production", swap, ExitCode.USAGE)
    if primary_fenced:
        return PgvaultError(f"the stack's primary {there} is fenced (pgBackRest stopped there): after a failover it "
                            "is the old primary, not one to stream from", swap, ExitCode.USAGE)
    if primary_state is None or primary_state.get("in_recovery"):
        why = "down" if primary_state is None else "in recovery"
        return PgvaultError(f"the stack's primary {there} is {why}: a standby streams from a running primary",
                            f"start {there}, or {swap}", ExitCode.USAGE)
    return None
