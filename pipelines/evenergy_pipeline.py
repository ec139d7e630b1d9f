"""Runs the `evenergy` source into DuckDB with dlt: one call per nightly load.

Holds no extraction logic: it builds the pipeline, finishes any load package a killed run
left behind, then extracts, normalizes and loads, logging one line per phase.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.pipeline import LoadInfo
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.destinations.impl.ducklake.configuration import DuckLakeCredentials
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines import lake
from pipelines.config import memory_limit
from pipelines.errors import RunFailed, SettingError, causes
from pipelines.evenergy import RunHooks, evenergy
from pipelines.evenergy.budget import RequestBudget
from pipelines.evenergy.extraction import ProgressCallback
from pipelines.evenergy.report import ExtractionReport
from pipelines.evenergy.state import PARTITIONS_TABLE, PartitionStore, read_store
from pipelines.project import environment, project_dir
from pipelines.warehouse import check_schema, ensure_tables

log = logging.getLogger(__name__)

# Arrow's default pool (jemalloc/mimalloc) keeps freed memory for reuse, so a run's peak RSS
# would grow with the rows it has ever converted; the system allocator gives it back.
pa.set_memory_pool(pa.system_memory_pool())

PIPELINE_NAME = "evenergy"
DATASET_NAME = "evenergy"
# Not `evenergy.duckdb`: DuckDB names the catalog after the file, and a catalog `evenergy`
# beside the schema `evenergy` makes every `evenergy.<table>` reference ambiguous.
DEFAULT_DATABASE = "warehouse.duckdb"
# DuckDB takes up to 80 % of RAM by default. Capped, it spills to `<warehouse>.tmp/` (DuckDB's
# default temp_directory for a database file; setting it again on a reused connection fails),
# so the run fits the smallest machine we support (1 GB): a run's peak RSS is about 450 MB
# for a 500-EVSE fleet, of which DuckDB is this limit. The load's largest need is the merge of
# one run's rows, independent of the history (measured in issue 15: a 145k-row night merges
# into 1, 7, 30 or 90 days of history under 64 MB once staging is declared deduplicated).
LOAD_DUCKDB_SETTINGS: dict[str, Any] = {
    "preserve_insertion_order": False,  # lets more operators spill; no order is relied on
    # Each DuckDB thread holds buffers of its own: under a cap, one thread leaves the merge the
    # whole limit (a 145k-row night fails at 32 MB with 2 threads, merges with 1) at little
    # cost, as the load is one job at a time reading the Parquet files the extract wrote.
    "threads": 1,
}

# Settings that shape the warehouse's schema or keep the load safe are fixed here, not read
# from `.dlt/config.toml`: a run must load the same way whichever `.dlt/` it found (a run
# without the lineage columns once broke every later run: issue 9).
FIXED_SETTINGS: dict[str, str] = {
    # lineage: the load each row came from and a row id (the staging models keep the newest)
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID": "true",
    # rows per intermediate file: normalize reads a file whole, so bounded files keep memory
    # flat however large a backfill is
    "SOURCES__DATA_WRITER__FILE_MAX_ITEMS": "100000",
    "NORMALIZE__DATA_WRITER__FILE_MAX_ITEMS": "100000",
    # DuckDB has one writer: parallel load jobs would only compete for its capped memory
    "LOAD__WORKERS": "1",
    # A job that failed in DuckDB (out of memory, disk full) fails the same way at once: one
    # retry, then the run stops with one line and the package waits for the next run
    # (dlt's default of 5 retries repeated a failing merge five times per run).
    "LOAD__RAISE_ON_MAX_RETRIES": "2",
}


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
        pipelines_dir: dlt's working directory; default `DLT_DATA_DIR` when set, else a
            folder beside the warehouse (`warehouse_dlt/`): dlt's own default (`~/.dlt`,
            `/var/dlt` as root) is shared by every checkout on the machine.
        database: the DuckDB file; default `[destination.duckdb] credentials`
            (`DESTINATION__DUCKDB__CREDENTIALS`), else `warehouse.duckdb`; a relative path
            is relative to the project folder, not to the working directory.

    With `[pipeline] destination = "ducklake"` the dataset goes to the DuckLake that
    `[destination.ducklake.credentials]` names instead (see `pipelines.lake`); `database` is
    then ignored and the working directory defaults to one beside a file catalog.
    """
    duckdb_settings = {"memory_limit": memory_limit(), **LOAD_DUCKDB_SETTINGS}
    destination: Any
    if lake.destination_kind() == lake.DUCKLAKE:
        the_lake = lake.resolve_lake()
        the_lake.credentials.global_config = {
            **(the_lake.credentials.global_config or {}),
            **duckdb_settings,
        }
        destination = lake.destination(the_lake)
        default_working_dir = the_lake.default_working_dir()
    else:
        path = warehouse_path(database)
        credentials = DuckDbCredentials(str(path), global_config=duckdb_settings)
        destination = dlt.destinations.duckdb(credentials=credentials)
        default_working_dir = path.with_name(f"{path.stem}_dlt")
    if pipelines_dir is None and "DLT_DATA_DIR" not in os.environ:
        pipelines_dir = str(default_working_dir)
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=destination,
        dataset_name=DATASET_NAME,
        pipelines_dir=pipelines_dir,  # type: ignore[arg-type]  # None: dlt's default
    )


