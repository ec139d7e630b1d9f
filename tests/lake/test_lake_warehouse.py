"""`ensure_tables` and `check_schema` work unchanged on a lake connection: the lake is the
current database, so `evenergy.<table>` and information_schema's `table_schema` name the
lake's tables as they name the file's."""

from __future__ import annotations

from pathlib import Path

from pipelines import lake
from pipelines.evenergy.tables import RAW_TABLES
from pipelines.warehouse import RUNS_TABLE, check_schema, ensure_tables
from tests.lake.conftest import LakeHarness


def test_ensure_tables_and_check_schema_on_a_lake(tmp_path: Path):
    harness = LakeHarness(None, tmp_path, f"sqlite:///{tmp_path / 'catalog.sqlite'}")  # type: ignore[arg-type]
    with lake.connect(harness.lake(), read_only=False) as conn:
        ensure_tables(conn)
        tables = {
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_catalog = "
                "'ducklake' and table_schema = 'evenergy'"
            ).fetchall()
        }
        assert {spec.name for spec in RAW_TABLES} | {RUNS_TABLE} <= tables
        assert check_schema(conn) is None

        # a lake only widens types: a table of another tool's making is what check_schema meets
        conn.execute("drop table evenergy.status_logs")
        conn.execute("create table evenergy.status_logs (evse_id integer, _dlt_id varchar)")
        problem = check_schema(conn)
    assert problem is not None and "status_logs" in problem, problem


def test_readers_wait_for_a_sqlite_catalog_held_by_the_loader(tmp_path: Path):
    """dlt's ATTACH waits 1 s for the catalog's lock; a reader during a load on a busy
    machine failed with "database is locked". Ours waits `SQLITE_BUSY_TIMEOUT_MS`."""
    harness = LakeHarness(None, tmp_path, f"sqlite:///{tmp_path / 'catalog.sqlite'}")  # type: ignore[arg-type]
    for read_only in (False, True):
        statement = harness.lake().attach_sql(read_only=read_only)
        assert f"META_BUSY_TIMEOUT {lake.SQLITE_BUSY_TIMEOUT_MS}" in statement, statement
