"""Progress lines with percentage and ETA from pgBackRest's detail log."""

from __future__ import annotations

from pgvault.core.progress import LineSink, Progress

LINE = "2026-11-27 00:09:13.101 P01 DETAIL: backup file /data/base/5/1249 (440KB, {pct}%) checksum 0a1b"


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_progress_is_throttled_and_estimates_the_rest():
    clock = Clock()
    progress = Progress("full backup", every=2.0, clock=clock)
    clock.now += 10
    assert progress.feed(LINE.format(pct="25.00")) == "  full backup:  25.0% (ETA 30 s)"
    clock.now += 1
    assert progress.feed(LINE.format(pct="30.00")) is None  # within 2 s of the last message
    clock.now += 5
    assert progress.feed(LINE.format(pct="80.00")).endswith("(ETA 4 s)")
    assert progress.feed("P00 INFO: nothing to see") is None
    assert progress.feed(LINE.format(pct="100.00")) == "  full backup: 100% copied in 16 s"
    assert progress.feed(LINE.format(pct="100.00")) is None


def test_restore_lines_count_too_and_early_lines_are_quiet():
    clock = Clock()
    progress = Progress("restore", clock=clock)
    assert progress.feed("P01 DETAIL: restore file /d/base/1/2 (8KB, 0.50%) checksum x") is None
    clock.now += 3
    line = progress.feed("P01 DETAIL: restore file /d/base/1/3 (8KB, 50.00%) checksum x")
    assert line.startswith("  restore:  50.0%")


def test_line_sink_hands_out_whole_lines_and_keeps_everything():
    seen = []
    sink = LineSink(seen.append)
    sink.write("first li")
    sink.write("ne\nsecond\nthi")
    assert seen == ["first line", "second"]
    assert sink.text == "first line\nsecond\nthi"
