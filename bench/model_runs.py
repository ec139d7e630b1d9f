"""Model build times: over the warehouse the pipeline loaded, and over synthetic data.

The synthetic benchmark is `bench.models.bench_models` (generated raw tables of a
chosen size) and `bench_nightly` (one new day on top of a history); this module only runs
them, or `build_database` on a loaded warehouse, inside a worker process.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import duckdb

from pipelines.models import DataCheckError, build_database

log = logging.getLogger(__name__)


def time_loaded_models(payload: dict[str, Any]) -> dict[str, Any]:
    """Build and test every model over a loaded warehouse (a full refresh: ``dbt build``).

    Args:
        payload: `database`, the DuckDB file the pipeline loaded.

    Returns:
        `build_seconds` (models and tests), `failed_checks`, the tables' `row_counts` and the
        raw `status_logs` / `dispatcher_logs` row counts they were built over.
    """
    with duckdb.connect(payload["database"]) as conn:
        raw = {
            table: _count(conn, f"evenergy.{table}") for table in ("status_logs", "dispatcher_logs")
        }
    try:
        build = build_database(Path(payload["database"]), full_refresh=True)
    except DataCheckError as error:
        return {"raw_rows": raw, "failed_checks": [c.name for c in error.failed]}
    return {
        "raw_rows": raw,
        "build_seconds": round(build.seconds, 3),
        "failed_checks": [],
        "row_counts": build.row_counts,
    }


def time_synthetic_models(payload: dict[str, Any]) -> dict[str, Any]:
    """Run `bench_models` at the requested size.

    Args:
        payload: `status_logs` and `dispatches`.

    Returns:
        `bench_models`' figures (generate, build and check seconds, mart row counts).
    """
    from bench.models import bench_models

    figures = bench_models(int(payload["status_logs"]), int(payload["dispatches"]))
    log.info("models over %s status logs: %s", payload["status_logs"], figures)
    return dict(figures)


def time_nightly_models(payload: dict[str, Any]) -> dict[str, Any]:
    """Run `bench_nightly`: one new day on top of `history_days` days of `evses` chargers.

    Args:
        payload: `history_days` and `evses`.

    Returns:
        `bench_nightly`'s figures.
    """
    from bench.models import bench_nightly

    figures = bench_nightly(int(payload["history_days"]), int(payload["evses"]))
    log.info("nightly models on %s days: %s", payload["history_days"], figures)
    return dict(figures)


def _count(conn: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = conn.execute(f"select count(*) from {relation}").fetchone()
    return int(row[0]) if row else 0
