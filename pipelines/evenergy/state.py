"""The incremental state of every partition, declared once: `evenergy._evenergy_partitions`.

A partition is one EVSE's status or command logs, or one sub-session's dispatcher logs. Its
cursor, gap hold, backlog and (for a sub-session) place in the dispatcher-log queue are one
row of a merged table, keyed on (endpoint, partition_key), loaded in the same load package as
the rows that moved it: rows and cursors still commit together, and a load writes only the
partitions it changed. dlt's own source state keeps fleet-level values only (the ended
sub-session cursor): dlt rewrites its whole state row on every load, which for per-partition
cursors grew with the fleet (about 23 MB of JSON for 100k EVSEs, issue 12).

Every reader and writer goes through `Partition` and `PartitionStore`: the extraction, the
lookback, the backlog, the sub-session queue and `pipelines.status`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
from dlt.common.schema.typing import TColumnSchema, TDeleteInsertStrategyDict

from pipelines.evenergy.parsing import parse_optional_timestamp

PARTITIONS_TABLE = "_evenergy_partitions"
KEY = ("endpoint", "partition_key")
WRITE_DISPOSITION: TDeleteInsertStrategyDict = {"disposition": "merge", "strategy": "delete-insert"}
DELETED = "is_deleted"  # a partition that left the state (a pruned sub-session)
_TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass
class Backlog:
    """History of a partition not read yet: `since <= cursor value < until`, except, while
    a window is under way (`window_end`), the part of it read already: `[window_top,
    window_end)`."""

    since: datetime
    until: datetime
    window_top: datetime | None = None  # the window under way: unread below this
    window_end: datetime | None = None  # and read up to here (exclusive)


@dataclass(slots=True)  # a fleet's worth live through the run: 10,000 EVSEs hold 30,000
class Partition:
    """One partition's incremental state (one row of `_evenergy_partitions`)."""

    cursor: datetime | None = None  # newest cursor value read through (sub-session: `since`)
    done_at: datetime | None = None  # when it was last read through (the fair order)
    interval_seconds: float | None = None  # measured sampling interval (status logs)
    gaps_known: bool = False  # `hold` is measured: False keeps the full lookback
    hold: datetime | None = None  # oldest gap still open, None: no gap
    backlog_since: datetime | None = None  # see `backlog`
    backlog_until: datetime | None = None
    window_top: datetime | None = None
    window_end: datetime | None = None
    rows_per_hour: float | None = None  # measured density: sizes a backlog's windows
    ended_at: datetime | None = None  # a sub-session's end, None while it is ongoing
    finalized: bool = False  # a sub-session whose logs were read after it ended

    @property
    def backlog(self) -> Backlog | None:
        """The history still to read (`pipelines.evenergy.backfill`), None when none."""
        if self.backlog_since is None or self.backlog_until is None:
            return None
        return Backlog(self.backlog_since, self.backlog_until, self.window_top, self.window_end)

    @backlog.setter
    def backlog(self, value: Backlog | None) -> None:
        self.backlog_since = None if value is None else value.since
        self.backlog_until = None if value is None else value.until
        self.window_top = None if value is None else value.window_top
        self.window_end = None if value is None else value.window_end


def read_at_moment(read_at: datetime | None, moment: datetime) -> bool:
    """Whether something read through at `read_at` (a partition's `done_at`, a listing's time,
    on the API's clock) was read at `moment`: the API can have nothing newer for it."""
    return read_at is not None and read_at >= moment


_FIELDS = tuple(f.name for f in fields(Partition))
_ARROW: dict[str, pa.DataType] = {
    "cursor": _TIMESTAMP,
    "done_at": _TIMESTAMP,
    "interval_seconds": pa.float64(),
    "gaps_known": pa.bool_(),
    "hold": _TIMESTAMP,
    "backlog_since": _TIMESTAMP,
    "backlog_until": _TIMESTAMP,
    "window_top": _TIMESTAMP,
    "window_end": _TIMESTAMP,
    "rows_per_hour": pa.float64(),
    "ended_at": _TIMESTAMP,
    "finalized": pa.bool_(),
}
_SCHEMA = pa.schema(
    [
        pa.field("endpoint", pa.string(), nullable=False),
        pa.field("partition_key", pa.string(), nullable=False),
        *(pa.field(name, _ARROW[name]) for name in _FIELDS),
        pa.field(DELETED, pa.bool_(), nullable=False),
    ]
)
_DLT_TYPES = {
    pa.string(): "text",
    _TIMESTAMP: "timestamp",
    pa.float64(): "double",
    pa.bool_(): "bool",
    pa.int64(): "bigint",
}


