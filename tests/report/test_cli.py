"""`evenergy-etl report --to DIR` as an operator runs it (a subprocess)."""

from __future__ import annotations

import os

from tests.cli_helpers import PROJECT, run_cli


def test_report_writes_the_file_of_the_configured_warehouse(fixture_warehouse, tmp_path):
    env = {
        **os.environ,
        "DESTINATION__DUCKDB__CREDENTIALS": str(fixture_warehouse),
        "PYTHONPATH": str(PROJECT),
    }
    done = run_cli(["report", "--to", str(tmp_path / "out")], env, tmp_path)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "out" / "report.html"
    assert done.stdout.strip() == str(written)
    assert 'id="chart-daily_rates"' in written.read_text()
