"""Incremental reading of one partition: an EVSE's logs, or a sub-session's dispatcher logs.

A partition is read from its cursor (minus a lookback) to the newest row, following the
Link pages. Its new cursor is the newest timestamp read, except that it never moves past a
row that could not be read (see `safe_cursor`), so a malformed row is read again next run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import pyarrow as pa

from pipelines.evenergy.client import EvEnergyClient
from pipelines.evenergy.errors import EvEnergyError, is_fatal
from pipelines.evenergy.parsing import format_timestamp
from pipelines.evenergy.tables import BadRow, TableSpec, drop_duplicate_keys, page_to_arrow

T = TypeVar("T")

# Rows converted to Arrow at once: one conversion per chunk instead of one per page.
CONVERT_ROWS = 5_000


@dataclass(frozen=True)
class LogEndpoint:
    """A log endpoint read per partition, newest first, with a `*__gte` cursor filter."""

    spec: TableSpec
    path: str  # formatted with the partition key as `key`
    partition_column: str  # the column filled with the partition key
    cursor_field: str
    cursor_param: str
    key_param: str | None = None  # the partition key as a query parameter instead of a path
    paginated: bool = True

    def request(
        self, key: str, since: datetime | None, page_size: int
    ) -> tuple[str, dict[str, Any]]:
        """Path and query parameters of the first request for a partition."""
        params: dict[str, Any] = {}
        if self.key_param:
            params[self.key_param] = key
        if self.paginated:
            params["page_size"] = page_size
        if since is not None:
            params[self.cursor_param] = format_timestamp(since)
        return self.path.format(key=key), params


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

    @property
    def rows(self) -> int:
        """Good rows read."""
        return 0 if self.table is None else self.table.num_rows


def read_partition(
    client: EvEnergyClient,
    endpoint: LogEndpoint,
    key: str,
    since: datetime | None,
    cursor: datetime | None,
    page_size: int,
) -> PartitionResult:
    """Read a partition's rows with `cursor_field >= since`; never raises an API error.

    Args:
        since: where to start reading (the old cursor minus the lookback), None for all.
        cursor: the partition's saved cursor; the new one is never older.
    """
    path, params = endpoint.request(key, since, page_size)
    tables: list[pa.Table] = []
    bad_rows: list[BadRow] = []
    order: list[datetime | None] = []  # cursor values in listing order, None for a bad row
    pending: list[Any] = []  # rows read but not yet converted: converted in chunks, not per page

    def convert() -> None:
        converted = page_to_arrow(endpoint.spec, pending, {endpoint.partition_column: key}, key)
        tables.append(converted.table)
        bad_rows.extend(converted.bad_rows)
        cursor_values = converted.table[endpoint.cursor_field]
        order.extend(_listing_order(cursor_values, converted.bad_rows, len(pending)))
        pending.clear()

    error: EvEnergyError | None = None
    try:
        for page in client.pages(path, params, endpoint.spec.name):
            pending.extend(page)
            if len(pending) >= CONVERT_ROWS:
                convert()
    except EvEnergyError as failure:
        if is_fatal(failure):
            raise
        error = failure
    if pending:
        convert()
    table = pa.concat_tables(tables, promote_options="permissive") if tables else None
    if table is not None:  # newest first: a row repeated by a shifted page keeps its first copy
        table = drop_duplicate_keys(table, endpoint.spec.primary_key)
    complete = error is None
    new_cursor = safe_cursor(order, cursor) if complete else cursor
    read = [value for value in order if value is not None]
    return PartitionResult(key, table, new_cursor, complete, bad_rows, error, read)


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
