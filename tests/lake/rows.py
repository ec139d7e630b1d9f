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


# what differs between two loads of the same data: dlt's load ids, and times derived from them
MODEL_COLUMNS_LEFT_OUT = ("last_loaded_at",)


def model_rows(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Each relation of schema `analytics` on `conn` (the file's tables and views, the lake's
    published views), rows sorted, every column but dlt's and `MODEL_COLUMNS_LEFT_OUT`."""
    conn.execute("set timezone = 'UTC'")
    relations = [
        name
        for (name,) in conn.execute(
            "select table_name from information_schema.tables where table_catalog = "
            "current_database() and table_schema = 'analytics' order by 1"
        ).fetchall()
    ]
    result = {}
    for relation in relations:
        columns = [
            name
            for (name,) in conn.execute(
                "select column_name from information_schema.columns where table_catalog = "
                "current_database() and table_schema = 'analytics' and table_name = ? "
                "order by column_name",
                [relation],
            ).fetchall()
            if not name.startswith("_dlt") and name not in MODEL_COLUMNS_LEFT_OUT
        ]
        quoted = ", ".join(f'"{c}"' for c in columns)
        rows = conn.execute(f'select {quoted} from analytics."{relation}"').fetchall()
        result[relation] = sorted((_portable(_rounded(row)) for row in rows), key=repr)
    return result


def _rounded(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # a parallel sum may differ in its last bits from one run to the next
    return tuple(round(v, 9) if isinstance(v, float) else v for v in row)
