"""One row per `evenergy-etl run` in `evenergy._evenergy_runs`: how each night ended.

dlt records loads, not runs: it cannot know that a run stopped at the rate-limit budget or
that its data checks failed. The nightly job writes this row itself, into the working
warehouse, after the models and their checks and before publishing (so the published copy
and `analytics.pipeline_runs` include the run that built them); failed runs are recorded
too whenever the warehouse can be reached. The columns are `pipelines.warehouse.RUNS_COLUMNS`.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from pipelines.lake import Warehouse, connect_warehouse, warehouse_exists
from pipelines.warehouse import RAW_SCHEMA, RUNS_COLUMNS, RUNS_TABLE, ensure_tables

log = logging.getLogger(__name__)

COMPLETE = "complete"
PARTIAL = "partial"
FAILED = "failed"
CHECKS_FAILED = "checks_failed"


@dataclass
class RunRecord:
    """One run, as its row in `_evenergy_runs` (fields named and ordered as the columns)."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended_at: datetime | None = None
    exit_code: int | None = None
    outcome: str | None = None
    stop_reason: str | None = None
    requests: int | None = None
    rows_loaded: int | None = None
    rows_by_table: dict[str, int] | None = None
    load_ids: list[str] | None = None
    models_seconds: float | None = None

    def ended(self, exit_code: int, outcome: str, stop_reason: str | None = None) -> RunRecord:
        """Set how the run ended, now; returns self."""
        self.ended_at = datetime.now(UTC)
        self.exit_code = exit_code
        self.outcome = outcome
        if stop_reason is not None:
            self.stop_reason = stop_reason
        return self

    def values(self) -> list[Any]:
        """The row's values in column order (JSON and comma-separated text where declared)."""
        row = asdict(self)
        row["rows_by_table"] = (
            None if self.rows_by_table is None else json.dumps(self.rows_by_table)
        )
        row["load_ids"] = None if self.load_ids is None else ",".join(self.load_ids)
        return [row[name] for name, _ in RUNS_COLUMNS]


def record_run(database: Warehouse, record: RunRecord) -> None:
    """Insert the run's row into the working warehouse.

    Raises:
        duckdb.Error: when the warehouse cannot be written.
    """
    names = ", ".join(name for name, _ in RUNS_COLUMNS)
    marks = ", ".join("?" for _ in RUNS_COLUMNS)
    with connect_warehouse(database) as conn:
        ensure_tables(conn)
        conn.execute(
            f"insert into {RAW_SCHEMA}.{RUNS_TABLE} ({names}) values ({marks})", record.values()
        )
    log.debug("run %s recorded: %s, exit %s", record.run_id, record.outcome, record.exit_code)


def amend_run(database: Warehouse, record: RunRecord) -> None:
    """Rewrite how an already recorded run ended (a publish that failed after the record)."""
    with connect_warehouse(database) as conn:
        conn.execute(
            f"update {RAW_SCHEMA}.{RUNS_TABLE} set ended_at = ?, exit_code = ?, outcome = ?, "
            "stop_reason = ? where run_id = ?",
            [record.ended_at, record.exit_code, record.outcome, record.stop_reason, record.run_id],
        )


def record_failure(database: Warehouse, record: RunRecord) -> None:
    """Record a failed run where the warehouse can be reached; never raises.

    A run that failed before any warehouse existed (a missing setting) records nothing, and
    a warehouse that cannot be opened (held, corrupt) only logs why: the run's own error is
    the one to report.
    """
    if not warehouse_exists(database):  # attaching a lake would create its catalog
        return
    try:
        record_run(database, record)
    except duckdb.Error as err:
        log.warning("run history: could not record the failed run: %s", str(err).splitlines()[0])


def last_runs(conn: duckdb.DuckDBPyConnection, limit: int = 3) -> list[dict[str, Any]]:
    """The newest runs first, each as column -> value; none when the table does not exist."""
    try:
        result = conn.execute(
            f"select * from {RAW_SCHEMA}.{RUNS_TABLE} order by started_at desc limit {int(limit)}"
        )
    except duckdb.CatalogException:
        return []
    names = [d[0] for d in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
