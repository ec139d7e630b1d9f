"""The nightly HTML report: charts of dispatch effectiveness and reporting health.

`write_report(database, to)` reads the analytics models of a warehouse (a read-only
connection, so it can run on the published copy or beside a reader) and writes one
self-contained HTML file, `<to>/report.html`, that opens offline. Each chart draws the rows of
one named query (`pipelines/report/sql/<name>.sql`, declared in `charts.CHARTS`). Models that
are missing or empty give a report that says "No data yet" instead of failing.

Not to be confused with `pipelines.evenergy.report`, the extraction's progress report.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from pathlib import Path

import duckdb

from pipelines.errors import RunFailed
from pipelines.lake import Warehouse, connect_warehouse
from pipelines.report.charts import CHARTS
from pipelines.report.page import NO_DATA, render
from pipelines.report.queries import QueryResult, existing_models, run_query

log = logging.getLogger(__name__)

REPORT_NAME = "report.html"
HEADER_QUERIES = ("table_freshness", "last_run", "fleet_size")
TABLE_QUERIES = ("top_failing_evses",)
QUERIES = tuple(chart.query for chart in CHARTS) + TABLE_QUERIES + HEADER_QUERIES

__all__ = ["CHARTS", "NO_DATA", "QUERIES", "REPORT_NAME", "read_results", "write_report"]


def write_report(database: Warehouse, to: Path) -> Path:
    """Write the report of a warehouse into a directory.

    Args:
        database: the DuckDB warehouse file (working or published copy).
        to: the directory to write `report.html` into; created when missing.

    Returns:
        The path of the HTML file.

    Raises:
        RunFailed: the warehouse is missing or cannot be opened.
    """
    results = read_results(database)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = render(results, title=f"evenergy-etl report: {database.name}", generated_at=now)
    to.mkdir(parents=True, exist_ok=True)
    target = to / REPORT_NAME
    # Written beside and renamed, so a reader never opens half a report.
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=to, prefix=".report-", suffix=".tmp", delete=False
    ) as handle:
        handle.write(page)
    os.replace(handle.name, target)
    log.info("report written: %s (%s bytes)", target, f"{target.stat().st_size:,}")
    return target


def read_results(database: Warehouse) -> dict[str, QueryResult]:
    """Every query of the report, run over a read-only connection to the warehouse.

    Args:
        database: the DuckDB warehouse file.

    Returns:
        Query name -> its result.

    Raises:
        RunFailed: the warehouse is missing or cannot be opened.
    """
    if isinstance(database, Path) and not database.is_file():
        raise RunFailed(f"no warehouse at {database}: run `evenergy-etl run` first")
    try:
        conn = connect_warehouse(database, read_only=True)  # a lake: its published views
    except duckdb.Error as error:
        first = str(error).splitlines()[0]
        raise RunFailed(f"cannot open {database} to report on it: {first}") from error
    with conn:
        models = existing_models(conn)
        return {name: run_query(conn, name, models) for name in QUERIES}
