"""The bench's report timing: one report written, its time and size returned."""

from __future__ import annotations

from bench.pipeline_runs import time_report


def test_time_report_gives_the_seconds_and_the_size_of_the_file(fixture_warehouse, tmp_path):
    figures = time_report(fixture_warehouse, tmp_path)
    assert figures["bytes"] == (tmp_path / "report.html").stat().st_size > 100_000
    assert 0 < figures["seconds"] < 60
