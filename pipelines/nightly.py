"""The nightly job: load, build the models, record the run, publish, export Parquet.

Combines the source runner with the DuckDB side (models, run history, published copy,
export); each stays ignorant of the other. The run holds a lock beside the warehouse, so
overlapping cron runs cannot both load, and waits (bounded) for any other process holding the
warehouse file before loading. Only a run whose models and checks pass is published and
exported: a failing check leaves the published copy and the export as they were.

On a DuckLake (`[pipeline] destination = "ducklake"`) the same steps run on the lake: the
models build in its build schemas and "publish" repoints the reader views at the build's
snapshot in one commit (`pipelines.lake_models`) instead of copying a file; readers never
hold the lake, so there is nothing to wait for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt

from pipelines import exit_codes
from pipelines.errors import explain
from pipelines.evenergy_pipeline import (
    LoadOutcome,
    database_path,
    load_evenergy,
    loads_into_lake,
    run_lock_path,
)
from pipelines.lake import Lake, Warehouse, connect_warehouse
from pipelines.lock import AlreadyRunning, RunLock, wait_for_warehouse
from pipelines.logs import Progress, SecretRedactor
from pipelines.run_history import (
    CHECKS_FAILED,
    COMPLETE,
    FAILED,
    PARTIAL,
    RunRecord,
    amend_run,
    record_failure,
    record_run,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NightlyOptions:
    """What `evenergy-etl run` was asked to do."""

    build_models: bool = True
    export_to: Path | None = None
    report_to: Path | None = None  # write the HTML report there after publishing
    full_refresh: bool = False  # rebuild every model from scratch


@dataclass(frozen=True)
class ModelsOutcome:
    """How the model build ended: its exit code and, when it built, the seconds it took."""

    code: int
    seconds: float | None = None
    error: str | None = None


def run_nightly(
    pipeline: dlt.Pipeline,
    options: NightlyOptions,
    progress: Progress | None = None,
    **source_args: Any,
) -> int:
    """One nightly run under the lock; returns the exit code."""
    database = warehouse_of(pipeline)
    with RunLock(run_lock_path(pipeline)):
        _wait_for(database)
        record = RunRecord()
        try:
            outcome = load_evenergy(
                pipeline, on_progress=progress, on_secret=SecretRedactor.register, **source_args
            )
        except BaseException as error:
            record.ended(_exit_code_of(error), FAILED, _first_line(error))
            record_failure(database, record)
            raise
        if progress is not None:
            progress.finish()
        log.info("%s", summarize(outcome))
        if not options.build_models:
            return record_load(database, record, outcome)
        _describe_load(record, outcome)
        code = exit_codes.PARTIAL if outcome.report.partial else exit_codes.OK
        models = build(database, full_refresh=options.full_refresh)
        if models.code != exit_codes.OK:
            kind = CHECKS_FAILED if models.code == exit_codes.CHECKS_FAILED else FAILED
            record.models_seconds = models.seconds
            record_run(database, record.ended(models.code, kind, models.error))
            return models.code
        record.models_seconds = models.seconds
        record_run(database, record.ended(code, _load_outcome(code)))
        try:
            publish_and_export(database, options.export_to, options.report_to)
        except BaseException as error:
            record.ended(_exit_code_of(error), FAILED, _first_line(error))
            amend_run(database, record)
            raise
    return code


def warehouse_of(pipeline: dlt.Pipeline) -> Warehouse:
    """What the pipeline loads into: the DuckDB file, or the lake."""
    if loads_into_lake(pipeline):
        credentials: Any = pipeline.destination_client().config.credentials  # type: ignore[attr-defined]
        return Lake(credentials)
    return database_path(pipeline)


def _wait_for(database: Warehouse) -> None:
    """Wait (bounded) for another process holding the DuckDB file; a lake is never held."""
    if isinstance(database, Path):
        wait_for_warehouse(database)


def build_and_export(
    database: Warehouse,
    export_to: Path | None,
    report_to: Path | None = None,
    *,
    full_refresh: bool = False,
) -> int:
    """`evenergy-etl models`: build and check the models; publish, export and write the
    report when they pass."""
    _wait_for(database)
    models = build(database, full_refresh=full_refresh)
    if models.code == exit_codes.OK:
        publish_and_export(database, export_to, report_to)
    return models.code


def build(database: Warehouse, *, full_refresh: bool = False) -> ModelsOutcome:
    """Build the models and run their checks; the outcome says whether they passed."""
    from pipelines.models import DataCheckError, ModelBuildError, build_database

    try:
        result = build_database(database, model_params(), full_refresh=full_refresh)
    except DataCheckError as error:
        log.error("models: data checks failed, nothing published or exported: %s", error)
        return ModelsOutcome(exit_codes.CHECKS_FAILED, error=_first_line(error))
    except ModelBuildError as error:
        log.error("models: build failed, the previous models stay in place: %s", error)
        return ModelsOutcome(exit_codes.FAILED, error=_first_line(error))
    log.info(
        "models: %d built in %.1f s (%s)",
        len(result.models),
        result.seconds,
        ", ".join(f"{k} {v}" for k, v in sorted(result.row_counts.items())),
    )
    return ModelsOutcome(exit_codes.OK, result.seconds)


def publish_and_export(
    database: Warehouse, export_to: Path | None, report_to: Path | None = None
) -> None:
    """Publish the checked warehouse (a lake: repoint its reader views); then export Parquet
    and write the report from what was published."""
    from pipelines.export import export_models

    readable: Warehouse
    if isinstance(database, Lake):
        from pipelines.lake_models import publish as publish_lake

        publish_lake(database)
        readable = database
    else:
        from pipelines.publish import publish

        readable = publish(database).path
    if report_to is not None:
        from pipelines.report import write_report

        log.info("report: %s", write_report(readable, report_to))
    if export_to is None:
        return
    with connect_warehouse(readable, read_only=True) as conn:
        tables = export_models(conn, export_to)
    log.info(
        "export: %d tables, %d rows to %s", len(tables), sum(t.rows for t in tables), export_to
    )


def model_params() -> Any:
    """`[models]` settings from dlt config, defaults where unset (`pipelines.config`)."""
    from pipelines.config import load
    from pipelines.models import ModelParams

    return load(ModelParams)


def summarize(outcome: LoadOutcome) -> str:
    """The run in one line: complete, or partial with how far it got."""
    report = outcome.report
    evses = report.progress.get("status_logs")
    requests = f"{outcome.budget.requests_made} requests"
    if not report.partial:
        return f"complete: {outcome.rows_loaded} rows loaded, {requests}"
    up_to_date = f"{evses.complete} of {evses.total} EVSEs up to date" if evses else "no EVSEs read"
    why = _stop_reasons(outcome)
    return f"partial: {up_to_date}; resumes next run ({why}; {requests})"


def _stop_reasons(outcome: LoadOutcome) -> str:
    report = outcome.report
    reasons = [report.stop_reason] if report.stop_reason else []
    if report.errors:
        reasons.append(f"{len(report.errors)} error(s)")
    if report.bad_rows:
        reasons.append(f"{sum(report.bad_rows.values())} bad row(s) kept out")
    return ", ".join(reasons)


def record_load(database: Warehouse, record: RunRecord, outcome: LoadOutcome) -> int:
    """Record a load-only run (`run --no-models`, the demo's nights); returns its exit code."""
    _describe_load(record, outcome)
    code = exit_codes.PARTIAL if outcome.report.partial else exit_codes.OK
    record_run(database, record.ended(code, _load_outcome(code)))
    return code


def _describe_load(record: RunRecord, outcome: LoadOutcome) -> None:
    record.requests = outcome.budget.requests_made
    record.rows_loaded = outcome.rows_loaded
    record.rows_by_table = dict(sorted(outcome.report.rows.items()))
    record.load_ids = list(outcome.load_info.loads_ids) if outcome.load_info else []
    if outcome.report.partial:
        record.stop_reason = _stop_reasons(outcome) or None


def _load_outcome(code: int) -> str:
    return PARTIAL if code == exit_codes.PARTIAL else COMPLETE


def _exit_code_of(error: BaseException) -> int:
    """The exit code the command line gives `error` (the same `pipelines.errors.explain`)."""
    if isinstance(error, AlreadyRunning):
        return exit_codes.LOCKED
    return explain(error).exit_code


def _first_line(error: BaseException) -> str:
    """The line the command line prints for `error`."""
    return str(explain(error)).splitlines()[0]
