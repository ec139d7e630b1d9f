"""Baseline (b): DuckDB reading the status-log pages straight from JSON files.

Before any timing, the pages the simulator serves (100 status logs each, newest first, as
the API renders them) are written to one JSON file per page, from the ground-truth world.
Then a fresh DuckDB file runs `create table ... as select * from read_json(...)` over them:
no HTTP, no Python per row. It is the practical ceiling of the load side.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from pipelines.simulator import World

log = logging.getLogger(__name__)

PAGE = 100


def render_status_pages(world: World, now: datetime, directory: Path) -> int:
    """Write every status-log page visible at `now` to `directory`, one file per page.

    Returns:
        Rows written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    rows = files = 0
    for spec in world.sorted_specs:
        if spec.joined_us > int(now.timestamp() * 1_000_000):
            continue
        logs = world.status_logs(spec.id, now)
        for first in range(0, len(logs), PAGE):
            page = logs[first : first + PAGE]
            (directory / f"{spec.id}-{first // PAGE:05d}.json").write_bytes(orjson.dumps(page))
            rows, files = rows + len(page), files + 1
    log.info("rendered %d status logs into %d JSON pages under %s", rows, files, directory)
    return rows


def time_read_json(payload: dict[str, Any]) -> dict[str, Any]:
    """Load the rendered pages into a fresh DuckDB table and time it.

    Args:
        payload: `pages_dir` (the JSON pages) and `database` (a DuckDB file to create).

    Returns:
        `rows` and `wall_seconds` of the `create table as select * from read_json(...)`.
    """
    pattern = str(Path(payload["pages_dir"]) / "*.json")
    with duckdb.connect(payload["database"]) as conn:
        started = time.perf_counter()
        conn.execute(
            "create table status_logs as select * from read_json(?, format = 'array')",
            [pattern],
        )
        seconds = time.perf_counter() - started
        row = conn.execute("select count(*) from status_logs").fetchone()
    rows = int(row[0]) if row else 0
    log.info("read_json: %d rows in %.1f s", rows, seconds)
    return {"rows": {"status_logs": rows}, "wall_seconds": round(seconds, 3)}
