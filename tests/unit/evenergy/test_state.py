"""The partitions' state: a load writes the rows of the partitions it changed, no others, and
what the warehouse holds reads back as it was written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pyarrow as pa

from pipelines.evenergy.state import (
    KEY,
    PARTITIONS_TABLE,
    WRITE_DISPOSITION,
    Backlog,
    Partition,
    PartitionStore,
    dlt_columns,
    migrate_log_state,
    migrate_queue_state,
    read_store,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def _fleet(n: int) -> PartitionStore:
    store = PartitionStore()
    for i in range(n):
        store.load("status_logs", f"evse{i}", Partition(cursor=T0, done_at=T0))
    return store


def test_only_the_partitions_changed_are_written() -> None:
    store = _fleet(1_000)
    for i in range(10):
        store.touch("status_logs", f"evse{i}").cursor = T0 + timedelta(hours=1)
    store.remove("status_logs", "evse999")
    rows = store.changes()
    assert rows is not None
    assert rows.num_rows == 11
    assert rows.filter(pa.compute.field("is_deleted")).num_rows == 1
    assert store.changes() is None, "a change is written once"


def _load(pipeline: dlt.Pipeline, rows: pa.Table | None) -> None:
    @dlt.resource(
        name=PARTITIONS_TABLE,
        primary_key=KEY,
        write_disposition=WRITE_DISPOSITION,
        columns=dlt_columns(),
    )
    def partitions() -> Iterator[Any]:
        if rows is not None:
            yield rows

    pipeline.run(partitions(), loader_file_format="parquet")


def _pipeline(database: Path, working_dir: Path) -> dlt.Pipeline:
    return dlt.pipeline(
        "state_test",
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name="evenergy",
        pipelines_dir=str(working_dir),
    )


def test_the_warehouse_gives_back_what_was_written(tmp_path: Path) -> None:
    database = tmp_path / "state.duckdb"
    pipeline = _pipeline(database, tmp_path / "dlt")
    store = _fleet(3)
    full = store.touch("status_logs", "evse0")
    full.gaps_known, full.hold, full.interval_seconds = True, T0, 300.0
    full.backlog = Backlog(T0 - timedelta(days=3), T0 - timedelta(days=1))
    store.touch("dispatcher_logs", "ss1").finalized = True
    store.touch("status_logs", "evse1")
    _load(pipeline, store.changes())
    store.remove("status_logs", "evse1")
    store.touch("dispatcher_logs", "ss1").ended_at = T0
    _load(pipeline, store.changes())
    with duckdb.connect(str(database), read_only=True) as conn:
        stored = read_store(conn, "evenergy")
    assert dict(stored.view("status_logs")) == {"evse0": full}
    assert dict(stored.view("dispatcher_logs")) == {"ss1": Partition(ended_at=T0, finalized=True)}


def test_state_in_the_old_shape_is_moved_and_leaves_dlt_state() -> None:
    store = PartitionStore()
    resource_state: dict[str, Any] = {
        "partitions": {
            "evse0": {"cursor": "2026-11-01T00:00:00.000000Z", "hold": None, "interval": 300},
            "evse1": {
                "cursor": "2026-11-01T00:00:00.000000Z",
                "hold": "unknown",
                "backfill": {
                    "from": "2026-10-01T00:00:00.000000Z",
                    "to": "2026-10-20T00:00:00.000000Z",
                },
            },
        }
    }
    queue_state: dict[str, Any] = {
        "end_cursor": "x",
        "pending": {"ss1": {"since": None, "end": None}},
        "finalized": {"ss2": "2026-11-01T00:00:00.000000Z"},
    }
    assert migrate_log_state(store, "status_logs", resource_state) == 2
    assert migrate_queue_state(store, "dispatcher_logs", queue_state) == 2
    assert resource_state == {} and queue_state == {"end_cursor": "x"}
    assert store.get("status_logs", "evse0") == Partition(
        cursor=T0, gaps_known=True, interval_seconds=300
    )
    evse1 = store.get("status_logs", "evse1")
    assert evse1 is not None and not evse1.gaps_known
    assert evse1.backlog == Backlog(
        datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 20, tzinfo=UTC)
    )
    assert store.get("dispatcher_logs", "ss2") == Partition(ended_at=T0, finalized=True)
    rows = store.changes()
    assert rows is not None and rows.num_rows == 4, "moved partitions are written"


def test_rows_of_a_package_that_never_completed_are_not_state(tmp_path: Path, monkeypatch) -> None:
    """A package's partition rows can commit while its data tables' merge fails; if dlt's
    working directory is then lost, those rows must not move a cursor past rows that never
    landed: only completed loads' rows are read back."""
    monkeypatch.setenv("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    database = tmp_path / "state.duckdb"
    pipeline = _pipeline(database, tmp_path / "dlt")
    store = _fleet(2)
    store.touch("status_logs", "evse0")
    store.touch("status_logs", "evse1")
    _load(pipeline, store.changes())
    store.touch("status_logs", "evse1").cursor = T0 + timedelta(days=1)
    _load(pipeline, store.changes())
    with duckdb.connect(str(database)) as conn:
        (unfinished,) = conn.execute("select max(load_id) from evenergy._dlt_loads").fetchone()
        conn.execute("delete from evenergy._dlt_loads where load_id = ?", [unfinished])
        stored = read_store(conn, "evenergy")
    assert dict(stored.view("status_logs")) == {"evse0": Partition(cursor=T0, done_at=T0)}
