"""The lake against the file: model build and a typical analyst query, as ratios, in one run.

Generates the synthetic raw tables of `bench.models` into a DuckDB file, copies them
into a DuckLake (a SQLite catalog and Parquet files in a temporary directory), then builds the
models on each (a full refresh: `dbt build`, models and tests; on the lake also the publish)
and runs daily compliance by make (`ANALYST_QUERY`) on each: on the file's working warehouse,
on the lake's published views. `lake / file` > 1 means the lake is slower.

`python -m bench.lake [--status-logs N --dispatches N --evses N]` runs it alone;
`make bench` runs it as the `lake_vs_file` scenario (`bench.scenarios`).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from bench.models import MEMORY_LIMIT, _generate
from pipelines import lake
from pipelines.lake_models import publish
from pipelines.models import build_database
from pipelines.project import environment
from pipelines.warehouse import RAW_SCHEMA

log = logging.getLogger(__name__)

# Daily compliance by make: the question the dispatch models exist for, as an analyst asks it
ANALYST_QUERY = """
select
    date,
    make_name,
    count(*) as count_attempts,
    avg(case when compliance = 'complied' then 1.0 else 0.0 end) as complied_share
from analytics.dispatch_effectiveness
where compliance <> 'not_sent'
group by all
order by all
"""
QUERY_REPEATS = 5


def bench_lake(
    n_status_logs: int = 1_000_000, n_dispatches: int = 50_000, n_evses: int = 500
) -> dict[str, Any]:
    """Build the models and run the analyst query on the file and on a lake of the same data.

    Returns:
        Sizes; per side (`file`, `lake`) `build_seconds` and `query_seconds` (the median of
        `QUERY_REPEATS`); `build_ratio` and `query_ratio` (lake / file); the query's row count.
    """
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as tmp:
        file = Path(tmp) / "warehouse.duckdb"
        with duckdb.connect(str(file), config={"memory_limit": MEMORY_LIMIT}) as conn:
            _generate(conn, n_status_logs, n_dispatches, n_evses)
        with _lake_settings(Path(tmp)):
            the_lake = lake.resolve_lake()
            copy_seconds = _copy_raw(file, the_lake)
            sides = {"file": _measure(file), "lake": _measure(the_lake)}
    if sides["file"]["query_rows"] != sides["lake"]["query_rows"]:
        raise RuntimeError(f"the analyst query differs: {sides}")
    result: dict[str, Any] = {
        "status_logs": n_status_logs,
        "dispatches": n_dispatches,
        "evses": n_evses,
        "lake_copy_seconds": round(copy_seconds, 2),
        **sides,
    }
    for figure in ("build", "query"):
        seconds = [sides[side][f"{figure}_seconds"] for side in ("lake", "file")]
        result[f"{figure}_ratio"] = round(seconds[0] / seconds[1], 2) if seconds[1] else None
    return result


def time_lake_vs_file(payload: dict[str, Any]) -> dict[str, Any]:
    """The bench worker's entry (`bench.process.RUNNERS["lake_vs_file"]`)."""
    return bench_lake(
        int(payload["status_logs"]), int(payload["dispatches"]), int(payload.get("evses", 500))
    )


def _measure(warehouse: lake.Warehouse) -> dict[str, Any]:
    started = time.perf_counter()
    build_database(warehouse, full_refresh=True)
    if isinstance(warehouse, lake.Lake):
        publish(warehouse)  # part of the lake's build: what readers then see
    build_seconds = time.perf_counter() - started
    timings, rows = [], 0
    with lake.connect_warehouse(warehouse, read_only=True) as conn:
        for _ in range(QUERY_REPEATS):
            began = time.perf_counter()
            rows = len(conn.execute(ANALYST_QUERY).fetchall())
            timings.append(time.perf_counter() - began)
    return {
        "build_seconds": round(build_seconds, 2),
        "query_seconds": round(statistics.median(timings), 4),
        "query_rows": rows,
    }


def _copy_raw(file: Path, the_lake: lake.Lake) -> float:
    """Copy the raw schema of `file` into the lake (one snapshot)."""
    started = time.perf_counter()
    with lake.connect(the_lake, read_only=False) as conn:
        conn.execute(f"attach '{file}' as source (read_only)")
        tables = conn.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = 'source' and table_schema = ?",
            [RAW_SCHEMA],
        ).fetchall()
        conn.execute(f"create schema if not exists {RAW_SCHEMA}")
        conn.execute("begin")
        for (table,) in tables:
            conn.execute(
                f'create table {RAW_SCHEMA}."{table}" as '
                f'select * from source.{RAW_SCHEMA}."{table}"'
            )
        conn.execute("commit")
    return time.perf_counter() - started


@contextmanager
def _lake_settings(directory: Path) -> Iterator[None]:
    """dlt's ducklake settings for a lake in `directory`, as the environment gives them."""
    settings = {
        "DESTINATION__DUCKLAKE__CREDENTIALS__CATALOG": f"sqlite:///{directory / 'catalog.sqlite'}",
        "DESTINATION__DUCKLAKE__CREDENTIALS__STORAGE__BUCKET_URL": str(directory / "data"),
    }
    with environment(settings):
        yield


def main(argv: list[str] | None = None) -> None:
    """`python -m bench.lake`: run the comparison once and log its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.lake", description=__doc__)
    parser.add_argument("--status-logs", type=int, default=1_000_000)
    parser.add_argument("--dispatches", type=int, default=50_000)
    parser.add_argument("--evses", type=int, default=500)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    result = bench_lake(args.status_logs, args.dispatches, args.evses)
    for side in ("file", "lake"):
        figures = result[side]
        log.info(
            "%s: build %.1f s, query %.3f s (%d rows)",
            side,
            figures["build_seconds"],
            figures["query_seconds"],
            figures["query_rows"],
        )
    log.info("lake / file: build x%s, query x%s", result["build_ratio"], result["query_ratio"])


if __name__ == "__main__":
    main()
