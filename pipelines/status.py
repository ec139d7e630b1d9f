"""`evenergy-etl status`: what the warehouse holds, where each partition stands, the last runs.

Everything comes from the warehouse itself, never from dlt's working directory: row counts
and the newest sample per raw table, the watermarks and the sub-session queue from the
partitions' state (`evenergy._evenergy_partitions`) and the ended-sub-session cursor from the
dlt state the last successful load committed (`evenergy._dlt_pipeline_state`, decoded with
dlt's own helpers), the last runs from `evenergy._evenergy_runs`. Deleting dlt's working directory
changes nothing here. While a run holds the working warehouse, the published copy (which
holds the same tables, as of the last good run) is read instead. A lake is read as it is
(readers never wait for its writer); its "published" is the snapshot its `analytics` views
pin (`pipelines.lake_models`).
`status --json` gives monitoring the same as one JSON object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
from dlt.common.versioned_state import decompress_state
from dlt.pipeline.state_sync import migrate_state_to_current

from pipelines.evenergy.parsing import format_timestamp
from pipelines.evenergy.state import Partition, read_partitions
from pipelines.evenergy.sub_sessions import QUEUE
from pipelines.evenergy.tables import RAW_TABLES
from pipelines.evenergy_pipeline import DATASET_NAME, PIPELINE_NAME
from pipelines.lake import Lake, Warehouse, connect_warehouse, warehouse_exists
from pipelines.lake_models import published_snapshot
from pipelines.publish import published_path
from pipelines.run_history import last_runs

# The time each raw table is fresh by (null: the table has none, e.g. the fleet listing).
FRESHNESS_COLUMNS = {
    "status_logs": "sampled_at",
    "evse_command_logs": "logged_at",
    "dispatcher_logs": "logged_at",
    "charging_sub_sessions": "start",
}
PARTITIONED = ("status_logs", "evse_command_logs")
LAST_RUN_FIELDS = (
    "run_id",
    "started_at",
    "ended_at",
    "exit_code",
    "outcome",
    "stop_reason",
    "requests",
    "rows_loaded",
    "rows_by_table",
    "models_seconds",
)


def status_report(database: Warehouse) -> dict[str, Any]:
    """The status as one JSON-ready object (see the README's monitoring section).

    Args:
        database: the working warehouse, or the lake.

    Returns:
        `warehouse`, `published` (path, exists, modified_at; a lake: the views' snapshot),
        `read_from`, `tables` (per raw table: rows, freshness_column, newest_at),
        `watermarks`, `sub_sessions`, `last_load`, `last_run` (null before the first run).
    """
    report: dict[str, Any]
    source: Warehouse | None
    if isinstance(database, Lake):
        exists = warehouse_exists(database)
        report = {"warehouse": str(database), "warehouse_exists": exists}
        source = database if exists else None
    else:
        published = published_path(database)
        report = {
            "warehouse": str(database),
            "warehouse_exists": database.is_file(),
            "published": {
                "path": str(published),
                "exists": published.is_file(),
                "modified_at": _mtime(published),
            },
        }
        source = _readable(database, published)
    report["read_from"] = None if source is None else str(source)
    if source is None:
        report.setdefault("published", {"path": None, "exists": False, "modified_at": None})
        return report | {"tables": {}, "watermarks": {}, "sub_sessions": None, "last_run": None}
    with connect_warehouse(source, read_only=True) as conn:
        if isinstance(source, Lake):
            report["published"] = _lake_published(conn, source)
        state = stored_source_state(conn)
        partitions = list(read_partitions(conn, DATASET_NAME))
        runs = last_runs(conn, limit=1)
        report["tables"] = _tables(conn)
        report["last_load"] = _last_load(conn)
    report["watermarks"] = _watermarks(partitions)
    report["sub_sessions"] = _queue(state, partitions)
    report["last_run"] = {k: runs[0].get(k) for k in LAST_RUN_FIELDS} if runs else None
    if runs and isinstance(runs[0].get("rows_by_table"), str):
        report["last_run"]["rows_by_table"] = json.loads(runs[0]["rows_by_table"])
    return report


def _lake_published(conn: duckdb.DuckDBPyConnection, lake: Lake) -> dict[str, Any]:
    """The lake's `published`: the snapshot the `analytics` views pin, and when it was made."""
    snapshot = published_snapshot(conn)
    made = None
    if snapshot is not None:
        row = conn.execute(
            "select snapshot_time from ducklake_snapshots(?) where snapshot_id = ?",
            [lake.name, snapshot],
        ).fetchone()
        made = row[0] if row else None
    where = f"analytics views at snapshot {snapshot}" if snapshot is not None else None
    return {
        "path": where,
        "exists": snapshot is not None,
        "modified_at": made,
        "snapshot": snapshot,
    }


def status_json(database: Warehouse) -> str:
    """`status_report` as indented JSON, times in ISO 8601."""
    return json.dumps(status_report(database), indent=2, default=_json_default)


def describe_status(database: Warehouse) -> Iterator[str]:
    """Lines of the status report: row counts, watermarks, the last loads and runs."""
    report = status_report(database)
    if report["read_from"] is None:
        yield f"no warehouse at {database} yet: run `evenergy-etl run` first"
        return
    yield f"warehouse {database}"
    published = report["published"]
    when = f" (built {_text(published['modified_at'])})" if published["exists"] else " (none yet)"
    yield f"published {published['path']}{when}"
    if report["read_from"] != str(database):
        yield "  the warehouse is held by a run: figures below are from the published copy"
    yield "tables:"
    for name, table in report["tables"].items():
        newest = f"  newest {_text(table['newest_at'])}" if table["newest_at"] else ""
        yield f"  {DATASET_NAME}.{name:<32} {table['rows']:>12,} rows{newest}"
    yield "watermarks:"
    for name, marks in report["watermarks"].items():
        if marks["partitions"]:
            yield (
                f"  {name}: {marks['partitions']} EVSEs, oldest {marks['oldest']}, "
                f"newest {marks['newest']}"
            )
        else:
            yield f"  {name}: none yet"
    queue = report["sub_sessions"]
    yield (
        f"  dispatcher_logs: {queue['queued']} sub-sessions queued, "
        f"ended-sub-session cursor {queue['end_cursor'] or 'none yet'}"
    )
    if report.get("last_load"):
        yield f"last load: {_text(report['last_load'])}"
    yield from _run_lines(report["last_run"])


def stored_source_state(conn: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The `evenergy` source's state as the last successful load committed it to the warehouse.

    The query is dlt's own (`get_stored_state`: newest state row of a load with status 0);
    the decoding is dlt's (`decompress_state`, then migrated to the current engine version).
    Empty when nothing was loaded yet.
    """
    try:
        row = conn.execute(
            f"select s.state from {DATASET_NAME}._dlt_pipeline_state as s "
            f"join {DATASET_NAME}._dlt_loads as l on l.load_id = s._dlt_load_id "
            "where s.pipeline_name = ? and l.status = 0 order by l.load_id desc limit 1",
            [PIPELINE_NAME],
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    if not row:
        return {}
    state: dict[str, Any] = dict(
        migrate_state_to_current(PIPELINE_NAME, decompress_state(row[0][0]))
    )
    return dict(state.get("sources", {}).get("evenergy", {}))


def _readable(database: Path, published: Path) -> Path | None:
    """The warehouse, or the published copy while a run holds the warehouse."""
    if not database.is_file():
        return published if published.is_file() else None
    try:
        duckdb.connect(str(database), read_only=True).close()
    except duckdb.IOException:
        if published.is_file():
            return published
        raise  # held by a writer, or damaged: pipelines.errors.explain says which, in one line
    return database


def _tables(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    existing = {
        row[0]
        for row in conn.execute(
            "select table_name from information_schema.tables where table_schema = ?",
            [DATASET_NAME],
        ).fetchall()
    }
    tables: dict[str, dict[str, Any]] = {}
    for spec in RAW_TABLES:
        column = FRESHNESS_COLUMNS.get(spec.name)
        rows, newest = 0, None
        if spec.name in existing:
            newest_sql = f'max("{column}")' if column else "null"
            found = conn.execute(
                f'select count(*), {newest_sql} from {DATASET_NAME}."{spec.name}"'
            ).fetchall()
            rows, newest = int(found[0][0]), found[0][1]
        tables[spec.name] = {"rows": rows, "freshness_column": column, "newest_at": newest}
    return tables


def _last_load(conn: duckdb.DuckDBPyConnection) -> datetime | None:
    try:
        found = conn.execute(
            f"select max(inserted_at) from {DATASET_NAME}._dlt_loads where status = 0"
        ).fetchall()
    except duckdb.CatalogException:
        return None
    value = found[0][0]
    return value if isinstance(value, datetime) else None


def _watermarks(partitions: list[tuple[str, str, Partition]]) -> dict[str, dict[str, Any]]:
    marks = {}
    for name in PARTITIONED:
        cursors = sorted(
            format_timestamp(p.cursor) for e, _, p in partitions if e == name and p.cursor
        )
        marks[name] = {
            "partitions": len(cursors),
            "oldest": cursors[0] if cursors else None,
            "newest": cursors[-1] if cursors else None,
        }
    return marks


def _queue(
    source_state: dict[str, Any], partitions: list[tuple[str, str, Partition]]
) -> dict[str, Any]:
    queue = source_state.get("sub_sessions", {})
    queued = sum(1 for e, _, p in partitions if e == QUEUE and not p.finalized)
    return {"queued": queued, "end_cursor": queue.get("end_cursor")}


def _run_lines(run: dict[str, Any] | None) -> Iterator[str]:
    if run is None:
        yield "last run: none recorded yet"
        return
    rows = run.get("rows_loaded")
    yield (
        f"last run: {run['outcome']} (exit {run['exit_code']}), started "
        f"{_text(run['started_at'])}, ended {_text(run['ended_at'])}, "
        f"{run['requests'] if run['requests'] is not None else '?'} requests, "
        f"{rows if rows is not None else '?'} rows"
        + (f"; {run['stop_reason']}" if run.get("stop_reason") else "")
    )


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return "?" if value is None else str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
