"""The storage forecast against figures computed by hand for a fixed bucket inventory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pgvault.core import forecast
from pgvault.core.errors import ConfigError
from pgvault.core.forecast import GB, GLACIER_IR, STANDARD, STANDARD_IA, Cohort, agings, cohorts, project
from tests.builders import make_stack

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # a Tuesday

#: 1 GB of WAL in 64 segments and 2 GB of backups in 10 files a day; 7 GB of backups written 29 days ago
INVENTORY = [Cohort("wal", 0, GB, 64), Cohort("backups", 0, 2 * GB, 10), Cohort("backups", 29, 7 * GB, 7)]


def test_the_forecast_matches_the_hand_computed_figures():
    """By hand, with the defaults (WAL kept 30 d; backups 30 d, then a seventh; STANDARD_IA at 30 d):

    day d holds STANDARD: WAL d GB (+1 GB of today's while d < 30), backups 2d GB (+2 GB while d < 30);
    STANDARD_IA: the 29-day-old 7 GB kept at a seventh, 1 GB (+2/7 GB of today's backups on day 30).
    STANDARD GB-days: 3 x 465 + 29 x 3 = 1482; STANDARD_IA: 30 + 2/7.
    Storage: (1482 x 0.023 + 30.2857 x 0.0125) / 30 = 1.1488; PUTs: 74 a day x 30 x 0.005 / 1000 = 0.0111;
    transitions: (1 + 10/7) x 0.01 / 1000, below a cent.  Total 1.16.
    """
    cfg = make_stack()
    found = project(cfg, INVENTORY, cfg.prices)
    first, last = found["days"][0], found["days"][-1]
    assert first["bytes"] == {STANDARD: 6 * GB, STANDARD_IA: GB}
    assert last["day"] == 30 and last["bytes"][STANDARD] == 90 * GB
    assert last["bytes"][STANDARD_IA] == pytest.approx(GB + 2 * GB / 7, abs=1)
    assert found["growth"] == {"backups": 2 * GB, "wal": GB}
    assert found["puts_per_day"] == 74 and found["wal_segments_per_day"] == 64
    assert found["line"].startswith("next 30 days: 1.16 USD (storage 1.15, requests 0.01, transitions 0.00; prices of ")
    assert found["cost"] == {"storage": 1.15, "requests": 0.01, "transitions": 0.0, "total": 1.16, "currency": "USD",
                             "prices_date": cfg.prices.date, "period_days": 30}


def test_small_objects_in_infrequent_access_bill_128_kb_each():
    cfg = make_stack()
    tiny = [Cohort("backups", 40, 1000 * 1024, 1000, STANDARD_IA)]  # 1000 files of 1 KB, kept at a seventh
    found = project(cfg, tiny, cfg.prices, days=1)
    billed = 1000 / 7 * forecast.MIN_BILLED_OBJECT / GB * 0.0125 / 30
    assert found["cost"]["storage"] == round(billed, 2)


def test_transitions_and_expiry_come_from_the_lifecycle_rules_and_the_retention_tiers():
    cfg = make_stack(storage={"standard_ia_days": 45, "glacier_ir_days": 120},
                     retention={"daily_days": 10, "weekly_days": 60, "monthly_days": 200})
    table = agings(cfg)
    backups = table[("backups", None)]
    assert backups.storage_class(44, STANDARD) == STANDARD and backups.storage_class(45, STANDARD) == STANDARD_IA
    assert backups.storage_class(120, STANDARD) == GLACIER_IR
    assert [backups.share(a) for a in (9, 10, 60, 200)] == [1.0, 1 / 7, 1 / 30, 0.0]
    assert table[("wal", None)].share(10) == 0.0
    assert table[("incrementals", None)].share(6) == 1.0 and table[("incrementals", None)].share(7) == 0.0
    assert table[("logical", "weekly")].share(59) == 1.0 and table[("logical", "weekly")].share(60) == 0.0
    assert table[("logical", "daily")].storage_class(400, STANDARD) == STANDARD, "no transition rule for dumps"


def test_a_listing_groups_into_cohorts_by_category_day_class_and_tier():
    cfg = make_stack()
    listing = [("pgbackrest/archive/crm/15-1/0000000100000000/a.zst", 100, NOW - timedelta(hours=2), "STANDARD"),
               ("pgbackrest/archive/crm/15-1/0000000100000000/b.zst", 50, NOW - timedelta(hours=20), "STANDARD"),
               ("pgbackrest/backup/crm/x", 10, NOW - timedelta(days=31), "STANDARD_IA"),
               ("pgbackrest/backup/crm/20260310-020000F_20260310-110000I/pg_data/base/1/2.zst", 3,
                NOW - timedelta(hours=1), "STANDARD"),
               ("logical/crm/crm/20260301T023000Z.dump", 7, datetime(2026, 3, 1, 2, 30, tzinfo=UTC), "STANDARD"),
               ("elsewhere/y", 1, NOW, None)]
    assert cohorts(cfg, listing, NOW) == [
        Cohort("backups", 31, 10, 1, STANDARD_IA), Cohort("incrementals", 0, 3, 1),
        Cohort("logical", 9, 7, 1, STANDARD, "monthly"), Cohort("other", 0, 1, 1), Cohort("wal", 0, 150, 2)]


@pytest.mark.parametrize(("total", "budget", "state"), [(40.0, 50.0, "ok"), (60.0, 50.0, "warning")])
def test_the_budget_turns_the_check_amber(total, budget, state):
    assert forecast.budget_check(total, budget)[0] == state
    assert forecast.budget_check(total, None) is None


def test_a_stack_with_its_price_table_stays_hashable_and_prices_can_be_overridden():
    cfg = make_stack(prices={"storage_gb_month": {"STANDARD": 0.05}})
    hash(cfg)  # edges cache per stack (functools.lru_cache): every part of it must hash
    assert cfg.prices.storage_gb_month.of(STANDARD) == 0.05 and cfg.prices.storage_gb_month.of("DEEP_ARCHIVE") == 0.0
    with pytest.raises(ConfigError, match="unknown key pgvault:prices.storage_gb_month.ONEZONE_IA"):
        make_stack(prices={"storage_gb_month": {"ONEZONE_IA": 0.01}})
