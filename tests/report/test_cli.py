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


def test_the_nightly_run_writes_the_report_from_its_published_copy(tmp_path):
    """`run --report DIR`: after a run whose checks pass, the report of the published copy."""
    from pipelines.publish import published_path
    from pipelines.simulator import SimulatorServer
    from tests.cli_helpers import project_workdir, simulator_env
    from tests.pipelines.conftest import simulator_config

    workdir = project_workdir(tmp_path)
    with SimulatorServer(simulator_config(n_evses=3)) as simulator:
        env = simulator_env(simulator, workdir)
        done = run_cli(["run", "--report", str(tmp_path / "report")], env, workdir)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "report" / "report.html").read_text()
    assert published_path(workdir / "warehouse.duckdb").exists()
    assert 'id="chart-daily_rates"' in page and "No data yet" not in page
