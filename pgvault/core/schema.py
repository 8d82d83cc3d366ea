"""The pgvault settings of one stack, as typed, frozen, validated objects.

This is the definition of record (pgBackRest's ``config.yaml``, Patroni's
schema): every key a stack file may hold under ``pgvault:`` is declared here
once, with its type, default, limits and a description that
``ops.configdoc`` turns into ``docs/configuration.md``.  Unknown keys, wrong
types and impossible values are refused (``extra="forbid"``, strict types);
``pgvault.core.config`` turns the refusal into one line naming the file, the key and
the fix.

Validators raise ``ValueError("<what>; <fix>")``: the part after ``; `` is
the fix shown to the operator.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator, model_validator

#: an identifier's pattern (:data:`Name`; the policy pack builds its stanza match from it)
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"
_PATH = r"^/[A-Za-z0-9._/@+-]*$"

#: an identifier (stanza, cluster, host name, OS user): letters, digits, ``_`` and ``-``
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
#: a PostgreSQL database name pgvault accepts: lowercase identifier
DbName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
#: an absolute path without spaces, quotes or shell metacharacters
AbsPath = Annotated[str, StringConstraints(pattern=_PATH, max_length=200)]
#: a DNS name or an IPv4 address
HostName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")]
Port = Annotated[int, Field(ge=1, le=65535)]
#: an S3 key prefix without leading or trailing slash
Prefix = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def _no_dotdot(cls, path: str | None) -> str | None:
    if path is not None and ("/../" in path + "/" or "//" in path):
        raise ValueError(f"path {path!r} has '..' or '//'; write a normalised absolute path")
    return path


#: what a host is for: production (``primary``), a streaming replica backups may read (``standby``), a
#: restore target that is not production (``staging``)
Role = Literal["primary", "standby", "staging"]
#: the order tasks that touch several hosts take them in (a standby is set up after its primary)
ROLE_ORDER: tuple[Role, ...] = ("primary", "standby", "staging")


class HostPostgres(_Model):
    """Where this host's PostgreSQL differs from ``pgvault:postgres`` (hosts sharing one machine, as in the sandbox)."""

    port: Port | None = Field(None, description="PostgreSQL port on this host")
    data_dir: AbsPath | None = Field(None, description="data directory on this host")
    include_dir: AbsPath | None = Field(None, description="include directory on this host")
    socket_dir: AbsPath | None = Field(None, description="Unix socket directory on this host")
    scratch_dir: AbsPath | None = Field(None, description="scratch clusters on this host")
    log_file: AbsPath | None = Field(None, description="server log file on this host")

    _paths = field_validator("data_dir", "include_dir", "socket_dir", "scratch_dir", "log_file")(_no_dotdot)


class HostPgBackRest(_Model):
    """Where this host's pgBackRest files differ from ``pgvault:pgbackrest``."""

    config_path: AbsPath | None = Field(None, description="pgBackRest `--config-path` on this host")
    log_path: AbsPath | None = Field(None, description="pgBackRest log directory on this host")
    spool_path: AbsPath | None = Field(None, description="spool directory on this host")
    lock_path: AbsPath | None = Field(None, description="lock directory on this host")
    ssh_authorized_keys: AbsPath | None = Field(None, description="the PostgreSQL OS user's authorized_keys on this "
                                                "host")

    _paths = field_validator("config_path", "log_path", "spool_path", "lock_path", "ssh_authorized_keys")(_no_dotdot)


class HostJobs(_Model):
    """Where this host's ``pgvault-job`` files differ from ``pgvault:jobs``."""

    install_dir: AbsPath | None = Field(None, description="pgvault's virtualenv on this host")
    config_dir: AbsPath | None = Field(None, description="the stack file's copy on this host")
    state_dir: AbsPath | None = Field(None, description="job records on this host")
    log_dir: AbsPath | None = Field(None, description="job log on this host")
    cron_file: AbsPath | None = Field(None, description="the cron file on this host")

    _paths = field_validator("install_dir", "config_dir", "state_dir", "log_dir", "cron_file")(_no_dotdot)


