"""`evenergy-etl demo`: the whole product on a simulated fleet, in one command.

Starts the API simulator on loopback, runs two nights of the real pipeline against it over
HTTP (a backfill, then the clock advances a day and an incremental run picks up what is
new and what arrived late), builds the models, exports Parquet and prints a summary.
Everything lands in one directory, apart from the real warehouse.
"""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from pipelines import exit_codes
from pipelines.evenergy.parsing import format_timestamp
from pipelines.evenergy_pipeline import LoadOutcome, database_path, load_evenergy, make_pipeline
from pipelines.logs import Progress, SecretRedactor, emit
from pipelines.nightly import build_and_export, record_load, summarize
from pipelines.run_history import RunRecord


def run_demo(directory: Path, n_evses: int = 25) -> int:
    """Run the demo into `directory` (emptied first); returns the exit code."""
    from pipelines.simulator import SimulatorConfig, SimulatorServer

    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    config = SimulatorConfig(seed=42, n_evses=n_evses, days=4.0)  # 1000 requests/hour
    with SimulatorServer(config) as simulator:
        pipeline = make_pipeline(str(directory / "dlt"), str(directory / "warehouse.duckdb"))
        source_args = {
            "base_url": simulator.base_url,
            "token_url": simulator.token_url,
            "credentials": {"client_id": config.client_id, "client_secret": config.client_secret},
            "initial_start": format_timestamp(config.start),
        }
        emit(f"simulator: {n_evses} EVSEs, clock at {format_timestamp(simulator.clock.now())}")
        first = _night("night 1 (backfill)", pipeline, source_args)
        simulator.clock.advance(timedelta(days=1))
        emit(f"clock advanced one day to {format_timestamp(simulator.clock.now())}")
        second = _night("night 2 (incremental)", pipeline, source_args)
    database = database_path(pipeline)
    code = build_and_export(database, directory / "exports", directory / "report")
    if code != exit_codes.OK:
        return code
    _print_results(database, directory)
    return exit_codes.PARTIAL if first.report.partial or second.report.partial else exit_codes.OK


def _night(title: str, pipeline: Any, source_args: dict[str, Any]) -> LoadOutcome:
    progress = Progress()
    started = time.monotonic()
    record = RunRecord()
    outcome = load_evenergy(
        pipeline, on_progress=progress, on_secret=SecretRedactor.register, **source_args
    )
    progress.finish()
    # recorded as `run --no-models` would be: the report's header shows the last run
    record_load(database_path(pipeline), record, outcome)
    seconds = time.monotonic() - started
    rate = outcome.rows_loaded / seconds if seconds else 0.0
    emit(f"{title}: {summarize(outcome)} in {seconds:.1f} s ({rate:,.0f} rows/s)")
    for label, count in sorted(outcome.budget_requests().items()):
        emit(f"    {label:<24} {count:>6} requests")
    return outcome


SUMMARY = """
select
    date,
    device_type,
    count_attempts,
    count_sent,
    count_effective,
    count_no_response,
    round(effectiveness_rate, 2) as effectiveness_rate,
    round(compliance_rate, 2) as compliance_rate,
    round(target_success_rate, 2) as target_success_rate,
    count_charger_failures,
    count_vehicle_failures,
    round(median_response_seconds) as median_response_seconds
from analytics.daily_dispatch_effectiveness
order by date, device_type
"""


def _print_results(database: Path, directory: Path) -> None:
    from pipelines.publish import published_path

    published = published_path(database)
    with duckdb.connect(str(published), read_only=True) as conn:
        emit("\ndaily dispatch effectiveness (analytics.daily_dispatch_effectiveness):")
        relation = conn.sql(SUMMARY)
        _emit_table(relation.columns, relation.fetchall())
    exports = (directory / "exports").resolve()
    emit(f"warehouse: {database}")
    emit(f"published: {published}  (analysts: duckdb -readonly {published})")
    emit(f"report:    {(directory / 'report' / 'report.html').resolve()}")
    emit(f"parquet:   {exports}/<model>/date=YYYY-MM-DD/*.parquet")
    emit(
        f'try:       duckdb -c "select * from read_parquet('
        f"'{exports}/daily_dispatch_effectiveness/**/*.parquet')\""
    )


def _emit_table(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    cells = [columns, *[["" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for index, row in enumerate(cells):
        emit("  ".join(value.rjust(width) for value, width in zip(row, widths, strict=True)))
        if index == 0:
            emit("  ".join("-" * width for width in widths))
