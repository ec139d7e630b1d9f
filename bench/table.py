"""What a benchmark run reports: the issue's targets checked against its scenarios
(`evaluate_targets`), the table's footnotes (`notes`: what the figures mean, then what the
run itself showed) and the results as a plain-text table, for the terminal
(`render_table`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from bench.pipeline_runs import BASELINE_RESOURCES
from bench.truth import MINIMUM_DEFINITION, TABLES

Scenarios = dict[str, dict[str, Any]]

# The targets
MAX_OVER_MINIMUM_PCT = 5.0
MIN_RATIO_VS_DLT = 3.0
MIN_ROWS_PER_SECOND = 20_000.0
MAX_RSS_GROWTH = 1.20
MAX_MODEL_SECONDS = 60.0
MAX_SCALING_EXPONENT = 1.1  # build time ~ size^k; k <= 1.1 counts as linear
MAX_NIGHTLY_GROWTH = 1.5  # issue 11: the nightly build on a year of history vs a week


def evaluate_targets(scenarios: Scenarios) -> list[dict[str, Any]]:
    """One entry per target: `name`, `target`, `value` (None if not measured), `met`."""
    checks: list[tuple[str, str, Callable[[Scenarios], float], Callable[[float], bool]]] = [
        ("incremental requests over minimum (%)", f"<= {MAX_OVER_MINIMUM_PCT:g}",
         _over("incremental"), lambda v: v <= MAX_OVER_MINIMUM_PCT),
        ("no-op requests over minimum (%)", f"<= {MAX_OVER_MINIMUM_PCT:g}",
         _over("noop"), lambda v: v <= MAX_OVER_MINIMUM_PCT),
        ("ours / dlt defaults, rows/s (same resources)", f">= {MIN_RATIO_VS_DLT:g}",
         _ratio, lambda v: v >= MIN_RATIO_VS_DLT),
        ("backfill rows/s end to end", f">= {MIN_ROWS_PER_SECOND:,.0f}",
         lambda s: float(s["backfill"]["rows_per_second"]), lambda v: v >= MIN_ROWS_PER_SECOND),
        ("nightly peak RSS, long / short history", f"<= {MAX_RSS_GROWTH:g}",
         _history_growth, lambda v: v <= MAX_RSS_GROWTH),
        ("peak RSS large / small fleet", f"<= {MAX_RSS_GROWTH:g}",
         _rss_growth, lambda v: v <= MAX_RSS_GROWTH),
        ("models build seconds (large synthetic)", f"< {MAX_MODEL_SECONDS:g}",
         lambda s: float(s["models_synthetic"]["build_seconds"]), lambda v: v < MAX_MODEL_SECONDS),
        ("models scaling exponent (reference -> large)", f"<= {MAX_SCALING_EXPONENT:g}",
         _scaling_exponent, lambda v: v <= MAX_SCALING_EXPONENT),
        ("nightly models build, long / short history", f"<= {MAX_NIGHTLY_GROWTH:g}",
         _nightly_growth, lambda v: v <= MAX_NIGHTLY_GROWTH),
    ]  # fmt: skip
    results = []
    for name, target, measure, met in checks:
        try:
            value: float | None = round(measure(scenarios), 3)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            value = None
        results.append(
            {
                "name": name,
                "target": target,
                "value": value,
                "met": value is not None and met(value),
            }
        )
    return results


def _over(key: str) -> Callable[[Scenarios], float]:
    return lambda scenarios: float(scenarios[key]["over_minimum_pct"])


def _ratio(scenarios: Scenarios) -> float:
    ours = float(scenarios["ratio_ours"]["rows_per_second"])
    return ours / float(scenarios["ratio_dlt_default"]["rows_per_second"])


def _rss_growth(scenarios: Scenarios) -> float:
    small = float(scenarios["memory_small"]["peak_rss_mb"])
    return float(scenarios["memory_large"]["peak_rss_mb"]) / small


def _nightly_growth(scenarios: Scenarios) -> float:
    long = float(scenarios["models_nightly_long"]["nightly_build_seconds"])
    return long / float(scenarios["models_nightly_short"]["nightly_build_seconds"])


def _scaling_exponent(scenarios: Scenarios) -> float:
    """k in build_seconds ~ status_logs^k between the reference and the large size."""
    reference, large = scenarios["models_reference"], scenarios["models_synthetic"]
    size_ratio = float(large["status_logs"]) / float(reference["status_logs"])
    time_ratio = float(large["build_seconds"]) / float(reference["build_seconds"])
    return math.log(time_ratio) / math.log(size_ratio)


def _history_growth(scenarios: Scenarios) -> float:
    """Peak RSS of the night merged into the long history over the same night on the short."""
    long, short = scenarios["incremental_long_history"], scenarios["incremental"]
    return float(long["peak_rss_mb"]) / float(short["peak_rss_mb"])


# The footnotes
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


def _counted(scenarios: Scenarios, key: str, what: str) -> str:
    """`what`, then each run's nonzero count of `key`; empty when no run has any."""
    counts = [f"{r['label']} {r[key]:,}" for r in scenarios.values() if r.get(key)]
    return f"{what}: " + ", ".join(counts) + "." if counts else ""


