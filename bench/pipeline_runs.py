"""The measurements of the fleet scenarios (`bench.fleet`), each the runner of one worker
process (`bench.process.RUNNERS`): the project's pipeline, the two baselines, and what runs
over the warehouse the pipeline loaded (the long-history copy, the models, the report).

Each runner imports the packages only it needs inside its function, as the separate modules
these came from did at their top: a worker's peak RSS carries no other measurement's imports
(dlt's, the pipeline's, the models' or the report's).

**The project's pipeline**, one run as the nightly job runs it, measured (`run_ours`). Every
run goes through `load_evenergy`, unchanged; for the ratio against dlt's default path it is
restricted to a few resources (`resources=`).

**Baseline (a)**: the same extraction through dlt with its default settings (`run_baseline`).
A minimal dlt source walks the same endpoints with the project's `EvEnergyClient` (the same
HTTP, OAuth and paging), one request at a time, and yields each page's rows as plain dicts
with the partition id added. `pipeline.run` loads them with dlt's defaults: row-by-row
normalize, DuckDB's default loader file format (`insert_values`), nested objects flattened,
`merge` on the same primary keys as the project's tables. Only `evses`, `status_logs` and
`evse_command_logs` exist here; the project's pipeline is restricted to the same three for
the ratio.

**Baseline (b)**: DuckDB reading the status-log pages straight from JSON files
(`render_status_pages`, then `time_read_json`). Before any timing, the pages the simulator
serves (100 status logs each, newest first, as the API renders them) are written to one JSON
file per page, from the ground-truth world. Then a fresh DuckDB file runs
`create table ... as select * from read_json(...)` over them: no HTTP, no Python per row. It
is the practical ceiling of the load side.

**Older history** for a loaded warehouse, generated inside DuckDB (`pad_history`): the same
night's merge can then be measured on top of 7 and of 90 days (issue 15: the merge must not
need memory that grows with the history). The copy's status and command logs are repeated
further back in whole weeks (each copy a week older, with its own `_dlt_id`), so the table
holds as many days as asked with the fleet's real shape; the cursors in dlt's state stay where
the load left them, so the next run reads exactly the night the un-padded warehouse reads.

**Model build times over the warehouse the pipeline loaded** (`time_loaded_models`); the
synthetic benchmarks are `bench.models`.

**How long `write_report` takes** on a warehouse, and how big the report is
(`time_report`). The bench scenarios call it on the 500-EVSE x 7-day benchmark warehouse.
Run it in a fresh process for the cold figure: the first report of a process also builds the
Vega JavaScript bundle (about 1.2 s here), which later reports of that process reuse.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import orjson

from bench.process import PhasePeaks

if TYPE_CHECKING:
    import dlt
    from dlt.sources import DltResource

    from pipelines.evenergy.client import EvEnergyClient
    from pipelines.simulator import World

log = logging.getLogger(__name__)

BASELINE_RESOURCES = ("evses", "status_logs", "evse_command_logs")
Rows = list[dict[str, Any]]
PAGE = 100
PADDED_TABLES = ("status_logs", "evse_command_logs")


def run_ours(payload: dict[str, Any]) -> dict[str, Any]:
    """Run the pipeline once and report rows, requests and seconds.

    Args:
        payload: `pipelines_dir`, `database`, `source_args` (explicit source settings) and
            optionally `resources` (names to restrict the source to).

    Returns:
        `rows` and `requests` per table, `seconds` per phase, `wall_seconds` of the run,
        `requests_made`, the peak RSS as each phase ended, `partial` and the first `errors`.
    """
    from pipelines.evenergy_pipeline import load_evenergy, make_pipeline

    pipeline = make_pipeline(payload["pipelines_dir"], payload["database"])
    resources: list[str] | None = payload.get("resources")
    with PhasePeaks() as peaks:
        started = time.perf_counter()
        outcome = load_evenergy(
            pipeline, resources=resources, on_phase=peaks.mark, **payload["source_args"]
        )
        wall = time.perf_counter() - started
    return {
        "rows": dict(outcome.report.rows),
        "requests": outcome.budget_requests(),
        "requests_made": outcome.budget.requests_made,
        "seconds": {phase: round(s, 3) for phase, s in outcome.seconds.items()},
        "wall_seconds": round(wall, 3),
        "peak_rss_mb_by_phase": peaks.peaks,
        "partial": outcome.report.partial,
        "errors": outcome.report.errors[:5],
    }


def baseline_resources(client: EvEnergyClient, initial_start: str) -> list[DltResource]:
    """The three resources, reading everything since `initial_start`, sequentially."""
    import dlt

    from pipelines.evenergy.endpoints import (
        COMMAND_LOGS_ENDPOINT,
        EVSES_ENDPOINT,
        STATUS_LOGS_ENDPOINT,
    )
    from pipelines.evenergy.settings import MAX_PAGE_SIZE

    listing: list[Rows] = []  # the pages of /evses, read once, shared by the resources

    def evse_pages() -> list[Rows]:
        if not listing:
            params = {"page_size": MAX_PAGE_SIZE, "expand": "model.make"}
            listing.extend(client.pages(EVSES_ENDPOINT.path, params, "evses"))
        return listing

    def evse_rows() -> Iterator[Rows]:
        yield from evse_pages()

    def partition_pages(path: str, cursor_param: str, label: str) -> Iterator[Rows]:
        for evse_id in [row["id"] for page in evse_pages() for row in page]:
            params = {"page_size": MAX_PAGE_SIZE, cursor_param: initial_start}
            for page in client.pages(path.format(key=evse_id), params, label):
                yield [{**row, "evse_id": evse_id} for row in page]

    evses = dlt.resource(evse_rows(), name="evses", primary_key="id", write_disposition="merge")
    status_logs = dlt.resource(
        partition_pages(STATUS_LOGS_ENDPOINT.path, "sampled_at__gte", "status_logs"),
        name="status_logs",
        primary_key=("evse_id", "sampled_at"),
        write_disposition="merge",
    )
    command_logs = dlt.resource(
        partition_pages(COMMAND_LOGS_ENDPOINT.path, "logged_at__gte", "evse_command_logs"),
        name="evse_command_logs",
        primary_key=("evse_id", "logged_at"),
        write_disposition="merge",
    )
    return [evses, status_logs, command_logs]


def run_baseline(payload: dict[str, Any]) -> dict[str, Any]:
    """Run the baseline once from scratch and report rows, requests and seconds.

    Args:
        payload: `pipelines_dir`, `database` and `source_args` (as for the project's run).

    Returns:
        The same fields as `run_ours`.
    """
    import dlt

    from pipelines.evenergy.auth import TokenSource
    from pipelines.evenergy.budget import RequestBudget
    from pipelines.evenergy.client import EvEnergyClient

    args = payload["source_args"]
    budget = RequestBudget()
    credentials = args["credentials"]
    tokens = TokenSource(args["token_url"], credentials["client_id"], credentials["client_secret"])
    client = EvEnergyClient(args["base_url"], tokens, budget)  # used from one thread
    pipeline = dlt.pipeline(
        pipeline_name="evenergy_baseline",
        destination=dlt.destinations.duckdb(credentials=payload["database"]),
        dataset_name="baseline",
        pipelines_dir=payload["pipelines_dir"],
    )
    source = dlt.source(name="evenergy_baseline")(baseline_resources)
    started = time.perf_counter()
    load_info = pipeline.run(source(client, args["initial_start"]))
    wall = time.perf_counter() - started
    load_info.raise_on_failed_jobs()
    client.close()
    return {
        "rows": _row_counts(pipeline),
        "requests": dict(budget.requests_by_label),
        "requests_made": budget.requests_made,
        "seconds": _phase_seconds(pipeline),
        "wall_seconds": round(wall, 3),
        "partial": False,
        "errors": [],
    }


def _phase_seconds(pipeline: dlt.Pipeline) -> dict[str, float]:
    """Seconds of each step of the last `run`, from dlt's trace."""
    trace = pipeline.last_trace
    if trace is None:
        return {}
    return {
        str(step.step): round((step.finished_at - step.started_at).total_seconds(), 3)
        for step in trace.steps
        if step.step in ("extract", "normalize", "load") and step.finished_at
    }


def _row_counts(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows each resource extracted in the last run, from dlt's extract trace."""
    counts = pipeline.last_trace.last_normalize_info.row_counts  # type: ignore[union-attr]
    return {name: int(counts.get(name, 0)) for name in BASELINE_RESOURCES}


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


def time_loaded_models(payload: dict[str, Any]) -> dict[str, Any]:
    """Build and test every model over a loaded warehouse (a full refresh: ``dbt build``).

    Args:
        payload: `database`, the DuckDB file the pipeline loaded.

    Returns:
        `build_seconds` (models and tests), `failed_checks`, the tables' `row_counts` and the
        raw `status_logs` / `dispatcher_logs` row counts they were built over.
    """
    from pipelines.models import DataCheckError, build_database

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


def _count(conn: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = conn.execute(f"select count(*) from {relation}").fetchone()
    return int(row[0]) if row else 0


def time_report(database: Path, to: Path | None = None) -> dict[str, Any]:
    """Write the report of `database` once and time it.

    Args:
        database: the warehouse file (models built).
        to: where to write `report.html`; a temporary directory (removed after) by default.

    Returns:
        `seconds` (wall clock of `write_report`) and `bytes` (size of the HTML file).
    """
    from pipelines.report import write_report

    with tempfile.TemporaryDirectory(prefix="report-bench-") as scratch:
        started = time.perf_counter()
        page = write_report(database, to or Path(scratch))
        seconds = time.perf_counter() - started
        return {"seconds": round(seconds, 3), "bytes": page.stat().st_size}


def time_report_worker(payload: dict[str, Any]) -> dict[str, Any]:
    """Worker entry: `time_report` of `payload["database"]`, in a process of its own."""
    return time_report(Path(payload["database"]))
