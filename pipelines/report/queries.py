"""The report's data: one named SQL query per chart, table and header line, over `analytics`.

Each query is a file `pipelines/report/sql/<name>.sql` holding one SELECT that reads only the
analytics models (never the raw tables), so what the report draws is what an analyst gets from
the same models. `run_query` returns JSON-ready rows: the very values embedded in the chart.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from pipelines.errors import RunFailed

SQL_DIR = Path(__file__).resolve().parent / "sql"
SCHEMA = "analytics"

_REFERENCE = re.compile(rf"\b{SCHEMA}\.([a-z_][a-z0-9_]*)", re.IGNORECASE)

Row = dict[str, Any]


@dataclass(frozen=True)
class QueryResult:
    """The rows of one query, or why it has none.

    Attributes:
        name: the query's name (its file name without `.sql`).
        rows: JSON-ready rows (dates as `YYYY-MM-DD`, timestamps as ISO 8601 UTC).
        missing_models: analytics models the query reads that the warehouse lacks (then
            `rows` is empty: a warehouse whose models were never built has no data yet).
    """

    name: str
    rows: list[Row]
    missing_models: tuple[str, ...] = ()


@cache
def query_sql(name: str) -> str:
    """The text of the named query.

    Args:
        name: the query's file name without `.sql`.

    Returns:
        Its SELECT.
    """
    return (SQL_DIR / f"{name}.sql").read_text()


def models_read(name: str) -> tuple[str, ...]:
    """The analytics models the named query reads, in order of first mention."""
    return tuple(dict.fromkeys(m.lower() for m in _REFERENCE.findall(query_sql(name))))


def existing_models(conn: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables and views in schema `analytics` of the connected warehouse."""
    rows = conn.execute(
        "select table_name from information_schema.tables where table_schema = ?", [SCHEMA]
    ).fetchall()
    return {str(name).lower() for (name,) in rows}


def run_query(conn: duckdb.DuckDBPyConnection, name: str, models: set[str]) -> QueryResult:
    """Run the named query; no rows (and the missing models named) when a model is absent.

    Args:
        conn: a connection to the warehouse (read-only is enough).
        name: the query's file name without `.sql`.
        models: the models the warehouse has (`existing_models`).

    Returns:
        The query's rows, JSON-ready.

    Raises:
        RunFailed: the query failed (a model lacks a column it reads).
    """
    missing = tuple(model for model in models_read(name) if model not in models)
    if missing:
        return QueryResult(name, [], missing)
    try:
        cursor = conn.execute(query_sql(name))
    except duckdb.Error as error:  # a model without a column the report reads
        first = str(error).splitlines()[0]
        raise RunFailed(
            f"report query {name} failed: {first}; the analytics models lack what "
            f"pipelines/report/sql/{name}.sql reads: rebuild them with `evenergy-etl models`"
        ) from error
    columns = [description[0] for description in cursor.description]
    rows = [
        {column: jsonable(value) for column, value in zip(columns, row, strict=True)}
        for row in cursor.fetchall()
    ]
    return QueryResult(name, rows)


def jsonable(value: Any) -> Any:
    """A DuckDB value as JSON can carry it (and Vega-Lite parses it).

    Dates become `YYYY-MM-DD`, timestamps ISO 8601 in UTC, decimals floats, NaN null.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
