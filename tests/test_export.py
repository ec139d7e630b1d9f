"""pipelines.export on the models built from the hand-built fixture, in the module's order:
where an export reads from, the layout and its stored columns, personal data, the atomic
swap of ``current`` (also under a concurrent reader), failures, pruning, stale links."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import export
from pipelines.export import DATE_SOURCES, ExportError, export_models, export_warehouse
from pipelines.models import build_database
from pipelines.publish import publish, published_path
from tests.built_fixture import LATITUDE, LONGITUDE
from tests.sql.conftest import load_raw_fixture


@pytest.fixture
def built(database: Path):
    with duckdb.connect(str(database)) as conn:
        yield conn


def _read(path: Path, hive: bool = True) -> list[tuple]:
    with duckdb.connect() as reader:
        return reader.execute(
            f"select * from read_parquet('{path}/**/*.parquet', hive_partitioning = {hive}) "
            "order by all"
        ).fetchall()


def _columns(conn: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [row[0] for row in conn.execute(f"describe {relation}").fetchall()]


def _parquet_columns(path: Path, hive: bool) -> list[str]:
    with duckdb.connect() as reader:
        relation = f"read_parquet('{path}/**/*.parquet', hive_partitioning = {hive})"
        return _columns(reader, f"select * from {relation}")


def _marts(conn: duckdb.DuckDBPyConnection) -> list[str]:
    rows = conn.execute(
        "select table_name from information_schema.tables where table_schema = 'analytics' "
        "and table_name not like 'stg\\_%' escape '\\' order by 1"
    ).fetchall()
    return [row[0] for row in rows]


def _count(conn: duckdb.DuckDBPyConnection, relation: str) -> int:
    return int(conn.execute(f"select count(*) from {relation}").fetchall()[0][0])


# export_warehouse: the published copy first


def test_an_export_reads_the_published_copy_when_there_is_one(database, tmp_path):
    out = tmp_path / "exports"
    publish(database)
    with duckdb.connect(str(database)) as conn:  # the working warehouse moves on
        published_rows = _count(conn, "analytics.dispatch_effectiveness")
        conn.execute("delete from analytics.dispatch_effectiveness where outcome = 'effective'")
        working_rows = _count(conn, "analytics.dispatch_effectiveness")
    assert working_rows < published_rows
    tables = {t.name: t for t in export_warehouse(database, out)}
    assert tables["dispatch_effectiveness"].rows == published_rows
    published_path(database).unlink()
    tables = {t.name: t for t in export_warehouse(database, out)}
    assert tables["dispatch_effectiveness"].rows == working_rows


# export_models: layout, stored columns


def test_marts_are_written_with_their_layout(built, tmp_path):
    out = tmp_path / "exports"
    tables = {t.name: t for t in export_models(built, out)}
    assert set(tables) == set(_marts(built))
    for name, table in tables.items():
        columns = _columns(built, f"analytics.{name}")
        by_day = "date" in columns or DATE_SOURCES.get(name) in columns
        assert table.partitioned_by == ("date" if by_day else None), name
        assert table.path == out / name
        assert table.rows == _count(built, f"analytics.{name}") == len(_read(table.path))
    days = sorted(p.name for p in (out / "dispatch_effectiveness").iterdir())
    assert days == ["date=2024-06-01", "date=2024-06-02"]  # UTC day of logged_at
    assert [p.name for p in (out / "evse_dispatch_effectiveness").iterdir()] == ["data.parquet"]
    # no staging model, no raw table unless asked
    assert not any(p.name.startswith("stg_") or p.name == "raw" for p in out.iterdir())


def test_every_model_has_the_same_columns_in_warehouse_published_copy_and_parquet(
    database, built, tmp_path
):
    out = tmp_path / "exports"
    export_models(built, out, include_personal=True)
    publish(database, include_personal=True)
    with duckdb.connect(str(published_path(database)), read_only=True) as copy:
        for name in _marts(built):
            in_warehouse = _columns(built, f"analytics.{name}")
            assert _columns(copy, f"analytics.{name}") == in_warehouse, name
            if name in DATE_SOURCES and "date" not in in_warehouse:
                in_warehouse.append("date")  # derived until the model carries it (contract)
            # a reader without hive partitioning sees the day too: it is stored in the files
            assert _parquet_columns(out / name, hive=False) == in_warehouse, name
            assert _parquet_columns(out / name, hive=True) == in_warehouse, name


def test_the_partitioned_export_holds_the_model_rows(built, tmp_path):
    export_models(built, tmp_path / "exports")
    exported = _read(tmp_path / "exports" / "daily_dispatch_effectiveness", hive=False)
    model = built.execute(
        "select * from analytics.daily_dispatch_effectiveness order by all"
    ).fetchall()
    assert exported == model


def test_raw_tables_on_request(built, tmp_path):
    built.execute("create table evenergy._dlt_loads as select 1 as load_id")
    tables = {t.name: t for t in export_models(built, tmp_path / "exports", include_raw=True)}
    raw = {name: t for name, t in tables.items() if name.startswith("raw/")}
    assert set(raw) == {
        "raw/charging_sub_sessions",
        "raw/dispatcher_logs",
        "raw/evse_command_logs",
        "raw/evses",
        "raw/status_logs",
    }
    status_logs = raw["raw/status_logs"]
    assert status_logs.path == tmp_path / "exports" / "raw" / "status_logs"
    assert status_logs.partitioned_by is None
    assert status_logs.rows == _count(built, "evenergy.status_logs") == len(_read(status_logs.path))


# personal data


def test_parquet_carries_rounded_locations_and_no_user_id(built, tmp_path):
    export_models(built, tmp_path / "reduced", include_raw=True, include_personal=False)
    evses = tmp_path / "reduced" / "raw" / "evses"
    assert "user_id" not in _parquet_columns(evses, hive=False)
    with duckdb.connect() as reader:
        places = reader.execute(
            f"select distinct location__latitude, location__longitude "
            f"from read_parquet('{evses}/*.parquet')"
        ).fetchall()
    assert places == [(round(LATITUDE, 2), round(LONGITUDE, 2))]
    for name in _marts(built):
        assert "user_id" not in _parquet_columns(tmp_path / "reduced" / name, hive=False), name


def test_personal_data_is_kept_when_asked(built, tmp_path):
    export_models(built, tmp_path / "full", include_raw=True, include_personal=True)
    with duckdb.connect() as reader:
        places = reader.execute(
            "select distinct user_id, location__latitude "
            f"from read_parquet('{tmp_path}/full/raw/evses/*.parquet') where user_id is not null"
        ).fetchall()
    assert places == [("user1", LATITUDE)]


# the atomic swap of ``current``


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


_READER = """
import os, sys
link, stop = sys.argv[1], sys.argv[2]
resolved = missing = 0
print("reading", flush=True)
while not os.path.exists(stop):
    try:
        os.listdir(link)  # resolves DIR/current/model_parameters
        resolved += 1
    except FileNotFoundError:
        missing += 1
