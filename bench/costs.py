"""``python -m bench.costs``: the cost model's worked examples (the README's 10 GB and 100 GB rows).

A steady-state bucket after a year of the schedule, built as the forecast
sees a real one (``pgvault.core.forecast.Cohort`` s by category and age) and
projected 30 days with the default stack and price table.  The inputs are
shares of the database size, read from the committed reference run
(``bench/reference.json``, ``bench/RESULTS.md``) when it has them:

* measured: what a full stores (section 1), and from the day section (section
  7, a whole day at the default scale): the day's logical dump, the day's
  archived WAL under each hourly rule, and what ``always``'s hourly incrementals
  stored, each as a share of the database;
* assumed: that these shares hold for a 10 GB and a 100 GB database (the same
  CRM traffic per agent, scaled with the data), the request counts below, and
  the price table's list prices; where the reference lacks a whole day of a
  rule, :data:`FALLBACK` (today's schedule from a small-scale day).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pgvault.core.forecast import GB, Cohort, project
from pgvault.core.logical import tier_for
from tests.builders import make_stack

#: fallbacks when the reference has no whole day of a rule: a full 0.32 of the database and a dump 0.25 (section
#: 1); under ``always`` the day's archived WAL 0.97 and incrementals 2.78 of the database (a whole day at the small
#: scale with the default settings, 2026-11-30: 24 incrementals of 0.39 of a full each); under ``adaptive`` WAL
#: 0.10 (issue 15's first guess)
FALLBACK = {"full": 0.32, "dump": 0.25, "wal": {"always": 0.97, "adaptive": 0.10},
            "incrementals": {"always": 2.78, "adaptive": 0.0}}
#: where each fallback comes from, for the printed inputs
FALLBACK_SOURCE = {"wal always": "measured at the small scale", "incrementals always": "measured at the small scale"}
#: pgBackRest's files per backup set and bytes per archived WAL segment (compressed), for request counts
FILES_PER_SET, SEGMENT_BYTES = 1000, 4 * 1024 * 1024
REFERENCE = Path(__file__).resolve().parent / "reference.json"


def shares(reference: dict | None) -> dict:
    """What a full, the day's dump, WAL and incrementals store as shares of the database, and which are measured.

    :param reference: a result document (``bench/reference.json``); ``None`` or one without a whole day: the
        :data:`FALLBACK` figures
    """
    out = {**FALLBACK, "measured": []}
    if not reference:
        return out
    database = reference.get("database_bytes") or 0
    full = ((reference.get("full") or {}).get("pgvault") or {}).get("stored_bytes", {}).get("median")
    if database and full:
        out["full"] = full / database
        out["measured"].append("full")
    found = reference.get("day") or {}
    rules = [rule for rule in ("always", "adaptive") if rule in found]
    if found.get("hours", 0) >= 24 and rules:
        database = (found.get("separate_run") or {}).get("database_bytes") or database
        first = found[rules[-1]]
        out["full"], out["dump"] = first["full_bytes"] / database, first["dump_bytes"] / database
        out["wal"], out["incrementals"] = dict(out["wal"]), dict(out["incrementals"])
        for rule in rules:
            out["wal"][rule] = found[rule]["wal_bytes"] / database
            out["incrementals"][rule] = found[rule]["incremental_bytes"] / database
        out["measured"] = ["full", "dump"] + [f"{key} {rule}" for key in ("wal", "incrementals") for rule in rules]
    return out


def steady_cohorts(database_bytes: float, rule: str, found: dict | None = None) -> list[Cohort]:
    """A year of the default schedule as the bucket would hold it, by age (``found``: :func:`shares`)."""
    found = found or shares(None)
    cfg = make_stack()
    full, dump = found["full"] * database_bytes, found["dump"] * database_bytes
    wal, incr = found["wal"][rule] * database_bytes, found["incrementals"][rule] * database_bytes
    sets_a_day = round(found["incrementals"][rule] / found["full"]) if incr else 0
    now = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    ret = cfg.retention
    for age in range(ret.monthly_days):
        when = now - timedelta(days=age)
        keep = 1.0 if age < ret.daily_days else (1 / 7 if age < ret.weekly_days else 1 / 30)
        out.append(Cohort("backups", age, int(full * keep), int(FILES_PER_SET * keep)))
        if age < ret.incremental_days and incr:
            out.append(Cohort("incrementals", age, int(incr), FILES_PER_SET * max(1, sets_a_day)))
        if age < ret.daily_days:
            out.append(Cohort("wal", age, int(wal), max(1, int(wal // SEGMENT_BYTES))))
        tier = tier_for(when, ret.weekly_day)
        if age < {"daily": ret.daily_days, "weekly": ret.weekly_days, "monthly": ret.monthly_days}[tier]:
            out.append(Cohort("logical", age, int(dump), 2, tier=tier))
    return out


def main() -> None:
    """Print the inputs and the worked examples as a Markdown table."""
    cfg = make_stack()
    found = shares(json.loads(REFERENCE.read_text()) if REFERENCE.exists() else None)

    def said(key: str) -> str:
        return "measured" if key in found["measured"] else FALLBACK_SOURCE.get(key, "assumed")

    print(f"Inputs, as shares of the database: a full {found['full']:.3f} ({said('full')}), the day's dump "
          f"{found['dump']:.3f} ({said('dump')}), the day's archived WAL "
          + " and ".join(f"{found['wal'][r]:.3f} under {r} ({said('wal ' + r)})" for r in ("adaptive", "always"))
          + ", the day's incrementals "
          + " and ".join(f"{found['incrementals'][r]:.3f} under {r} ({said('incrementals ' + r)})"
                         for r in ("adaptive", "always")) + ".")
    print()
    print("| database | hourly rule | stored on day 30 | 30 days of storage | requests | in all |")
    print("|---|---|---|---|---|---|")
    for size in (10, 100):
        for rule in ("always", "adaptive"):
            projected = project(cfg, steady_cohorts(size * GB, rule, found), cfg.prices)
            cost = projected["cost"]
            print(f"| {size} GB | {rule} | {projected['days'][-1]['total'] / GB:,.0f} GB | {cost['storage']:.2f} USD | "
                  f"{cost['requests'] + cost['transitions']:.2f} USD | {cost['total']:.2f} USD |")


if __name__ == "__main__":
    main()
