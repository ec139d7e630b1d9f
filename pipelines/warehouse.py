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

from pipelines.evenergy.tables import RAW_TABLES, TableSpec, duckdb_type, raw_tables_ddl

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


def check_schema(conn: duckdb.DuckDBPyConnection, schema: str = RAW_SCHEMA) -> str | None:
    """Why the raw tables in `schema` cannot take this version's load, or None if they can.

    A table may lack declared columns (the load adds them), but a declared column of another
    type, or a table without the lineage columns, means it was written by something else
    (another tool, or a run without the project's settings): loading would fail half-way or
    mix rows the models cannot order.
    """
    found: dict[tuple[str, str], str] = {
        (table, column): kind.lower()
        for table, column, kind in conn.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = ?",
            [schema],
        ).fetchall()
    }
    tables = {table for table, _ in found}
    for spec in RAW_TABLES:
        if spec.name not in tables:
            continue
        for column, kind in (*_declared(spec), ("_dlt_load_id", "varchar"), ("_dlt_id", "varchar")):
            have = found.get((spec.name, column))
            if have is None and column.startswith("_dlt"):
                return (
                    f"table {schema}.{spec.name} has no column {column} (written without the "
                    "project's settings?): move the file away and load anew"
                )
            if have is not None and have != kind:
                return (
                    f"column {schema}.{spec.name}.{column} is {have.upper()}, this version "
                    f"loads {kind.upper()}: move the file away and load anew"
                )
    return None


def _declared(spec: TableSpec) -> list[tuple[str, str]]:
    return [(column.name, duckdb_type(column.kind)) for column in spec.columns]
