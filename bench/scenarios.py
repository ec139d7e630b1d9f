"""The scenarios of a benchmark run, each measured in a child process.

- fleet: the ratio pair (the project's pipeline and dlt's default path, restricted to the
  same resources), the full backfill, DuckDB's `read_json` ceiling, the nightly
  incremental run after the clock moves a day (on the backfill's history, and on a copy
  padded to `long_history_days` of history), and a no-op run; then the models over the
  loaded warehouse.
- scaling: a backfill of a small and a large fleet, for peak RSS.
- models: `bench_models` at the reference and the large size; the lake against the file
  (`bench.models.bench_lake`) at the reference size (not in `--quick`).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.fleet import Fleet
from bench.pipeline_runs import BASELINE_RESOURCES, render_status_pages
from bench.process import ChildFailed, run_child
from bench.records import run_record
from bench.sizes import BenchSizes
from bench.truth import RunWindow

log = logging.getLogger(__name__)

DAY_SECONDS = 86_400


def fleet_scenarios(sizes: BenchSizes, workdir: Path) -> dict[str, dict[str, Any]]:
    """Backfill, incremental and no-op runs, the two baselines, and the models over them."""
    fleet_size = f"{sizes.evses} EVSEs x {sizes.days:g} d"
    results: dict[str, dict[str, Any]] = {}
    with Fleet.started(sizes.evses, sizes.days + 1, sizes.seed, workdir / "fleet") as fleet:
        backfill = RunWindow(fleet.now())
        log.info("ratio pair: %s, %s", ", ".join(BASELINE_RESOURCES), fleet_size)
        results["ratio_ours"] = _guarded(
            "ours (Arrow, Parquet)",
            lambda label: fleet.measure(
                label, "ours", fleet.target("ratio-ours"), backfill, BASELINE_RESOURCES
            ),
        )
        results["ratio_dlt_default"] = _guarded(
            "dlt defaults (dicts)",
            lambda label: fleet.measure(
                label,
                "baseline_dlt",
                fleet.target("ratio-dlt"),
                backfill,
                BASELINE_RESOURCES,
                isolated=True,
            ),
        )
        log.info("backfill: %s", fleet_size)
        main = fleet.target("nightly")
        results["backfill"] = _guarded(
            f"backfill {fleet_size}", lambda label: fleet.measure(label, "ours", main, backfill)
        )
        results["read_json"] = _guarded(
            "duckdb read_json", lambda label: _read_json_ceiling(fleet, backfill, label)
        )
        long_history = fleet.target(f"nightly-{sizes.long_history_days:g}d")
        padding = {"source": main, "target": long_history, "days": sizes.long_history_days}
        padded = run_child("pad_history", padding).result
        log.info("long history: %s", ", ".join(f"{k} {v:,}" for k, v in padded.items()))
        fleet.simulator.advance(DAY_SECONDS)
        nightly = RunWindow(fleet.now(), backfill.now)
        log.info("incremental: clock advanced one day to %s", nightly.now.isoformat())
        results["incremental"] = _guarded(
            f"incremental +1 d on {sizes.days:g} d",
            lambda label: fleet.measure(label, "ours", main, nightly),
        )
        # The same night merged into a much longer history: its memory must not grow with it.
        results["incremental_long_history"] = _guarded(
            f"incremental +1 d on {sizes.long_history_days:g} d",
            lambda label: {
                **fleet.measure(label, "ours", long_history, nightly),
                "history_rows": padded,
            },
        )
        noop = RunWindow(nightly.now, nightly.now)
        results["noop"] = _guarded("no-op", lambda label: fleet.measure(label, "ours", main, noop))
    results["models_loaded"] = _guarded(
        "loaded warehouse", lambda label: _models_record(label, "models_loaded", main)
    )
    results["report"] = _guarded(
        "HTML report of the loaded warehouse",
        lambda label: _models_record(label, "report", main),
    )
    return results


def _guarded(label: str, measure: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Run one measurement; a failure becomes the scenario's `error` and the run goes on."""
    try:
        return measure(label)
    except ChildFailed as failure:
        log.error("%s failed: %s", label, failure)
        return {"label": label, "error": str(failure)}


