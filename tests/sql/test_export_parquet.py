"""pipelines.export on the models built from the fixture: layout, row counts, atomic swap."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from pipelines.export import ExportError, export_models
from pipelines.models import build_models

MARTS = {
    "daily_dispatch_effectiveness": "date",
    "daily_dispatch_effectiveness_by_make": "date",
    "daily_fleet_reporting": "date",
    "dispatch_effectiveness": "date",
    "evse_dispatch_effectiveness": None,
    "evse_reporting_health": "date",
    "model_parameters": None,
    "table_freshness": None,
}


def _read(path: Path) -> list[tuple]:
    with duckdb.connect() as reader:
        return reader.execute(
            f"select * from read_parquet('{path}/**/*.parquet', hive_partitioning = true) "
            "order by all"
        ).fetchall()


def _count(conn: duckdb.DuckDBPyConnection, relation: str) -> int:
    return int(conn.execute(f"select count(*) from {relation}").fetchall()[0][0])


def test_marts_are_written_with_their_layout(built, tmp_path):
    out = tmp_path / "exports"
    tables = {t.name: t for t in export_models(built, out)}
    assert {name: t.partitioned_by for name, t in tables.items()} == MARTS
    for name, table in tables.items():
        assert table.path == out / name
        assert table.rows == _count(built, f"analytics.{name}") == len(_read(table.path))
    assert tables["dispatch_effectiveness"].rows == 21
    days = sorted(p.name for p in (out / "dispatch_effectiveness").iterdir())
    assert days == ["date=2024-06-01", "date=2024-06-02"]  # UTC day of logged_at
    assert sorted(p.name for p in (out / "evse_reporting_health").iterdir()) == days
    assert [p.name for p in (out / "evse_dispatch_effectiveness").iterdir()] == ["data.parquet"]
    # no staging view, no raw table unless asked
    assert not any(p.name.startswith("stg_") or p.name == "raw" for p in out.iterdir())


def test_the_partitioned_export_holds_the_model_rows(built, tmp_path):
    export_models(built, tmp_path / "exports")
    exported = _read(tmp_path / "exports" / "daily_dispatch_effectiveness")
    with duckdb.connect() as reader:
        columns = [
            r[0]
            for r in reader.execute(
                f"describe select * from read_parquet('{tmp_path}/exports/"
                "daily_dispatch_effectiveness/**/*.parquet', hive_partitioning = true)"
            ).fetchall()
        ]
    model = built.execute(
        f"select {', '.join(columns)} from analytics.daily_dispatch_effectiveness order by all"
    ).fetchall()
    assert exported == model


def test_readers_follow_current_and_stable_links(built, tmp_path):
    out = tmp_path / "exports"
    export_models(built, out)
    current = out / "current"
    assert current.is_symlink()
    assert os.readlink(current).startswith(".versions/")
    assert os.readlink(out / "dispatch_effectiveness") == "current/dispatch_effectiveness"
    first = os.readlink(current)
    export_models(built, out)
    assert os.readlink(current) != first
    assert os.readlink(out / "dispatch_effectiveness") == "current/dispatch_effectiveness"


def test_a_failed_export_leaves_the_previous_one_intact(built, tmp_path):
    out = tmp_path / "exports"
    export_models(built, out)
    before = {name: _read(out / name) for name in MARTS}
    published = os.readlink(out / "current")
    # the next export would carry different data, but one of its tables cannot be written:
    # its day comes from logged_at, which now holds text that is not a time
    built.execute("delete from analytics.evse_reporting_health where evse_id = 'evse_g'")
    built.execute(
        "create or replace table analytics.dispatch_effectiveness as "
        "select 'not a time' as logged_at"
    )
    with pytest.raises(ExportError, match="exporting dispatch_effectiveness failed"):
        export_models(built, out)
    assert os.readlink(out / "current") == published
    assert {name: _read(out / name) for name in MARTS} == before
    assert len(list((out / ".versions").iterdir())) == 1
    assert [p.name for p in out.iterdir() if p.name.startswith(".incoming")] == []


def test_a_new_export_replaces_the_old_and_prunes_versions(built, tmp_path):
    out = tmp_path / "exports"
    for _ in range(3):
        export_models(built, out)
    built.execute("delete from analytics.evse_reporting_health where evse_id = 'evse_g'")
    tables = {t.name: t for t in export_models(built, out)}
    # 12 EVSE-days (the grid includes evse_e's and evse_g's silent day 2), less evse_g's 2
    assert tables["evse_reporting_health"].rows == 10 == len(_read(out / "evse_reporting_health"))
    assert len(list((out / ".versions").iterdir())) == 2  # the current one and its predecessor


def test_raw_tables_on_request(built, tmp_path):
    built.execute("create table evenergy._dlt_loads as select 1 as load_id")
    tables = {t.name: t for t in export_models(built, tmp_path / "exports", include_raw=True)}
    raw = {name: t for name, t in tables.items() if name.startswith("raw/")}
    assert set(raw) == {
        "raw/_evenergy_runs",  # created empty by ensure_tables before the build
        "raw/charging_sub_sessions",
        "raw/dispatcher_logs",
        "raw/evse_command_logs",
        "raw/evses",
        "raw/status_logs",
    }
    status_logs = raw["raw/status_logs"]
    assert status_logs.path == tmp_path / "exports" / "raw" / "status_logs"
    assert status_logs.partitioned_by is None
    assert status_logs.rows == 48 == len(_read(status_logs.path))  # as loaded, duplicates too


def test_nothing_to_export_is_an_error(tmp_path):
    with (
        duckdb.connect(str(tmp_path / "w.duckdb")) as conn,
        pytest.raises(ExportError, match="build the models first"),
    ):
        export_models(conn, tmp_path / "exports")
    assert not (tmp_path / "exports").exists()


def test_an_empty_partitioned_model_still_gets_its_folder(warehouse, tmp_path):
    warehouse.execute("delete from evenergy.dispatcher_logs")
    build_models(warehouse)
    tables = {t.name: t for t in export_models(warehouse, tmp_path / "exports")}
    assert tables["dispatch_effectiveness"].rows == 0
    assert (tmp_path / "exports" / "dispatch_effectiveness").is_dir()


def test_stale_model_links_are_repointed_at_current(built, tmp_path):
    # an export directory whose model link points straight at an old version
    out = tmp_path / "exports"
    (out / ".versions" / "old" / "dispatch_effectiveness").mkdir(parents=True)
    (out / "dispatch_effectiveness").symlink_to(".versions/old/dispatch_effectiveness")
    export_models(built, out)
    assert os.readlink(out / "dispatch_effectiveness") == "current/dispatch_effectiveness"
    assert len(_read(out / "dispatch_effectiveness")) == 21
    assert [p.name for p in out.iterdir() if p.name.startswith(".dispatch")] == []
