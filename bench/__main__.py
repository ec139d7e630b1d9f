"""`python -m bench` (`make bench`): request efficiency, throughput, memory and
model speed of the pipeline against the API simulator, in one command.

Prints a table and writes it as JSON under `bench/results/` (a timestamped file and
`latest.json`). `--quick` runs a smoke-sized benchmark; the size options override either.
"""
# This module owns the command line and a whole benchmark run: every scenario, the machine,
# the targets and the notes (`run_bench`), and where its results go (`write_results`). The
# docstring above is the command's `--help`.

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import FULL, QUICK, BenchSizes
from bench.fleet import fleet_scenarios, scaling_scenarios
from bench.models import model_scenarios
from bench.pipeline_runs import BASELINE_RESOURCES
from bench.process import PROJECT_ROOT, describe_machine
from bench.table import evaluate_targets, notes, render_table

log = logging.getLogger(__name__)

Scenarios = dict[str, dict[str, Any]]


# the groups `--only` can pick: everything else is skipped
ONLY = ("fleet", "scaling", "models", "models-nightly")


def run_bench(sizes: BenchSizes, only: str | None = None) -> dict[str, Any]:
    """Run every scenario at `sizes` (or the group `only`) and gather the results (JSON-ready).

    Pipeline runs keep their warehouses in a temporary directory, removed at the end.
    """
    started_at = datetime.now(UTC)
    began = time.monotonic()
    load_at_start = os.getloadavg()
    scenarios: Scenarios = {}
    with tempfile.TemporaryDirectory(prefix="evenergy-bench-") as tmp:
        if only in (None, "fleet"):
            scenarios.update(fleet_scenarios(sizes, Path(tmp)))
        if only in (None, "scaling"):
            scenarios.update(scaling_scenarios(sizes, Path(tmp)))
    if only in (None, "models", "models-nightly"):
        scenarios.update(model_scenarios(sizes, nightly_only=only == "models-nightly"))
    return {
        "started_at": started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "total_seconds": round(time.monotonic() - began, 1),
        "sizes": sizes.to_dict(),
        "only": only,
        "machine": {
            **describe_machine(),
            "load_average_1m": {"start": load_at_start[0], "end": os.getloadavg()[0]},
        },
        "ratio_resources": list(BASELINE_RESOURCES),
        "scenarios": scenarios,
        "targets": evaluate_targets(scenarios),
        "notes": notes(scenarios),
    }


RESULTS_DIR = PROJECT_ROOT / "bench" / "results"


def write_results(result: dict[str, Any], directory: Path = RESULTS_DIR) -> Path:
    """Write `result` as `bench-<UTC timestamp>.json` and `latest.json` in `directory`.

    Returns:
        The timestamped file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    stamp = str(result["started_at"]).replace(":", "").replace("-", "")
    text = json.dumps(result, indent=2, sort_keys=False, default=str) + "\n"
    path = directory / f"bench-{stamp}.json"
    path.write_text(text)
    (directory / "latest.json").write_text(text)
    log.info("results written to %s and %s", path, directory / "latest.json")
    return path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke-sized run")
    parser.add_argument("--evses", type=int, help="fleet of the backfill/nightly runs")
    parser.add_argument("--days", type=float, help="days the backfill reads")
    parser.add_argument("--scaling-evses", type=_pair, help="small,large fleet for peak RSS")
    parser.add_argument("--scaling-days", type=float, help="days each scaling backfill reads")
    parser.add_argument("--models-status-logs", type=int, help="synthetic status logs")
    parser.add_argument("--models-dispatches", type=int, help="synthetic dispatch attempts")
    parser.add_argument("--nightly-evses", type=int, help="fleet of the nightly models pair")
    parser.add_argument(
        "--nightly-days", type=_pair, help="short,long history of the nightly models pair"
    )
    parser.add_argument(
        "--only",
        choices=ONLY,
        help="run one group of scenarios: models-nightly is the nightly pair (and dbt's "
        "start-up) alone, models every models scenario",
    )
    parser.add_argument("--seed", type=int, help="seed of the simulated world")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument(
        "--growth", action="store_true", help="only the growth scenario (bench.growth)"
    )
    return parser.parse_args(argv)


def sizes_from(args: argparse.Namespace) -> BenchSizes:
    """The sizes: `--quick` or the full run, with the size options applied."""
    base = QUICK if args.quick else FULL
    return base.with_overrides(
        evses=args.evses,
        days=args.days,
        scaling_evses=args.scaling_evses,
        scaling_days=args.scaling_days,
        models_status_logs=args.models_status_logs,
        models_dispatches=args.models_dispatches,
        nightly_evses=args.nightly_evses,
        nightly_history_days=args.nightly_days,
        seed=args.seed,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, write the JSON; 0 on success, 1 if a scenario
    failed (its error is in the table and the JSON)."""
    args = parse_args(argv)
    if args.growth:  # runnable alone: its own sizes (`python -m bench.growth -h`)
        from bench import growth

        extra = [] if args.evses is None else ["--evses", str(args.evses)]
        return growth.main(extra + ([] if args.days is None else ["--days", str(args.days)]))
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.Formatter.converter = time.gmtime
    sizes = sizes_from(args)
    logging.getLogger(__name__).info("benchmark sizes: %s", sizes.to_dict())
    result = run_bench(sizes, only=args.only)
    path = write_results(result, args.results_dir)
    sys.stdout.write(render_table(result) + f"\n\nJSON: {path}\n")
    failed = any("error" in scenario for scenario in result["scenarios"].values())
    return 1 if failed else 0


def _pair(text: str) -> tuple[int, int]:
    small, large = (int(part) for part in text.split(","))
    return small, large


if __name__ == "__main__":
    sys.exit(main())
