"""`python -m bench.worker '<json>'`: one measurement in a process of its own.

The JSON names the measurement (`kind`) and its arguments. The result is printed as one
line, `BENCH_RESULT {...}`, on stdout; logs go to stderr. Each runner's module is imported
only when asked for, so a measurement's peak RSS carries no other measurement's imports.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from bench.child import OWN_PEAK, RESULT_PREFIX
from bench.log_counts import counts, install_counters
from bench.rss import peak_rss_mb

RUNNERS = {
    "ours": "bench.ours:run_ours",
    "baseline_dlt": "bench.baseline:run_baseline",
    "read_json": "bench.ceiling:time_read_json",
    "models_loaded": "bench.model_runs:time_loaded_models",
    "models_synthetic": "bench.model_runs:time_synthetic_models",
    "pad_history": "bench.history:pad_history",
    "report": "bench.report_timing:time_report_worker",
    "models_nightly": "bench.model_runs:time_nightly_models",
    "lake_vs_file": "bench.lake:time_lake_vs_file",
}


def configure_logging() -> None:
    """INFO for the project to stderr; dlt's own logging at WARNING."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s [worker] %(name)s: %(message)s",
    )
    logging.getLogger("dlt").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    install_counters()


def resolve(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The runner of a measurement kind.

    Raises:
        KeyError: an unknown kind.
    """
    module_name, function = RUNNERS[kind].split(":")
    runner: Callable[[dict[str, Any]], dict[str, Any]] = getattr(
        importlib.import_module(module_name), function
    )
    return runner


def main(argv: list[str] | None = None) -> int:
    """Run the measurement described by the JSON argument and print its result.

    A failure prints `{"error": ...}` as the result and exits with 1.
    """
    args = sys.argv[1:] if argv is None else argv
    configure_logging()
    payload: dict[str, Any] = json.loads(args[0])
    try:
        result = resolve(payload["kind"])(payload)
    except Exception as error:
        logging.getLogger(__name__).exception("%s failed", payload["kind"])
        _emit({"error": f"{type(error).__name__}: {error}"})
        return 1
    result.update(counts())
    _emit({**result, OWN_PEAK: peak_rss_mb()})
    return 0


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write(RESULT_PREFIX + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
