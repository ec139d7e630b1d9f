"""Older history for a loaded warehouse, generated inside DuckDB: the same night's merge can
then be measured on top of 7 and of 90 days (issue 15: the merge must not need memory that
grows with the history).

The copy's status and command logs are repeated further back in whole weeks (each copy a
week older, with its own `_dlt_id`), so the table holds as many days as asked with the
fleet's real shape; the cursors in dlt's state stay where the load left them, so the next
run reads exactly the night the un-padded warehouse reads.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import duckdb

PADDED_TABLES = ("status_logs", "evse_command_logs")


def pad_history(payload: dict[str, Any]) -> dict[str, Any]:
    """Worker entry (a process of its own: DuckDB's memory would otherwise stay in the bench
    process and, inherited by every later child, inflate their peak RSS)."""
    return padded_copy(payload["source"], payload["target"], float(payload["days"]))


def padded_copy(source: dict[str, str], target: dict[str, str], days: float) -> dict[str, int]:
    """Copy the warehouse and dlt directory of `source` to `target`, then extend its logs back
    to about `days` days of history; returns the rows per table afterwards."""
    for key in ("pipelines_dir", "database"):
        origin, copy = Path(source[key]), Path(target[key])
        copy.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, copy)
        else:
            shutil.copy(origin, copy)
    rows: dict[str, int] = {}
    with duckdb.connect(target["database"]) as conn:
        for table in PADDED_TABLES:
            rows[table] = _pad(conn, f"evenergy.{table}", days)
    return rows


def _pad(conn: duckdb.DuckDBPyConnection, table: str, days: float) -> int:
    cursor = "sampled_at" if table.endswith("status_logs") else "logged_at"
    first, last = conn.execute(f"select min({cursor}), max({cursor}) from {table}").fetchone() or (
        None,
        None,
    )
    if first is None:
        return 0
    span_days = max((last - first).total_seconds() / 86_400, 1.0)
    weeks = math.ceil((days - span_days) / 7)
    shift = "interval (7 * w.n) day"
    shifted = [f"t.{cursor} - {shift} as {cursor}"]
    if cursor == "sampled_at":
        shifted.append(f"t.logged_at - {shift} as logged_at")
    conn.execute(
        f"insert into {table} select t.* replace ({', '.join(shifted)}, "
        f"t._dlt_id || '-' || w.n as _dlt_id) from {table} t, range(1, {weeks + 1}) w(n)"
    )
    (count,) = conn.execute(f"select count(*) from {table}").fetchone() or (0,)
    return int(count)