class HostConfig(_Model):
    """A database host pgvault manages over SSH."""

    name: Name = Field(description="short name used in messages, metrics and `--host`")
    address: HostName = Field(description="DNS name or IP address that SSH connects to")
    ssh_port: Port = Field(22, description="SSH port")
    ssh_user: Name | None = Field(None, description="SSH login user (default: your local user)")
    identity_file: AbsPath | None = Field(
        None, description="private key file for SSH (default: your SSH agent and keys)")
    role: Role = Field(
        "primary", description="`primary` (production: one per stack), `standby` (a streaming replica backups "
        "read from) or `staging` (restores and drills land there, never production)")
    postgres: HostPostgres | None = Field(None, description="this host's own PostgreSQL paths and port, if any")
    pgbackrest: HostPgBackRest | None = Field(None, description="this host's own pgBackRest paths, if any")
    jobs: HostJobs | None = Field(None, description="this host's own pgvault-job paths, if any")

    _paths = field_validator("identity_file")(_no_dotdot)


class PostgresConfig(_Model):
    """The PostgreSQL cluster on the DB host (Debian layout defaults)."""

    version: int = Field(15, ge=12, le=17, description="PostgreSQL major version")
    cluster: Name = Field("main", description="Debian cluster name")
    data_dir: AbsPath = Field(None, description="data directory (default /var/lib/postgresql/<version>/<cluster>)")
    include_dir: AbsPath = Field(
        None,
        description="directory PostgreSQL includes, where pgvault writes `pgvault.conf` "
        "(default /etc/postgresql/<version>/<cluster>/conf.d)",
    )
    bin_dir: AbsPath = Field(None, description="PostgreSQL binaries (default /usr/lib/postgresql/<version>/bin)")
    port: Port = Field(5432, description="PostgreSQL port")
    socket_dir: AbsPath = Field("/var/run/postgresql", description="Unix socket directory")
    os_user: Name = Field("postgres", description="OS user that owns and runs the cluster")
    control: Literal["pg_ctlcluster", "pg_ctl", "systemd"] = Field(
        "pg_ctlcluster", description="how pgvault restarts the cluster when a setting needs it"
    )
    log_file: AbsPath | None = Field(None, description="server log file when `control` is `pg_ctl`")
    databases: tuple[DbName, ...] = Field(
        ("postgres",), min_length=1, description="databases that logical dumps and checks cover"
    )
    scratch_dir: AbsPath = Field(
        "/var/lib/pgvault/scratch", description="where restores and drills create scratch clusters"
    )
    checkpoint_timeout_seconds: int | None = Field(
        21600, ge=30, le=86400,
        description="PostgreSQL's `checkpoint_timeout`, set in `pgvault.conf` (`null`: leave postgresql.conf's). "
        "After each checkpoint the first change to every page writes the whole page into WAL, which is most of "
        "what the archive stores (docs/architecture.md, Cost): 6 hours instead of PostgreSQL's 5 minutes. A "
        "crash replays the WAL written since the last checkpoint, which `max_wal_size` still bounds "
        "(`max_wal_size_mb`, sized from the RTO target), so the worst case does not grow; on a quiet database "
        "the typical one replays hours of WAL instead of minutes (seconds at the measured replay rate)",
    )
    max_wal_size_mb: int | None = Field(
        None, ge=64, le=1024 * 1024,
        description="PostgreSQL's `max_wal_size` in MB, set in `pgvault.conf`: a checkpoint starts when about "
        "half of it was written since the last one, so a crash replays at most about this much WAL, and `pg_wal` "
        "may hold this much. Default: what replays within a quarter of `targets.rto_seconds` at the 16 MB/s the "
        "hourly rule assumes, at most 4096 (3600 s: 4096)",
    )

    @model_validator(mode="before")
    @classmethod
    def _debian_defaults(cls, data):
        if isinstance(data, dict):
            data = dict(data)
            version = data.get("version", 15)
            cluster = data.get("cluster", "main")
            data.setdefault("data_dir", f"/var/lib/postgresql/{version}/{cluster}")
            data.setdefault("include_dir", f"/etc/postgresql/{version}/{cluster}/conf.d")
            data.setdefault("bin_dir", f"/usr/lib/postgresql/{version}/bin")
        return data

    _paths = field_validator("data_dir", "include_dir", "bin_dir", "socket_dir", "log_file", "scratch_dir")(_no_dotdot)

    @model_validator(mode="after")
    def _control_needs_log(self):
        if self.control == "pg_ctl" and self.log_file is None:
            raise ValueError("control 'pg_ctl' needs log_file; set pgvault:postgres.log_file")
        if self.scratch_dir.rstrip("/") == self.data_dir.rstrip("/") or self.scratch_dir.startswith(
            self.data_dir.rstrip("/") + "/"
        ):
            raise ValueError("scratch_dir is inside data_dir; put scratch clusters outside the data directory")
        return self