def warehouse_path(database: str | None = None) -> Path:
    """The warehouse file: `database`, else `[destination.duckdb] credentials`, else
    `warehouse.duckdb`; relative to the project folder when relative."""
    configured = database or dlt.config.get("destination.duckdb.credentials") or DEFAULT_DATABASE
    path = Path(str(configured)).expanduser()
    return path if path.is_absolute() else project_dir() / path


def database_path(pipeline: dlt.Pipeline) -> Path:
    """The DuckDB file the pipeline loads into."""
    credentials: Any = pipeline.destination_client().config.credentials  # type: ignore[attr-defined]
    if isinstance(credentials, DuckLakeCredentials):
        raise SettingError(
            '[pipeline] destination = "ducklake" has no DuckDB file: this command works '
            "on the file only (set PIPELINE__DESTINATION=duckdb)"
        )
    return Path(str(credentials.database)).resolve()


def loads_into_lake(pipeline: dlt.Pipeline) -> bool:
    """Whether the pipeline loads into a DuckLake (`[pipeline] destination = "ducklake"`)."""
    credentials: Any = pipeline.destination_client().config.credentials  # type: ignore[attr-defined]
    return isinstance(credentials, DuckLakeCredentials)


def describe_destination(pipeline: dlt.Pipeline) -> str:
    """Where the pipeline loads, for messages: `warehouse <file>` or the lake (no password)."""
    credentials: Any = pipeline.destination_client().config.credentials  # type: ignore[attr-defined]
    if isinstance(credentials, DuckLakeCredentials):
        return lake.Lake(credentials).describe()
    return f"warehouse {Path(str(credentials.database)).resolve()}"


def run_lock_path(pipeline: dlt.Pipeline) -> Path:
    """The lock that keeps two runs from loading at once: beside the DuckDB file, or for a
    lake beside its file catalog (else in `[destination.ducklake] lock_dir`)."""
    credentials: Any = pipeline.destination_client().config.credentials  # type: ignore[attr-defined]
    if isinstance(credentials, DuckLakeCredentials):
        return lake.Lake(credentials).lock_path()
    database = Path(str(credentials.database)).resolve()
    return database.with_name(database.name + ".lock")


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
    with _fixed_settings():
        return _load_evenergy(pipeline, on_progress, on_secret, resources, on_phase, source_args)


def _load_evenergy(
    pipeline: dlt.Pipeline,
    on_progress: ProgressCallback | None,
    on_secret: Callable[[str], None] | None,
    resources: Sequence[str] | None,
    on_phase: Callable[[str], None] | None,
    source_args: dict[str, Any],
) -> LoadOutcome:
    _finish_pending(pipeline)
    _check_warehouse(pipeline)
    hooks = RunHooks(ExtractionReport(), on_progress, on_secret, partitions=_read_state(pipeline))
    outcome: LoadOutcome | None = None
    phase_ended = on_phase or (lambda phase: None)
    # One load package per batch of requests (`batch_requests`): each commits its rows with
    # the cursors and backlogs they advanced, so a run killed part-way loses one batch.
    packages = 0
    while outcome is None or (
        hooks.run is not None and hooks.run.more and outcome.budget.stop_reason is None
    ):
        source = evenergy(hooks=hooks, **source_args)
        if resources:  # the partitions' state goes with whichever resources are loaded
            source = source.with_resources(*resources, PARTITIONS_TABLE)
        assert hooks.budget is not None
        outcome = outcome or LoadOutcome(hooks.report, hooks.budget, None)
        _load_package(pipeline, source, outcome, phase_ended)
        packages += 1
    # One line per phase for the whole run (cron mails stay short), however many packages.
    _log_extract(outcome)
    log.info("normalize: done in %.1f s", outcome.seconds["normalize"])
    log.info(
        "load: %d package(s) into %s in %.1f s", packages, DATASET_NAME, outcome.seconds["load"]
    )
    return outcome


