"""The data checks in sql/checks/: silent on good data, loud on each kind of breakage."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.models import SQL_DIR, DataCheckError, build_and_check, run_checks
from tests.sql.conftest import LOAD_2, RAW_DDL, at


def test_every_check_passes_on_the_fixture(built):
    results = run_checks(built)
    assert [r.name for r in results] == sorted(p.stem for p in (SQL_DIR / "checks").glob("*.sql"))
    assert {r.name: r.failing_rows for r in results if r.failing_rows} == {}


def test_every_model_has_its_key_checked():
    names = {p.stem for p in (SQL_DIR / "checks").glob("*.sql")}
    models = [p.stem for layer in ("staging", "marts") for p in (SQL_DIR / layer).glob("*.sql")]
    for model in models:
        if model == "model_parameters":  # one row, no key: checked by __one_row
            assert "model_parameters__one_row" in names
            continue
        assert {f"{model}__unique_key", f"{model}__not_null_key"} <= names


def test_check_files_name_a_model_and_a_rule():
    models = {p.stem for layer in ("staging", "marts") for p in (SQL_DIR / layer).glob("*.sql")}
    for path in (SQL_DIR / "checks").glob("*.sql"):
        model, _, rule = path.stem.partition("__")
        assert model in models and rule, path.name


# a deliberate breakage of the built tables, and exactly the checks it must trip
BREAKAGES = [
    (
        "insert into analytics.dispatch_effectiveness "
        "select * from analytics.dispatch_effectiveness where internal_command_id = 'cmd-06'",
        {
            "dispatch_effectiveness__unique_key": 1,
            "dispatch_effectiveness__one_row_per_dispatcher_log": 1,
            # the daily mart was built before the duplicate
            "daily_dispatch_effectiveness__total_matches_attempts": 1,
        },
    ),
    (
        "update analytics.dispatch_effectiveness set outcome = 'maybe' "
        "where internal_command_id = 'cmd-07'",
        {"dispatch_effectiveness__accepted_values_outcome": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set compliance = null "
        "where internal_command_id = 'cmd-07'",
        {
            "dispatch_effectiveness__accepted_values_compliance": 1,
            "dispatch_effectiveness__accepted_values_failure_side": 0,
        },
    ),
    (
        "update analytics.dispatch_effectiveness set target_outcome = 'close' "
        "where internal_command_id = 'cmd-13'",
        {"dispatch_effectiveness__accepted_values_target_outcome": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set failure_side = 'grid' "
        "where internal_command_id = 'cmd-19'",
        {"dispatch_effectiveness__accepted_values_failure_side": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set failure_side = null "
        "where internal_command_id = 'cmd-16'",
        {"dispatch_effectiveness__accepted_values_failure_side": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set response_seconds = 901 "
        "where internal_command_id = 'cmd-06'",
        {"dispatch_effectiveness__seconds_within_window": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set compliance_seconds = null "
        "where internal_command_id = 'cmd-21'",
        {"dispatch_effectiveness__seconds_within_window": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set outcome = 'effective', "
        "response_seconds = 60 where internal_command_id = 'cmd-02'",
        {"dispatch_effectiveness__telemetry_needs_evse": 1},
    ),
    (
        "update analytics.dispatch_effectiveness set logged_at = null "
        "where internal_command_id = 'cmd-02'",
        {"dispatch_effectiveness__not_null_key": 1},
    ),
    (
        "update analytics.daily_dispatch_effectiveness set count_effective = count_effective + 1 "
        "where device_type = 'VEHICLE'",
        {"daily_dispatch_effectiveness__counts_add_up": 2},
    ),
    (
        "update analytics.daily_dispatch_effectiveness set count_attempts = count_attempts + 1, "
        "count_no_telemetry = count_no_telemetry + 1, count_no_target = count_no_target + 1, "
        "count_sent = count_sent + 1 where device_type = 'VEHICLE' and date = '2024-06-01'",
        {"daily_dispatch_effectiveness__total_matches_attempts": 1},
    ),
    (
        "insert into analytics.daily_dispatch_effectiveness "
        "select * from analytics.daily_dispatch_effectiveness where device_type = 'VEHICLE'",
        {
            "daily_dispatch_effectiveness__unique_key": 2,
            "daily_dispatch_effectiveness__total_matches_attempts": 1,
        },
    ),
    (
        "update analytics.evse_dispatch_effectiveness set compliance_rate = 1.5 "
        "where evse_id = 'evse_f'",
        {"evse_dispatch_effectiveness__counts_add_up": 1},
    ),
    (
        "update analytics.evse_dispatch_effectiveness set evse_id = 'evse_a' "
        "where evse_id = 'evse_b'",
        {"evse_dispatch_effectiveness__unique_key": 1},
    ),
    (
        "update analytics.evse_reporting_health set is_charging_null_share = -0.1 "
        "where evse_id = 'evse_g'",
        {"evse_reporting_health__values_in_range": 1},
    ),
    (
        "update analytics.evse_reporting_health set date = null where evse_id = 'evse_g'",
        {"evse_reporting_health__not_null_key": 1},
    ),
    (
        "insert into analytics.evse_reporting_health "
        "select * from analytics.evse_reporting_health where evse_id = 'evse_g'",
        {"evse_reporting_health__unique_key": 1},
    ),
    (
        "insert into analytics.model_parameters select * from analytics.model_parameters",
        {"model_parameters__one_row": 1},
    ),
]


@pytest.mark.parametrize(("breakage", "expected"), BREAKAGES)
def test_a_broken_mart_trips_its_check(built, breakage, expected):
    built.execute(breakage)
    failing = {r.name: r.failing_rows for r in run_checks(built) if r.failing_rows}
    assert failing == {name: rows for name, rows in expected.items() if rows}


def test_broken_raw_data_fails_the_build_and_keeps_the_last_good_one(built):
    # a device type nobody defined, and a dispatcher log without a command id
    built.execute(
        "insert into evenergy.dispatcher_logs (charging_sub_session_id, internal_command_id, "
        "logged_at, device_type, _dlt_load_id, _dlt_id) values "
        "('css-a1', 'cmd-x1', ?, 'SCOOTER', ?, 'x1'), ('css-a1', null, ?, 'EVSE', ?, 'x2')",
        [at("1 09:40"), LOAD_2, at("1 09:45"), LOAD_2],
    )
    with pytest.raises(DataCheckError) as raised:
        build_and_check(built)
    message = str(raised.value)
    assert "stg_dispatcher_logs__accepted_values_device_type: 1 offending rows" in message
    assert "stg_dispatcher_logs__not_null_key: 1 offending rows" in message
    assert "dispatch_effectiveness__not_null_key: 1 offending rows" in message
    assert {c.name for c in raised.value.failed} == {
        "stg_dispatcher_logs__accepted_values_device_type",
        "stg_dispatcher_logs__not_null_key",
        "dispatch_effectiveness__not_null_key",
    }
    # rolled back: the marts still hold the build that passed (21 attempts, not 23)
    count = built.execute("select count(*) from analytics.dispatch_effectiveness").fetchall()
    assert count == [(21,)]


def test_a_broken_mart_definition_fails_build_and_check(warehouse, tmp_path):
    sql_dir = _copy_sql(tmp_path)
    mart = sql_dir / "marts" / "dispatch_effectiveness.sql"
    text = mart.read_text()
    # an unknown outcome, and every attempt twice
    text = text.replace("else 'no_response'", "else 'perhaps'")
    text = text.replace("select * from final", "select * from final union all select * from final")
    mart.write_text(text)
    with pytest.raises(DataCheckError) as raised:
        build_and_check(warehouse, sql_dir=sql_dir)
    failed = {c.name for c in raised.value.failed}
    assert {
        "dispatch_effectiveness__unique_key",
        "dispatch_effectiveness__accepted_values_outcome",
        "dispatch_effectiveness__one_row_per_dispatcher_log",
    } <= failed
    # nothing was committed: there was no previous build
    assert warehouse.execute(
        "select count(*) from information_schema.tables where table_schema = 'analytics'"
    ).fetchall() == [(0,)]


def test_a_check_that_cannot_run_is_an_error(built, tmp_path):
    sql_dir = _copy_sql(tmp_path)
    (sql_dir / "checks" / "dispatch_effectiveness__broken.sql").write_text(
        "select * from analytics.no_such_model"
    )
    with pytest.raises(DataCheckError, match=r"dispatch_effectiveness__broken\.sql could not run"):
        run_checks(built, sql_dir)


def test_checks_pass_on_empty_raw_tables(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as conn:
        conn.execute(RAW_DDL)
        result = build_and_check(conn)
        assert result.row_counts == {
            "model_parameters": 1,
            "dispatch_effectiveness": 0,
            "evse_reporting_health": 0,
            "daily_dispatch_effectiveness": 0,
            "evse_dispatch_effectiveness": 0,
        }


def _copy_sql(tmp_path: Path) -> Path:
    target = tmp_path / "sql"
    shutil.copytree(SQL_DIR, target)
    return target
