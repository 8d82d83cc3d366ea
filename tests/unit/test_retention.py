"""The retention selector: examples, then properties over generated histories (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pgvault.core.pgbackrest import BackupSet
from pgvault.core.retention import Policy, archive_fulls, decide, expiring, removal_roots, wal_kept_from

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
POLICY = Policy(daily_days=30, weekly_days=90, monthly_days=365, incremental_days=7)


def history(steps: list[tuple[float, str]]) -> list[BackupSet]:
    """Backup sets from (days ago, type) steps, oldest first, with pgBackRest's real dependencies."""
    sets, last_full, chain = [], None, []
    for n, (days_ago, kind) in enumerate(sorted(steps, key=lambda s: -s[0])):
        if last_full is None:
            kind = "full"
        stop = NOW - timedelta(days=days_ago)
        label = f"{n:04d}{kind[0].upper()}"
        if kind == "full":
            prior, refs, last_full, chain = None, (), label, [label]
        elif kind == "diff":
            prior, refs, chain = last_full, (last_full,), [last_full, label]
        else:
            prior, refs = chain[-1], tuple(chain)
            chain = chain + [label]
        sets.append(BackupSet(label, kind, stop - timedelta(minutes=5), stop, 1, 1, 1, 1, None, None, None, None,
                              prior, refs, False))
    return sets


def kept(backups, now=NOW, policy=POLICY):
    return {d.label for d in decide(backups, policy, now) if d.keep}


def test_a_year_of_daily_fulls_and_hourly_incrementals():
    steps = [(d, "full") for d in range(0, 400)] + [(d + h / 24, "incr") for d in range(0, 12) for h in range(1, 24)]
    backups = history(steps)
    keep = kept(backups)
    by_label = {b.label: b for b in backups}
    fulls_kept = [by_label[x] for x in keep if by_label[x].type == "full"]
    incr_kept = [by_label[x] for x in keep if by_label[x].type == "incr"]
    assert len([b for b in fulls_kept if NOW - b.stop <= timedelta(days=30)]) == 31
    assert all(NOW - b.stop <= timedelta(days=7) for b in incr_kept)
    assert len(fulls_kept) < 31 + 13 + 13  # daily + weekly + monthly, overlapping
    assert not [b for b in fulls_kept if NOW - b.stop > timedelta(days=365)]


def test_every_decision_says_why():
    backups = history([(40, "full"), (39.5, "incr"), (2, "full"), (1, "incr")])
    decisions = {d.label: d for d in decide(backups, POLICY, NOW)}
    assert all(d.reasons for d in decisions.values())
    assert "older than 7 days" in decisions[backups[1].label].reasons[0]
    assert any("anchor" in r for r in decisions[backups[0].label].reasons)


def test_removal_roots_let_pgbackrest_take_dependents_along():
    backups = history([(100, "full"), (99, "incr"), (98, "incr"), (5, "full")])
    assert removal_roots(backups, [b.label for b in backups[:3]]) == [backups[0].label]


def test_archive_retention_reaches_back_to_the_anchor():
    backups = history([(d, "full") for d in range(0, 45)])
    assert archive_fulls(backups, POLICY, NOW) == 31  # days 0..30: the anchor is day 30
    assert wal_kept_from(backups, POLICY, NOW) == next(b for b in backups if b.stop == NOW - timedelta(days=30))
    young = history([(3, "full"), (1, "full")])
    assert wal_kept_from(young, POLICY, NOW) == young[0], "no anchor yet: WAL is kept from the oldest full"
    assert wal_kept_from([], POLICY, NOW) is None


steps = st.lists(st.tuples(st.floats(min_value=0, max_value=500), st.sampled_from(["full", "full", "incr", "diff"])),
                 min_size=1, max_size=60, unique_by=lambda s: round(s[0], 3))


@settings(max_examples=300, deadline=None)
@given(steps)
def test_properties(generated):
    backups = history(generated)
    keep = kept(backups)
    by_label = {b.label: b for b in backups}
    fulls = [b for b in backups if b.type == "full"]

    # never removes the newest full backup
    assert max(fulls, key=lambda b: b.stop).label in keep
    # never removes a set that a kept set depends on
    for label in keep:
        for needed in (by_label[label].prior, *by_label[label].references):
            assert needed is None or needed in keep
    # the whole daily window stays recoverable: every moment has a kept set that ended before it
    window_start = NOW - timedelta(days=POLICY.daily_days)
    oldest = min(b.stop for b in backups)
    for offset in range(0, POLICY.daily_days * 24 + 1, 6):
        moment = window_start + timedelta(hours=offset)
        if moment >= oldest:
            assert any(by_label[x].stop <= moment for x in keep), moment
    # one full per week for 90 days and one per month for a year, where they exist
    for days, period in ((POLICY.weekly_days, lambda t: t.isocalendar()[:2]), (POLICY.monthly_days,
                                                                                lambda t: (t.year, t.month))):
        periods = {period(b.stop) for b in fulls if NOW - b.stop <= timedelta(days=days)}
        kept_periods = {period(by_label[x].stop) for x in keep if by_label[x].type == "full"}
        assert periods <= kept_periods
    # incrementals of the last 7 days stay
    assert all(b.label in keep for b in backups if b.type != "full" and NOW - b.stop <= timedelta(days=7))
    # idempotent: applying the decisions and deciding again removes nothing more
    remaining = [b for b in backups if b.label in keep]
    assert expiring(decide(remaining, POLICY, NOW)) == []
