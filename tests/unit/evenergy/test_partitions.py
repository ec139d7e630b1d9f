"""The partition cursor never moves past a row that could not be read."""

from datetime import UTC, datetime

from pipelines.evenergy.partitions import safe_cursor


def t(minute: int) -> datetime:
    return datetime(2026, 11, 1, 12, minute, tzinfo=UTC)


def test_cursor_is_the_newest_row_when_all_rows_are_good():
    assert safe_cursor([t(30), t(20), t(10)], old=t(0)) == t(30)


def test_cursor_never_goes_back():
    assert safe_cursor([t(5)], old=t(10)) == t(10)


def test_empty_partition_keeps_its_cursor():
    assert safe_cursor([], old=t(10)) == t(10)
    assert safe_cursor([], old=None) is None


def test_bad_row_caps_the_cursor_at_the_next_older_good_row():
    # Newest first: the bad row sits between 12:20 and 12:10, so its value is >= 12:10.
    assert safe_cursor([t(30), t(20), None, t(10)], old=t(0)) == t(10)


def test_bad_row_at_the_oldest_end_pins_the_cursor():
    assert safe_cursor([t(30), t(20), None], old=t(5)) == t(5)
    assert safe_cursor([t(30), None], old=None) is None


def test_several_bad_rows_take_the_oldest_bound():
    assert safe_cursor([None, t(40), t(30), None, t(20), t(10)], old=t(0)) == t(20)