class PgBackRestConfig(_Model):
    """pgBackRest on the DB host. Debian 12 ships 2.45: block incremental stays off (beta there)."""

    stanza: Name = Field("main", description="pgBackRest stanza name")
    config_path: AbsPath = Field(
        "/etc/pgbackrest", description="pgBackRest `--config-path`: holds pgbackrest.conf and conf.d/"
    )
    log_path: AbsPath = Field("/var/log/pgbackrest", description="pgBackRest log directory")
    spool_path: AbsPath = Field("/var/spool/pgbackrest", description="async archiving spool directory")
    lock_path: AbsPath = Field("/tmp/pgbackrest", description="pgBackRest lock directory")
    ssh_authorized_keys: AbsPath = Field(
        "/var/lib/postgresql/.ssh/authorized_keys",
        description="the PostgreSQL OS user's `authorized_keys`: with a standby, pgvault owns this file and puts the "
        "other database host's pgBackRest key in it (`restrict`ed); its folder gets mode 0700")
    process_max: int = Field(2, ge=1, le=32, description="parallel processes for restores and async archiving")
    backup_process_max: int = Field(
        1, ge=1, le=32, description="parallel processes for backups (`[global:backup]`): one keeps the database's "
        "throughput during the nightly full on a small host (see bench/RESULTS.md)"
    )
    compress_type: Literal["zst", "lz4", "gz", "bz2"] = Field("zst", description="compression of backups and WAL")
    compress_level: int = Field(3, ge=0, le=19, description="compression level for `compress_type`")
    archive_async: bool = Field(True, description="asynchronous, parallel WAL archiving through the spool")
    io_timeout: int = Field(60, ge=5, le=3600, description="seconds pgBackRest waits on a stalled S3 request")
    backup_priority: Literal["normal", "low"] = Field(
        "low", description="CPU and I/O priority of backups: `low` runs them under `nice -n 10 ionice -c 2 -n 7` "
        "so that the database keeps its share of the host (see bench/RESULTS.md)"
    )

    _paths = field_validator("config_path", "log_path", "spool_path", "lock_path", "ssh_authorized_keys")(_no_dotdot)

    @model_validator(mode="after")
    def _level_in_range(self):
        top = {"zst": 19, "lz4": 12, "gz": 9, "bz2": 9}[self.compress_type]
        if self.compress_level > top:
            raise ValueError(f"compress_level {self.compress_level} is above {top} for {self.compress_type}; lower it")
        return self


def _aws_region(cls, v: str | None) -> str | None:
    if v is not None and not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", v):
        raise ValueError(f"region {v!r} is not an AWS-style region; write it like eu-west-1")
    return v