def dlt_columns() -> dict[str, TColumnSchema]:
    """Column hints of `_evenergy_partitions` (a merge that deletes the rows marked deleted)."""
    columns: dict[str, TColumnSchema] = {
        f.name: {"data_type": _DLT_TYPES[f.type], "nullable": f.nullable}  # type: ignore[typeddict-item]
        for f in _SCHEMA
    }
    columns[DELETED]["hard_delete"] = True
    return columns


class PartitionStore:
    """Every partition's state for one run: read once from the warehouse, changed in memory,
    and written back per load package as the rows of the partitions that changed."""

    def __init__(self) -> None:
        self._partitions: dict[str, dict[str, Partition]] = {}
        self._changed: dict[str, set[str]] = {}
        self._removed: dict[str, set[str]] = {}

    def view(self, endpoint: str) -> Mapping[str, Partition]:
        """One endpoint's partitions by key, to read (write through `touch`)."""
        return self._partitions.setdefault(endpoint, {})

    def get(self, endpoint: str, key: str) -> Partition | None:
        """A partition's state, None if it has none."""
        return self._partitions.get(endpoint, {}).get(key)

    def touch(self, endpoint: str, key: str) -> Partition:
        """A partition's state to change (created if new): written with the next package."""
        partition = self._partitions.setdefault(endpoint, {}).setdefault(key, Partition())
        self._changed.setdefault(endpoint, set()).add(key)
        self._removed.get(endpoint, set()).discard(key)
        return partition

    def remove(self, endpoint: str, key: str) -> None:
        """A partition leaves the state (its row is deleted with the next package)."""
        if self._partitions.get(endpoint, {}).pop(key, None) is not None:
            self._removed.setdefault(endpoint, set()).add(key)
        self._changed.get(endpoint, set()).discard(key)

    def changes(self) -> pa.Table | None:
        """The rows of the partitions changed since the last `changes` (then forgotten), None
        when nothing changed."""
        tables = [
            t
            for e in sorted(self._changed.keys() | self._removed.keys())
            if (t := self._endpoint_changes(e))
        ]
        return pa.concat_tables(tables) if tables else None

    def _endpoint_changes(self, endpoint: str) -> pa.Table | None:
        changed = sorted(self._changed.pop(endpoint, set()))
        removed = sorted(self._removed.pop(endpoint, set()))
        if not changed and not removed:
            return None
        partitions = self._partitions.get(endpoint, {})
        rows = [partitions[key] for key in changed]
        columns: dict[str, list[Any]] = {
            "endpoint": [endpoint] * (len(changed) + len(removed)),
            "partition_key": changed + removed,
        }
        for name in _FIELDS:
            default = False if _ARROW[name] == pa.bool_() else None
            columns[name] = [getattr(p, name) for p in rows] + [default] * len(removed)
        columns[DELETED] = [False] * len(changed) + [True] * len(removed)
        return pa.table(columns, schema=_SCHEMA)

    def load(self, endpoint: str, key: str, partition: Partition) -> None:
        """Put a partition's stored state in the store (not a change)."""
        self._partitions.setdefault(endpoint, {})[key] = partition

    def size(self, endpoint: str) -> int:
        """Partitions with a state."""
        return len(self._partitions.get(endpoint, {}))


def read_store(conn: duckdb.DuckDBPyConnection, schema: str) -> PartitionStore:
    """The partitions' state as the warehouse holds it (empty before the first load)."""
    store = PartitionStore()
    for endpoint, key, partition in read_partitions(conn, schema):
        store.load(endpoint, key, partition)
    return store


