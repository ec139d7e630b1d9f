"""A backlog shrinks to exactly what is still unread, and is opened only below the lookback."""

from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.evenergy.backfill import TICK, advance, behind, open_backlog, window
from pipelines.evenergy.partitions import PartitionResult, safe_floor
from pipelines.evenergy.state import Backlog, Partition


def t(hour: int) -> datetime:
    return datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=hour)


def result(order: list[datetime | None], complete: bool = False) -> PartitionResult:
    """A read that saw `order` (newest first, None for a bad row)."""
    good = [value for value in order if value is not None]
    bad: list[Any] = [object() for value in order if value is None]
    return PartitionResult(
        "evse1", None, None, complete, bad, None, good, not complete, safe_floor(order)
    )


def entry(since: int, to: int) -> Partition:
    return Partition(backlog_since=t(since), backlog_until=t(to))


def test_floor_is_the_oldest_row_above_the_first_bad_one():
    assert safe_floor([t(30), t(20), t(10)]) == t(10)
    assert safe_floor([t(30), t(20), None, t(10)]) == t(20)
    assert safe_floor([None, t(20)]) is None
    assert safe_floor([]) is None


def test_window_reads_below_the_backlog_top_only():
    found = window("evse1", entry(0, 10))
    assert found is not None
    assert (found.since, found.until) == (t(0), t(10) - TICK)
    assert window("evse1", Partition()) is None
    assert behind(entry(0, 10)) == timedelta(hours=10)


def test_a_window_stopped_part_way_keeps_every_page_it_read():
    state = entry(0, 10)
    advance(state, result([t(9), t(8), t(7)]))
    assert state.backlog == Backlog(t(0), t(7))


def test_a_bad_row_stays_in_the_backlog():
    state = entry(0, 10)
    advance(state, result([t(9), None, t(7)], complete=True))
    assert state.backlog == Backlog(t(0), t(9))


def test_a_window_read_to_its_end_closes_the_backlog():
    state = entry(0, 10)
    advance(state, result([t(9), t(0)], complete=True))
    assert state.backlog is None and state == Partition()


def test_a_read_that_stops_nothing_read_keeps_the_backlog():
    state = entry(0, 10)
    advance(state, result([None]))
    assert state == entry(0, 10)


def test_backlog_opens_only_below_the_lookback():
    shallow = Partition()
    assert not open_backlog(shallow, t(0), result([t(50), t(48)]), past=timedelta(hours=6))
    assert shallow == Partition()
    deep = Partition()
    assert open_backlog(deep, t(0), result([t(50), t(40)]), past=timedelta(hours=6))
    assert deep == entry(0, 40)
