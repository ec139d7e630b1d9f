"""The staging views on the hand-built fixture: renamed, typed, one row per key, latest load."""

from __future__ import annotations

import pytest

from tests.sql.conftest import LOAD_1, LOAD_2, N, at, rows_by_key

# model: (key columns, rows after deduplication, raw rows loaded)
GRAINS = {
    "stg_evses": ("evse_id", 7, 8),
    "stg_status_logs": ("evse_id, sampled_at", 47, 48),
    "stg_charging_sub_sessions": ("charging_sub_session_id", 10, 11),
    "stg_dispatcher_logs": ("charging_sub_session_id, internal_command_id, logged_at", 21, 22),
    "stg_evse_command_logs": ("evse_id, logged_at", 12, 13),
}
RAW = {
    "stg_evses": "evses",
    "stg_status_logs": "status_logs",
    "stg_charging_sub_sessions": "charging_sub_sessions",
    "stg_dispatcher_logs": "dispatcher_logs",
    "stg_evse_command_logs": "evse_command_logs",
}


@pytest.mark.parametrize("model", sorted(GRAINS))
def test_one_row_per_key(built_shared, model):
    key, rows, raw_rows = GRAINS[model]
    assert built_shared.execute(f"select count(*) from evenergy.{RAW[model]}").fetchall() == [
        (raw_rows,)
    ]
    counts = built_shared.execute(
        f"select count(*), count(distinct ({key})) from analytics.{model}"
    ).fetchall()
    assert counts == [(rows, rows)]


def test_staging_models_are_views(built_shared):
    kinds = built_shared.execute(
        "select table_name, table_type from information_schema.tables "
        "where table_schema = 'analytics' and table_name like 'stg\\_%' escape '\\'"
    ).fetchall()
    assert dict(kinds) == dict.fromkeys(GRAINS, "VIEW")


def test_the_latest_load_wins(built_shared):
    evse = rows_by_key(built_shared, "select evse_id, * from analytics.stg_evses")["evse_a"]
    assert (evse["make_name"], evse["_dlt_load_id"]) == ("Zappi", LOAD_2)
    session = rows_by_key(
        built_shared, "select charging_sub_session_id, * from analytics.stg_charging_sub_sessions"
    )["css-a1"]
    assert (session["started_at"], session["ended_at"]) == (at("1 09:00"), at("1 13:00"))
    sample = built_shared.execute(
        "select is_charging, charge_rate_watts, logged_at, _dlt_load_id "
        "from analytics.stg_status_logs where evse_id = 'evse_b' and sampled_at = ?",
        [at("2 09:58")],
    ).fetchall()
    assert sample == [(N, N, at("2 11:58"), LOAD_2)]
    command = built_shared.execute(
        "select max_load_target_milliamps from analytics.stg_evse_command_logs "
        "where internal_command_id = 'cmd-14'"
    ).fetchall()
    assert command == [(16000,)]


def test_ties_within_a_load_keep_the_highest_dlt_id(built):
    # the staging models are views: they read the raw table as it is now, no rebuild needed
    # (on a copy: rows added to the shared warehouse failed test_checks when it ran after)
    built.execute(
        "insert into evenergy.status_logs (evse_id, sampled_at, charge_rate_watts, "
        "_dlt_load_id, _dlt_id) values "
        "('evse_z', ?, 1, ?, 'b'), ('evse_z', ?, 2, ?, 'c'), ('evse_z', ?, 3, ?, 'a')",
        [at("1 00:00"), LOAD_2, at("1 00:00"), LOAD_2, at("1 00:00"), LOAD_1],
    )
    kept = built.execute(
        "select charge_rate_watts from analytics.stg_status_logs where evse_id = 'evse_z'"
    ).fetchall()
    assert kept == [(2,)]


def test_columns_are_renamed_and_typed(built_shared):
    def columns(model: str) -> dict[str, str]:
        described = built_shared.execute(f"describe analytics.{model}").fetchall()
        return {row[0]: row[1] for row in described}

    logs = columns("stg_status_logs")
    assert logs["sampled_at"] == logs["logged_at"] == "TIMESTAMP WITH TIME ZONE"
    assert logs["is_charging"] == "BOOLEAN" and logs["charge_rate_watts"] == "BIGINT"
    assert {"state_of_charge_percent", "evse_mode", "status_log_url"} <= logs.keys()
    assert "state_of_charge_percentage" not in logs and "url" not in logs
    sessions = columns("stg_charging_sub_sessions")
    assert {"started_at", "ended_at", "charging_mode", "cost_minor_units"} <= sessions.keys()
    assert {"start", "end", "cost", "id"}.isdisjoint(sessions)
    dispatches = columns("stg_dispatcher_logs")
    assert {"schedule_valid_from_at", "schedule_created_at", "reason_not_sent"} <= dispatches.keys()
    evses = columns("stg_evses")
    assert {"evse_id", "evse_model_id", "evse_make_id", "latitude_degrees"} <= evses.keys()
    commands = columns("stg_evse_command_logs")
    assert {"is_enabled_target", "is_always_enabled", "command_reason"} <= commands.keys()