def read_partitions(
    conn: duckdb.DuckDBPyConnection, schema: str
) -> Iterator[tuple[str, str, Partition]]:
    """(endpoint, key, state) of every partition in `<schema>._evenergy_partitions`."""
    table = f"{schema}.{PARTITIONS_TABLE}"
    try:
        present = {row[0] for row in conn.execute(f"describe {table}").fetchall()}
    except duckdb.CatalogException:
        return
    # a field added since the table was made reads as its default until a load adds it
    names = [name for name in _FIELDS if name in present]
    cursor = conn.execute(
        f"select endpoint, partition_key, {', '.join(names)} from {table}"
        f"{_completed_only(conn, schema, present)}"
    )
    while batch := cursor.fetchmany(10_000):
        for endpoint, key, *values in batch:
            found = {name: _utc(value) for name, value in zip(names, values, strict=True)}
            yield endpoint, key, Partition(**found)


def _completed_only(conn: duckdb.DuckDBPyConnection, schema: str, present: set[str]) -> str:
    """A `where` keeping the rows of completed loads only.

    A package commits table by table: its partitions' rows can commit while a data table's
    merge fails. The package is kept and loads first on the next run (before the state is
    read), so this matters only when dlt's working directory is lost too: then a partition
    whose row came from the unfinished package has no state, and is read again from
    `initial_start` (duplicates merge away), rather than resuming past rows that never landed.
    """
    if "_dlt_load_id" not in present:
        return ""
    try:
        conn.execute(f"select 1 from {schema}._dlt_loads limit 0")
    except duckdb.CatalogException:
        return ""
    return f" where _dlt_load_id in (select load_id from {schema}._dlt_loads where status = 0)"


def _utc(value: Any) -> Any:
    """DuckDB hands a timestamptz back in the connection's time zone."""
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def migrate_log_state(
    store: PartitionStore, endpoint: str, resource_state: MutableMapping[str, Any]
) -> int:
    """Move one log endpoint's partitions out of dlt's resource state (the shape before
    `_evenergy_partitions`: `partitions = {key: {cursor, done_at, hold, interval,
    backfill: {from, to}}}`) into the store. The popped state and the rows are written by the
    same package. Returns the partitions moved."""
    old = resource_state.pop("partitions", None) or {}
    for key, entry in old.items():
        if store.get(endpoint, key) is not None:
            continue  # the table already has it: a newer state than dlt's copy
        partition = store.touch(endpoint, key)
        partition.cursor = parse_optional_timestamp(entry.get("cursor"))
        partition.done_at = parse_optional_timestamp(entry.get("done_at"))
        partition.interval_seconds = entry.get("interval")
        hold = entry.get("hold", "unknown")
        partition.gaps_known = hold != "unknown"
        partition.hold = parse_optional_timestamp(hold) if partition.gaps_known else None
        backfill = entry.get("backfill")
        if backfill:
            partition.backlog_since = parse_optional_timestamp(backfill["from"])
            partition.backlog_until = parse_optional_timestamp(backfill["to"])
    return len(old)


def migrate_queue_state(
    store: PartitionStore, endpoint: str, queue_state: MutableMapping[str, Any]
) -> int:
    """Move the sub-session queue out of dlt's source state (`pending = {id: {since, end,
    tried_at}}`, `finalized = {id: end}`) into the store. Returns the partitions moved."""
    pending = queue_state.pop("pending", None) or {}
    finalized = queue_state.pop("finalized", None) or {}
    for key, entry in pending.items():
        if store.get(endpoint, key) is None:
            partition = store.touch(endpoint, key)
            partition.cursor = parse_optional_timestamp(entry.get("since"))
            partition.ended_at = parse_optional_timestamp(entry.get("end"))
            partition.done_at = parse_optional_timestamp(entry.get("tried_at"))
    for key, end in finalized.items():
        if store.get(endpoint, key) is None:
            partition = store.touch(endpoint, key)
            partition.ended_at = parse_optional_timestamp(end)
            partition.finalized = True
    return len(pending) + len(finalized)
