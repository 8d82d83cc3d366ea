"""EDGE: two machines on one: CPU affinity of the lab's process trees (``sched_setaffinity``, ``/proc``).

The standby section compares a backup from the primary with one from the
standby.  On one machine the standby's pgBackRest would compress on the very
cores production runs on, which two machines do not do; so the cores are split
in two halves, "the primary's machine" (its PostgreSQL, the load, pgBackRest's
backup command) and "elsewhere" (the standby, its pgBackRest remote, the S3
server).  Both variants run with the same split; the disk stays shared.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.lab import BenchError


def halves(cores: Iterable[int] | None = None) -> tuple[set[int], set[int]] | None:
    """The cores of "the primary's machine" and of "elsewhere" (first half, second half); ``None`` on one core."""
    ordered = sorted(os.sched_getaffinity(0) if cores is None else cores)
    if len(ordered) < 2:
        return None
    middle = len(ordered) // 2
    return set(ordered[:middle]), set(ordered[middle:])


def tree(root: int) -> list[int]:
    """``root`` and every process descended from it, from ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone since the listing
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


class PinError(BenchError):
    """A process tree could not be placed (no CAP_SYS_NICE over another user's process): the split would be a
    claim the measurement does not hold."""


def pin(roots: Iterable[int], cores: set[int]) -> None:
    """Put every thread of each root's process tree on ``cores``, then read each root back.

    Processes these trees start later inherit the placement (a new backend forks from the postmaster, a
    pgBackRest remote from the standby's sshd).  A thread that exits meanwhile is passed over.

    :raises PinError: when a root that is still running is not on ``cores`` afterwards
    """
    for root in roots:
        for pid in tree(root):
            for task in _threads(pid):
                try:
                    os.sched_setaffinity(task, cores)
                except (ProcessLookupError, PermissionError):
                    continue  # exited; a refusal shows in the read-back below
        try:
            placed_on = os.sched_getaffinity(root)
        except ProcessLookupError:
            continue
        if placed_on != cores:
            raise PinError(f"process {root} stays on cores {sorted(placed_on)}, not {sorted(cores)}: run the "
                           "benchmark as root")


@contextmanager
def placed(here: set[int], elsewhere: set[int], primary: Iterable[int], others: Iterable[int]) -> Iterator[None]:
    """Within the block this thread (and what it starts) and the ``primary`` trees run on ``here``, the ``others``
    trees on ``elsewhere``; afterwards everything may use every core again."""
    every = here | elsewhere
    primary, others = list(primary), list(others)
    try:
        pin(primary, here)
        pin(others, elsewhere)
        os.sched_setaffinity(0, here)
        yield
    finally:
        os.sched_setaffinity(0, every)
        pin(primary + others, every)


def _threads(pid: int) -> list[int]:
    try:
        return [int(task) for task in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []
