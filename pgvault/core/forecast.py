"""The next 30 days of the bucket: bytes per storage class and what they cost (pure).

Inputs, all read from the bucket's listing (``pgvault.edges.bucket.inventory``):
every current object's category (its prefix: ``pgvault.core.bucket.usage_categories``),
size, age and storage class, grouped into :class:`Cohort` s of whole days.
Growth is what the last day added (objects younger than a day), per category,
and it is carried forward unchanged: the WAL segments a day and their bytes,
the backups a day, the dumps a day.

Each cohort then ages day by day:

* **transitions** are the lifecycle rules' own (``pgvault.core.lifecycle.lifecycle_rules``:
  STANDARD, then STANDARD_IA at ``storage.standard_ia_days``, GLACIER_IR at
  ``storage.glacier_ir_days``), for the prefixes the rules cover;
* **expiry** is the lifecycle rules' for logical dumps (by the tier of the day
  they were taken, ``pgvault.core.logical.tier_for``) and drill results; for the
  repository it is pgvault's retention (pgBackRest's ``expire``): WAL after
  ``retention.daily_days``; incrementals and differentials (a set label ending
  in ``I`` or ``D``) after ``incremental_days``; fulls after ``daily_days``, except that a
  seventh of them (a full a week) stays until ``weekly_days`` and a thirtieth
  (a full a month) until ``monthly_days``.

Money is the price table's (``pgvault:prices``; defaults are the AWS list prices
of ``us-east-1`` on :data:`pgvault.core.schema.LIST_PRICES_DATE`): storage per
GB-month (a day is a thirtieth of a month; STANDARD_IA and GLACIER_IR bill at
least 128 KB per object), PUT requests for every new object (a WAL segment is
one), and one lifecycle transition request per object that moves.

Limits: growth is one day's, so a day with a burst or a missing full skews it;
retrieval fees (a restore from STANDARD_IA or GLACIER_IR) and S3's minimum
storage durations are not counted; noncurrent versions are held at today's
size; the backup tiers are shares, not the exact sets the selector keeps.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pgvault.core.bucket import usage_categories
from pgvault.core.lifecycle import lifecycle_rules, rule_prefix
from pgvault.core.logical import tier_for
from pgvault.core.schema import PricesConfig, StackConfig
from pgvault.core.units import human_bytes

STANDARD, STANDARD_IA, GLACIER_IR = "STANDARD", "STANDARD_IA", "GLACIER_IR"
DAYS = 30
GB = 1024**3
#: STANDARD_IA and GLACIER_IR bill every object as at least this many bytes
MIN_BILLED_OBJECT = 128 * 1024
#: the shares of backup bytes kept past the daily window: a full a week, then a full a month
WEEKLY_SHARE, MONTHLY_SHARE = 1 / 7, 1 / 30
#: a key inside an incremental or differential set (pgBackRest's label ``<full>_<time>I`` or ``D``)
_INCREMENTAL_SET = re.compile(r"/\d{8}-\d{6}F_\d{8}-\d{6}[ID]/")


@dataclass(frozen=True)
class Cohort:
    """Objects of one category written on the same day (``age_days`` ago)."""

    category: str
    age_days: int
    bytes: int
    objects: int
    storage_class: str = STANDARD
    #: the lifecycle tier of a logical dump (``daily``, ``weekly``, ``monthly``)
    tier: str | None = None


@dataclass(frozen=True)
class Aging:
    """How a category's objects age: ``(days, class)`` transitions and ``(age, share kept from then on)``."""

    transitions: tuple[tuple[int, str], ...]
    kept: tuple[tuple[int, float], ...]

    def storage_class(self, age: int, start: str) -> str:
        """The class of an object of ``age`` days that was written in ``start``."""
        found = start
        for days, cls in self.transitions:
            if age >= days:
                found = cls
        return found

    def share(self, age: int) -> float:
        """The share of a cohort still stored at ``age`` days."""
        found = 1.0
        for days, share in self.kept:
            if age >= days:
                found = share
        return found


def cohorts(cfg: StackConfig, listing: Iterable[tuple[str, int, datetime, str]], now: datetime) -> list[Cohort]:
    """Group a bucket listing, ``(key, size, last modified, storage class)``, into cohorts by category and day."""
    prefixes = usage_categories(cfg)
    groups: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for key, size, modified, storage_class in listing:
        category = next((name for prefix, name in prefixes.items() if key.startswith(prefix)), "other")
        if category == "backups" and _INCREMENTAL_SET.search(key):
            category = "incrementals"
        tier = tier_for(modified, cfg.retention.weekly_day) if category == "logical" else None
        group = groups[(category, max(0, (now - modified).days), storage_class or STANDARD, tier)]
        group[0] += size
        group[1] += 1
    return [Cohort(c, age, size, count, cls, tier) for (c, age, cls, tier), (size, count) in sorted(groups.items())]


def _rule_for(rules: list[dict], prefix: str, rule_id: str | None = None) -> dict:
    for rule in rules:
        if (rule_id and rule.get("ID") == rule_id) or (not rule_id and prefix.startswith(rule_prefix(rule))
                                                        and rule.get("Transitions")):
            return rule
    return {}


