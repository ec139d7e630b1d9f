"""The table's footnotes: what the figures mean, then what the run itself showed."""

from __future__ import annotations

from typing import Any

from bench.pipeline_runs import BASELINE_RESOURCES
from bench.truth import MINIMUM_DEFINITION

Scenarios = dict[str, dict[str, Any]]

DEFINITIONS = (
    MINIMUM_DEFINITION,
    "rows/s = rows extracted by the run (all its tables) / the run's wall seconds "
    "(restore state + extract + normalize + load). Peak RSS = the high-water mark of the run's "
    "own process (VmHWM), interpreter and imports included (not os.wait4's ru_maxrss, "
    "which carries the parent's size across exec).",
    "Baselines: both runs are restricted to " + " + ".join(BASELINE_RESOURCES) + " and "
    "merge on the same primary keys into a fresh DuckDB file. 'ours' is the project's "
    "source (with_resources): Arrow pages, Parquet load files, `concurrency` parallel "
    "requests. 'dlt defaults' walks the same endpoints with the same client one request "
    "at a time, yields plain dicts, and loads with dlt's default format (insert_values). "
    "The dlt-defaults run is started outside the project root, so the project's `.dlt/` "
    "settings (file sizes, DuckDB memory limit) do not apply to it. "
    "'duckdb read_json' times only `create table as select * from read_json(...)` over "
    "the status-log pages rendered to JSON files beforehand (status_logs only).",
    "The simulator's warm-up is not observable in /_sim/state; one sub-session listing "
    "(which needs every history) is made before any timing, then the counters reset.",
)


def notes(scenarios: Scenarios) -> list[str]:
    """Definitions first, then the observations that apply to this run."""
    observations = (
        _request_check(scenarios),
        _pool_discards(scenarios),
        _transient_load_errors(scenarios),
        _phase_peaks(scenarios),
        _cpu(scenarios),
        _failures(scenarios),
    )
    return [*DEFINITIONS, *(note for note in observations if note)]


def _request_check(scenarios: Scenarios) -> str:
    mismatched = [
        f"{key} (pipeline {r['requests_total']}, simulator {r['server_requests_total']})"
        for key, r in scenarios.items()
        if r.get("requests_match_server") is False
    ]
    if mismatched:
        return "Requests counted by the pipeline differ from the simulator's: " + ", ".join(
            mismatched
        )
    return "Requests counted by the pipeline equal the simulator's counters in every run."


def _transient_load_errors(scenarios: Scenarios) -> str:
    retried = [
        f"{r['label']} {r['transient_load_errors']:,}"
        for r in scenarios.values()
        if r.get("transient_load_errors")
    ]
    if not retried:
        return ""
    return (
        "Load jobs that failed and were retried by dlt (transient errors, e.g. DuckDB out of "
        "memory under its memory_limit): " + ", ".join(retried) + "."
    )


def _pool_discards(scenarios: Scenarios) -> str:
    discards = [
        f"{r['label']} {r['pool_full_discards']:,}"
        for r in scenarios.values()
        if r.get("pool_full_discards")
    ]
    if not discards:
        return ""
    return (
        "urllib3 discarded pooled connections ('Connection pool is full'; each is reopened "
        "by a later request): " + ", ".join(discards) + "."
    )


def _phase_peaks(scenarios: Scenarios) -> str:
    phases = [
        f"{r['label']}: "
        + ", ".join(f"{phase} {mb:,.0f}" for phase, mb in r["peak_rss_mb_by_phase"].items())
        for r in scenarios.values()
        if r.get("peak_rss_mb_by_phase")
    ]
    return "Peak RSS (MB) as each phase ended: " + "; ".join(phases) + "." if phases else ""


def _cpu(scenarios: Scenarios) -> str:
    cpu = [
        f"{r['label']}: {r['cpu_seconds']:,.1f} / {r['simulator_cpu_seconds']:,.1f} in "
        f"{r['wall_seconds']:,.1f} s"
        for r in scenarios.values()
        if "simulator_cpu_seconds" in r and r.get("wall_seconds")
    ]
    if not cpu:
        return ""
    return "CPU seconds, pipeline process / simulator process: " + "; ".join(cpu) + "."


def _failures(scenarios: Scenarios) -> str:
    found = [f"{key}: {r['error']}" for key, r in scenarios.items() if r.get("error")]
    checks = scenarios.get("models_loaded", {}).get("failed_checks")
    if checks:
        found.append("data checks failing on the loaded warehouse: " + ", ".join(checks))
    return "FAILED: " + "; ".join(found) if found else ""
