"""Runs the `evenergy` source into DuckDB with dlt: one call per nightly load.

Holds no extraction logic: it builds the pipeline, finishes any load package a killed run
left behind, then extracts, normalizes and loads, logging one line per phase.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.pipeline import LoadInfo
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from pipelines.evenergy import RunHooks, evenergy
from pipelines.evenergy.budget import RequestBudget
from pipelines.evenergy.extraction import ProgressCallback
from pipelines.evenergy.report import ExtractionReport

log = logging.getLogger(__name__)

# Arrow's default pool (jemalloc/mimalloc) keeps freed memory for reuse, so a run's peak RSS
# would grow with the rows it has ever converted; the system allocator gives it back.
pa.set_memory_pool(pa.system_memory_pool())

PIPELINE_NAME = "evenergy"
DATASET_NAME = "evenergy"
# Not `evenergy.duckdb`: DuckDB names the catalog after the file, and a catalog `evenergy`
# beside the schema `evenergy` makes every `evenergy.<table>` reference ambiguous.
DEFAULT_DATABASE = "warehouse.duckdb"
DEFAULT_MEMORY_LIMIT = "128MB"


@dataclass
class LoadOutcome:
    """What one load did."""

    report: ExtractionReport
    budget: RequestBudget
    load_info: LoadInfo | None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows_loaded(self) -> int:
        """Rows extracted this run, all tables."""
        return sum(self.report.rows.values())

    def budget_requests(self) -> dict[str, int]:
        """API requests made this run, by table."""
        return dict(self.budget.requests_by_label)


def make_pipeline(pipelines_dir: str | None = None, database: str | None = None) -> dlt.Pipeline:
    """The dlt pipeline: dataset `evenergy` in DuckDB.

    Args:
        pipelines_dir: dlt's working directory; dlt's default (`~/.dlt`, `DLT_DATA_DIR`).
        database: the DuckDB file; default `[destination.duckdb] credentials`
            (`DESTINATION__DUCKDB__CREDENTIALS`), else `warehouse.duckdb` in the working
            directory.
    """
    database = database or dlt.config.get("destination.duckdb.credentials") or DEFAULT_DATABASE
    # DuckDB takes up to 80 % of RAM by default; the merge of a large backfill would grow
    # with the data. A cap makes it spill instead, so memory stays flat as the fleet grows.
    memory_limit = str(dlt.config.get("destination.duckdb.memory_limit") or DEFAULT_MEMORY_LIMIT)
    credentials = DuckDbCredentials(str(database), global_config={"memory_limit": memory_limit})
    destination = dlt.destinations.duckdb(credentials=credentials)
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=destination,
        dataset_name=DATASET_NAME,
        pipelines_dir=pipelines_dir,  # type: ignore[arg-type]  # None: dlt's default
    )


def database_path(pipeline: dlt.Pipeline) -> Path:
    """The DuckDB file the pipeline loads into."""
    credentials: Any = pipeline.destination_client().config.credentials  # type: ignore[attr-defined]
    return Path(str(credentials.database)).resolve()


def load_evenergy(
    pipeline: dlt.Pipeline,
    on_progress: ProgressCallback | None = None,
    on_secret: Callable[[str], None] | None = None,
    resources: Sequence[str] | None = None,
    on_phase: Callable[[str], None] | None = None,
    **source_args: Any,
) -> LoadOutcome:
    """Extract, normalize and load one run of the source.

    Args:
        on_progress: called after each partition with the run's report.
        on_secret: told the client secret and every access token (for log redaction).
        resources: load only these resources (all by default).
        on_phase: called with "extract", "normalize", "load" as each phase ends.
        source_args: overrides of `[sources.evenergy]` settings (e.g. `max_duration`).
    """
    _finish_pending(pipeline)
    hooks = RunHooks(ExtractionReport(), on_progress, on_secret)
    source = evenergy(hooks=hooks, **source_args)
    if resources:
        source = source.with_resources(*resources)
    assert hooks.budget is not None
    outcome = LoadOutcome(hooks.report, hooks.budget, None)
    phase_ended = on_phase or (lambda phase: None)
    outcome.seconds["extract"] = _timed(
        lambda: pipeline.extract(source, loader_file_format="parquet")
    )
    phase_ended("extract")
    _log_extract(outcome)
    outcome.seconds["normalize"] = _timed(pipeline.normalize)
    phase_ended("normalize")
    log.info("normalize: done in %.1f s", outcome.seconds["normalize"])
    started = time.monotonic()
    outcome.load_info = pipeline.load()
    outcome.seconds["load"] = time.monotonic() - started
    phase_ended("load")
    outcome.load_info.raise_on_failed_jobs()
    log.info(
        "load: %d package(s) into %s in %.1f s",
        len(outcome.load_info.loads_ids),
        DATASET_NAME,
        outcome.seconds["load"],
    )
    return outcome


def _finish_pending(pipeline: dlt.Pipeline) -> None:
    """Restore the state from the warehouse if the working directory was lost (as dlt's
    `run` does; separate extract/normalize/load calls must ask for it), then load any
    package a killed run left behind before extracting anew."""
    pipeline.sync_destination()
    if pipeline.has_pending_data:
        log.warning("finishing a load package left by an interrupted run")
        pipeline.normalize()
        pipeline.load().raise_on_failed_jobs()


def _timed(step: Any) -> float:
    started = time.monotonic()
    step()
    return time.monotonic() - started


def _log_extract(outcome: LoadOutcome) -> None:
    report, budget = outcome.report, outcome.budget
    rows = ", ".join(f"{name} {count}" for name, count in sorted(report.rows.items()))
    left = "unknown" if budget.remaining is None else str(budget.remaining)
    log.info(
        "extract: %d rows (%s) in %.1f s; %d requests, %s left in the rate-limit window",
        outcome.rows_loaded,
        rows or "none",
        outcome.seconds["extract"],
        budget.requests_made,
        left,
    )
    if report.bad_rows:
        bad = ", ".join(f"{name} {count}" for name, count in sorted(report.bad_rows.items()))
        log.warning("extract: bad rows kept out of the load: %s", bad)
