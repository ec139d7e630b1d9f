"""pipelines.models.build_database: dbt in-process, failures, full refreshes, where dbt writes."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest

from pipelines import exit_codes
from pipelines.models import (
    SQL_DIR,
    DataCheckError,
    ModelBuildError,
    ModelParams,
    build_database,
)
from pipelines.nightly import build_and_export
from pipelines.transform import STATE_TABLE, work_dir
from tests.sql.conftest import LOAD_2, at

MARTS = (
    "dispatch_effectiveness",
    "daily_dispatch_effectiveness",
    "daily_dispatch_effectiveness_by_make",
    "evse_dispatch_effectiveness",
    "evse_reporting_health",
    "daily_fleet_reporting",
)


def _state(conn: duckdb.DuckDBPyConnection) -> tuple:
    return conn.execute(f"select status, since_load_id from {STATE_TABLE}").fetchall()[0]


def _marts(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {m: conn.execute(f"select * from analytics.{m} order by all").fetchall() for m in MARTS}


def test_an_empty_warehouse_builds(tmp_path):
    # not even the raw tables exist: build_database creates them, empty, first
    result = build_database(tmp_path / "warehouse.duckdb")
    assert result.row_counts == {
        "model_parameters": 1,
        "table_freshness": 5,
        **dict.fromkeys(MARTS, 0),
    }
    assert "pipeline_runs" in result.models  # a view: built, not counted


def test_failures_leave_nothing_half_built_for_the_next_run(built):
    """A model that fails, then a data test that fails (exit 4), then a clean build: the
    failed builds leave the state 'building', so the next build starts from scratch and equals
    the one before the failures."""
    conn = built
    before = _marts(conn)
    database = Path(
        conn.execute(
            "select path from duckdb_databases() where database_name = current_database()"
        ).fetchall()[0][0]
    )

    # a raw column the staging view reads is gone: the model fails to build
    conn.execute("alter table evenergy.status_logs rename column voltage_millivolts to volts")
    conn.execute("checkpoint")
    with pytest.raises(ModelBuildError, match=r"stg_status_logs: .*voltage_millivolts"):
        build_database(database)
    assert _state(conn)[0] == "building"
    conn.execute("alter table evenergy.status_logs rename column volts to voltage_millivolts")

    # a device type nobody defined and a dispatcher log without a command id: tests fail
    conn.execute(
        "insert into evenergy.dispatcher_logs (charging_sub_session_id, internal_command_id, "
        "logged_at, device_type, _dlt_load_id, _dlt_id) values "
        "('css-a1', 'cmd-x1', ?, 'SCOOTER', ?, 'x1'), ('css-a1', null, ?, 'EVSE', ?, 'x2')",
        [at("1 09:40"), LOAD_2 + "1", at("1 09:45"), LOAD_2 + "1"],
    )
    conn.execute("checkpoint")
    with pytest.raises(DataCheckError) as raised:
        build_database(database)
    failed = {c.name: c.failing_rows for c in raised.value.failed}
    # dbt build skips everything downstream of a failed test: the marts are not rebuilt
    assert failed == {
        "accepted_values_stg_dispatcher_logs_device_type__EVSE__VEHICLE": 1,
        "not_null_stg_dispatcher_logs_internal_command_id": 1,
    }
    assert "not_null_stg_dispatcher_logs_internal_command_id: 1 offending rows" in str(raised.value)
    assert _state(conn)[0] == "building"
    # what the nightly job makes of it: exit 4, nothing exported
    exports = database.parent / "exports"
    assert build_and_export(database, exports) == exit_codes.CHECKS_FAILED
    assert not exports.exists()

    conn.execute("delete from evenergy.dispatcher_logs where _dlt_id in ('x1', 'x2')")
    conn.execute("checkpoint")
    result = build_database(database)
    assert _state(conn) == ("built", None)  # a full refresh: no since_load_id
    assert result.row_counts["dispatch_effectiveness"] == 21
    assert _marts(conn) == before


def test_dbt_writes_beside_the_warehouse_never_into_sql(built_path, tmp_path):
    work = work_dir(built_path)
    assert work.parent == built_path.parent and work.name == ".warehouse.duckdb.dbt"
    assert (work / "target" / "manifest.json").exists()
    assert (work / "logs" / "dbt.log").exists()
    assert str(built_path.resolve()) in (work / "profiles.yml").read_text()
    other = tmp_path / "elsewhere" / "warehouse.duckdb"
    assert work_dir(other) != work
    assert not {"target", "logs", "dbt_packages", "profiles.yml"} & {
        p.name for p in SQL_DIR.iterdir()
    }


@pytest.mark.parametrize(
    "bad",
    [
        {"response_window_minutes": 0},
        {"response_window_minutes": -1},
        {"staleness_minutes": -1},
        {"rate_change_watts": math.nan},
        {"current_tolerance_milliamps": math.inf},
        {"nominal_voltage_volts": 0},
    ],
)
def test_invalid_parameters_are_refused(bad):
    with pytest.raises(ValueError, match="must be a finite"):
        ModelParams(**bad)


def test_parameters_become_variables_in_sql_units():
    assert ModelParams(response_window_minutes=2.5, staleness_minutes=0).variables() == {
        "response_window_seconds": 150.0,
        "staleness_seconds": 0.0,
        "rate_change_watts": 500.0,
        "current_tolerance_milliamps": 1000.0,
        "nominal_voltage_volts": 230.0,
    }


def test_an_incremental_build_tests_every_row_it_loaded_however_old(built):
    """An incremental build tests only what it can have changed (macros/test_scope.sql), and
    that still covers each new row: a late dispatcher log logged before every attempt and
    with a device type nobody defined, and a status log without sampled_at, both in a new load
    after a successful build, fail the night's build."""
    conn = built
    assert _state(conn)[0] == "built"
    new_load = "1717400000.300000"
    conn.execute(
        "insert into evenergy.dispatcher_logs (charging_sub_session_id, internal_command_id, "
        "logged_at, device_type, _dlt_load_id, _dlt_id) values "
        "('css-a1', 'cmd-late', ?, 'SCOOTER', ?, 'late1')",
        [at("1 00:01"), new_load],
    )
    conn.execute(
        "insert into evenergy.status_logs (evse_id, sampled_at, _dlt_load_id, _dlt_id) "
        "values ('evse_a', null, ?, 'late2')",
        [new_load],
    )
    conn.execute("checkpoint")
    database = Path(conn.execute("select path from duckdb_databases() where "
                                 "database_name = current_database()").fetchall()[0][0])  # fmt: skip
    with pytest.raises(DataCheckError) as raised:
        build_database(database)
    assert _state(conn)[1] is not None  # the build was incremental
    failed = {c.name: c.failing_rows for c in raised.value.failed}
    assert failed == {
        "accepted_values_stg_dispatcher_logs_device_type__EVSE__VEHICLE": 1,
        "source_not_null_evenergy_status_logs_sampled_at": 1,
    }


# 1MB fails in a model; 300KB before any (dbt's own queries: seen with 1MB in a loaded suite)
@pytest.mark.parametrize("limit", ["1MB", "300KB"])
def test_a_build_out_of_memory_names_the_setting_to_raise(tmp_path, monkeypatch, limit):
    monkeypatch.setenv("DESTINATION__DUCKDB__MODELS_MEMORY_LIMIT", limit)
    with pytest.raises(ModelBuildError, match=rf"models_memory_limit, now {limit}"):
        build_database(tmp_path / "warehouse.duckdb")
