"""Parquet export: layout, row counts, and atomic replacement of the previous export."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines import export
from pipelines.export import export_models


@pytest.fixture
def conn(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        conn.execute("create schema analytics; create schema evenergy")
        conn.execute(
            "create table analytics.dispatch_effectiveness as select * from (values "
            "('c1', timestamptz '2026-11-01 23:59:00+00', 'effective'), "
            "('c2', timestamptz '2026-11-02 00:01:00+00', 'no_response'), "
            "('c3', timestamptz '2026-11-02 08:00:00+00', 'not_sent')) t(id, logged_at, outcome)"
        )
        conn.execute(
            "create table analytics.daily_dispatch_effectiveness as select * from (values "
            "(date '2026-11-01', 1), (date '2026-11-02', 2)) t(date, count_attempts)"
        )
        conn.execute(
            "create table analytics.model_parameters as select 15 as response_window_minutes"
        )
        conn.execute("create view analytics.stg_x as select 1 as x")
        conn.execute("create table evenergy.status_logs as select 1 as a")
        conn.execute("create table evenergy._dlt_loads as select 1 as a")
        yield conn


def _rows(path: Path) -> list[tuple]:
    with duckdb.connect() as reader:
        return reader.execute(
            f"select * exclude (date), date from read_parquet('{path}/**/*.parquet', "
            "hive_partitioning = true) order by all"
        ).fetchall()


def test_models_are_partitioned_by_day(conn, tmp_path):
    tables = {t.name: t for t in export_models(conn, tmp_path / "out")}
    assert set(tables) == {
        "dispatch_effectiveness",
        "daily_dispatch_effectiveness",
        "model_parameters",
    }
    out = tmp_path / "out"
    days = sorted(p.name for p in (out / "dispatch_effectiveness").iterdir())
    assert days == ["date=2026-11-01", "date=2026-11-02"]  # by the UTC day of logged_at
    assert tables["dispatch_effectiveness"].rows == 3 == len(_rows(out / "dispatch_effectiveness"))
    assert tables["daily_dispatch_effectiveness"].partitioned_by == "date"
    assert (out / "model_parameters" / "data.parquet").is_file()
    assert tables["model_parameters"].partitioned_by is None


def test_raw_tables_only_on_request(conn, tmp_path):
    names = {t.name for t in export_models(conn, tmp_path / "out", include_raw=True)}
    assert "raw/status_logs" in names and "raw/_dlt_loads" not in names
    assert (tmp_path / "out" / "raw" / "status_logs" / "data.parquet").is_file()


def test_a_failed_export_leaves_the_previous_one_whole(conn, tmp_path, monkeypatch):
    out = tmp_path / "out"
    export_models(conn, out)
    before = _rows(out / "dispatch_effectiveness")
    conn.execute(
        "insert into analytics.dispatch_effectiveness values "
        "('c4', timestamptz '2026-11-03 00:00:00+00', 'effective')"
    )
    write = export._write

    def failing_write(conn, source, version):
        if source.name == "model_parameters":
            raise duckdb.IOException("disk full")
        return write(conn, source, version)

    monkeypatch.setattr(export, "_write", failing_write)
    with pytest.raises(duckdb.IOException):
        export_models(conn, out)
    assert len(list((out / ".versions").iterdir())) == 1  # the failed version is gone
    assert _rows(out / "dispatch_effectiveness") == before  # not the half-new export

    monkeypatch.setattr(export, "_write", write)
    export_models(conn, out)
    assert len(_rows(out / "dispatch_effectiveness")) == 4


def test_old_versions_are_pruned(conn, tmp_path):
    for _ in range(4):
        export_models(conn, tmp_path / "out")
    assert len(list((tmp_path / "out" / ".versions").iterdir())) == 2  # current + previous