class RepositoryConfig(_Model):
    """The off-site S3 repository: pgBackRest's repo1, logical dumps and drill results."""

    bucket: str = Field(description="S3 bucket name (lowercase, digits and '-', no dots)")
    region: str = Field(description="bucket region, e.g. eu-west-1")
    endpoint: str | None = Field(None, description="S3 endpoint `host[:port]` without scheme (default AWS)")
    path: AbsPath = Field("/pgbackrest", description="pgBackRest repository path inside the bucket")
    uri_style: Literal["host", "path"] = Field("host", description="S3 addressing style (`path` for MinIO/SeaweedFS)")
    ca_file: AbsPath | None = Field(None, description="CA bundle that signs the endpoint's certificate")
    verify_tls: bool = Field(True, description="verify the endpoint's TLS certificate (only a sandbox may say false)")
    credentials: Literal["keys", "instance-role"] = Field(
        "keys", description="`keys`: access key from the secret sources; `instance-role`: the host's IAM role"
    )
    logical_prefix: Prefix = Field("logical", description="key prefix of logical dumps")
    drills_prefix: Prefix = Field("drills", description="key prefix of drill results")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, v: str) -> str:
        if "." in v:
            raise ValueError(
                f"bucket {v!r} has a dot, which breaks TLS with virtual-host addressing; choose a name without dots"
            )
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", v):
            raise ValueError(f"bucket {v!r} is not a valid S3 name; use 3-63 lowercase letters, digits and '-'")
        return v

    _region = field_validator("region")(_aws_region)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if "://" in v:
            raise ValueError(f"endpoint {v!r} has a scheme; write host[:port] only (pgBackRest always uses TLS)")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}(:\d{1,5})?", v):
            raise ValueError(f"endpoint {v!r} is not host[:port]; write e.g. s3.eu-west-1.amazonaws.com")
        return v

    _paths = field_validator("path", "ca_file")(_no_dotdot)

    @model_validator(mode="after")
    def _path_is_a_prefix(self):
        if self.path.strip("/") == "":
            raise ValueError("repository path '/' leaves no prefix for lifecycle rules; use e.g. /pgbackrest")
        top = self.path.strip("/").split("/")[0]
        for other in (self.logical_prefix, self.drills_prefix):
            if other == top:
                raise ValueError(f"prefix {other!r} is the pgBackRest repository path; choose another prefix")
        return self

    @property
    def repo_prefix(self) -> str:
        """The S3 key prefix of the pgBackRest repository, e.g. ``pgbackrest/``."""
        return self.path.strip("/") + "/"

    @property
    def endpoint_host(self) -> str:
        """The endpoint host pgBackRest and boto3 connect to."""
        return (self.endpoint or f"s3.{self.region}.amazonaws.com").split(":")[0]

    @property
    def endpoint_port(self) -> int:
        """The endpoint's TLS port."""
        ep = self.endpoint or ""
        return int(ep.split(":")[1]) if ":" in ep else 443

    @property
    def endpoint_url(self) -> str:
        """The HTTPS URL of the endpoint, for boto3."""
        return f"https://{self.endpoint_host}:{self.endpoint_port}"


def _cron(cls, v: str) -> str:
    if len(v.split()) != 5 or not croniter.is_valid(v):
        raise ValueError(f"{v!r} is not a 5-field cron expression; write e.g. '0 2 * * *'")
    return v


#: keys of ``pgvault:schedule`` that are rules, not cron expressions (every other key times one job)
SCHEDULE_RULES = ("incremental_rule",)


class ScheduleConfig(_Model):
    """When the scheduled jobs run, as 5-field cron expressions in UTC."""

    full: str = Field("0 2 * * *", description="full backup")
    incremental: str = Field("0 * * * *", description="incremental backup")
    logical: str = Field("30 2 * * *", description="logical dumps of `postgres.databases`")
    expire: str = Field("45 3 * * *", description="retention job (`backup.expire`)")
    verify: str = Field("15 5 * * *", description="repository check: every set `backup.info` lists has its files")
    drill: str = Field("0 4 * * 0", description="restore drill")
    report: str = Field("0 7 * * *", description="daily status email")
    canary: str = Field("* * * * *", description="canary row for drills and RPO checks")
    monitor: str = Field("*/5 * * * *", description="metrics and status publication (`monitor.publish`)")
    incremental_rule: Literal["adaptive", "always"] = Field(
        "adaptive", description="`adaptive`: the hourly job takes an incremental only when the WAL written since the "
        "last backup would take longer to replay than half the RTO target at the replay rate the drills measured, "
        "else it marks a named restore point and proves its WAL is archived; `always`: an incremental every time")

    @field_validator("*")
    @classmethod
    def _valid(cls, v, info):
        return v if info.field_name in SCHEDULE_RULES else _cron(cls, v)


