"""Smoke test of `python -m bench`: a tiny run reports every scenario."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIPELINE_RUNS = (
    "backfill",
    "incremental",
    "incremental_long_history",
    "noop",
    "memory_small",
    "memory_large",
    "ratio_ours",
    "ratio_dlt_default",
)
MODEL_RUNS = ("models_loaded", "models_reference", "models_synthetic")
TINY = [
    "--quick",
    "--evses", "5",
    "--days", "1",
    "--scaling-evses", "3,6",
    "--scaling-days", "1",
    "--models-status-logs", "20000",
    "--models-dispatches", "1000",
]  # fmt: skip


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    results = tmp_path_factory.mktemp("bench-results")
    completed = subprocess.run(
        [sys.executable, "-m", "bench", *TINY, "--results-dir", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,  # under pytest-timeout's 300 s; about a minute on a quiet machine
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads((results / "latest.json").read_text()), completed.stdout, results


@pytest.mark.slow
def test_every_pipeline_run_has_positive_figures_and_at_least_the_minimum_requests(bench):
    result, _, _ = bench
    for key in PIPELINE_RUNS:
        run = result["scenarios"][key]
        assert run["rows_total"] > 0, key
        assert run["wall_seconds"] > 0, key
        assert run["rows_per_second"] > 0, key
        assert run["peak_rss_mb"] > 0, key
        assert run["requests_total"] >= run["minimum_total"] > 0, key
        assert run["requests_match_server"], key
        assert not run["partial"], key


@pytest.mark.slow
def test_baselines_models_and_targets_are_reported(bench):
    result, _, _ = bench
    scenarios = result["scenarios"]
    assert scenarios["ratio_ours"]["rows"] == scenarios["ratio_dlt_default"]["rows"]
    assert scenarios["read_json"]["rows_total"] > 0
    assert scenarios["report"]["seconds"] > 0 and scenarios["report"]["bytes"] > 100_000
    assert scenarios["read_json"]["wall_seconds"] > 0
    for key in MODEL_RUNS:
        assert scenarios[key]["build_seconds"] > 0, key
        assert scenarios[key]["peak_rss_mb"] > 0, key
    assert scenarios["models_loaded"]["failed_checks"] == []
    for key in ("models_nightly_short", "models_nightly_long"):
        assert scenarios[key]["nightly_build_seconds"] > 0, key
    assert len(result["targets"]) == 9
    assert all(target["value"] is not None for target in result["targets"])
    assert result["machine"]["nproc"] > 0


@pytest.mark.slow
def test_the_table_is_printed_and_a_timestamped_file_written(bench):
    result, stdout, results = bench
    assert "Targets" in stdout and "Notes" in stdout
    assert f"JSON: {results}" in stdout
    assert len(list(results.glob("bench-*.json"))) == 1
    assert result["sizes"]["quick"] is True
