"""`evenergy-etl demo` (`make demo`), at a small fleet: every product it promises is written,
and the report's header shows the demo's last run."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines import exit_codes
from pipelines.demo import run_demo


@pytest.mark.slow
def test_the_demo_writes_the_warehouse_copy_exports_and_a_report_with_its_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "demo-output"
    assert run_demo(directory, n_evses=4) == exit_codes.OK
    out = capsys.readouterr().out
    assert "effectiveness_rate" in out and "target_success_rate" in out  # the warehouse's names
    with duckdb.connect(str(directory / "warehouse_published.duckdb"), read_only=True) as conn:
        runs = conn.sql("select outcome from analytics.pipeline_runs").fetchall()
        (attempts,) = conn.sql(
            "select count(*) from analytics.dispatch_effectiveness"
        ).fetchone() or (0,)
    assert runs == [("complete",), ("complete",)]
    assert attempts > 0
    assert list((directory / "exports").glob("current/daily_dispatch_effectiveness/**/*.parquet"))
    report = (directory / "report" / "report.html").read_text()
    assert str(directory / "report" / "report.html") in out
    assert "no run recorded yet" not in report