print(resolved, missing)
"""


def test_a_reader_resolving_current_during_exports_never_fails(built, tmp_path):
    out = tmp_path / "exports"
    export_models(built, out)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(out / "current" / "model_parameters"), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None and reader.stdout.readline().strip() == "reading"
    try:
        for _ in range(25):
            export_models(built, out)
    finally:
        stop.touch()
        resolved, missing = map(int, reader.communicate(timeout=30)[0].split())
    assert resolved > 1000  # the reader was really reading while the links were swapped
    assert missing == 0


# failures, pruning, stale links


def test_a_failed_export_leaves_the_previous_one_intact(built, tmp_path):
    out = tmp_path / "exports"
    export_models(built, out)
    marts = _marts(built)
    before = {name: _read(out / name) for name in marts}
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
    assert {name: _read(out / name) for name in marts} == before
    assert len(list((out / ".versions").iterdir())) == 1
    assert [p.name for p in out.iterdir() if p.name.startswith(".incoming")] == []


def test_a_failed_write_removes_its_version_and_the_next_export_succeeds(
    built, tmp_path, monkeypatch
):
    out = tmp_path / "exports"
    export_models(built, out)
    write = export._write

    def failing_write(conn, source, into, include_personal):
        if source.name == "model_parameters":
            raise duckdb.IOException("disk full")
        return write(conn, source, into, include_personal)

    monkeypatch.setattr(export, "_write", failing_write)
    with pytest.raises(duckdb.IOException):
        export_models(built, out)
    assert len(list((out / ".versions").iterdir())) == 1  # the failed version is gone
    monkeypatch.setattr(export, "_write", write)
    export_models(built, out)
    assert len(list((out / ".versions").iterdir())) == 2


def test_a_new_export_replaces_the_old_and_prunes_versions(built, tmp_path):
    out = tmp_path / "exports"
    for _ in range(3):
        export_models(built, out)
    built.execute("delete from analytics.evse_reporting_health where evse_id = 'evse_g'")
    tables = {t.name: t for t in export_models(built, out)}
    rows = _count(built, "analytics.evse_reporting_health")
    assert tables["evse_reporting_health"].rows == rows == len(_read(out / "evse_reporting_health"))
    assert len(list((out / ".versions").iterdir())) == 2  # the current one and its predecessor


def test_nothing_to_export_is_an_error(tmp_path):
    with (
        duckdb.connect(str(tmp_path / "w.duckdb")) as conn,
        pytest.raises(ExportError, match="build the models first"),
    ):
        export_models(conn, tmp_path / "exports")
    assert not (tmp_path / "exports").exists()


def test_an_empty_partitioned_model_still_gets_its_folder(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        load_raw_fixture(conn)
        conn.execute("delete from evenergy.dispatcher_logs")
    build_database(path)
    with duckdb.connect(str(path)) as conn:
        tables = {t.name: t for t in export_models(conn, tmp_path / "exports")}
    assert tables["dispatch_effectiveness"].rows == 0
    assert (tmp_path / "exports" / "dispatch_effectiveness").is_dir()


def test_stale_model_links_are_repointed_at_current(built, tmp_path):
    # an export directory whose model link points straight at an old version
    out = tmp_path / "exports"
    (out / ".versions" / "old" / "dispatch_effectiveness").mkdir(parents=True)
    (out / "dispatch_effectiveness").symlink_to(".versions/old/dispatch_effectiveness")
    export_models(built, out)
    assert os.readlink(out / "dispatch_effectiveness") == "current/dispatch_effectiveness"
    assert len(_read(out / "dispatch_effectiveness")) == _count(
        built, "analytics.dispatch_effectiveness"
    )
    assert [p.name for p in out.iterdir() if p.name.startswith(".dispatch")] == []
