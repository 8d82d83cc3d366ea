"""The metrics pgvault publishes: namespace, names, units, dimensions.

One definition that both sides import: the monitoring publishes these metrics and
``infra`` builds its alarms and dashboard from them, so an alarm can never
watch a metric nobody publishes.  Names of figures that overlap the widely
used pgbackrest_exporter are given in :data:`EXPORTER_NAMES`.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "pgvault"


@dataclass(frozen=True)
class Metric:
    """A CloudWatch metric pgvault publishes."""

    name: str
    unit: str
    description: str

    @property
    def prometheus_name(self) -> str:
        """The name in the Prometheus textfile: ``pgvault_`` and the CloudWatch name in snake case."""
        return "pgvault_" + "".join("_" + c.lower() if c.isupper() else c for c in self.name).lstrip("_")


LAST_FULL_BACKUP_AGE = Metric("LastFullBackupAgeSeconds", "Seconds", "age of the newest valid full backup")
LAST_BACKUP_AGE = Metric("LastBackupAgeSeconds", "Seconds", "age of the newest valid backup of any type")
LAST_LOGICAL_DUMP_AGE = Metric("LastLogicalDumpAgeSeconds", "Seconds", "age of the newest logical dump")
WAL_ARCHIVE_LAG = Metric("WalArchiveLagSeconds", "Seconds",
                         "how long finished WAL has waited to reach the bucket (0 when none waits)")
JOB_FAILURES = Metric("JobFailures", "Count", "scheduled jobs that failed (0 or 1 per run)")
LAST_DRILL_AGE = Metric("LastDrillAgeSeconds", "Seconds", "age of the newest restore drill")
DRILL_FAILED = Metric("DrillFailed", "Count", "1 when the newest drill failed a check")
DRILL_RTO = Metric("DrillRtoSeconds", "Seconds", "measured restore time of the newest drill")
DRILL_RECOVERY_LAG = Metric("DrillRecoveryLagSeconds", "Seconds", "target minus recovery point reached by the drill")
BACKUP_SIZE = Metric("LastBackupSizeBytes", "Bytes", "database size in the newest backup")
REPOSITORY_SIZE = Metric("RepositorySizeBytes", "Bytes", "bytes stored under the pgBackRest prefix")
STORAGE_COST_FORECAST = Metric("StorageCostForecast", "None",
                               "forecast cost of the next 30 days of off-site storage (prices.currency)")

ALL = (LAST_FULL_BACKUP_AGE, LAST_BACKUP_AGE, LAST_LOGICAL_DUMP_AGE, WAL_ARCHIVE_LAG, JOB_FAILURES, LAST_DRILL_AGE,
       DRILL_FAILED, DRILL_RTO, DRILL_RECOVERY_LAG, BACKUP_SIZE, REPOSITORY_SIZE, STORAGE_COST_FORECAST)

#: the Prometheus gauge of the overall state (0 ok, 1 warning, 2 critical)
STATE_GAUGE = "pgvault_state"


@dataclass(frozen=True)
class ExporterName:
    """The name and help text pgbackrest_exporter gives a figure pgvault also reports."""

    name: str
    help: str


#: pgbackrest_exporter names for the figures both report (Grafana dashboards built on it keep working)
EXPORTER_NAMES = {
    LAST_FULL_BACKUP_AGE.name: ExporterName("pgbackrest_backup_since_last_completion_seconds",
                                            "Seconds since the last completed backup."),
    BACKUP_SIZE.name: ExporterName("pgbackrest_backup_size_bytes", "Full uncompressed size of the database."),
    REPOSITORY_SIZE.name: ExporterName("pgbackrest_backup_repo_size_bytes",
                                       "Full compressed files size to restore the database."),
}


def dimensions(stack: str, stanza: str) -> list[dict[str, str]]:
    """The dimensions every pgvault metric carries (CloudWatch's list form)."""
    return [{"Name": "Stack", "Value": stack}, {"Name": "Stanza", "Value": stanza}]
