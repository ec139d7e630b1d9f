"""The subcommands of `evenergy-etl`: each turns parsed arguments into an exit code."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import dlt
import duckdb

from pipelines import exit_codes
from pipelines.evenergy_pipeline import database_path, make_pipeline
from pipelines.logs import Progress, emit
from pipelines.nightly import NightlyOptions, build_and_export, run_nightly
from pipelines.status import describe_status

log = logging.getLogger(__name__)


def run(args: argparse.Namespace) -> int:
    """`evenergy-etl run`: the nightly job."""
    overrides = {"max_duration": args.max_duration} if args.max_duration else {}
    options = NightlyOptions(
        build_models=not args.no_models, export_to=args.export, full_refresh=args.full_refresh
    )
    return run_nightly(make_pipeline(), options, Progress(), **overrides)


def models(args: argparse.Namespace) -> int:
    """`evenergy-etl models`: build the models and check them."""
    return build_and_export(_warehouse(), args.export, full_refresh=args.full_refresh)


def docs(args: argparse.Namespace) -> int:
    """`evenergy-etl docs`: dbt's static docs of the models, one HTML file."""
    from pipelines.docs import write_docs

    emit(str(write_docs(args.to, _warehouse())))
    return exit_codes.OK


def export(args: argparse.Namespace) -> int:
    """`evenergy-etl export`: write the models (and with --raw the raw tables) to Parquet."""
    from pipelines.export import export_models

    target = args.to or Path(str(dlt.config.get("export.directory") or "exports"))
    with duckdb.connect(str(_warehouse())) as conn:
        tables = export_models(conn, target, include_raw=args.raw)
    for table in tables:
        emit(f"{table.name:<40} {table.rows:>12,} rows  {table.path}")
    return exit_codes.OK


def status(args: argparse.Namespace) -> int:
    """`evenergy-etl status`: counts, watermarks, last loads."""
    pipeline = make_pipeline()
    for line in describe_status(pipeline, database_path(pipeline)):
        emit(line)
    return exit_codes.OK


def simulate(args: argparse.Namespace) -> int:
    """`evenergy-etl simulate`: serve the API simulator until interrupted."""
    from pipelines.simulator import SimulatorConfig, serve

    config = SimulatorConfig(
        seed=args.seed, n_evses=args.evses, days=args.days, rate_limit=args.rate_limit or None
    )
    emit(
        f"simulator on http://127.0.0.1:{args.port}/v2 (token http://127.0.0.1:{args.port}"
        f"/o/token/, client {config.client_id}); Ctrl-C stops it"
    )
    serve(config, port=args.port)
    return exit_codes.OK


def demo(args: argparse.Namespace) -> int:
    """`evenergy-etl demo`: the whole product against the simulator."""
    from pipelines.demo import run_demo

    return run_demo(args.dir, n_evses=args.evses)


def _warehouse() -> Path:
    database = database_path(make_pipeline())
    if not database.exists():
        raise SystemExit(f"no warehouse at {database}: run `evenergy-etl run` first")
    return database
