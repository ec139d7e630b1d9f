"""A whole benchmark run: every scenario, the machine, the targets and the notes."""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.fleet import fleet_scenarios, scaling_scenarios
from bench.models import model_scenarios
from bench.pipeline_runs import BASELINE_RESOURCES
from bench.process import describe_machine
from bench.sizes import BenchSizes
from bench.table import evaluate_targets, notes

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
