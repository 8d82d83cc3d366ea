"""The benchmark's pure parts: scales, statistics, parsers, targets and the Markdown report."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench import report, stats, targets
from bench.plan import SCALES, scale_for
from bench.sections import day
from bench.sections.wal import REORDER_WINDOW, _list_from

BENCH = Path(__file__).resolve().parents[2] / "bench"


def summary(*samples: float) -> dict:
    return stats.summary(list(samples))


def result_doc(restore_pgvault: float = 10.0, floor_full: float = 10.0, tps_during: float = 95.0) -> dict:
    """A complete result document with round numbers."""
    return {
        "version": 1, "started": "2026-11-27T00:00:00+00:00", "duration_seconds": 600,
        "scale": {"name": "small", "seed_scale": 16, "reps": 3, "load_seconds": 15, "impact_reps": 1,
                  "wal_seconds": 20, "pitr_wal_mb": 128},
        "load": {"clients": 4},
        "machine": {"cpu": "Test CPU", "cores": 2, "memory_gb": 8, "disk_gb": 100, "io_scheduler": "none",
                    "os": "Debian 12", "kernel": "6.1", "postgresql": "15", "pgbackrest": "pgBackRest 2.45",
                    "seaweedfs": "4.48", "python": "3.11", "s3": "loopback"},
        "defaults": {"compress_type": "zst", "compress_level": 3, "process_max": 2, "backup_process_max": 2,
                     "archive_async": True,
                     "archive_timeout_seconds": 150, "backup_priority": "low"},
        "database_bytes": 1000 * 2**20,
        "full": {
            "pgvault": {"seconds": summary(12, 12), "stored_bytes": summary(200 * 2**20)},
            "baseline": {"seconds": summary(30, 31), "stored_bytes": summary(150 * 2**20)},
            "floor": {"seconds": summary(floor_full), "stored_bytes": summary(250 * 2**20)},
        },
        "incremental": {"1": {"rows_changed": 100, "seconds": 3.0, "stored_bytes": 20 * 2**20, "copied_bytes": 1},
                        "10": {"rows_changed": 1000, "seconds": 6.0, "stored_bytes": 100 * 2**20, "copied_bytes": 1}},
        "restore": {"pgvault": {"seconds": summary(restore_pgvault)}, "baseline": {"seconds": summary(60)},
                    "floor": {"seconds": summary(5)}},
        "pitr": {"seconds": 20.0, "wal_bytes": 128 * 2**20, "phases": {"fetch": 5.0}},
        "impact": {"none": {"tps": summary(100), "p99_ms": summary(20)},
                   "process-max 2, low priority": {"tps": summary(tps_during), "p99_ms": summary(30),
                                                   "backup_seconds": summary(12)}},
        "wal": {"async": {"segments": 40, "missing": 0, "tps": 50, "segments_per_s": 2.0, "wal_mb_per_s": 32.0,
                          "lag_s": {"p50": 1.0, "p99": 2.5, "max": 3.0}, "implied_rpo_s": 3.5}},
        "compression": {"zst-3": {"seconds": summary(12), "stored_bytes": summary(200 * 2**20), "default": True}},
    }


def test_a_simulated_hour_is_the_seeded_agents_day_over_24_hours_unless_a_rate_is_given():
    assert SCALES["default"].transactions_per_hour == 165 * 40 * 100 // 24 == 27500
    assert SCALES["small"].transactions_per_hour == round(16 * 40 * 100 / 24)
    assert replace(SCALES["small"], day_tps=30).transactions_per_hour == 108000


def test_scales_are_named_or_numbers_and_anything_else_is_refused_with_the_fix():
    assert scale_for("small") is SCALES["small"]
    assert scale_for("40").seed_scale == 40
    with pytest.raises(ValueError, match="use small, default"):
        scale_for("huge")
    with pytest.raises(ValueError):
        scale_for("0")


def test_a_summary_gives_the_median_and_the_spread():
    found = stats.summary([10, 12, 11])
    assert found["median"] == 11 and found["min"] == 10 and found["max"] == 12 and found["n"] == 3
    assert found["spread_pct"] == pytest.approx(100 * 2 / 11)


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50), st.floats(min_value=0, max_value=100))
def test_a_percentile_lies_between_the_extremes(values, pct):
    assert min(values) <= stats.percentile(values, pct) <= max(values)


def test_pgbench_transaction_logs_give_latencies_in_milliseconds():
    lines = ["0 1 2500 0 1732665600 123456", "1 7 skipped 0 1732665600 1", "garbage"]
    assert stats.pgbench_latencies_ms(lines) == [2.5]


def test_lsns_map_to_their_wal_segment():
    assert stats.segment_number("0/2D000028") == 0x2D
    assert stats.segment_number("1/00000000") == 256


def test_a_segment_completes_when_the_insert_position_passes_it():
    done = stats.completions([(0.0, 5), (0.1, 5), (0.2, 7), (0.3, 6), (0.4, 8)])
    assert done == {5: 0.2, 6: 0.2, 7: 0.4}


def test_archive_lags_count_the_segments_that_never_arrived():
    lags, missing = stats.archive_lags({1: 10.0, 2: 11.0, 3: 12.0}, {1: 10.5, 2: 13.0})
    assert lags == [0.5, 2.0] and missing == [3]


def test_targets_report_met_missed_and_not_measured():
    doc = result_doc(restore_pgvault=10.0, floor_full=4.0, tps_during=80.0)
    doc["wal"] = {}
    verdicts = {row["key"]: row["met"] for row in targets.evaluate(doc)}
    assert verdicts == {"restore_speedup": True, "full_vs_floor": False, "throughput": False, "wal_lag_p99": None,
                        "stored_share": True, "day_vs_full": None, "standby_throughput": None,
                        "standby_p99": None}


def test_the_report_shows_every_section_the_targets_and_the_ratios():
    text = report.markdown(result_doc(floor_full=4.0))
    for heading in ("## Targets", "## 1. Full backup", "## 2. Incremental", "## 3. Restore", "## 4. Impact",
                    "## 5. WAL archiving", "## 6. Compression"):
        assert heading in text
    assert "**MISSED**" in text and "pgvault / floor: 3.00x" in text and "pgvault / baseline: 0.39x" in text
    assert "zst-3 (default)" in text


def test_table_cells_escape_pipes_so_the_markdown_tables_hold():
    widths = []
    for line in report.markdown(result_doc()).splitlines() + [""]:
        if line.startswith("|"):
            widths.append(line.replace("\\|", "").count("|"))
        elif widths:
            assert len(set(widths)) == 1, f"a table row has a stray pipe: {widths}"
            widths = []


def test_the_committed_reference_table_is_rendered_from_the_committed_results():
    reference = BENCH / "reference.json"
    if not reference.exists():
        pytest.skip("no reference run committed yet")
    assert (BENCH / "RESULTS.md").read_text() == report.markdown(json.loads(reference.read_text()))


def test_the_bucket_is_listed_again_a_window_behind_the_newest_segment():
    prefix = "pgbackrest/archive/crm/15-1/"
    assert _list_from(prefix, None) == ""
    start = _list_from(prefix, (1, 0x140 + REORDER_WINDOW))
    assert start == f"{prefix}0000000100000001/000000010000000100000040"
    late = f"{prefix}0000000100000001/000000010000000100000041-{'a' * 40}.zst"
    assert late > start, "a segment that lands after a later one is still listed"


def day_doc() -> dict:
    """A result document with the day section: today's schedule stores 10 fulls, the adaptive rule 2.5."""
    doc = result_doc()
    full = 100 * 2**20
    doc["day"] = {
        "hours": 24, "tps": 7.64, "transactions_per_hour": 27500, "checkpoints_per_hour": 2,
        "wal_compression": {"configured": "lz4", "offered": ["pglz", "lz4", "zstd", "on", "off"],
                            "off": {"written_bytes": 400 * 2**20, "archived_bytes": 90 * 2**20},
                            "lz4": {"written_bytes": 100 * 2**20, "archived_bytes": 30 * 2**20,
                                    "recompressed": {"segments": 7, "raw_bytes": 112 * 2**20,
                                                     "zst-3": 2 * 2**20, "gz-6": 3 * 2**20}}},
        "checkpoints": {"12": {"written_bytes": 300 * 2**20, "archived_bytes": 60 * 2**20},
                        "1": {"written_bytes": 50 * 2**20, "archived_bytes": 10 * 2**20}},
        "dump_compression": {"gzip-6 (pg_dump -Fc default)": 80 * 2**20},
        "always": {"full_bytes": full, "incremental_bytes": 8 * full, "wal_bytes": full // 2, "dump_bytes": full // 2,
                   "incrementals": 4, "restore_points": 0, "total_bytes": 10 * full},
        "adaptive": {"full_bytes": full, "incremental_bytes": 0, "wal_bytes": full // 2, "dump_bytes": full,
                     "incrementals": 0, "restore_points": 4, "total_bytes": 5 * full // 2},
    }
    return doc


def test_a_day_of_backups_shows_both_rules_side_by_side_and_the_wal_compression():
    doc = day_doc()
    text = report.markdown(doc)
    assert "## 7. A day of backups" in text
    assert "| always (today's schedule) | 100.0 MB (1.00x) | 800.0 MB (8.00x) |" in text
    assert "| 10.00x | 4 / 0 |" in text and "| 2.50x | 0 / 4 |" in text
    assert "| `wal_compression=off` | 400.0 MB | 90.0 MB | 23.60x |" in text, "(100 + 100 + 24 x 90) / 100"
    assert "| `wal_compression=lz4` (configured) | 100.0 MB | 30.0 MB | 9.20x |" in text
    assert "| 12 checkpoints an hour (`checkpoint_timeout` 5 min) | 300.0 MB | 60.0 MB |" in text
    assert "| 1 checkpoint an hour (`checkpoint_timeout` 60 min) | 50.0 MB | 10.0 MB | 4.40x |" in text
    assert "| zst-3 | 2.0 MB | 2.48x |" in text and "| gz-6 | 3.0 MB |" in text
    assert "| gzip-6 (pg_dump -Fc default) | 80.0 MB |" in text
    verdicts = {row["key"]: row["met"] for row in targets.evaluate(doc)}
    assert verdicts["day_vs_full"] is True
    doc["day"]["hours"] = 4
    assert {row["key"]: row["met"] for row in targets.evaluate(doc)}["day_vs_full"] is None, "4 hours are no day"
    assert "4 hours are not a day" in report.markdown(doc)
    assert "## 7." not in report.markdown(result_doc()), "older runs have no day section"


def test_wal_segment_names_cross_a_log_file():
    assert day.segment_names("0000000100000000000000FE", "000000010000000100000001") == [
        "0000000100000000000000FE", "0000000100000000000000FF", "000000010000000100000000",
        "000000010000000100000001"]


def test_a_separate_day_run_joins_the_reference_and_says_where_it_comes_from():
    from bench.__main__ import with_section

    reference, run = result_doc(), day_doc()
    run.update(started="2026-11-30T17:30:00+00:00", duration_seconds=3000, database_bytes=1900 * 2**20,
               scale=dict(run["scale"], name="default", seed_scale=165))
    run["day"]["run"] = {"seconds": 2900, "cpus": 2, "load": {"min": 1.2, "median": 3.4, "max": 9.8}}
    merged = with_section(reference, run, "day")
    assert merged["full"] == reference["full"] and "day" not in reference
    assert {row["key"]: row["met"] for row in merged["targets"]}["day_vs_full"] is True
    text = report.markdown(merged)
    assert "Measured on its own: run 2026-11-30T17:30:00+00:00 (50 min), the day section only, " in text
    assert "`fab sandbox.seed --scale 165`, 1.9 GB of database" in text and "not re-measured" in text
    assert "load average during this section was 1.2 to 9.8 (median 3.4) on 2 cores" in text


class FakeLab:
    """Counts the checkpoints and pgbench slices a simulated hour asks for; ``volume`` moves the redo LSN once."""

    def __init__(self, volume: bool = False):
        self.checkpoints, self.slices, self.volume, self.redo, self.switches = 0, 0, volume, 0, 0

    def checkpoint(self):
        self.checkpoints += 1
        self.redo += 1

    def psql(self, text, database="crm"):
        self.switches += "pg_switch_wal" in text
        return str(self.redo)


@pytest.mark.parametrize("timeout, since, checkpoints, after", [
    (300, 0, 12, 0), (1800, 0, 2, 0), (3600, 0, 1, 3600), (21600, 0, 0, 3600), (21600, 18000, 1, 3600),
    (86400, 7200, 0, 10800),
])
def test_a_simulated_hour_has_the_checkpoints_its_timeout_makes(monkeypatch, timeout, since, checkpoints, after):
    lab = FakeLab()
    monkeypatch.setattr(day, "pgbench", lambda *a, **k: setattr(lab, "slices", lab.slices + 1))
    assert day.simulated_hour(lab, SCALES["small"], "t", timeout, since) == after
    assert lab.checkpoints == checkpoints and lab.slices == max(1, checkpoints)
    switched = FakeLab()
    monkeypatch.setattr(day, "pgbench", lambda *a, **k: setattr(switched, "slices", switched.slices + 1))
    assert day.simulated_hour(switched, SCALES["small"], "t", timeout, since, switches=24) == after
    assert switched.checkpoints == checkpoints and switched.switches == 24, "archive_timeout 150 s: 24 an hour"


def test_a_checkpoint_max_wal_size_asked_for_resets_the_simulated_clock(monkeypatch):
    lab = FakeLab()
    monkeypatch.setattr(day, "pgbench", lambda *a, **k: setattr(lab, "redo", lab.redo + 1))
    assert day.simulated_hour(lab, SCALES["small"], "t", 86400, 7200) == 0


def test_the_cost_model_reads_its_shares_from_a_whole_measured_day():
    from bench.costs import FALLBACK, shares

    assert shares(None)["wal"] == FALLBACK["wal"] and shares(None)["measured"] == []
    doc = day_doc()
    found = shares(doc)
    assert found["measured"] == ["full", "dump", "wal always", "wal adaptive", "incrementals always",
                                 "incrementals adaptive"]
    assert found["full"] == pytest.approx(0.1) and found["dump"] == pytest.approx(0.1)
    assert found["wal"] == {"always": pytest.approx(0.05), "adaptive": pytest.approx(0.05)}
    assert found["incrementals"]["always"] == pytest.approx(0.8)
    del doc["day"]["always"]
    found = shares(doc)
    assert found["wal"]["always"] == FALLBACK["wal"]["always"] and "wal always" not in found["measured"]
    assert found["wal"]["adaptive"] == pytest.approx(0.05)
    doc["day"]["hours"] = 4
    assert shares(doc)["measured"] == ["full"], "4 hours are no day: only section 1's full is measured"


def test_a_partial_day_of_todays_schedule_is_labelled_with_its_hours():
    doc = day_doc()
    full = 100 * 2**20
    del doc["day"]["always"]
    doc["day"]["always_partial"] = {"hours": 9, "full_bytes": full, "incremental_bytes": 4 * full,
                                    "wal_bytes": full, "dump_bytes": full, "incrementals": 9,
                                    "total_bytes": 7 * full, "note": "the report was due"}
    text = report.markdown(doc)
    assert "| always (today's schedule), its first 9 of 24 hours only | 100.0 MB (1.00x) |" in text
    assert "| 700.0 MB | 7.00x | 9 / 0 |" in text and "(the report was due)" in text


def standby_doc(from_standby: float = 99.0) -> dict:
    """A result document with the standby section: 100 tps alone, 80 with fulls from the primary."""
    doc = result_doc()
    doc["standby"] = {
        "standby_host": "db2", "peak_tps": 200.0, "rate_tps": 100.0, "cores": {"primary": [0], "elsewhere": [1]},
        "load": {"min": 1.0, "median": 1.5, "max": 2.0},
        "none": {"tps": summary(100), "p50_ms": summary(2), "p99_ms": summary(5)},
        "primary": {"tps": summary(80), "p99_ms": summary(40), "backup_seconds": summary(20)},
        "standby": {"tps": summary(from_standby), "p99_ms": summary(6), "backup_seconds": summary(25)},
    }
    return doc


@pytest.mark.parametrize(("from_standby", "met"), [(99.0, True), (97.0, False)])
def test_the_standby_target_holds_the_primary_to_98_percent_of_its_throughput_without_backups(from_standby, met):
    rows = {row["key"]: row for row in targets.evaluate(standby_doc(from_standby))}
    assert rows["standby_throughput"]["met"] is met and rows["standby_throughput"]["value"] == from_standby / 100
    assert "| >= 98% |" in report.markdown(standby_doc(from_standby))


def test_the_standby_section_shows_both_sources_side_by_side_and_where_each_process_ran():
    text = report.markdown(standby_doc())
    assert "## 8. Backups from the standby (the primary at half of its peak, 15 s per run)" in text
    assert "| from the primary (`--no-backup-standby`) | 80 | 80% | 40.0 ms | 20.0 s |" in text
    assert "| from the standby db2 (`backup-standby=y`) | 99 | 99% | 6.0 ms | 25.0 s |" in text
    assert "The primary's peak: 200 tps; the load runs at 100 tps" in text
    assert "core(s) 0" in text and "S3 server on core(s) 1" in text
    assert "## 8." not in report.markdown(result_doc())


def test_the_standby_section_runs_in_a_lab_of_its_own_and_joins_the_first_labs_document():
    from bench.__main__ import labs, merged_runs

    own = {"roles": ("standby",), "s3_in_memory": True}
    assert labs(["full", "standby", "day"]) == [({}, ["full", "day"]), (own, ["standby"])]
    assert labs(["standby"]) == [(own, ["standby"])]
    first, second = result_doc(), standby_doc()
    merged = merged_runs(merged_runs({}, first, ["full"]), second, ["standby"])
    assert merged["full"] == first["full"] and merged["standby"] == second["standby"]
    assert merged["duration_seconds"] == 1200
    assert {row["key"]: row["met"] for row in merged["targets"]}["standby_throughput"] is True


@pytest.mark.parametrize(("p99", "met"), [(6.0, True), (8.0, False)])
def test_the_standby_p99_target_holds_the_primary_within_one_and_a_half_times_its_no_backup_latency(p99, met):
    doc = standby_doc()
    doc["standby"]["standby"]["p99_ms"] = summary(p99)
    rows = {row["key"]: row for row in targets.evaluate(doc)}
    assert rows["standby_p99"]["met"] is met and rows["standby_p99"]["value"] == p99 / 5


def test_a_p99_over_several_runs_shows_its_range():
    doc = standby_doc()
    doc["standby"]["none"]["p99_ms"] = summary(8.0, 50.0)
    assert "| none | 100 | 100% | 29.0 ms (8.0 to 50.0, n=2) | - |" in report.markdown(doc)


def test_a_process_tree_is_pinned_and_given_every_core_back_afterwards():
    """The one test here that starts a process (a shell and its ``sleep``): the placement is the kernel's."""
    import os
    import subprocess
    import time

    from bench.affinity import halves, placed, tree

    split = halves()
    if split is None:
        pytest.skip("one core: nothing to split")
    here, elsewhere = split
    parent = subprocess.Popen(["sh", "-c", "sleep 30 & wait"])
    try:
        deadline = time.monotonic() + 5
        while len(tree(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        child = tree(parent.pid)[-1]
        assert child != parent.pid, "the shell started no child"
        with placed(here, elsewhere, [], [parent.pid]):
            assert os.sched_getaffinity(child) == elsewhere and os.sched_getaffinity(0) == here
        assert os.sched_getaffinity(child) == here | elsewhere == os.sched_getaffinity(0)
    finally:
        for pid in reversed(tree(parent.pid)):
            os.kill(pid, 9)
        parent.wait()


def test_cores_split_in_two_halves_and_one_core_cannot_be_split():
    from bench.affinity import halves

    assert halves([0, 1]) == ({0}, {1})
    assert halves([0, 1, 2, 3, 4]) == ({0, 1}, {2, 3, 4})
    assert halves([3]) is None
