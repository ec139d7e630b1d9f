"""`evenergy-etl status`: what the warehouse holds and where each partition stands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import duckdb

from pipelines.evenergy_pipeline import DATASET_NAME


def describe_status(pipeline: dlt.Pipeline, database: Path) -> Iterator[str]:
    """Lines of the status report: row counts, watermarks, the last loads."""
    if not database.exists():
        yield f"no warehouse at {database} yet: run `evenergy-etl run` first"
        return
    with duckdb.connect(str(database), read_only=True) as conn:
        yield f"warehouse {database}"
        yield from _row_counts(conn)
        yield from _last_loads(conn)
    yield from _watermarks(pipeline.state.get("sources", {}).get("evenergy", {}))


def _row_counts(conn: duckdb.DuckDBPyConnection) -> Iterator[str]:
    tables = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in (?, 'analytics') and table_name not like '\\_dlt%' escape '\\' "
        "order by 1, 2",
        [DATASET_NAME],
    ).fetchall()
    yield "tables:"
    for schema, table in tables:
        (count,) = conn.execute(f'select count(*) from "{schema}"."{table}"').fetchone() or (0,)
        yield f"  {schema}.{table:<40} {count:>12,} rows"


def _last_loads(conn: duckdb.DuckDBPyConnection) -> Iterator[str]:
    try:
        loads = conn.execute(
            f"select load_id, status, inserted_at from {DATASET_NAME}._dlt_loads "
            "order by inserted_at desc limit 3"
        ).fetchall()
    except duckdb.CatalogException:
        return
    yield "last loads:"
    for load_id, status, inserted_at in loads:
        yield f"  {inserted_at:%Y-%m-%d %H:%M:%S%z}  load {load_id}  status {status}"


def _watermarks(source_state: dict[str, Any]) -> Iterator[str]:
    resources = source_state.get("resources", {})
    yield "watermarks:"
    for name in ("status_logs", "evse_command_logs"):
        partitions = resources.get(name, {}).get("partitions", {})
        cursors = sorted(p["cursor"] for p in partitions.values() if p.get("cursor"))
        if cursors:
            yield f"  {name}: {len(cursors)} EVSEs, oldest {cursors[0]}, newest {cursors[-1]}"
        else:
            yield f"  {name}: none yet"
    queue = source_state.get("sub_sessions", {})
    yield (
        f"  dispatcher_logs: {len(queue.get('pending', {}))} sub-sessions queued, "
        f"ended-sub-session cursor {queue.get('end_cursor', 'none yet')}"
    )