def _models_record(label: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    child = run_child(kind, payload)
    return {**child.result, "label": label, "peak_rss_mb": child.peak_rss_mb}


def _read_json_ceiling(fleet: Fleet, window: RunWindow, label: str) -> dict[str, Any]:
    """Render the status-log pages to JSON files, then time DuckDB reading them."""
    pages = fleet.workdir / "status-pages"
    try:
        rendered = render_status_pages(fleet.truth.world, window.now, pages)
        payload = {"pages_dir": str(pages), "database": str(fleet.workdir / "read_json.duckdb")}
        record = run_record(label, run_child("read_json", payload))
    finally:
        shutil.rmtree(pages, ignore_errors=True)
    return {**record, "rendered_rows": rendered}


def scaling_scenarios(sizes: BenchSizes, workdir: Path) -> dict[str, dict[str, Any]]:
    """A backfill of the small and of the large fleet, each against its own simulator."""
    results: dict[str, dict[str, Any]] = {}
    for key, evses in zip(("memory_small", "memory_large"), sizes.scaling_evses, strict=True):
        days = sizes.scaling_days
        log.info("memory scaling: backfill of %d EVSEs x %g d", evses, days)
        with Fleet.started(evses, days + 1, sizes.seed, workdir / key) as fleet:
            window = RunWindow(fleet.now())
            results[key] = _guarded(
                f"backfill {evses} EVSEs x {days:g} d",
                lambda label: fleet.measure(label, "ours", fleet.target("run"), window),  # noqa: B023
            )
    return results


def model_scenarios(sizes: BenchSizes, *, nightly_only: bool = False) -> dict[str, dict[str, Any]]:
    """`bench_models` at the reference size, then at the large size (unless `nightly_only`);
    then the nightly incremental build of one new day on a short and on a long history."""
    results: dict[str, dict[str, Any]] = {}
    runs = () if nightly_only else (
        ("models_reference", sizes.reference_status_logs, sizes.reference_dispatches),
        ("models_synthetic", sizes.models_status_logs, sizes.models_dispatches),
    )  # fmt: skip
    for key, status_logs, dispatches in runs:
        log.info("models: %d status logs + %d dispatch attempts", status_logs, dispatches)
        payload = {"status_logs": status_logs, "dispatches": dispatches}
        results[key] = _guarded(
            f"{_short(status_logs)} + {_short(dispatches)}",
            lambda label: _models_record(label, "models_synthetic", payload),  # noqa: B023
        )
        results[key].update(payload)
    for key, days in zip(("models_nightly_short", "models_nightly_long"),
                         sizes.nightly_history_days, strict=True):  # fmt: skip
        log.info(
            "models: nightly build of one day on %d days x %d EVSEs", days, sizes.nightly_evses
        )
        nightly = {"history_days": days, "evses": sizes.nightly_evses}
        results[key] = _guarded(
            f"nightly on {days} d",
            lambda label: _models_record(label, "models_nightly", nightly),  # noqa: B023
        )
    # the lake against the file at the reference size (bench.models.bench_lake); not in --quick:
    # two more dbt builds (~50 s even at 200k status logs) would double the smoke test's time
    if not sizes.quick:
        lake = {
            "status_logs": sizes.reference_status_logs,
            "dispatches": sizes.reference_dispatches,
        }
        results["lake_vs_file"] = _guarded(
            "lake / file", lambda label: _models_record(label, "lake_vs_file", lake)
        )
    return results


def _short(count: int) -> str:
    """1_000_000 -> '1M', 250_000 -> '250k'."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if count >= size:
            return f"{count / size:g}{suffix}"
    return str(count)
