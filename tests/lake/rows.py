"""The raw tables' rows as comparable lists, read the same way from a DuckDB file and from a
lake: every column but dlt's bookkeeping, rows sorted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from tests.pipelines.warehouse import RAW_TABLES, _portable


def raw_rows(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Each raw table's rows on `conn` (whose current database holds schema `evenergy`)."""
    conn.execute("set timezone = 'UTC'")
    result = {}
    for table in RAW_TABLES:
        columns = [
            name
            for (name,) in conn.execute(
                "select column_name from information_schema.columns where table_catalog = "
                "current_database() and table_schema = 'evenergy' and table_name = ? "
                "and column_name not like '\\_dlt%' escape '\\' order by column_name",
                [table],
            ).fetchall()
        ]
        quoted = ", ".join(f'"{c}"' for c in columns)
        rows = conn.execute(f"select {quoted} from evenergy.{table}").fetchall()
        # resource URLs carry the simulator's port, which differs between two simulators
        result[table] = sorted((_portable(row) for row in rows), key=repr)
    return result


def file_rows(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """`raw_rows` of a DuckDB warehouse file."""
    with duckdb.connect(str(database), read_only=True) as conn:
        return raw_rows(conn)
