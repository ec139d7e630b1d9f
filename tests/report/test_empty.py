"""A warehouse with no data, or no models at all, gives a report that says so; no crash."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.errors import RunFailed
from pipelines.report import NO_DATA, write_report
from pipelines.warehouse import ensure_tables
from tests.report.fixtures import DDL


def test_models_without_rows_say_no_data_yet(tmp_path):
    database = tmp_path / "empty.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute(DDL)
    page = write_report(database, tmp_path / "out").read_text()
    assert f'id="no-data">{NO_DATA}: the analytics models are empty' in page
    assert 'class="vega-chart"' not in page
    assert "no run recorded yet" in page


def test_a_warehouse_without_models_names_them(tmp_path):
    database = tmp_path / "raw-only.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute("create schema evenergy")
        ensure_tables(conn)
    page = write_report(database, tmp_path / "out").read_text()
    assert NO_DATA in page and "analytics.daily_dispatch_effectiveness" in page
    assert "run `evenergy-etl models`" in page
    assert 'class="vega-chart"' not in page


def test_a_missing_warehouse_is_one_line(tmp_path):
    with pytest.raises(
        RunFailed, match=r"no warehouse at .*missing\.duckdb: run `evenergy-etl run` first"
    ):
        write_report(tmp_path / "missing.duckdb", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_warehouse_is_opened_read_only(fixture_warehouse, tmp_path):
    """Another process holding the warehouse for reading does not stop the report."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('held', flush=True); time.sleep(60)",
            str(fixture_warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert write_report(fixture_warehouse, tmp_path / "out").stat().st_size > 100_000
    finally:
        holder.kill()
        holder.wait()


def test_a_model_without_a_column_the_report_reads_is_one_line(tmp_path):
    database = tmp_path / "old.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute(DDL)
        conn.execute("alter table analytics.daily_fleet_reporting drop column share_reporting")
    with pytest.raises(
        RunFailed, match=r"report query fleet_reporting_share failed: .*share_reporting"
    ):
        write_report(database, tmp_path / "out")
