"""The subcommands of `evenergy-etl`: each turns parsed arguments into an exit code."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipelines import exit_codes
from pipelines.config import ExportSettings, LoggingSettings, load
from pipelines.errors import SettingError
from pipelines.evenergy_pipeline import database_path, loads_into_lake, make_pipeline
from pipelines.lake import Warehouse
from pipelines.logs import Progress, emit
from pipelines.nightly import (
    NightlyOptions,
    build_and_export,
    model_params,
    run_nightly,
    warehouse_of,
)
from pipelines.preflight import check_warehouse
from pipelines.status import describe_status, status_json

log = logging.getLogger(__name__)


def run(args: argparse.Namespace) -> int:
    """`evenergy-etl run`: the nightly job."""
    overrides = {"max_duration": args.max_duration} if args.max_duration else {}
    options = NightlyOptions(
        build_models=not args.no_models,
        export_to=args.export,
        report_to=args.report,
        full_refresh=args.full_refresh,
    )
    pipeline = make_pipeline()
    if not loads_into_lake(pipeline):
        check_warehouse(database_path(pipeline), write=True, must_exist=False)
    if options.build_models:
        model_params()  # a wrong [models] setting is refused before the load, not after it
    return run_nightly(pipeline, options, _progress(), **overrides)


def models(args: argparse.Namespace) -> int:
    """`evenergy-etl models`: build the models and check them."""
    return build_and_export(_warehouse(write=True), args.export, full_refresh=args.full_refresh)


def docs(args: argparse.Namespace) -> int:
    """`evenergy-etl docs`: dbt's static docs of the models, one HTML file."""
    from pipelines.docs import write_docs

    emit(str(write_docs(args.to, _warehouse(write=True))))
    return exit_codes.OK


def export(args: argparse.Namespace) -> int:
    """`evenergy-etl export`: write the models (and with --raw the raw tables) to Parquet."""
    from pipelines.export import export_warehouse

    target = args.to or Path(load(ExportSettings).directory)
    tables = export_warehouse(_warehouse(write=False), target, include_raw=args.raw)
    for table in tables:
        emit(f"{table.name:<40} {table.rows:>12,} rows  {table.path}")
    return exit_codes.OK


def status(args: argparse.Namespace) -> int:
    """`evenergy-etl status`: counts, watermarks, last loads and runs (`--json`: one object)."""
    database = warehouse_of(make_pipeline())
    if isinstance(database, Path):
        check_warehouse(database, write=False, must_exist=False)
    if args.json:
        emit(status_json(database))
        return exit_codes.OK
    for line in describe_status(database):
        emit(line)
    return exit_codes.OK


def sql(args: argparse.Namespace) -> int:
    """`evenergy-etl sql`: a read-only SQL session (or `-c` one query) on the published copy."""
    from pipelines.sql_session import open_session

    return open_session(warehouse_of(make_pipeline()), args.query, use_cli=not args.python)


def report(args: argparse.Namespace) -> int:
    """`evenergy-etl report`: the HTML report of the analytics models."""
    from pipelines.report import write_report

    emit(str(write_report(args.database or _analysts_copy(), args.to)))
    return exit_codes.OK


def simulate(args: argparse.Namespace) -> int:
    """`evenergy-etl simulate`: serve the API simulator until interrupted."""
    import errno

    from pipelines.simulator import serve
    from pipelines.simulator.dropin import banner, dropin_config, history_window

    try:
        window = history_window(args.start, args.days, args.now)
    except ValueError as error:
        raise SettingError(f"simulate: {error}") from None
    config = dropin_config(window, args.seed, args.evses, args.rate_limit or None)
    try:
        serve(config, port=args.port, on_ready=lambda server: emit("\n".join(banner(server))))
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        raise SettingError(
            f"simulate: cannot listen on 127.0.0.1:{args.port} ({error.strerror}): "
            "pass --port with a free port, or stop what holds it"
        ) from None
    return exit_codes.OK


def demo(args: argparse.Namespace) -> int:
    """`evenergy-etl demo`: the whole product against the simulator."""
    from pipelines.demo import run_demo

    return run_demo(args.dir, n_evses=args.evses)


def _progress() -> Progress:
    """Progress as `[logging] progress_interval` asks (under cron: at most one line per)."""
    from pipelines.evenergy.parsing import parse_duration

    value = load(LoggingSettings).progress_interval
    try:
        return Progress(log_interval_seconds=parse_duration(value).total_seconds())
    except ValueError as error:
        raise SettingError(
            f"logging.progress_interval (env LOGGING__PROGRESS_INTERVAL): {error}"
        ) from None


def _warehouse(write: bool) -> Warehouse:
    database = warehouse_of(make_pipeline())
    if isinstance(database, Path):
        check_warehouse(database, write=write, must_exist=True)
    return database


def _analysts_copy() -> Warehouse:
    """The published copy when there is one (safe to read while a run writes), else the
    warehouse; a lake (its views show the last published build)."""
    from pipelines.publish import published_path

    warehouse = _warehouse(write=False)
    if not isinstance(warehouse, Path):
        return warehouse
    published = published_path(warehouse)
    return published if published.exists() else warehouse
