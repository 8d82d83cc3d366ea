"""What a benchmark run measures and how much: scales, repetitions, variants (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.seed import row_counts

#: compression variants of the "compression choices" section: (type, level)
COMPRESSIONS = (("zst", 1), ("zst", 3), ("zst", 6), ("lz4", 1), ("gz", 6))

#: backup variants of the "impact on production" section: (process-max, priority)
IMPACT_VARIANTS = ((1, "normal"), (1, "low"), (2, "normal"), (2, "low"))

#: percentages of rows changed before the incremental backups
CHANGE_PERCENTS = (1, 10)

#: the standby section's load: this share of the primary's peak throughput (a busy hour, not saturation, which
#: no backup can leave untouched on shared cores or disk)
LOAD_SHARE_OF_PEAK = 0.5

#: pgbench clients of the CRM-like production workload (and threads)
CLIENTS, THREADS = 4, 2

#: CRM transactions (the ``crm`` script: an agent opens a client, logs a call, touches the client) each of the
#: seeded agents makes in a day: one every ~5 minutes through an 8-hour working day, a busy agent's whole day on
#: the phone.  The day section spreads them evenly over 24 hours, which writes the most full-page images a given
#: number of transactions can (the pages a checkpoint interval first touches grow less than linearly with its
#: transactions).  The seeded history itself is far quieter: 400 contacts per agent over ~7 years at any scale.
AGENT_TRANSACTIONS_PER_DAY = 100


@dataclass(frozen=True)
class Scale:
    """How big and how long one benchmark run is."""

    name: str
    #: ``fab sandbox.seed --scale``: about 12 MB of database per unit
    seed_scale: int
    #: repetitions of each backup and restore measurement
    reps: int
    #: seconds of pgbench per run in the impact section
    load_seconds: int
    #: repetitions of each impact variant
    impact_reps: int
    #: seconds of write-heavy load while WAL archiving is timed
    wal_seconds: int
    #: megabytes of WAL the point-in-time restore replays
    pitr_wal_mb: int
    #: simulated hours of the "a day of backups" section, per hourly rule
    day_hours: int = 24
    #: CRM transactions a second of a simulated hour; ``None``: the seeded agents' day
    #: (:data:`AGENT_TRANSACTIONS_PER_DAY` each, over 24 hours)
    day_tps: float | None = None

    @property
    def transactions_per_hour(self) -> int:
        """CRM transactions in one simulated hour of the day section."""
        if self.day_tps is not None:
            return round(self.day_tps * 3600)
        return round(row_counts(self.seed_scale)["agents"] * AGENT_TRANSACTIONS_PER_DAY / 24)


SCALES = {
    "small": Scale("small", seed_scale=16, reps=3, load_seconds=15, impact_reps=1, wal_seconds=20, pitr_wal_mb=128,
                   day_hours=4),
    "default": Scale("default", seed_scale=165, reps=3, load_seconds=45, impact_reps=2, wal_seconds=60,
                     pitr_wal_mb=1024),
}


def scale_for(text: str) -> Scale:
    """The :class:`Scale` named ``small`` or ``default``, or a custom seed scale given as a number.

    :raises ValueError: with the fix, for anything else
    """
    if text in SCALES:
        return SCALES[text]
    if text.isdigit() and 1 <= int(text) <= 10000:
        base = SCALES["small" if int(text) < 80 else "default"]
        return Scale(f"custom-{text}", int(text), base.reps, base.load_seconds, base.impact_reps, base.wal_seconds,
                     base.pitr_wal_mb, base.day_hours, base.day_tps)
    raise ValueError(f"unknown scale {text!r}; use small, default or a seed scale between 1 and 10000")
