"""A warehouse whose partitions' state is still in dlt's source state (the shape before
`_evenergy_partitions`) continues where it stood: nothing is read again, nothing is lost.

The old shape is made from a real run: its state rows are turned back into the dicts the
previous version kept in dlt's state, written there by a load of the same pipeline that also
empties `_evenergy_partitions`. The next run must then read only the new hour.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest

from pipelines.evenergy.parsing import format_timestamp
from pipelines.evenergy.state import (
    KEY,
    PARTITIONS_TABLE,
    WRITE_DISPOSITION,
    Partition,
    PartitionStore,
    dlt_columns,
    read_store,
)
from pipelines.evenergy.sub_sessions import QUEUE
from pipelines.evenergy_pipeline import DATASET_NAME, FIXED_SETTINGS, make_pipeline
from pipelines.simulator import SimulatorServer
from tests.pipelines.conftest import START, Harness, simulator_config
from tests.pipelines.expected import assert_warehouse_matches, expected_rows

N_EVSES = 3
LOGS = ("status_logs", "evse_command_logs")


def _text(value: Any) -> str | None:
    return None if value is None else format_timestamp(value)


def _old_log_entry(p: Partition) -> dict[str, Any]:
    entry: dict[str, Any] = {"cursor": _text(p.cursor), "done_at": _text(p.done_at)}
    if p.interval_seconds is not None:
        entry["interval"] = p.interval_seconds
    if p.gaps_known:
        entry["hold"] = _text(p.hold)
    if p.backlog is not None:
        entry["backfill"] = {"from": _text(p.backlog.since), "to": _text(p.backlog.until)}
    return entry


def _to_old_shape(harness: Harness) -> int:
    """Move every partition's state into dlt's state as the previous version kept it, and
    empty `_evenergy_partitions`. Returns the partitions moved."""
    with duckdb.connect(str(harness.database), read_only=True) as conn:
        store = read_store(conn, DATASET_NAME)
    logs = {name: {k: _old_log_entry(p) for k, p in store.view(name).items()} for name in LOGS}
    queue = store.view(QUEUE)
    pending = {
        k: {"since": _text(p.cursor), "end": _text(p.ended_at), "tried_at": _text(p.done_at)}
        for k, p in queue.items()
        if not p.finalized
    }
    finalized = {k: _text(p.ended_at) for k, p in queue.items() if p.finalized}
    emptied = PartitionStore()
    for name in (*LOGS, QUEUE):
        for key in store.view(name):
            emptied.load(name, key, Partition())
            emptied.remove(name, key)

    def old_state(name: str) -> Any:
        @dlt.resource(name=name)
        def resource() -> Iterator[Any]:
            dlt.current.resource_state()["partitions"] = logs[name]
            yield from ()

        return resource

    @dlt.resource(
        name=PARTITIONS_TABLE,
        primary_key=KEY,
        write_disposition=WRITE_DISPOSITION,
        columns=dlt_columns(),
    )
    def deleted() -> Iterator[Any]:
        queue_state = dlt.current.source_state().setdefault("sub_sessions", {})
        queue_state.update(pending=pending, finalized=finalized)
        yield emptied.changes()

    @dlt.source(name="evenergy", max_table_nesting=0)
    def previous_version() -> list[Any]:
        return [old_state("status_logs")(), old_state("evse_command_logs")(), deleted()]

    pipeline = make_pipeline(str(harness.pipelines_dir), str(harness.database))
    pipeline.extract(previous_version(), loader_file_format="parquet")
    pipeline.normalize()
    pipeline.load().raise_on_failed_jobs()
    return sum(len(entries) for entries in logs.values()) + len(pending) + len(finalized)


def test_state_in_the_old_shape_moves_to_the_table_with_no_re_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = simulator_config(
        n_evses=N_EVSES, now=START + timedelta(days=1), days=2.0, sample_interval_seconds=300
    )
    with SimulatorServer(config) as simulator:
        harness = Harness(simulator, tmp_path)
        harness.run()
        with monkeypatch.context() as patched:  # load the old shape as a run loads
            for name, value in FIXED_SETTINGS.items():
                patched.setenv(name, value)
            moved = _to_old_shape(harness)
        assert moved >= 2 * N_EVSES
        with duckdb.connect(str(harness.database), read_only=True) as conn:
            assert read_store(conn, DATASET_NAME).size("status_logs") == 0

        simulator.clock.advance(timedelta(hours=1))  # 12 new samples an EVSE: one page
        outcome = harness.run()
        by_table = outcome.budget_requests()
        # a lost cursor re-reads the whole day: 3 pages of status logs per EVSE, not 1
        assert by_table["status_logs"] == N_EVSES, by_table
        assert by_table["evse_command_logs"] == N_EVSES, by_table
        assert_warehouse_matches(harness.database, expected_rows(simulator, START))

        state = make_pipeline(str(harness.pipelines_dir), str(harness.database)).state
        source_state = state["sources"]["evenergy"]
        for name in LOGS:
            assert "partitions" not in source_state["resources"].get(name, {})
        assert not {"pending", "finalized"} & source_state["sub_sessions"].keys()
        with duckdb.connect(str(harness.database), read_only=True) as conn:
            store = read_store(conn, DATASET_NAME)
        assert sum(store.size(name) for name in (*LOGS, QUEUE)) >= moved
