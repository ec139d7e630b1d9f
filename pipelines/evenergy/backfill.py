"""Backlogs larger than one run: a partition's unread history, read in bounded windows,
oldest first.

A partition read for the first time (or after a long pause) may hold more pages than a run
can spend. Its first read (the live edge) stops after `window_pages` pages once it has read
past the lookback; what lies between where the read should have started and the oldest row
it reached is the partition's backlog (`Partition.backlog`: `since <= cursor value <
until`, none of it read yet), and the rows per hour that read saw are the partition's
density. Every later run serves the live edge first, as for any partition (at most half of
each package's requests while backlogs are open), then reads the backlogs in windows,
furthest behind first.

A window starts at the backlog's oldest end and is sized in time from the density to hold
about `window_pages` full pages (`*__gte=since`, `*__lte=since + span`): the API lists
newest first only, so a window bounded in time ends in a partly filled page, about half a
page per window (NOTES.md). With `window_pages = 30` that is 1/60 of the pages, under 2 %;
each completed window measures the density again. A window read to its end moves `since` up
to its end. A window that stops early (budget, deadline, failure, or twice its expected
pages) has read from its top down: the part read is remembered (`window_top`, `window_end`)
and the next read resumes below it at a fresh page, so every page read is saved with its
rows and none is read twice. A bad row keeps `since` at the first good row older than it.

Rows in a backlog are older than the live edge's lookback (`until` is below the live read's
oldest row, which is more than `lookback` below the newest), so uploads arriving late land
in the live edge's re-read window, never in the backlog.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pipelines.evenergy.partitions import PartitionResult
from pipelines.evenergy.state import Backlog, Partition

# The upper bound of a window is inclusive in the API (`*__lte`); the backlog's is not.
TICK = timedelta(microseconds=1)
# The density a window is sized with at least: a partition that was silent for a long spell
# gets windows of bounded span (a window holding more than its pages resumes, see `advance`).
MIN_ROWS_PER_HOUR = 0.01


@dataclass(frozen=True)
class Window:
    """One bounded read of a partition's backlog."""

    key: str
    since: datetime  # `*__gte`
    until: datetime  # `*__lte`
    end: datetime  # where the window's part of the backlog ends (exclusive)


def window(
    key: str, entry: Partition | None, pages: int, page_size: int, fallback_rows_per_hour: float
) -> Window | None:
    """The next window of a partition's backlog, None when it has none.

    Args:
        pages: pages a window should hold (`window_pages`).
        fallback_rows_per_hour: the density to assume when none was measured (a backlog
            kept by an older version).
    """
    hole = None if entry is None else entry.backlog
    if entry is None or hole is None:
        return None
    if hole.window_top is not None and hole.window_end is not None:  # resume, below its part read
        return Window(key, hole.since, hole.window_top - TICK, hole.window_end)
    density = entry.rows_per_hour or fallback_rows_per_hour
    span = timedelta(hours=pages * page_size / max(density, MIN_ROWS_PER_HOUR))
    end = hole.until if span >= hole.until - hole.since else hole.since + span
    return Window(key, hole.since, end - TICK, end)


def behind(entry: Partition | None) -> timedelta:
    """How much history a partition has still to read (for the order: furthest behind
    first)."""
    hole = None if entry is None else entry.backlog
    if hole is None:
        return timedelta(0)
    left = hole.until - hole.since
    if hole.window_top is not None and hole.window_end is not None:
        left -= hole.window_end - hole.window_top
    return left


def open_backlog(
    entry: Partition, since: datetime, result: PartitionResult, past: timedelta
) -> bool:
    """After a live read that stopped short: keep what it read and remember the rest as the
    partition's backlog, with the density the read saw. Only when what it read without a
    gap (down to its first bad row, which the backlog then starts above) reaches `past`
    below its newest row, so that late uploads stay in the live edge's lookback.

    Returns:
        Whether the backlog was opened (the caller then saves the cursor).
    """
    if not result.read or result.floor is None:
        return False
    newest = max(result.read)
    if not result.floor < newest - past:
        return False
    if result.floor > since:
        entry.backlog = Backlog(since, result.floor)
        entry.rows_per_hour = len(result.read) / _hours(newest - result.floor)
    return True


def advance(entry: Partition, item: Window, result: PartitionResult) -> None:
    """After a window: move the backlog's oldest end up past what was read, or close it."""
    hole = entry.backlog
    if hole is None:
        return
    if result.complete and not result.bad_rows:
        if item.since == hole.since and not hole.window_top:
            entry.rows_per_hour = max(len(result.read), 1) / _hours(item.end - item.since)
        _move_since(entry, hole, item.end)
        return
    if result.bad_rows:
        older = result.below_bad
        if older is not None and older > hole.since:
            _move_since(entry, hole, older)
        return
    if result.floor is None:
        return
    if result.floor <= hole.since:
        _move_since(entry, hole, item.end)
    else:  # read from the window's top down to `floor`: resume below it
        entry.backlog = Backlog(hole.since, hole.until, result.floor, item.end)


def _move_since(entry: Partition, hole: Backlog, since: datetime) -> None:
    entry.backlog = None if since >= hole.until else Backlog(since, hole.until)


def _hours(span: timedelta) -> float:
    return max(span.total_seconds() / 3600, 1 / 3600)
