"""The nightly job: load, build the models, export Parquet; one summary line at the end.

Combines the source runner with the DuckDB side (models, export); each stays ignorant of
the other. The run holds a lock beside the warehouse, so overlapping cron runs cannot
both load.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
import duckdb

from pipelines import exit_codes
from pipelines.evenergy_pipeline import LoadOutcome, database_path, load_evenergy
from pipelines.lock import RunLock
from pipelines.logs import Progress, SecretRedactor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NightlyOptions:
    """What `evenergy-etl run` was asked to do."""

    build_models: bool = True
    export_to: Path | None = None
    full_refresh: bool = False  # rebuild every model from scratch


def run_nightly(
    pipeline: dlt.Pipeline,
    options: NightlyOptions,
    progress: Progress | None = None,
    **source_args: Any,
) -> int:
    """One nightly run under the lock; returns the exit code."""
    database = database_path(pipeline)
    with RunLock(database.with_name(database.name + ".lock")):
        outcome = load_evenergy(
            pipeline, on_progress=progress, on_secret=SecretRedactor.register, **source_args
        )
        if progress is not None:
            progress.finish()
        log.info("%s", summarize(outcome))
        if options.build_models:
            code = build_and_export(database, options.export_to, full_refresh=options.full_refresh)
            if code != exit_codes.OK:
                return code
    return exit_codes.PARTIAL if outcome.report.partial else exit_codes.OK


def build_and_export(database: Path, export_to: Path | None, *, full_refresh: bool = False) -> int:
    """Build the models and run their checks; export only when they pass."""
    from pipelines.export import export_models
    from pipelines.models import DataCheckError, ModelBuildError, build_database

    try:
        result = build_database(database, model_params(), full_refresh=full_refresh)
    except DataCheckError as error:
        log.error("models: data checks failed, nothing exported: %s", error)
        return exit_codes.CHECKS_FAILED
    except ModelBuildError as error:
        log.error("models: build failed, the previous models stay in place: %s", error)
        return exit_codes.FAILED
    log.info(
        "models: %d built in %.1f s (%s)",
        len(result.models),
        result.seconds,
        ", ".join(f"{k} {v}" for k, v in sorted(result.row_counts.items())),
    )
    if export_to is not None:
        with duckdb.connect(str(database)) as conn:
            tables = export_models(conn, export_to)
        log.info(
            "export: %d tables, %d rows to %s",
            len(tables),
            sum(t.rows for t in tables),
            export_to,
        )
    return exit_codes.OK


def model_params() -> Any:
    """`[models]` settings from dlt config, defaults where unset."""
    from dataclasses import fields

    from pipelines.models import ModelParams

    values: dict[str, Any] = {
        f.name: dlt.config.get(f"models.{f.name}") for f in fields(ModelParams)
    }
    return ModelParams(**{k: float(v) for k, v in values.items() if v is not None})


def summarize(outcome: LoadOutcome) -> str:
    """The run in one line: complete, or partial with how far it got."""
    report = outcome.report
    evses = report.progress.get("status_logs")
    requests = f"{outcome.budget.requests_made} requests"
    if not report.partial:
        return f"complete: {outcome.rows_loaded} rows loaded, {requests}"
    up_to_date = f"{evses.complete} of {evses.total} EVSEs up to date" if evses else "no EVSEs read"
    reasons = [report.stop_reason] if report.stop_reason else []
    if report.errors:
        reasons.append(f"{len(report.errors)} error(s)")
    if report.bad_rows:
        reasons.append(f"{sum(report.bad_rows.values())} bad row(s) kept out")
    why = ", ".join(reasons)
    return f"partial: {up_to_date}; resumes next run ({why}; {requests})"
