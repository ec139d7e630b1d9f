"""Backlogs larger than one run: a partition's unread history, read in bounded windows.

A partition read for the first time (or after a long pause) may hold more pages than a run
can spend. Its first read (the live edge) stops after `window_pages` pages once it has read
past the lookback; what lies between where the read should have started and the oldest row
it reached is the partition's backlog, kept in its state (`Partition.backlog`:
`since <= cursor value < until`, none of it read yet). Every later run serves the live edge
first, as for any partition, then reads the backlog in windows of `window_pages` pages,
each bounded by `*__gte=since` and `*__lte=until` (minus a microsecond: `until` is
exclusive). A window that ends, or stops early (budget, deadline, failure), moves `until`
down to the oldest row below which nothing was read, so every page read is progress that is
saved with its rows and never read again.

The API lists newest first, so a window is read from its top: the backlog shrinks from its
newest end. Windows bounded in time from the oldest end would cost a partly filled last page
each (their size in rows is unknown until read); windows bounded in pages from the top cost
exactly one request per page of the backlog, and a window always starts a fresh page.

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


@dataclass(frozen=True)
class Window:
    """One bounded read of a partition's backlog."""

    key: str
    since: datetime  # `*__gte`
    until: datetime  # `*__lte`


def window(key: str, entry: Partition | None) -> Window | None:
    """The next window of a partition's backlog, None when it has none."""
    hole = None if entry is None else entry.backlog
    if hole is None:
        return None
    return Window(key, hole.since, hole.until - TICK)


def behind(entry: Partition | None) -> timedelta:
    """How much history a partition has still to read (for the order: furthest behind
    first)."""
    hole = None if entry is None else entry.backlog
    return timedelta(0) if hole is None else hole.until - hole.since


def open_backlog(
    entry: Partition, since: datetime, result: PartitionResult, past: timedelta
) -> bool:
    """After a live read that stopped short: keep what it read and remember the rest as the
    partition's backlog. Only when what it read without a gap (down to its first bad row,
    which the backlog then starts above) reaches `past` below its newest row, so that late
    uploads stay in the live edge's lookback.

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
    return True


def advance(entry: Partition, result: PartitionResult) -> None:
    """After a window: shrink the backlog to what is still unread, or close it."""
    hole = entry.backlog
    if hole is None:
        return
    if result.complete and not result.bad_rows:
        entry.backlog = None
        return
    if result.floor is None:
        return
    if result.floor <= hole.since:
        entry.backlog = None
    else:
        entry.backlog = Backlog(hole.since, min(result.floor, hole.until))