class JobsConfig(_Model):
    """``pgvault-job`` on the DB host: where ``host.setup`` installs it and where it keeps state."""

    install_dir: AbsPath = Field("/opt/pgvault", description="virtualenv holding pgvault on the host")
    python: AbsPath = Field("/usr/bin/python3", description="the host's Python that creates that virtualenv")
    config_dir: AbsPath = Field("/etc/pgvault", description="where the host keeps its copy of the stack file")
    state_dir: AbsPath = Field("/var/lib/pgvault", description="job records (`jobs.json`) and job locks")
    log_dir: AbsPath = Field("/var/log/pgvault", description="`pgvault-job.log`, rotated at 5 MB, 5 kept")
    cron_file: AbsPath | None = Field(
        None, description="the cron file pgvault owns (default /etc/cron.d/pgvault-<stanza>)"
    )

    _paths = field_validator("install_dir", "python", "config_dir", "state_dir", "log_dir", "cron_file")(_no_dotdot)


class RetentionConfig(_Model):
    """How long backups are kept (pgBackRest expire for physical, S3 lifecycle for logical)."""

    daily_days: int = Field(30, ge=1, le=3650, description="daily backups and point-in-time recovery window")
    weekly_days: int = Field(90, ge=1, le=3650, description="one backup per week kept this long")
    monthly_days: int = Field(365, ge=1, le=3650, description="one backup per month kept this long")
    incremental_days: int = Field(7, ge=1, le=3650, description="incremental backups kept this long")
    weekly_day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = Field(
        "sunday", description="the day whose logical dump is tagged weekly"
    )

    @model_validator(mode="after")
    def _tiers_grow(self):
        if not self.incremental_days <= self.daily_days <= self.weekly_days <= self.monthly_days:
            raise ValueError(
                "retention tiers must grow: incremental_days <= daily_days <= weekly_days <= monthly_days; "
                "reorder the numbers"
            )
        return self


class TargetsConfig(_Model):
    """Recovery objectives the schedule, archiving and alarms are held against."""

    rpo_seconds: int = Field(300, ge=20, le=86400, description="most data, in seconds, a disaster may lose")
    rto_seconds: int = Field(3600, ge=60, le=7 * 86400, description="longest time to a usable restored database")
    monthly_budget: float | None = Field(
        None, gt=0, description="off-site storage budget for 30 days, in `prices.currency`: the forecast above it "
        "turns the `storage-cost` check amber and fires the `storage-cost` alarm (unset: no budget)")


#: the date of the default price table: AWS S3 list prices of us-east-1 (N. Virginia), first 50 TB tier
LIST_PRICES_DATE = "2025-06-01"


Price = Annotated[float, Field(ge=0)]


class ClassPrices(_Model):
    """One price per storage class pgvault uses (frozen and hashable, like every part of the stack)."""

    STANDARD: Price = Field(0.0, description="S3 Standard")
    STANDARD_IA: Price = Field(0.0, description="S3 Standard-Infrequent Access")
    GLACIER_IR: Price = Field(0.0, description="S3 Glacier Instant Retrieval")

    def of(self, storage_class: str) -> float:
        """The price of ``storage_class`` (0 for a class pgvault does not use)."""
        return getattr(self, storage_class, 0.0) if storage_class in type(self).model_fields else 0.0