def agings(cfg: StackConfig) -> dict[tuple[str, str | None], Aging]:
    """How each category (and logical tier) ages, from the lifecycle rules and the retention tiers."""
    rules, ret = lifecycle_rules(cfg), cfg.retention
    by_prefix = {name: prefix for prefix, name in usage_categories(cfg).items()}

    def transitions(category: str) -> tuple[tuple[int, str], ...]:
        rule = _rule_for(rules, by_prefix[category])
        return tuple((t["Days"], t["StorageClass"]) for t in rule.get("Transitions", []))

    def expiry(rule_id: str) -> tuple[tuple[int, float], ...]:
        return ((_rule_for(rules, "", rule_id)["Expiration"]["Days"], 0.0),)

    out = {
        ("wal", None): Aging(transitions("wal"), ((ret.daily_days, 0.0),)),
        ("backups", None): Aging(transitions("backups"), ((ret.daily_days, WEEKLY_SHARE),
                                                          (ret.weekly_days, MONTHLY_SHARE), (ret.monthly_days, 0.0))),
        ("incrementals", None): Aging(transitions("backups"), ((ret.incremental_days, 0.0),)),
        ("drills", None): Aging(transitions("drills"), expiry("drill-results")),
        ("other", None): Aging((), ()),
    }
    for tier in ("daily", "weekly", "monthly"):
        out[("logical", tier)] = Aging(transitions("logical"), expiry(f"logical-{tier}"))
    return out


def _aging(table: dict, cohort: Cohort) -> Aging:
    return table.get((cohort.category, cohort.tier)) or table[("other", None)]


def _billed(cls: str, size: float, objects: float) -> float:
    return size if cls == STANDARD else max(size, objects * MIN_BILLED_OBJECT)


def project(cfg: StackConfig, now_cohorts: list[Cohort], prices: PricesConfig, noncurrent_bytes: int = 0,
            days: int = DAYS) -> dict:
    """The next ``days`` days of storage, by class, and their cost at ``prices``.

    :param now_cohorts: :func:`cohorts` of the bucket now; those of age 0 are one day's growth
    :param noncurrent_bytes: bytes in noncurrent versions, held as they are (STANDARD)
    :returns: ``growth`` per category a day, ``puts_per_day`` (of which ``wal_segments_per_day``), ``days``
        (bytes per class and in all, day 1 to ``days``), and ``cost`` for the period: storage, requests,
        transitions and the total, with the price table's date
    """
    table = agings(cfg)
    new = [c for c in now_cohorts if c.age_days == 0]
    puts = sum(c.objects for c in new)
    per_day, storage_cost, transition_requests = [], 0.0, defaultdict(float)
    for day in range(1, days + 1):
        size: dict[str, float] = defaultdict(float)
        count: dict[str, float] = defaultdict(float)
        aged = [(c, c.age_days + day) for c in now_cohorts] + [(c, day - k) for k in range(1, day + 1) for c in new]
        for cohort, age in aged:
            aging = _aging(table, cohort)
            share = aging.share(age)
            cls = aging.storage_class(age, cohort.storage_class)
            size[cls] += cohort.bytes * share
            count[cls] += cohort.objects * share
            if share and cls != aging.storage_class(age - 1, cohort.storage_class):
                transition_requests[cls] += cohort.objects * share
        size[STANDARD] += noncurrent_bytes
        storage_cost += sum(_billed(cls, size[cls], count[cls]) / GB * prices.storage_gb_month.of(cls)
                            for cls in size) / 30
        per_day.append({"day": day, "bytes": {cls: int(v) for cls, v in sorted(size.items()) if v},
                        "total": int(sum(size.values()))})
    requests = puts * days * prices.put_per_1000.of(STANDARD) / 1000
    transitions = sum(n * prices.transition_per_1000.of(cls) / 1000 for cls, n in transition_requests.items())
    total = storage_cost + requests + transitions
    line = (f"next {days} days: {total:.2f} {prices.currency} (storage {storage_cost:.2f}, requests {requests:.2f}, "
            f"transitions {transitions:.2f}; prices of {prices.date}), {human_bytes(per_day[-1]['total'])} stored "
            f"on day {days}" if per_day else "no forecast")
    return {
        "line": line,
        "days": per_day,
        "growth": {c: sum(x.bytes for x in new if x.category == c) for c in sorted({x.category for x in new})},
        "puts_per_day": puts,
        "wal_segments_per_day": sum(c.objects for c in new if c.category == "wal"),
        "cost": {"storage": round(storage_cost, 2), "requests": round(requests, 2),
                 "transitions": round(transitions, 2), "total": round(storage_cost + requests + transitions, 2),
                 "currency": prices.currency, "prices_date": prices.date, "period_days": days},
    }


def budget_check(total: float, budget: float | None) -> tuple[str, str] | None:
    """``(state, message)`` of the forecast against ``targets.monthly_budget``; ``None`` without a budget."""
    if budget is None:
        return None
    state = "warning" if total > budget else "ok"
    return state, f"the next 30 days of storage are forecast at {total:.2f} against a budget of {budget:.2f}"
