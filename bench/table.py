"""The benchmark's results as a plain-text table, for the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

RUN_HEADERS = (
    "scenario", "rows", "wall s", "rows/s", "extract s", "normalize s", "load s",
    "requests", "minimum", "over %", "min+lookback", "peak RSS MB",
)  # fmt: skip
PIPELINE_RUNS = (
    "backfill", "incremental", "incremental_long_history", "noop", "memory_small", "memory_large",
)  # fmt: skip
RATIO_RUNS = ("ratio_ours", "ratio_dlt_default", "read_json")
TABLES = ("evses", "status_logs", "evse_command_logs", "charging_sub_sessions", "dispatcher_logs")


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
