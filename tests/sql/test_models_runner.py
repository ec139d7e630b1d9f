"""pipelines.models: discovery, dependency order, the one-transaction build, parameters."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.models import (
    SQL_DIR,
    DataCheckError,
    ModelBuildError,
    ModelParams,
    build_and_check,
    build_models,
    discover_models,
)
from tests.sql.conftest import LOAD_2, at

STAGING = [
    "stg_charging_sub_sessions",
    "stg_dispatcher_logs",
    "stg_evse_command_logs",
    "stg_evses",
    "stg_status_logs",
]


def test_the_project_models_in_dependency_order():
    models = discover_models()
    assert [m.name for m in models] == [
        *STAGING,
        "model_parameters",
        "dispatch_effectiveness",
        "evse_reporting_health",
        "daily_dispatch_effectiveness",
        "evse_dispatch_effectiveness",
    ]
    assert {m.name: m.materialization for m in models} == {
        **dict.fromkeys(STAGING, "view"),
        **dict.fromkeys(
            [
                "model_parameters",
                "dispatch_effectiveness",
                "evse_reporting_health",
                "daily_dispatch_effectiveness",
                "evse_dispatch_effectiveness",
            ],
            "table",
        ),
    }
    by_name = {m.name: m for m in models}
    assert by_name["daily_dispatch_effectiveness"].depends_on == {"dispatch_effectiveness"}
    assert by_name["dispatch_effectiveness"].depends_on == {
        "stg_dispatcher_logs",
        "stg_charging_sub_sessions",
        "stg_status_logs",
        "stg_evse_command_logs",
        "model_parameters",
    }
    assert all(m.depends_on == set() for m in models if m.name.startswith("stg_"))


def _sql_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "sql"
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "checks").mkdir(exist_ok=True)
    return root


def test_order_follows_references_not_file_names(tmp_path):
    sql_dir = _sql_dir(
        tmp_path,
        {
            # a_total reads b_doubled, which reads the staging model; a mention of
            # analytics.a_total in a comment is not a reference
            "staging/stg_numbers.sql": "-- analytics.a_total\nselect n from evenergy.numbers",
            "marts/a_total.sql": "select sum(n) as total from analytics.b_doubled",
            "marts/b_doubled.sql": "/* analytics.a_total */ select n * 2 as n "
            "from analytics.stg_numbers;\n",
        },
    )
    assert [m.name for m in discover_models(sql_dir)] == ["stg_numbers", "b_doubled", "a_total"]
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("create schema evenergy; create table evenergy.numbers as select 21 as n")
        result = build_models(conn, sql_dir=sql_dir)
        assert result.models == ["stg_numbers", "b_doubled", "a_total"]
        assert result.row_counts == {"b_doubled": 1, "a_total": 1}
        assert result.seconds > 0
        assert conn.execute("select total from analytics.a_total").fetchall() == [(42,)]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {
                "marts/a.sql": "select * from analytics.b",
                "marts/b.sql": "select * from analytics.a",
            },
            r"dependency cycle between models: (a -> b -> a|b -> a -> b)",
        ),
        ({"marts/a.sql": "select * from analytics.a"}, "dependency cycle between models: a -> a"),
        ({"marts/a.sql": "select * from analytics.nowhere"}, r"a\.sql: reads unknown .*nowhere"),
        ({"marts/a.sql": "select * from evenergy.status_logs"}, "never raw evenergy tables"),
        (
            {"staging/a.sql": "select 1 as x", "marts/a.sql": "select 2 as x"},
            "model a is defined twice",
        ),
        ({"marts/Bad-Name.sql": "select 1 as x"}, "lowercase identifiers"),
        ({"marts/empty.sql": "-- nothing\n;"}, "holds no SELECT"),
    ],
)
def test_bad_model_sets_are_refused_before_anything_runs(tmp_path, files, message):
    with pytest.raises(ModelBuildError, match=message):
        discover_models(_sql_dir(tmp_path, files))


def _broken_copy(tmp_path: Path) -> Path:
    """The project's SQL with a marker column in a staging view and the last mart broken."""
    sql_dir = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    stg = sql_dir / "staging" / "stg_evses.sql"
    stg.write_text(
        stg.read_text().replace("select * from renamed", "select *, 1 as marker from renamed")
    )
    last = sql_dir / "marts" / "evse_dispatch_effectiveness.sql"
    last.write_text(
        last.read_text().replace("per_evse.count_effective\n", "per_evse.no_such_column\n")
    )
    return sql_dir


def test_a_failed_model_leaves_every_previous_version_in_place(built, tmp_path):
    before = built.execute("select count(*) from analytics.dispatch_effectiveness").fetchall()
    # new raw data, which a committed rebuild would show
    built.execute(
        "insert into evenergy.dispatcher_logs (charging_sub_session_id, internal_command_id, "
        "logged_at, device_type, _dlt_load_id, _dlt_id) values ('css-a1', 'cmd-new', ?, 'EVSE', ?, 'n')",
        [at("1 12:30"), LOAD_2],
    )
    with pytest.raises(ModelBuildError) as raised:
        build_models(built, sql_dir=_broken_copy(tmp_path))
    message = str(raised.value)
    assert "evse_dispatch_effectiveness.sql" in message and "no_such_column" in message
    # the marts built before the failing one were rolled back with it
    assert (
        built.execute("select count(*) from analytics.dispatch_effectiveness").fetchall() == before
    )
    assert before == [(21,)]
    assert built.execute(
        "select count(*) from analytics.daily_dispatch_effectiveness"
    ).fetchall() == [(4,)]
    # and so was the replaced view
    columns = [r[0] for r in built.execute("describe analytics.stg_evses").fetchall()]
    assert "marker" not in columns
    assert built.execute(
        "select count(*) from analytics.evse_dispatch_effectiveness"
    ).fetchall() == [(6,)]
    # the connection is usable afterwards, and a good build commits
    build_models(built)
    assert built.execute("select count(*) from analytics.dispatch_effectiveness").fetchall() == [
        (22,)
    ]


def test_failed_checks_roll_the_build_back(built, tmp_path):
    sql_dir = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    (sql_dir / "checks" / "dispatch_effectiveness__always_fails.sql").write_text(
        "select * from analytics.dispatch_effectiveness where outcome = 'effective'"
    )
    built.execute("drop table analytics.daily_dispatch_effectiveness")
    with pytest.raises(
        DataCheckError, match="dispatch_effectiveness__always_fails: 9 offending rows"
    ):
        build_and_check(built, sql_dir=sql_dir)
    tables = built.execute(
        "select table_name from information_schema.tables where table_schema = 'analytics' "
        "and table_name = 'daily_dispatch_effectiveness'"
    ).fetchall()
    assert tables == []  # the rebuilt table was rolled back with the rest


def test_build_and_check_returns_the_build(warehouse):
    result = build_and_check(warehouse)
    assert result.row_counts["dispatch_effectiveness"] == 21
    assert result.models[-1] == "evse_dispatch_effectiveness"


def test_missing_raw_tables_name_the_model(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as conn:
        with pytest.raises(ModelBuildError, match=r"stg_charging_sub_sessions\.sql: .*evenergy"):
            build_models(conn)
        assert conn.execute(
            "select count(*) from information_schema.schemata where schema_name = 'analytics'"
        ).fetchall() == [(0,)]


def test_the_parameters_mart_refuses_unset_variables(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        select = (SQL_DIR / "marts" / "model_parameters.sql").read_text()
        with pytest.raises(duckdb.Error, match="response_window_seconds is not set"):
            conn.execute(select).fetchall()


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