def _transient_load_errors(scenarios: Scenarios) -> str:
    return _counted(
        scenarios,
        "transient_load_errors",
        "Load jobs that failed and were retried by dlt (transient errors, e.g. DuckDB out of "
        "memory under its memory_limit)",
    )


def _pool_discards(scenarios: Scenarios) -> str:
    return _counted(
        scenarios,
        "pool_full_discards",
        "urllib3 discarded pooled connections ('Connection pool is full'; each is reopened "
        "by a later request)",
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


# The table
RUN_HEADERS = (
    "scenario", "rows", "wall s", "rows/s", "extract s", "normalize s", "load s",
    "requests", "minimum", "over %", "min+lookback", "peak RSS MB",
)  # fmt: skip
PIPELINE_RUNS = (
    "backfill", "incremental", "incremental_long_history", "noop", "memory_small", "memory_large",
)  # fmt: skip
RATIO_RUNS = ("ratio_ours", "ratio_dlt_default", "read_json")


def render_table(result: dict[str, Any]) -> str:
    """The whole report: header, runs, ratio, requests by table, models, targets, notes."""
    scenarios: dict[str, dict[str, Any]] = result["scenarios"]
    lines = _header(result)
    lines += ["", "Pipeline runs (each in its own process; the simulator in another)"]
    lines += _grid(RUN_HEADERS, [_run_row(scenarios[k]) for k in PIPELINE_RUNS if k in scenarios])
    sizes = result["sizes"]
    lines += [
        "",
        f"Baselines: backfill {sizes['evses']} EVSEs x {sizes['days']:g} d of "
        f"{', '.join(result['ratio_resources'])} only",
    ]
    lines += _grid(RUN_HEADERS, [_run_row(scenarios[k]) for k in RATIO_RUNS if k in scenarios])
    lines += ["", "Requests by table (made / minimum)"]
    lines += _requests_by_table(scenarios)
    lines += ["", "Models"]
    lines += _models(scenarios)
    report = scenarios.get("report")
    if report and "seconds" in report:
        size_kb, peak = report["bytes"] / 1024, report["peak_rss_mb"]
        lines += ["", f"HTML report of the loaded warehouse: {report['seconds']:.2f} s to write, "
                  f"{size_kb:,.0f} KB, peak RSS {peak:,.0f} MB"]  # fmt: skip
    lines += ["", "Targets"]
    lines += [_target_line(t) for t in result["targets"]]
    lines += ["", "Notes"]
    lines += [f"{i}. {note}" for i, note in enumerate(result["notes"], 1)]
    return "\n".join(lines)


def _header(result: dict[str, Any]) -> list[str]:
    machine, sizes = result["machine"], result["sizes"]
    mode = "quick" if sizes["quick"] else "full"
    return [
        f"evenergy-etl benchmark, {result['started_at']} ({mode} run, "
        f"{result['total_seconds']:.0f} s in all)",
        f"machine: {machine['nproc']} x {machine['cpu_model']}, {machine['memory_gib']} GiB RAM, "
        f"{machine['os']}; Python {machine['python']}, dlt {machine['dlt']}, "
        f"duckdb {machine['duckdb']}, pyarrow {machine['pyarrow']}; 1-min load average "
        f"{_load(machine, 'start')} at start, {_load(machine, 'end')} at the end",
    ]


def _load(machine: dict[str, Any], when: str) -> str:
    value = machine.get("load_average_1m", {}).get(when)
    return "-" if value is None else f"{value:.1f}"


def _run_row(record: dict[str, Any]) -> list[str]:
    seconds = record.get("seconds", {})
    return [
        record["label"],
        _n(record.get("rows_total")),
        _f(record.get("wall_seconds")),
        _n(record.get("rows_per_second")),
        _f(seconds.get("extract")),
        _f(seconds.get("normalize")),
        _f(seconds.get("load")),
        _n(record.get("requests_total")),
        _n(record.get("minimum_total")),
        _f(record.get("over_minimum_pct")),
        _n(record.get("minimum_with_lookback_total")),
        _n(record.get("peak_rss_mb")),
    ]


def _requests_by_table(scenarios: dict[str, dict[str, Any]]) -> list[str]:
    runs = [k for k in ("backfill", "incremental", "noop") if k in scenarios]
    rows = []
    for table in TABLES:
        cells = [table]
        for key in runs:
            record = scenarios[key]
            made = record.get("requests", {}).get(table, 0)
            cells.append(f"{made:,} / {record.get('minimum', {}).get(table, 0):,}")
        rows.append(cells)
    return _grid(["table", *[scenarios[k]["label"] for k in runs]], rows)


def _models(scenarios: dict[str, dict[str, Any]]) -> list[str]:
    headers = ("models over", "status logs", "dispatches", "generate s", "build s", "checks s",
               "peak RSS MB")  # fmt: skip
    rows = []
    loaded = scenarios.get("models_loaded")
    if loaded:
        raw = loaded.get("raw_rows", {})
        rows.append(["loaded warehouse", _n(raw.get("status_logs")),
                     _n(raw.get("dispatcher_logs")), "-", _f(loaded.get("build_seconds")),
                     _f(loaded.get("check_seconds")), _n(loaded.get("peak_rss_mb"))])  # fmt: skip
    for key in ("models_reference", "models_synthetic"):
        if key in scenarios:
            r = scenarios[key]
            rows.append([f"synthetic ({r['label'].removeprefix('models ')})",
                         _n(r.get("status_logs")), _n(r.get("dispatches")),
                         _f(r.get("generate_seconds")), _f(r.get("build_seconds")),
                         _f(r.get("check_seconds")), _n(r.get("peak_rss_mb"))])  # fmt: skip
    nightly = [scenarios[k] for k in ("models_nightly_short", "models_nightly_long")
               if k in scenarios and "nightly_build_seconds" in scenarios[k]]  # fmt: skip
    lines = _grid(headers, rows)
    if nightly:
        lines += ["", *_grid(
            ("nightly build", "EVSEs", "status logs", "full build s", "nightly build s",
             "of which dbt s", "dbt import s", "parse s (partial)", "parse s (full)"),
            [[r["label"], _n(r.get("evses")), _n(r.get("status_logs")),
              _f(r.get("full_build_seconds")), _f(r.get("nightly_build_seconds")),
              _f(r.get("nightly_dbt_overhead_seconds")), _f(r.get("dbt_import_seconds")),
              _f(r.get("parse_partial_seconds")), _f(r.get("parse_full_seconds"))]
             for r in nightly],
        )]  # fmt: skip
    return lines


def _target_line(target: dict[str, Any]) -> str:
    verdict = "MET   " if target["met"] else "MISSED"
    value = target["value"]
    shown = (
        "not measured" if value is None else f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"
    )
    return f"[{verdict}] {target['name']}: {shown} (target {target['target']})"


def _grid(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned first column, right-aligned others."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first = str(cells[0]).ljust(widths[0])
        rest = [str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *[line(r) for r in rows]]


def _n(value: Any) -> str:
    return "-" if value is None else f"{float(value):,.0f}"


def _f(value: Any) -> str:
    return "-" if value is None else f"{float(value):,.1f}"
