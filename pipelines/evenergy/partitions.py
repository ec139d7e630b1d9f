"""Incremental reading of one partition: an EVSE's logs, or a sub-session's dispatcher logs.

A partition is read from its cursor (minus a lookback) to the newest row, following the
Link pages. Its new cursor is the newest timestamp read, except that it never moves past a
row that could not be read (see `safe_cursor`), so a malformed row is read again next run.

A read may be bounded above (`until`, the API's `*__lte` filter) and in pages
(`max_pages`): that is how a backlog too large for one run is read window by window (see
`pipelines.evenergy.backfill`). Listings are newest first, so a bounded read that stops
early has read everything from its upper bound down to `safe_floor` of what it read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pyarrow as pa

from pipelines.evenergy.client import EvEnergyClient
from pipelines.evenergy.endpoints import Endpoint
from pipelines.evenergy.errors import EvEnergyError, is_fatal
from pipelines.evenergy.parsing import parse_timestamp
from pipelines.evenergy.tables import BadRow, drop_duplicate_keys, page_to_arrow

T = TypeVar("T")

# Rows converted to Arrow at once: one conversion per chunk instead of one per page.
CONVERT_ROWS = 5_000


@dataclass
class PartitionResult:
    """What reading one partition gave."""

    key: str
    table: pa.Table | None
    cursor: datetime | None  # the partition's new cursor
    complete: bool  # every page was read: the cursor may be saved
    bad_rows: list[BadRow] = field(default_factory=list)
    error: EvEnergyError | None = None
    read: list[datetime] = field(default_factory=list)  # cursor values of the good rows read
    more: bool = False  # stopped at `max_pages` with pages left: the read is not complete
    floor: datetime | None = None  # everything from here up to the read's top was read
    below_bad: datetime | None = None  # everything older than this was read (bad rows above)

    @property
    def rows(self) -> int:
        """Good rows read."""
        return 0 if self.table is None else self.table.num_rows


def read_partition(
    client: EvEnergyClient,
    endpoint: Endpoint,
    key: str,
    since: datetime | None,
    cursor: datetime | None,
    page_size: int,
    until: datetime | None = None,
    max_pages: int | None = None,
    past: timedelta | None = None,
) -> PartitionResult:
    """Read a partition's rows with `since <= cursor_field <= until`; never raises an API
    error.

    Args:
        since: where to start reading (the old cursor minus the lookback), None for all.
        cursor: the partition's saved cursor; the new one is never older.
        until: the newest value to read (None: up to the newest row).
        max_pages: stop after this many pages (the result says `more`), once the rows read
            reach `past` below the newest one read (None: whatever they reach).
    """
    path, params = endpoint.request(key, since, page_size, until)
    tables: list[pa.Table] = []
    bad_rows: list[BadRow] = []
    order: list[datetime | None] = []  # cursor values in listing order, None for a bad row
    pending: list[Any] = []  # rows read but not yet converted: converted in chunks, not per page

    def convert() -> None:
        converted = page_to_arrow(endpoint.spec, pending, endpoint.partition_values(key), key)
        tables.append(converted.table)
        bad_rows.extend(converted.bad_rows)
        cursor_values = converted.table[endpoint.cursor]
        order.extend(_listing_order(cursor_values, converted.bad_rows, len(pending)))
        pending.clear()

    error: EvEnergyError | None = None
    more, pages, span = False, 0, _Span()
    try:
        for page, has_next in client.linked_pages(path, params, endpoint.spec.name):
            pending.extend(page)
            pages += 1
            span.add(page, endpoint.cursor)
            if len(pending) >= CONVERT_ROWS:
                convert()
            if has_next and max_pages is not None and pages >= max_pages and span.reaches(past):
                more = True  # the pages left are read by the next window
                break
    except EvEnergyError as failure:
        if is_fatal(failure):
            raise
        error = failure
    if pending:
        convert()
    table = pa.concat_tables(tables, promote_options="permissive") if tables else None
    if table is not None:  # newest first: a row repeated by a shifted page keeps its first copy
        table = drop_duplicate_keys(table, endpoint.spec.primary_key)
    complete = error is None and not more
    new_cursor = safe_cursor(order, cursor) if complete else cursor
    read = [value for value in order if value is not None]
    return PartitionResult(
        key,
        table,
        new_cursor,
        complete,
        bad_rows,
        error,
        read,
        more,
        safe_floor(order),
        first_good_after_last_bad(order),
    )


class _Span:
    """The newest and oldest cursor values seen on raw pages (before conversion)."""

    def __init__(self) -> None:
        self.newest: datetime | None = None
        self.oldest: datetime | None = None

    def add(self, page: list[Any], field_name: str) -> None:
        for row in (page[0], page[-1]) if page else ():
            value = row.get(field_name) if isinstance(row, dict) else None
            try:
                moment = parse_timestamp(value) if isinstance(value, str) else None
            except ValueError:
                moment = None
            if moment is not None:
                self.newest = moment if self.newest is None else max(self.newest, moment)
                self.oldest = moment if self.oldest is None else min(self.oldest, moment)

    def reaches(self, past: timedelta | None) -> bool:
        """The pages seen reach `past` below the newest value seen."""
        if past is None:
            return True
        return (
            self.newest is not None
            and self.oldest is not None
            and (self.oldest < self.newest - past)
        )


def _listing_order(values: pa.ChunkedArray, bad_rows: list[BadRow], size: int) -> list[Any]:
    good = iter(values.to_pylist())
    bad = {row.index for row in bad_rows}
    return [None if index in bad else next(good) for index in range(size)]


def safe_cursor(order: list[datetime | None], old: datetime | None) -> datetime | None:
    """The newest cursor that leaves every unreadable row inside the next read window.

    Rows come newest first. A bad row (None) has a cursor value no older than the next good
    row after it in the listing, so the cursor may advance at most to that row's value; a
    bad row with no good row after it pins the cursor where it was.
    """
    good = [value for value in order if value is not None]
    if not good:
        return old
    cap = max(good)
    older_good: datetime | None = None
    for value in reversed(order):
        if value is not None:
            older_good = value
        elif older_good is None:
            return old
        else:
            cap = min(cap, older_good)
    return cap if old is None else max(old, cap)


def safe_floor(order: list[datetime | None]) -> datetime | None:
    """The oldest value down to which a newest-first read saw every row: the last good row
    before the first bad one (a bad row must be read again), None if the first was bad or
    nothing was read."""
    floor: datetime | None = None
    for value in order:
        if value is None:
            break
        floor = value if floor is None else min(floor, value)
    return floor


def first_good_after_last_bad(order: list[datetime | None]) -> datetime | None:
    """In a newest-first listing, the newest good row older than every bad row: from it down
    everything was read; None if there is no bad row or a bad row is the oldest read."""
    last_bad = max((i for i, value in enumerate(order) if value is None), default=None)
    if last_bad is None:
        return None
    older = [value for value in order[last_bad + 1 :] if value is not None]
    return max(older) if older else None


def map_bounded(
    fn: Callable[[T], PartitionResult], items: Iterable[T], workers: int
) -> Iterator[PartitionResult]:
    """`fn` over `items` on a thread pool: results in submission order, 2 x workers in flight."""
    it = iter(items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="evenergy") as pool:
        in_flight: deque[Future[PartitionResult]] = deque()
        for item in it:
            in_flight.append(pool.submit(fn, item))
            if len(in_flight) >= 2 * workers:
                break
        while in_flight:
            result = in_flight.popleft().result()
            following = next(it, None)
            if following is not None:
                in_flight.append(pool.submit(fn, following))
            yield result