class PricesConfig(_Model):
    """The price table of the storage forecast (defaults: AWS S3 list prices, us-east-1, on ``date``)."""

    date: str = Field(LIST_PRICES_DATE, description="when these prices were read (shown beside every forecast)")
    currency: str = Field("USD", description="currency of the prices and of `targets.monthly_budget`")
    storage_gb_month: ClassPrices = Field(
        ClassPrices(STANDARD=0.023, STANDARD_IA=0.0125, GLACIER_IR=0.004),
        description="storage price per GB-month by storage class")
    put_per_1000: ClassPrices = Field(
        ClassPrices(STANDARD=0.005, STANDARD_IA=0.01, GLACIER_IR=0.02),
        description="PUT, COPY, POST and LIST requests per 1,000 by storage class (every WAL segment is a PUT)")
    transition_per_1000: ClassPrices = Field(
        ClassPrices(STANDARD_IA=0.01, GLACIER_IR=0.02),
        description="lifecycle transition requests per 1,000, by the class moved into")


def _email(cls, v: tuple[str, ...]) -> tuple[str, ...]:
    for address in v:
        if not re.fullmatch(r"[^@\s;,'\"<>]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", address):
            raise ValueError(f"{address!r} is not an e-mail address; write name@example.com")
    return v


class MonitoringConfig(_Model):
    """Where the monitoring writes its figures on the DB host."""

    textfile: AbsPath | None = Field(
        None, description="Prometheus textfile-collector file written by `monitor.publish` "
        "(default <jobs.state_dir>/textfile/pgvault.prom)",
    )
    cloudwatch: bool = Field(True, description="send the metrics to CloudWatch")

    _paths = field_validator("textfile")(_no_dotdot)


class StorageConfig(_Model):
    """The bucket's protection and lifecycle (the Pulumi program applies it)."""

    protection_days: int = Field(
        30, ge=1, le=3650,
        description="noncurrent object versions and delete markers are kept this long (the undo window)",
    )
    standard_ia_days: int | None = Field(
        30, ge=30, le=3650, description="move objects to STANDARD_IA after this many days (unset: never)"
    )
    glacier_ir_days: int | None = Field(
        90, ge=60, le=3650, description="move objects to GLACIER_IR after this many days (unset: never)"
    )
    object_lock: bool = Field(False, description="S3 Object Lock with a default GOVERNANCE retention")
    object_lock_days: int = Field(7, ge=1, le=3650, description="default GOVERNANCE retention when object_lock is on")
    force_destroy: bool = Field(False, description="let `pulumi destroy` delete a non-empty bucket (sandbox only)")
    replica_region: str | None = Field(
        None, description="keep a second copy of the repository and the logical dumps in this region: S3 replication "
        "(deletions included) to the bucket `<bucket>-replica`, with its own KMS key, versioning, the same lifecycle "
        "and, when object_lock is on, the same Object Lock; alarms on replication lag and failures (unset: no copy)"
    )
    access_logs: bool = Field(
        False, description="log every request to the bucket (S3 server access logging) into the bucket "
        "`<bucket>-access-logs`, kept as long as the longest retention tier (retention.monthly_days)"
    )

    _replica_region = field_validator("replica_region")(_aws_region)

    @model_validator(mode="after")
    def _consistent(self):
        if self.object_lock and self.object_lock_days >= self.protection_days:
            raise ValueError(
                f"object_lock_days {self.object_lock_days} is not shorter than protection_days {self.protection_days}, "
                "so locked versions outlive their expiry; lower object_lock_days or raise protection_days"
            )
        if self.standard_ia_days and self.glacier_ir_days and self.glacier_ir_days < self.standard_ia_days + 30:
            raise ValueError(
                "glacier_ir_days must be at least 30 days after standard_ia_days (S3 bills 30 days of IA); raise it"
            )
        return self


