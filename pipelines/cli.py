"""`evenergy-etl`: the command line of the pipeline. See `evenergy-etl --help`.

Exit codes are in `pipelines.exit_codes` and the README.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines import exit_codes
from pipelines.errors import OperatorError
from pipelines.evenergy import ConfigurationError
from pipelines.evenergy.errors import EvEnergyError
from pipelines.lock import AlreadyRunning
from pipelines.logs import configure_logging

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
    models = commands.add_parser("models", help="build the SQL models and run their checks")
    models.add_argument("--export", metavar="DIR", type=Path, help="also export to DIR")
    models.add_argument("--full-refresh", action="store_true", help=FULL_REFRESH_HELP)
    docs = commands.add_parser("docs", help="write the models' docs (one HTML file, lineage)")
    docs.add_argument("--to", metavar="DIR", type=Path, required=True, help="output directory")
    export = commands.add_parser("export", help="write the models to Parquet")
    export.add_argument("--to", metavar="DIR", type=Path, help="default: [export] directory")
    export.add_argument("--raw", action="store_true", help="also export the raw evenergy tables")
    commands.add_parser("status", help="row counts, watermarks and the last loads")
    _add_simulate(commands)
    demo = commands.add_parser("demo", help="simulator + load + models + export + summary")
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
    run.add_argument("--full-refresh", action="store_true", help=FULL_REFRESH_HELP)


def _add_simulate(commands: argparse._SubParsersAction) -> None:
    simulate = commands.add_parser("simulate", help="serve the API simulator on loopback")
    simulate.add_argument("--port", type=int, default=8765)
    simulate.add_argument("--seed", type=int, default=42)
    simulate.add_argument("--evses", type=int, default=25)
    simulate.add_argument("--days", type=float, default=3.0, help="history length")
    simulate.add_argument("--rate-limit", type=int, default=1000, help="requests/hour, 0: none")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(verbose=args.verbose, quiet=args.quiet)
    try:
        return _dispatch(args)
    except ConfigFieldMissingException as error:
        log.error("missing setting: %s", _missing_settings(error))
        return exit_codes.USAGE
    except ConfigurationError as error:
        log.error("configuration: %s", error)
        return exit_codes.USAGE
    except OperatorError as error:
        log.error("%s", error)
        return error.exit_code
    except AlreadyRunning as error:
        log.error("not started: %s", error)
        return exit_codes.LOCKED
    except (EvEnergyError, PipelineStepFailed) as error:
        log.error("failed: %s", _root_cause(error))
        return exit_codes.FAILED
    except KeyboardInterrupt:
        log.error("interrupted: the next run resumes from the last saved state")
        return exit_codes.FAILED


def _root_cause(error: Exception) -> str:
    """dlt wraps what a resource raised in `PipelineStepFailed`: report the cause itself."""
    cause = getattr(error, "exception", None)
    return str(cause if isinstance(cause, Exception) else error).splitlines()[0]


def _dispatch(args: argparse.Namespace) -> int:
    from pipelines import commands

    handler = {
        "run": commands.run,
        "models": commands.models,
        "docs": commands.docs,
        "export": commands.export,
        "status": commands.status,
        "simulate": commands.simulate,
        "demo": commands.demo,
    }[args.command]
    return handler(args)


def _missing_settings(error: ConfigFieldMissingException) -> str:
    """`sources.evenergy.credentials.client_secret (env SOURCES__...)` for each missing key."""
    names = []
    for field in error.fields:
        nested = [
            inner
            for traces in error.traces.get(field, [])
            for inner in getattr(traces, "traces", {})  # a nested spec: its own missing keys
        ]
        for path in [f"{field}.{inner}" for inner in nested] or [field]:
            setting = f"sources.evenergy.{path}"
            names.append(f"{setting} (env {setting.upper().replace('.', '__')})")
    return ", ".join(names)


if __name__ == "__main__":
    sys.exit(main())
