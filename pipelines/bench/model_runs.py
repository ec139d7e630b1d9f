"""Model build times: over the warehouse the pipeline loaded, and over synthetic data.

The synthetic benchmark is `pipelines.bench.models.bench_models` (generated raw tables of a
chosen size); this module only runs it, or `build_models` on a loaded warehouse, inside a
worker process.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import duckdb

from pipelines.models import build_models, run_checks

log = logging.getLogger(__name__)


def time_loaded_models(payload: dict[str, Any]) -> dict[str, Any]:
    """Build every SQL model over a loaded warehouse, then run the checks.

    Args:
        payload: `database`, the DuckDB file the pipeline loaded.

    Returns:
        `build_seconds`, `check_seconds`, `failed_checks`, the marts' `row_counts` and the
        raw `status_logs` / `dispatcher_logs` row counts they were built over.
    """
    with duckdb.connect(payload["database"]) as conn:
        raw = {
            table: _count(conn, f"evenergy.{table}") for table in ("status_logs", "dispatcher_logs")
        }
        build = build_models(conn)
        started = time.perf_counter()
        checks = run_checks(conn)
        check_seconds = time.perf_counter() - started
    return {
        "raw_rows": raw,
        "build_seconds": round(build.seconds, 3),
        "check_seconds": round(check_seconds, 3),
        "failed_checks": [c.name for c in checks if c.failing_rows],
        "row_counts": build.row_counts,
    }


def time_synthetic_models(payload: dict[str, Any]) -> dict[str, Any]:
    """Run `bench_models` at the requested size.

    Args:
        payload: `status_logs` and `dispatches`.

    Returns:
        `bench_models`' figures (generate, build and check seconds, mart row counts).
    """
    from pipelines.bench.models import bench_models

    figures = bench_models(int(payload["status_logs"]), int(payload["dispatches"]))
    log.info("models over %s status logs: %s", payload["status_logs"], figures)
    return dict(figures)


def _count(conn: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = conn.execute(f"select count(*) from {relation}").fetchone()
    return int(row[0]) if row else 0
