"""`evenergy-etl`: the command line of the pipeline. See `evenergy-etl --help`.

Exit codes are in `pipelines.exit_codes` and the README.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pipelines import exit_codes
from pipelines.errors import explain
from pipelines.file_modes import apply_umask
from pipelines.lock import AlreadyRunning
from pipelines.logs import configure_logging
from pipelines.project import use_project_settings

log = logging.getLogger("pipelines.cli")

EPILOG = """exit codes: 0 ok, 1 failed, 2 usage or configuration error, 3 partial (budget or
deadline reached, or some partitions failed; the next run resumes), 4 data checks failed,
75 another run holds the lock. Settings: .dlt/config.toml, .dlt/secrets.toml, or
SOURCES__EVENERGY__... environment variables."""


FULL_REFRESH_HELP = "rebuild every model from scratch instead of incrementally"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="evenergy-etl",
        description="Load ev.energy EVSE status logs and dispatcher logs into DuckDB, build "
        "the dispatch-effectiveness models, export Parquet.",
        epilog=EPILOG,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run(commands)
    models = commands.add_parser(
        "models",
        help="build the SQL models and run their checks",
        description="Build the SQL models (schema analytics) in the warehouse from the raw "
        "tables and run their data checks; exit 4 if a check fails.",
    )
    models.add_argument("--export", metavar="DIR", type=Path, help="also export to DIR")
    models.add_argument("--full-refresh", action="store_true", help=FULL_REFRESH_HELP)
    docs = commands.add_parser(
        "docs",
        help="write the models' docs (one HTML file, lineage)",
        description="Write dbt's documentation of the models (descriptions, tests, lineage) "
        "as one self-contained HTML file.",
    )
    docs.add_argument("--to", metavar="DIR", type=Path, required=True, help="output directory")
    export = commands.add_parser(
        "export",
        help="write the models to Parquet",
        description="Write the models (and with --raw the raw evenergy tables) to Parquet, "
        "partitioned by date where a model has one.",
    )
    export.add_argument("--to", metavar="DIR", type=Path, help="default: [export] directory")
    export.add_argument("--raw", action="store_true", help="also export the raw evenergy tables")
    status = commands.add_parser(
        "status",
        help="row counts, watermarks and the last runs",
        description="What the warehouse holds: row counts and newest timestamps per table, "
        "the watermarks of the partitions, the sub-session queue and the last runs.",
    )
    status.add_argument("--json", action="store_true", help="one JSON object, for monitoring")
    sql = commands.add_parser(
        "sql",
        help="read-only SQL session on the published copy",
        description="Open a read-only SQL session on the published copy (the duckdb CLI when "
        "installed, else a small built-in shell); -c runs one query.",
    )
    sql.add_argument("-c", metavar="QUERY", dest="query", help="run one query and exit")
    sql.add_argument("--python", action="store_true", help="the built-in shell, not `duckdb`")
    report = commands.add_parser(
        "report",
        help="write the HTML report of the models",
        description="Write one self-contained HTML file (report.html, opens offline) with "
        "charts of the analytics models, from the published copy when there is one.",
    )
    report.add_argument("--to", metavar="DIR", type=Path, required=True, help="writes report.html")
    report.add_argument("--database", metavar="FILE", type=Path, help="default: the warehouse")
    _add_simulate(commands)
    demo = commands.add_parser(
        "demo",
        help="simulator + load + models + export + summary",
        description="The whole product on a simulated fleet: two nights of loads, the "
        "models, a Parquet export and a summary, all in one directory.",
    )
    demo.add_argument("--dir", type=Path, default=Path("demo-output"), help="where it all goes")
    demo.add_argument("--evses", type=int, default=25, help="simulated fleet size")
    return parser


def _add_run(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="the nightly job: load new data, build the models",
        description="Extract what is new since the last run, load it, build the models. "
        "Progress on a terminal; one line per phase under cron.",
    )
    run.add_argument(
        "--max-duration",
        metavar="DURATION",
        help='deadline for the extraction, e.g. "5h" (overrides config)',
    )
    run.add_argument("--no-models", action="store_true", help="load only")
    run.add_argument("--export", metavar="DIR", type=Path, help="export Parquet after the checks")
    run.add_argument("--report", metavar="DIR", type=Path, help="write the HTML report to DIR")
    run.add_argument("--full-refresh", action="store_true", help=FULL_REFRESH_HELP)


def _add_simulate(commands: argparse._SubParsersAction) -> None:
    simulate = commands.add_parser(
        "simulate",
        help="serve the API simulator on loopback, as a stand-in for the real API",
        description="Serve a simulated ev.energy API on 127.0.0.1 and print its URLs, client "
        "id and secret, and the environment lines that point evenergy-etl at it. By default "
        "its history covers the --days before now, so the settings for the real API work "
        "against it unchanged.",
    )
    simulate.add_argument("--port", type=int, default=8765)
    simulate.add_argument("--seed", type=int, default=42, help="same seed, same fleet")
    simulate.add_argument("--evses", type=int, default=25, help="fleet size")
    simulate.add_argument("--days", type=float, default=3.0, help="history length (days)")
    simulate.add_argument(
        "--start",
        type=_timestamp,
        metavar="TIME",
        help="history start (default: --days before --now)",
    )
    simulate.add_argument(
        "--now",
        type=_timestamp,
        metavar="TIME",
        help="the simulator's clock (default: now, or the end of the history from --start)",
    )
    simulate.add_argument("--rate-limit", type=int, default=1000, help="requests/hour, 0: none")


def _timestamp(text: str) -> datetime:
    """An ISO 8601 argument; without an offset it is UTC."""
    from pipelines.evenergy.parsing import parse_timestamp

    return parse_timestamp(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code.

    Whatever a command raises ends as one line on stderr and an exit code
    (`pipelines.errors.explain`); `-v` adds the traceback.
    """
    args = build_parser().parse_args(argv)
    configure_logging(verbose=args.verbose, quiet=args.quiet)
    try:
        use_project_settings()  # `.dlt/` of the project, whatever the working directory
        apply_umask()  # before any file is created: the warehouse holds personal data
        return _dispatch(args)
    except AlreadyRunning as error:
        log.error("not started: %s", error)
        return exit_codes.LOCKED
    except (Exception, KeyboardInterrupt) as error:
        failure = explain(error)
        if args.verbose:
            log.error("traceback of the failure below", exc_info=error)
        log.error("%s", failure)
        return failure.exit_code


def _dispatch(args: argparse.Namespace) -> int:
    from pipelines import commands

    handler = {
        "run": commands.run,
        "models": commands.models,
        "docs": commands.docs,
        "export": commands.export,
        "status": commands.status,
        "sql": commands.sql,
        "report": commands.report,
        "simulate": commands.simulate,
        "demo": commands.demo,
    }[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
