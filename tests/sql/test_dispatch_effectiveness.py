"""analytics.dispatch_effectiveness on the hand-built fixture, against rows written by hand.

Every expected value below was worked out from the fixture rows in conftest.py and the
definitions in sql/README.md, not by running the SQL. ``D06`` in a comment is the attempt with
internal_command_id ``cmd-06``.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from pipelines.models import ModelParams
from pipelines.transform import build
from pipelines.warehouse import ensure_tables
from tests.sql.conftest import F, N, T, at, load_raw_fixture, rows_by_key

KEY = ("charging_sub_session_id", "internal_command_id", "logged_at")

# cmd: evse_id, device_type, is_sent, pre_sampled_at, pre_is_charging, pre_charge_rate_watts,
#      outcome, response_sampled_at, response_is_charging, response_charge_rate_watts,
#      response_seconds
STATE_CHANGE: dict[str, tuple[Any, ...]] = {
    # not sent: the state before is still reported
    "cmd-01": ("evse_a", "EVSE", F, at("1 09:25"), F, 0, "not_sent", N, N, N, N),
    # vehicle-only sub-session: no EVSE
    "cmd-02": (N, "VEHICLE", T, N, N, N, "no_telemetry", N, N, N, N),
    # no status log at or before logged_at
    "cmd-03": ("evse_b", "EVSE", T, N, N, N, "no_telemetry", N, N, N, N),
    # state before 15:01 old (> S)
    "cmd-04": ("evse_b", "EVSE", T, at("1 09:44:59"), F, 0, "no_telemetry", N, N, N, N),
    # nothing in (logged_at, logged_at + W]
    "cmd-05": ("evse_b", "EVSE", T, at("1 08:55"), F, 0, "no_telemetry", N, N, N, N),
    # starts charging exactly at logged_at + W: included
    "cmd-06": (
        "evse_a",
        "EVSE",
        T,
        at("1 09:55"),
        F,
        0,
        "effective",
        at("1 10:15"),
        T,
        7000,
        900.0,
    ),
    # starts charging 1 s after the window: excluded
    "cmd-07": ("evse_a", "EVSE", T, at("1 10:55"), F, 0, "no_response", N, N, N, N),
    # rate moves 499 W (< R)
    "cmd-08": ("evse_a", "EVSE", T, at("1 11:55"), T, 7000, "no_response", N, N, N, N),
    # rate moves exactly 500 W (= R)
    "cmd-09": (
        "evse_a",
        "EVSE",
        T,
        at("2 11:55"),
        T,
        7000,
        "effective",
        at("2 12:05"),
        T,
        6500,
        300.0,
    ),
    # state before sampled exactly at logged_at; the first window sample is all null
    "cmd-10": (
        "evse_b",
        "EVSE",
        T,
        at("2 09:00"),
        F,
        0,
        "effective",
        at("2 09:10"),
        T,
        7000,
        600.0,
    ),
    # state before all null (its older load said not charging): nothing to compare with
    "cmd-11": ("evse_b", "EVSE", T, at("2 09:58"), N, N, "no_response", N, N, N, N),
    # state before exactly S old: still fresh
    "cmd-12": (
        "evse_b",
        "EVSE",
        T,
        at("1 10:45"),
        F,
        0,
        "effective",
        at("1 11:10"),
        T,
        7000,
        600.0,
    ),
    "cmd-13": ("evse_c", "EVSE", T, at("1 17:55"), T, 7300, "no_response", N, N, N, N),
    "cmd-14": (
        "evse_c",
        "EVSE",
        T,
        at("1 18:58"),
        T,
        7300,
        "effective",
        at("1 19:05"),
        T,
        3700,
        300.0,
    ),
    "cmd-15": (
        "evse_e",
        "EVSE",
        T,
        at("1 21:25"),
        T,
        7200,
        "effective",
        at("1 21:35"),
        T,
        4200,
        300.0,
    ),
    "cmd-16": ("evse_c", "EVSE", T, at("1 20:55"), F, 0, "no_response", N, N, N, N),
    "cmd-17": (
        "evse_d",
        "EVSE",
        T,
        at("2 19:55"),
        T,
        7000,
        "effective",
        at("2 20:05"),
        F,
        0,
        300.0,
    ),
    # vehicle-bound, but its sub-session has an EVSE whose telemetry shows the change
    "cmd-18": (
        "evse_a",
        "VEHICLE",
        T,
        at("2 12:55"),
        T,
        6500,
        "effective",
        at("2 13:05"),
        F,
        0,
        300.0,
    ),
    "cmd-19": ("evse_f", "EVSE", T, at("2 20:55"), T, 7000, "no_response", N, N, N, N),
    "cmd-20": ("evse_f", "EVSE", T, at("2 21:55"), T, 7000, "no_response", N, N, N, N),
    "cmd-21": (
        "evse_c",
        "EVSE",
        T,
        at("2 17:55"),
        F,
        0,
        "effective",
        at("2 18:05"),
        T,
        7000,
        300.0,
    ),
}

STATE_CHANGE_COLUMNS = (
    "evse_id",
    "device_type",
    "is_sent",
    "pre_sampled_at",
    "pre_is_charging",
    "pre_charge_rate_watts",
    "outcome",
    "response_sampled_at",
    "response_is_charging",
    "response_charge_rate_watts",
    "response_seconds",
)

# cmd: is_enabled_target, max_load_target_milliamps, target_is_charging, target_voltage_volts,
#      target_charge_rate_watts (every command not listed has no target: all null)
TARGETS: dict[str, tuple[Any, ...]] = {
    "cmd-04": (T, 32000, T, 230.0, 7360.0),  # evse_b reports no voltage: nominal 230 V
    "cmd-13": (T, 32000, T, 240.0, 7680.0),  # retried under the same id: one row, same target
    # the state before reports no voltage; the sample before it said 240 V. The command log
    # was loaded twice: the later load (16 A, not 20 A) wins
    "cmd-14": (T, 16000, T, 240.0, 3840.0),
    "cmd-15": (T, 16000, T, 230.0, 3680.0),
    "cmd-16": (T, 32000, T, 240.0, 7680.0),
    "cmd-17": (F, 0, F, 230.0, 0.0),
    "cmd-19": (F, 0, F, 230.0, 0.0),
    "cmd-20": (T, 16000, T, 230.0, 3680.0),
    "cmd-21": (F, 0, F, 240.0, 0.0),
}
NO_TARGET = (N, N, N, N, N)

TARGET_COLUMNS = (
    "is_enabled_target",
    "max_load_target_milliamps",
    "target_is_charging",
    "target_voltage_volts",
    "target_charge_rate_watts",
)

# cmd: compliance, compliance_seconds, target_outcome, target_response_seconds, failure_side
MEASURES: dict[str, tuple[Any, ...]] = {
    "cmd-01": ("not_sent", N, "not_sent", N, N),
    "cmd-02": ("no_target", N, "no_target", N, N),
    "cmd-03": ("no_target", N, "no_target", N, N),
    # obeyed (is_enabled, 32 A) but the state before is stale
    "cmd-04": ("complied", 300.0, "no_telemetry", N, N),
    "cmd-05": ("no_target", N, "no_target", N, N),
    "cmd-06": ("no_target", N, "no_target", N, N),
    "cmd-07": ("no_target", N, "no_target", N, N),
    "cmd-08": ("no_target", N, "no_target", N, N),
    # a command log right after it carries another id: never joined on time
    "cmd-09": ("no_target", N, "no_target", N, N),
    "cmd-10": ("no_target", N, "no_target", N, N),
    "cmd-11": ("no_target", N, "no_target", N, N),
    "cmd-12": ("no_target", N, "no_target", N, N),
    # already charging at the target rate (7300 W vs 7680 W), and stays there
    "cmd-13": ("complied", 300.0, "held", N, N),
    # 17 A against 16 A is exactly T; 3700 W against 3840 W is within R
    "cmd-14": ("complied", 300.0, "reached", 300.0, N),
    # 4200 W against 3680 W: 520 W off
    "cmd-15": ("complied", 300.0, "not_reached", N, "vehicle"),
    # enabled at 32 A, but the (full) car draws nothing
    "cmd-16": ("complied", 300.0, "not_reached", N, "vehicle"),
    # the charger never reports is_enabled; it did stop charging
    "cmd-17": ("unknown", N, "reached", 300.0, N),
    # vehicle-bound: no EVSE command log (a log without an id follows it, and is ignored)
    "cmd-18": ("no_target", N, "no_target", N, N),
    # told to stop, stays enabled and charging
    "cmd-19": ("not_complied", N, "not_reached", N, "charger"),
    # told 16 A, stays at 32 A
    "cmd-20": ("not_complied", N, "not_reached", N, "charger"),
    # state before matched (off), then departed (on at 18:05), then matched again at 18:10
    "cmd-21": ("complied", 600.0, "reached", 600.0, N),
}

MEASURE_COLUMNS = (
    "compliance",
    "compliance_seconds",
    "target_outcome",
    "target_response_seconds",
    "failure_side",
)


def _model(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    return rows_by_key(
        conn,
        "select internal_command_id, * from analytics.dispatch_effectiveness",
    )


def _expected(cmd: str) -> dict[str, Any]:
    expected = dict(zip(STATE_CHANGE_COLUMNS, STATE_CHANGE[cmd], strict=True))
    expected |= dict(zip(TARGET_COLUMNS, TARGETS.get(cmd, NO_TARGET), strict=True))
    expected |= dict(zip(MEASURE_COLUMNS, MEASURES[cmd], strict=True))
    return expected


def test_one_row_per_deduplicated_dispatcher_log(built_shared):
    rows = built_shared.execute(
        f"select {', '.join(KEY)} from analytics.dispatch_effectiveness order by all"
    ).fetchall()
    assert len(rows) == 21 == len(set(rows))  # cmd-06 was loaded twice
    assert {r[1] for r in rows} == set(STATE_CHANGE)


@pytest.mark.parametrize("cmd", sorted(STATE_CHANGE))
def test_every_attempt_matches_the_hand_written_row(built_shared, cmd):
    row = _model(built_shared)[cmd]
    actual = {column: row[column] for column in _expected(cmd)}
    assert actual == _expected(cmd)


def test_columns_are_the_documented_ones(built_shared):
    names = [
        d[0]
        for d in built_shared.execute("select * from analytics.dispatch_effectiveness").description
    ]
    assert names[:3] == list(KEY)
    documented = {*KEY, *STATE_CHANGE_COLUMNS, *TARGET_COLUMNS, *MEASURE_COLUMNS}
    documented |= {"reason_not_sent", "pre_age_seconds", "count_window_samples"}
    documented |= {"date", "make_name", "model_name", "is_provisional"}  # issue 10
    assert set(names) == documented


def test_diagnostic_columns(built_shared):
    rows = _model(built_shared)
    assert rows["cmd-04"]["pre_age_seconds"] == 901.0
    assert rows["cmd-10"]["pre_age_seconds"] == 0.0
    assert rows["cmd-02"]["pre_age_seconds"] is None
    assert rows["cmd-01"]["reason_not_sent"] == "DEVICE_OFFLINE"
    # (09:00, 09:15]: 09:05 and 09:10; 11:15:01 lies outside cmd-07's window
    assert rows["cmd-10"]["count_window_samples"] == 2
    assert rows["cmd-07"]["count_window_samples"] == 2
    assert rows["cmd-05"]["count_window_samples"] == 0


# parameter, value, cmd, column: expected with the default, expected with the new value
PARAMETER_CASES = [
    # W = 5 min: the change at 15:00 falls out of the window, only the 10:05 sample (no change)
    # is left; at 10 minutes, nothing at all is left; exactly 5 minutes is still in
    ("response_window_minutes", 5, "cmd-06", "outcome", "effective", "no_response"),
    ("response_window_minutes", 5, "cmd-12", "outcome", "effective", "no_telemetry"),
    ("response_window_minutes", 5, "cmd-09", "outcome", "effective", "effective"),
    ("response_window_minutes", 5, "cmd-21", "target_outcome", "reached", "not_reached"),
    # S = 20 min: the 15:01-old state before is fresh again
    ("staleness_minutes", 20, "cmd-04", "outcome", "no_telemetry", "effective"),
    ("staleness_minutes", 20, "cmd-04", "target_outcome", "no_telemetry", "reached"),
    # R = 499 W: a 499 W move counts
    ("rate_change_watts", 499, "cmd-08", "outcome", "no_response", "effective"),
    # T = 999 mA: 17 A against 16 A no longer complies
    ("current_tolerance_milliamps", 999, "cmd-14", "failure_side", None, "charger"),
    # 240 V nominal: 16 A is 3840 W, 360 W from the 4200 W drawn
    ("nominal_voltage_volts", 240, "cmd-15", "target_outcome", "not_reached", "reached"),
]


@pytest.fixture(scope="module")
def built_with(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fixture's dispatch_effectiveness rows (and model_parameters) built with each
    parameter change of PARAMETER_CASES on its own: one warehouse rebuilt in turn (the
    changed parameters force a full refresh each time; one dbt target keeps parsing cheap),
    the models only."""
    path = tmp_path_factory.mktemp("parameters") / "warehouse.duckdb"
    with duckdb.connect(str(path)) as conn:
        load_raw_fixture(conn)
        ensure_tables(conn)
    changes = {(p, v) for p, v, *_ in PARAMETER_CASES} | {("response_window_minutes", 15)}
    results: dict[Any, Any] = {}
    for parameter, value in sorted(changes):
        params = ModelParams(**{parameter: value})
        variables = {**params.variables(), "lookback_seconds": 6 * 3600.0}
        run = build(
            path,
            variables,
            select="+dispatch_effectiveness model_parameters",
            exclude="resource_type:test",
        )
        assert run.full_refresh and {n.status for n in run.nodes} == {"success"}
        with duckdb.connect(str(path)) as conn:
            results[parameter, value] = (
                _model(conn),
                rows_by_key(conn, "select 1, * from analytics.model_parameters")[1],
            )
    return results


@pytest.mark.parametrize(
    ("parameter", "value", "cmd", "column", "default", "changed"), PARAMETER_CASES
)
def test_parameters_change_the_result(
    built_shared, built_with, parameter, value, cmd, column, default, changed
):
    assert _model(built_shared)[cmd][column] == default
    rows, recorded = built_with[parameter, value]
    assert rows[cmd][column] == changed
    assert recorded[parameter.replace("_minutes", "_seconds")] == (
        value * 60 if parameter.endswith("_minutes") else value
    )


def test_parameters_are_recorded_in_seconds(built_with):
    _, row = built_with["response_window_minutes", 5]
    data_through = row.pop("data_through")
    assert row == {
        "1": 1,
        "response_window_seconds": 300.0,
        "staleness_seconds": 900.0,
        "rate_change_watts": 500.0,
        "current_tolerance_milliamps": 1000.0,
        "nominal_voltage_volts": 230.0,
        "lookback_seconds": 21600.0,
    }
    assert data_through == at("2 22:05")  # the newest status log of the fixture
