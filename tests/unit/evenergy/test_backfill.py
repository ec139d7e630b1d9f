"""A backlog is read oldest first in windows sized from its density, shrinks to exactly what
is still unread, and is opened only below the lookback."""

from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.evenergy.backfill import TICK, Window, advance, behind, open_backlog, window
from pipelines.evenergy.partitions import (
    PartitionResult,
    first_good_after_last_bad,
    safe_floor,
)
from pipelines.evenergy.state import Backlog, Partition


def t(hour: float) -> datetime:
    return datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=hour)


def result(order: list[datetime | None], complete: bool = False) -> PartitionResult:
    """A read that saw `order` (newest first, None for a bad row)."""
    good = [value for value in order if value is not None]
    bad: list[Any] = [object() for value in order if value is None]
    return PartitionResult(
        "evse1",
        None,
        None,
        complete,
        bad,
        None,
        good,
        not complete,
        safe_floor(order),
        first_good_after_last_bad(order),
    )


def entry(since: float, to: float, rows_per_hour: float | None = 100.0) -> Partition:
    return Partition(backlog_since=t(since), backlog_until=t(to), rows_per_hour=rows_per_hour)


def test_floor_is_the_oldest_row_above_the_first_bad_one():
    assert safe_floor([t(30), t(20), t(10)]) == t(10)
    assert safe_floor([t(30), t(20), None, t(10)]) == t(20)
    assert safe_floor([None, t(20)]) is None
    assert safe_floor([]) is None


def test_a_window_starts_at_the_oldest_end_and_holds_its_pages():
    # 12 rows an hour, 10 pages of 100: a window spans 1000 / 12 hours
    found = window("evse1", entry(0, 500, rows_per_hour=12), 10, 100, 100)
    assert found is not None
    assert found.since == t(0)
    assert found.end == t(1000 / 12)
    assert found.until == found.end - TICK
    assert window("evse1", Partition(), 10, 100, 100) is None
    assert behind(entry(0, 10)) == timedelta(hours=10)


def test_the_last_window_ends_at_the_backlog_top():
    found = window("evse1", entry(0, 5, rows_per_hour=12), 10, 100, 100)
    assert found is not None and found.end == t(5)


def test_a_window_read_to_its_end_moves_the_oldest_end_up_and_measures_density():
    state = entry(0, 500)
    advance(state, Window("evse1", t(0), t(10) - TICK, t(10)), result([t(9), t(1)], complete=True))
    assert state.backlog == Backlog(t(10), t(500))
    assert state.rows_per_hour == 2 / 10


def test_the_last_window_closes_the_backlog():
    state = entry(0, 10)
    advance(state, Window("evse1", t(0), t(10) - TICK, t(10)), result([t(9)], complete=True))
    assert state.backlog is None


def test_a_window_stopped_part_way_resumes_below_what_it_read():
    state = entry(0, 500)
    item = Window("evse1", t(0), t(10) - TICK, t(10))
    advance(state, item, result([t(9), t(8), t(7)]))
    assert state.backlog == Backlog(t(0), t(500), t(7), t(10))
    resumed = window("evse1", state, 10, 100, 100)
    assert resumed == Window("evse1", t(0), t(7) - TICK, t(10))
    assert behind(state) == timedelta(hours=497)
    advance(state, resumed, result([t(6), t(0)], complete=True))
    assert state.backlog == Backlog(t(10), t(500))


def test_a_bad_row_keeps_the_oldest_end_at_the_good_row_below_it():
    state = entry(0, 500)
    item = Window("evse1", t(0), t(10) - TICK, t(10))
    advance(state, item, result([t(9), None, t(7), t(3)], complete=True))
    assert state.backlog == Backlog(t(7), t(500))
    advance(state, item, result([t(9), t(8), None], complete=True))
    assert state.backlog == Backlog(t(7), t(500)), "a bad row at the bottom: no progress"


def test_a_read_that_stops_nothing_read_keeps_the_backlog():
    state = entry(0, 10)
    advance(state, Window("evse1", t(0), t(5) - TICK, t(5)), result([None]))
    assert state == entry(0, 10)


def test_backlog_opens_only_below_the_lookback_with_the_density_read():
    shallow = Partition()
    assert not open_backlog(shallow, t(0), result([t(50), t(48)]), past=timedelta(hours=6))
    assert shallow == Partition()
    deep = Partition()
    assert open_backlog(deep, t(0), result([t(50), t(45), t(40)]), past=timedelta(hours=6))
    assert deep.backlog == Backlog(t(0), t(40))
    assert deep.rows_per_hour == 3 / 10
