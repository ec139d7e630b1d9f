"""The issue's targets, checked against a run's scenarios."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Scenarios = dict[str, dict[str, Any]]

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