class AccessConfig(_Model):
    """Who may touch the bucket (the Pulumi program creates these principals)."""

    iam_user: bool = Field(
        False, description="also create IAM users with access keys for a DB host outside AWS: the backup user "
        "and a restore user for its drills and scratch restores (read only, but for putting drill results)"
    )
    break_glass_principals: tuple[str, ...] = Field(
        (), description="IAM ARNs that may assume the break-glass role (default: the account, with MFA)"
    )
    restore_principals: tuple[str, ...] = Field(
        (), description="IAM ARNs of operators (users, roles, account root) that may assume the restore role (read "
        "only, but for putting drill results), e.g. on-call's role; hosts use it through its instance profile"
    )

    @field_validator("break_glass_principals", "restore_principals")
    @classmethod
    def _arns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for arn in v:
            if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:(root|user/[\w+=,.@/-]+|role/[\w+=,.@/-]+)", arn):
                raise ValueError(f"{arn!r} is not an IAM user, role or account root ARN; "
                                 "write arn:aws:iam::<id>:role/<name>")
        return v


class SmtpConfig(_Model):
    """An SMTP relay for failure alerts and the daily report (password: ``$PGVAULT_SMTP_PASSWORD``)."""

    host: HostName = Field(description="SMTP server")
    port: Port = Field(587, description="SMTP port")
    tls: Literal["starttls", "implicit", "none"] = Field(
        "starttls", description="`starttls` (587), `implicit` (465); `none` only in a sandbox"
    )
    sender: str = Field(description="From: address")
    recipients: tuple[str, ...] = Field(min_length=1, description="To: addresses")
    username: str | None = Field(None, description="login user, when the relay needs one")

    @field_validator("sender")
    @classmethod
    def _sender(cls, v: str) -> str:
        return _email(cls, (v,))[0]

    _recipients = field_validator("recipients")(_email)


class AlertsConfig(_Model):
    """Where alerts go."""

    emails: tuple[str, ...] = Field((), description="e-mail addresses subscribed to the alert topic")
    sns: bool = Field(True, description="publish failure alerts and the daily report to the stack's SNS topic")
    smtp: SmtpConfig | None = Field(None, description="also send them by SMTP")
    runbook_base_url: str | None = Field(
        None, pattern=r"^https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~%/+-]*)?$",
        description="where on-call opens this repository in a browser, e.g. "
        "`https://git.example.com/acme/pgvault/-/blob/main/`: alerts, the e-mail and the dashboard then link "
        "each runbook section by URL (default: the path in the repository)")

    _emails = field_validator("emails")(_email)


class SecretsConfig(_Model):
    """Where pgvault finds secrets when they are not in the environment."""

    file: AbsPath | None = Field(
        None, description="a KEY=value file, mode 0600 or 0640, read when a secret is not in the environment"
    )
    ssm_passphrase: bool = Field(
        False, description="read the repository passphrase from the SSM parameter the Pulumi program creates "
        "(`/pgvault/<stack>/<stanza>/repo-cipher-pass`) when it is not in the environment or the file",
    )


class SandboxConfig(_Model):
    """Only in a sandbox stack: local stand-ins for the host, S3 and AWS."""

    dir: AbsPath = Field(description="the folder holding all sandbox state")
    moto_port: Port = Field(description="port of moto_server (CloudWatch, SNS, SQS stand-in)")