def _load_package(
    pipeline: dlt.Pipeline, source: Any, outcome: LoadOutcome, phase_ended: Callable[[str], None]
) -> None:
    """Extract, normalize and load one package of the run."""
    seconds = outcome.seconds
    seconds["extract"] = seconds.get("extract", 0.0) + _timed(
        lambda: pipeline.extract(source, loader_file_format="parquet")
    )
    phase_ended("extract")
    normalized = _timed(pipeline.normalize)
    seconds["normalize"] = seconds.get("normalize", 0.0) + normalized
    phase_ended("normalize")
    log.debug("package normalized in %.1f s", normalized)
    started = time.monotonic()
    outcome.load_info = _load(pipeline)
    loaded = time.monotonic() - started
    seconds["load"] = seconds.get("load", 0.0) + loaded
    _ensure_tables(pipeline)
    phase_ended("load")
    log.debug("package %s loaded in %.1f s", ", ".join(outcome.load_info.loads_ids), loaded)


def _finish_pending(pipeline: dlt.Pipeline) -> None:
    """Restore the state from the warehouse if the working directory was lost (as dlt's
    `run` does; separate extract/normalize/load calls must ask for it), then load any
    package a killed run left behind before extracting anew."""
    pipeline.sync_destination()
    if pipeline.has_pending_data:
        log.warning("finishing a load package left by an interrupted run")
        pipeline.normalize()
        _load(pipeline)


def _load(pipeline: dlt.Pipeline) -> LoadInfo:
    """`pipeline.load()`, with a failed job reported as one line naming the cause and what to
    do. dlt keeps the package: the next run loads it before extracting anything new, and no
    cursor moves until it has loaded (dlt restores state only from completed loads)."""
    try:
        info = pipeline.load()
        info.raise_on_failed_jobs()
    except PipelineStepFailed as failure:
        raise RunFailed(describe_load_failure(failure, describe_destination(pipeline))) from failure
    except Exception as failure:  # raise_on_failed_jobs: a job that failed for good
        if type(failure).__module__.startswith("dlt."):
            raise RunFailed(
                describe_load_failure(failure, describe_destination(pipeline))
            ) from failure
        raise
    return info


def describe_load_failure(failure: BaseException, destination: str) -> str:
    """One line: why the load into `destination` (`describe_destination`) failed, and the
    remedy."""
    chain = list(causes(failure))  # dlt wraps the DuckDB error: look at every layer
    messages = " ".join(str(error) for error in chain)
    kept = "the package is kept and loads first on the next run"
    if "Out of Memory" in messages:
        return (
            f"load failed: DuckDB ran out of its memory limit ({memory_limit()}): raise "
            f"[destination.duckdb] memory_limit (DESTINATION__DUCKDB__MEMORY_LIMIT); {kept}"
        )
    if "No space left" in messages or "disk is full" in messages.lower():
        return f"load failed: disk full where the {destination} lives: free space; {kept}"
    lines = [line.strip() for line in str(chain[-1]).splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "Exception" in line]
    return f"load failed: {(errors or lines or [type(chain[-1]).__name__])[0][:300]}; {kept}"


def _check_warehouse(pipeline: dlt.Pipeline) -> None:
    """Refuse to load into raw tables that do not have the columns this version declares."""
    with pipeline.sql_client() as client:
        problem = check_schema(client.native_connection, DATASET_NAME)
    if problem:
        raise RunFailed(f"{describe_destination(pipeline)}: {problem}")


def _read_state(pipeline: dlt.Pipeline) -> PartitionStore:
    """The partitions' state as the last completed loads left it (after `_finish_pending`)."""
    with pipeline.sql_client() as client:
        return read_store(client.native_connection, DATASET_NAME)


def _ensure_tables(pipeline: dlt.Pipeline) -> None:
    """Create the raw tables no row has reached yet (the models read every one)."""
    with pipeline.sql_client() as client:
        ensure_tables(client.native_connection, DATASET_NAME)


@contextmanager
def _fixed_settings() -> Iterator[None]:
    """`FIXED_SETTINGS` in force (as environment variables, dlt's first provider) for the
    duration of a run, whatever `.dlt/` or the environment say."""
    with environment(FIXED_SETTINGS):
        yield


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
