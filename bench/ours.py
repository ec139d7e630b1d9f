"""One run of the project's pipeline, as the nightly job runs it, measured.

Every run goes through `load_evenergy`, unchanged; for the ratio against dlt's default
path it is restricted to a few resources (`resources=`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from bench.process import PhasePeaks
from pipelines.evenergy_pipeline import load_evenergy, make_pipeline

log = logging.getLogger(__name__)


def run_ours(payload: dict[str, Any]) -> dict[str, Any]:
    """Run the pipeline once and report rows, requests and seconds.

    Args:
        payload: `pipelines_dir`, `database`, `source_args` (explicit source settings) and
            optionally `resources` (names to restrict the source to).

    Returns:
        `rows` and `requests` per table, `seconds` per phase, `wall_seconds` of the run,
        `requests_made`, the peak RSS as each phase ended, `partial` and the first `errors`.
    """
    pipeline = make_pipeline(payload["pipelines_dir"], payload["database"])
    resources: list[str] | None = payload.get("resources")
    with PhasePeaks() as peaks:
        started = time.perf_counter()
        outcome = load_evenergy(
            pipeline, resources=resources, on_phase=peaks.mark, **payload["source_args"]
        )
        wall = time.perf_counter() - started
    return {
        "rows": dict(outcome.report.rows),
        "requests": outcome.budget_requests(),
        "requests_made": outcome.budget.requests_made,
        "seconds": {phase: round(s, 3) for phase, s in outcome.seconds.items()},
        "wall_seconds": round(wall, 3),
        "peak_rss_mb_by_phase": peaks.peaks,
        "partial": outcome.report.partial,
        "errors": outcome.report.errors[:5],
    }
