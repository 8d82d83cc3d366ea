"""``python -m bench.costs``: the cost model's worked examples (the README's 10 GB and 100 GB rows).

A steady-state bucket after a year of the schedule, built as the forecast
sees a real one (``pgvault.core.forecast.Cohort`` s by category and age) and
projected 30 days with the default stack and price table.  The inputs are
ratios to the database size measured by the benchmark (``bench/RESULTS.md``):
a full stores 0.32 of the database, a logical dump 0.25, an hourly
incremental under pgBackRest 2.45 about a full; the WAL a day is an input of
its own (``WAL_SHARE``: the share of the database the day's archived WAL
takes, compressed).
"""

from __future__ import annotations

from pgvault.core.forecast import GB, Cohort, project
from pgvault.core.logical import tier_for
from tests.builders import make_stack

#: what a full, a dump and the day's archived WAL store, as shares of the database (bench/RESULTS.md)
FULL_SHARE, DUMP_SHARE, WAL_SHARE = 0.32, 0.25, 0.10
#: hourly incrementals a day that each store about a full (pgBackRest 2.45, file-level) under each rule
INCREMENTALS = {"always": 23, "adaptive": 0}
#: pgBackRest's files per backup set and bytes per archived WAL segment (compressed), for request counts
FILES_PER_SET, SEGMENT_BYTES = 1000, 4 * 1024 * 1024


def steady_cohorts(database_bytes: float, rule: str) -> list[Cohort]:
    """A year of the default schedule as the bucket would hold it, by age."""
    from datetime import UTC, datetime, timedelta

    cfg = make_stack()
    full, dump, wal = FULL_SHARE * database_bytes, DUMP_SHARE * database_bytes, WAL_SHARE * database_bytes
    incr = INCREMENTALS[rule] * full
    now = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    ret = cfg.retention
    for age in range(ret.monthly_days):
        when = now - timedelta(days=age)
        keep = 1.0 if age < ret.daily_days else (1 / 7 if age < ret.weekly_days else 1 / 30)
        out.append(Cohort("backups", age, int(full * keep), int(FILES_PER_SET * keep)))
        if age < ret.incremental_days and incr:
            out.append(Cohort("incrementals", age, int(incr), FILES_PER_SET * INCREMENTALS[rule]))
        if age < ret.daily_days:
            out.append(Cohort("wal", age, int(wal), max(1, int(wal // SEGMENT_BYTES))))
        tier = tier_for(when, ret.weekly_day)
        if age < {"daily": ret.daily_days, "weekly": ret.weekly_days, "monthly": ret.monthly_days}[tier]:
            out.append(Cohort("logical", age, int(dump), 2, tier=tier))
    return out


def main() -> None:
    """Print the worked examples as a Markdown table."""
    cfg = make_stack()
    print("| database | hourly rule | stored on day 30 | 30 days of storage | requests | in all |")
    print("|---|---|---|---|---|---|")
    for size in (10, 100):
        for rule in ("always", "adaptive"):
            found = project(cfg, steady_cohorts(size * GB, rule), cfg.prices)
            cost = found["cost"]
            print(f"| {size} GB | {rule} | {found['days'][-1]['total'] / GB:,.0f} GB | {cost['storage']:.2f} USD | "
                  f"{cost['requests'] + cost['transitions']:.2f} USD | {cost['total']:.2f} USD |")


if __name__ == "__main__":
    main()