class StackConfig(_Model):
    """All pgvault settings of one stack (``pgvault:<section>`` keys)."""

    #: the stack itself when this is a host's view of it (:meth:`on`), so that a view's view is taken from it
    _base: StackConfig | None = PrivateAttr(None)

    name: str
    file: str
    hosts: tuple[HostConfig, ...] = Field(min_length=1, description="the DB hosts")
    postgres: PostgresConfig = Field(default_factory=PostgresConfig)
    pgbackrest: PgBackRestConfig = Field(default_factory=PgBackRestConfig)
    repository: RepositoryConfig
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    jobs: JobsConfig = Field(default_factory=JobsConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    targets: TargetsConfig = Field(default_factory=TargetsConfig)
    prices: PricesConfig = Field(default_factory=PricesConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    access: AccessConfig = Field(default_factory=AccessConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)
    sandbox: SandboxConfig | None = None

    @model_validator(mode="after")
    def _consistent(self):
        names = [h.name for h in self.hosts]
        if len(set(names)) != len(names):
            raise ValueError("two hosts share a name; give each host a unique name")
        places = [(h.address, h.ssh_port) for h in self.hosts]
        if len(set(places)) != len(places):
            raise ValueError("two hosts share an address and port; list each host once")
        roles = [h.role for h in self.hosts]
        if roles.count("primary") != 1:
            raise ValueError(f"the stack has {roles.count('primary')} primary hosts; give exactly one host "
                             "role: primary (the others standby or staging)")
        for role in ("standby", "staging"):
            if roles.count(role) > 1:
                raise ValueError(f"the stack has {roles.count(role)} {role} hosts; keep one")
        self._separate_places()
        if self.sandbox is None and self.storage.force_destroy:
            raise ValueError(
                "storage.force_destroy is true outside a sandbox, letting pulumi destroy delete every backup; remove it"
            )
        if self.sandbox is None and self.alerts.smtp is not None and self.alerts.smtp.tls == "none":
            raise ValueError("alerts.smtp.tls is none outside a sandbox; use starttls or implicit")
        if self.sandbox is None and not self.repository.verify_tls:
            raise ValueError(
                "repository.verify_tls is false outside a sandbox; keep it true and set repository.ca_file instead"
            )
        return self

    def _separate_places(self) -> None:
        """Hosts on one machine (the same address) must not share a data directory, port or pgvault's state."""
        seen: dict[tuple, str] = {}
        for host in self.hosts:
            view = self.on(host.name)
            for key, value in (("postgres.data_dir", view.postgres.data_dir), ("postgres.port", view.postgres.port),
                               ("postgres.scratch_dir", view.postgres.scratch_dir),
                               ("pgbackrest.lock_path", view.pgbackrest.lock_path),
                               ("pgbackrest.spool_path", view.pgbackrest.spool_path),
                               ("jobs.state_dir", view.jobs.state_dir)):
                other = seen.setdefault((host.address, key, value), host.name)
                if other != host.name:
                    raise ValueError(f"hosts {other} and {host.name} share {key} {value} on {host.address}; "
                                     f"give {host.name} its own under hosts[].{key.split('.')[0]}")

    @property
    def is_sandbox(self) -> bool:
        """True for a sandbox stack (local stand-ins, never real data)."""
        return self.sandbox is not None

    @property
    def primary(self) -> HostConfig:
        """The production host (exactly one per stack)."""
        return next(h for h in self.hosts if h.role == "primary")

    def with_role(self, role: Role) -> HostConfig | None:
        """The host of that role, or None when the stack has none."""
        return next((h for h in self.hosts if h.role == role), None)

    def ordered_hosts(self) -> tuple[HostConfig, ...]:
        """The hosts in the order work across hosts takes them: primary, standby, staging."""
        return tuple(sorted(self.hosts, key=lambda h: ROLE_ORDER.index(h.role)))

    def on(self, name: str) -> StackConfig:
        """The stack as host ``name`` sees it: its own paths and port merged in, that host first in ``hosts``.

        Every action takes one ``StackConfig`` and acts on ``hosts[0]``'s paths; giving it this view is how a
        task points the same action at a standby or a staging host.
        """
        base = self._base or self  # a view's view starts from the stack itself, not from the first view's paths
        host = next(h for h in base.hosts if h.name == name)
        if host is base.hosts[0] and not (host.postgres or host.pgbackrest or host.jobs):
            return base
        merged = {
            "hosts": (host, *(h for h in base.hosts if h is not host)),
            "postgres": _overlay(base.postgres, host.postgres),
            "pgbackrest": _overlay(base.pgbackrest, host.pgbackrest),
            "jobs": _overlay(base.jobs, host.jobs),
        }
        view = base.model_copy(update=merged)
        view._base = base
        return view


def _overlay(section: _Model, override: _Model | None) -> _Model:
    """``section`` with the values ``override`` sets (validated again as a whole)."""
    if override is None:
        return section
    changes = {key: value for key, value in override.model_dump().items() if value is not None}
    return type(section).model_validate({**section.model_dump(), **changes}) if changes else section
