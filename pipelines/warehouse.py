"""The warehouse's own tables that exist before any row arrives.

dlt creates a table only when rows for it arrive, so a fleet without command logs yet, or a
first backfill stopped by the budget, would leave the models reading a table that does not
exist. `ensure_tables` creates every raw table with all its declared columns (exactly as
the load declares them) and the run-history table, so an empty warehouse is a valid one.

The run history (`evenergy._evenergy_runs`, one row per `evenergy-etl run`) is written by the
nightly job itself, not by dlt: it records how a run ended, which dlt cannot know.
"""

from __future__ import annotations

import duckdb

from pipelines.evenergy.tables import raw_tables_ddl

RAW_SCHEMA = "evenergy"
RUNS_TABLE = "_evenergy_runs"

# One row per run. rows_by_table: JSON object {"status_logs": 123, ...} of rows extracted.
RUNS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "varchar not null"),  # unique per run
    ("started_at", "timestamptz not null"),
    ("ended_at", "timestamptz"),
    ("exit_code", "integer"),  # pipelines.exit_codes
    ("outcome", "varchar"),  # complete | partial | failed | checks_failed
    ("stop_reason", "varchar"),  # why a partial run stopped (budget, deadline, errors)
    ("requests", "bigint"),  # API requests made
    ("rows_loaded", "bigint"),  # rows extracted and loaded, all tables
    ("rows_by_table", "varchar"),  # JSON object: table -> rows
    ("load_ids", "varchar"),  # dlt load ids of the packages this run loaded, comma-separated
    ("models_seconds", "double"),  # model build and tests, null when not built
)


def runs_table_ddl(schema: str = RAW_SCHEMA) -> str:
    """`create table if not exists` of the run history."""
    columns = ", ".join(f"{name} {kind}" for name, kind in RUNS_COLUMNS)
    return f"create table if not exists {schema}.{RUNS_TABLE} ({columns});"


def ensure_tables(conn: duckdb.DuckDBPyConnection, schema: str = RAW_SCHEMA) -> None:
    """Create the raw tables and the run history where missing; existing ones are untouched."""
    conn.execute(raw_tables_ddl(schema, if_not_exists=True))
    conn.execute(runs_table_ddl(schema))
