"""API pages into typed Arrow tables: declared types, bad rows, extra fields."""

from datetime import UTC, datetime

import pyarrow as pa

from pipelines.evenergy.tables import (
    DISPATCHER_LOGS,
    EVSES,
    STATUS_LOGS,
    SUB_SESSIONS,
    page_to_arrow,
)

SAMPLE = {
    "url": "https://api.ev.energy/v2/evses/evseA/status_logs/2026-11-01T17:05:12.123456Z/",
    "sampled_at": "2026-11-01T17:05:12.123456Z",
    "logged_at": "2026-11-01T17:05:40Z",
    "evse": "https://api.ev.energy/v2/evses/evseA",
    "is_plugged_in": True,
    "is_charging": None,
    "charge_rate_watts": 7200,
}


def test_every_declared_column_exists_with_its_type_even_when_all_null():
    table = page_to_arrow(STATUS_LOGS, [SAMPLE], {"evse_id": "evseA"}).table
    assert table.schema.field("is_enabled").type == pa.bool_()
    assert table.schema.field("voltage_millivolts").type == pa.int64()
    assert table.schema.field("sampled_at").type == pa.timestamp("us", tz="UTC")
    assert table.column("is_enabled").null_count == 1
    assert "evse" not in table.column_names  # replaced by evse_id


def test_values_keep_their_meaning():
    row = page_to_arrow(STATUS_LOGS, [SAMPLE], {"evse_id": "evseA"}).table.to_pylist()[0]
    assert row["evse_id"] == "evseA"
    assert row["sampled_at"] == datetime(2026, 11, 1, 17, 5, 12, 123456, tzinfo=UTC)
    assert row["is_charging"] is None  # unknown stays unknown, never False
    assert row["charge_rate_watts"] == 7200


def test_bad_rows_are_rejected_with_their_field():
    rows = [
        SAMPLE,
        {**SAMPLE, "sampled_at": "not-a-date"},
        {k: v for k, v in SAMPLE.items() if k != "sampled_at"},
        {**SAMPLE, "sampled_at": "2026-11-01T17:00:00Z", "charge_rate_watts": "lots"},
        "not an object",
    ]
    converted = page_to_arrow(STATUS_LOGS, rows, {"evse_id": "evseA"}, "evseA")
    assert converted.table.num_rows == 1
    assert [(b.index, b.field) for b in converted.bad_rows] == [
        (1, "sampled_at"),
        (2, "sampled_at"),
        (3, "charge_rate_watts"),
        (4, ""),
    ]
    assert all(b.partition == "evseA" for b in converted.bad_rows)


def test_unknown_fields_are_kept():
    rows = [{**SAMPLE, "firmware": {"version": "1.2"}, "temperature_c": 21.5}]
    table = page_to_arrow(STATUS_LOGS, rows, {"evse_id": "evseA"}).table
    assert table.column("firmware").to_pylist() == ['{"version":"1.2"}']
    assert table.column("temperature_c").to_pylist() == [21.5]


def test_expanded_model_and_make_are_flattened():
    evse = {
        "id": "evseA",
        "url": "https://api.ev.energy/v2/evses/evseA",
        "cpid": "SHIR1",
        "model": {"id": "emod1", "name": "EVWC2S22", "make": {"id": "emak1", "name": "Wallbox"}},
        "user": "https://api.ev.energy/v2/users/user1",
        "location": {"latitude": 51.5, "longitude": -0.12},
    }
    row = page_to_arrow(EVSES, [evse], {}).table.to_pylist()[0]
    assert (row["model_id"], row["model_name"], row["make_id"], row["make_name"]) == (
        "emod1",
        "EVWC2S22",
        "emak1",
        "Wallbox",
    )
    assert row["user_id"] == "user1"
    assert (row["location__latitude"], row["location__longitude"]) == (51.5, -0.12)


def test_sub_session_ids_come_from_urls_and_evse_may_be_null():
    base = {"id": "csub1", "start": "2026-11-01T17:00:00Z", "end": None, "mode": "SMART"}
    rows = [
        {
            **base,
            "evse": "https://api.ev.energy/v2/evses/evseA",
            "vehicle": "https://api.ev.energy/v2/vehicles/vhcl1",
        },
        {
            **base,
            "id": "csub2",
            "evse": None,
            "vehicle": "https://api.ev.energy/v2/vehicles/vhcl2",
            "labels": ["OFF_PEAK"],
        },
    ]
    table = page_to_arrow(SUB_SESSIONS, rows, {}).table
    assert table.column("evse_id").to_pylist() == ["evseA", None]
    assert table.column("vehicle_id").to_pylist() == ["vhcl1", "vhcl2"]
    assert table.column("end").to_pylist() == [None, None]
    assert table.column("labels").to_pylist() == [None, '["OFF_PEAK"]']


def test_dispatcher_log_without_command_id_is_rejected():
    log = {"logged_at": "2026-11-01T17:00:00Z", "device_type": "EVSE", "reason_not_sent": None}
    converted = page_to_arrow(DISPATCHER_LOGS, [log], {"charging_sub_session_id": "csub1"})
    assert converted.table.num_rows == 0
    assert converted.bad_rows[0].field == "internal_command_id"


def test_declared_hints_mark_keys_not_nullable():
    hints = STATUS_LOGS.dlt_columns()
    assert hints["sampled_at"] == {"data_type": "timestamp", "nullable": False}
    assert hints["is_charging"]["nullable"] is True
    assert DISPATCHER_LOGS.dlt_columns()["reason_not_sent"] == {
        "data_type": "text",
        "nullable": True,
    }
