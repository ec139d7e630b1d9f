"""Hand-built raw ``evenergy`` tables in a temporary DuckDB file, for the SQL model tests.

The raw schema comes from ``pipelines.evenergy.tables.raw_tables_ddl``, the DDL the loader
itself declares (so the fixture cannot drift from what dlt creates); the rows are written by
hand. The rows cover every outcome and edge the models define; sql/README.md and the expected
rows in the test modules say which attempt exercises which rule. Times are UTC:
``at("1 10:15")`` is 2024-06-01 10:15:00+00, ``at("2 09:58")`` is 2024-06-02 09:58:00+00.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.evenergy.tables import raw_tables_ddl

RAW_DDL = raw_tables_ddl()  # the raw tables exactly as the load declares them

LOAD_1 = "1717200000.100000"
LOAD_2 = "1717300000.200000"
T, F, N = True, False, None


def at(day_time: str) -> datetime:
    """``"1 10:15"`` or ``"2 09:44:59"`` → that time on 2024-06-0<day>, UTC."""
    day, clock = day_time.split(" ")
    parts = [int(p) for p in clock.split(":")] + [0]
    return datetime(2024, 6, int(day), parts[0], parts[1], parts[2], tzinfo=UTC)


# id, cpid, make_name, model_name (evse_a also loaded earlier with a misspelt make)
EVSES = [
    ("evse_a", "CP-A", "Zappi", "zappi v2"),
    ("evse_b", "CP-B", "Wallbox", "Pulsar"),
    ("evse_c", "CP-C", "Ohme", "Home Pro"),
    ("evse_d", "CP-D", "Ohme", "ePod"),
    ("evse_e", "CP-E", "EO", "Mini"),
    ("evse_f", "CP-F", "Acme", "Volt 1"),
    ("evse_g", "CP-G", "Hypervolt", "Home 3"),
]

# evse, sampled, is_charging, charge_rate_watts, is_enabled, max_current_ma, voltage_mv, late_s
STATUS_LOGS: list[tuple[Any, ...]] = [
    # evse_a, day 1: D01 (not sent), D06 (change exactly at W), D07 (change 1 s after W),
    # D08 (rate change 499 W); day 2: D09 (rate change exactly 500 W), D18 (vehicle-bound)
    ("evse_a", "1 09:25", F, 0, N, N, N, 30),
    ("evse_a", "1 09:35", F, 0, N, N, N, 30),
    ("evse_a", "1 09:55", F, 0, N, N, N, 30),
    ("evse_a", "1 10:05", F, 0, N, N, N, 30),
    ("evse_a", "1 10:15:00", T, 7000, N, N, N, 30),
    ("evse_a", "1 10:55", F, 0, N, N, N, 30),
    ("evse_a", "1 11:05", F, 0, N, N, N, 30),
    ("evse_a", "1 11:10", F, 0, N, N, N, 30),
    ("evse_a", "1 11:15:01", T, 7000, N, N, N, 30),
    ("evse_a", "1 11:55", T, 7000, N, N, N, 30),
    ("evse_a", "1 12:05", T, 6501, N, N, N, 30),
    ("evse_a", "2 11:55", T, 7000, N, N, N, 30),
    ("evse_a", "2 12:05", T, 6500, N, N, N, 30),
    ("evse_a", "2 12:55", T, 6500, N, N, N, 30),
    ("evse_a", "2 13:05", F, 0, N, N, N, 30),
    # evse_b, day 1: D03 (nothing before), D05 (nothing in window), D04 (pre 15:01 old),
    # D12 (pre exactly S old); day 2: D10 (pre at logged_at, null sample first), D11 (null pre)
    ("evse_b", "1 08:12", F, 0, N, N, N, 30),
    ("evse_b", "1 08:55", F, 0, N, N, N, 30),
    ("evse_b", "1 09:20", F, 0, N, N, N, 30),
    ("evse_b", "1 09:44:59", F, 0, N, N, N, 30),
    ("evse_b", "1 10:05", T, 7000, T, 32000, N, 30),
    ("evse_b", "1 10:45:00", F, 0, N, N, N, 30),
    ("evse_b", "1 11:10", T, 7000, N, N, N, 30),
    ("evse_b", "2 09:00:00", F, 0, N, N, N, 30),
    ("evse_b", "2 09:05", N, N, N, N, N, 30),
    ("evse_b", "2 09:10", T, 7000, N, N, N, 30),
    ("evse_b", "2 09:58", N, N, N, N, N, 7200),  # LOAD_2; LOAD_1 said (F, 0), see below
    ("evse_b", "2 10:05", T, 7000, N, N, N, 30),
    # evse_c reports 240 V: D13 (held), D14 (rate target met, current exactly T off),
    # D16 (enabled, full car); day 2: D21 (departs, then reaches)
    ("evse_c", "1 17:55", T, 7300, T, 32000, 240000, 30),
    ("evse_c", "1 18:05", T, 7350, T, 32000, 240000, 30),
    ("evse_c", "1 18:58", T, 7300, T, 32000, N, 30),
    ("evse_c", "1 19:05", T, 3700, T, 17000, 240000, 30),
    ("evse_c", "1 20:55", F, 0, F, 32000, 240000, 30),
    ("evse_c", "1 21:05", F, 0, T, 32000, 240000, 30),
    ("evse_c", "1 21:10", F, 0, T, 32000, 240000, 30),
    ("evse_c", "2 17:55", F, 0, F, 32000, 240000, 30),
    ("evse_c", "2 18:05", T, 7000, T, 32000, 240000, 30),
    ("evse_c", "2 18:10", F, 0, F, 32000, 240000, 30),
    # evse_d never reports is_enabled: D17 (compliance unknown)
    ("evse_d", "2 19:55", T, 7000, N, N, 230000, 30),
    ("evse_d", "2 20:05", F, 0, N, N, 230000, 30),
    # evse_e never reports voltage: D15 (rate target missed by 520 W)
    ("evse_e", "1 21:25", T, 7200, T, 32000, N, 30),
    ("evse_e", "1 21:35", T, 4200, T, 16000, N, 30),
    # evse_f ignores commands and uploads 10 minutes late: D19, D20
    ("evse_f", "2 20:55", T, 7000, T, 32000, N, 600),
    ("evse_f", "2 21:05", T, 7000, T, 32000, N, 600),
    ("evse_f", "2 21:10", T, 6900, T, 32000, N, 600),
    ("evse_f", "2 21:55", T, 7000, T, 32000, N, 600),
    ("evse_f", "2 22:05", T, 7000, T, 32000, N, 600),
    # evse_g: one sample, 3 hours late, no dispatches
    ("evse_g", "1 12:00", N, N, N, N, N, 10800),
]

# an older load of evse_b's 2 09:58 sample, superseded by the LOAD_2 row above
STALE_STATUS_LOG = ("evse_b", "2 09:58", F, 0, N, N, N, 30)

# id, evse_id, vehicle_id, start, end, mode
SUB_SESSIONS = [
    ("css-a1", "evse_a", "veh-a", "1 09:00", "1 13:00", "SMART"),
    ("css-a2", "evse_a", "veh-a", "2 11:00", "2 14:00", "SMART"),
    ("css-b1", "evse_b", "veh-b", "1 08:00", "1 12:00", "SMART"),
    ("css-b2", "evse_b", "veh-b", "2 08:00", "2 11:00", "SMART"),
    ("css-c1", "evse_c", "veh-c", "1 17:00", "1 23:00", "SMART"),
    ("css-c2", "evse_c", "veh-c", "2 17:00", "2 20:00", "SMART"),
    ("css-d1", "evse_d", "veh-d", "2 19:00", "2 23:00", "SMART"),
    ("css-e1", "evse_e", "veh-e", "1 20:00", "1 23:00", "SMART"),
    ("css-f1", "evse_f", "veh-f", "2 20:00", "2 23:00", "SMART"),
    ("css-v1", None, "veh-v", "1 14:00", "1 16:00", "MANAGED_OTG"),
]

# sub-session, internal_command_id, logged_at, device_type, reason_not_sent
DISPATCHER_LOGS = [
    ("css-a1", "cmd-01", "1 09:30", "EVSE", "DEVICE_OFFLINE"),
    ("css-v1", "cmd-02", "1 14:30", "VEHICLE", None),
    ("css-b1", "cmd-03", "1 08:10", "EVSE", None),
    ("css-b1", "cmd-04", "1 10:00", "EVSE", None),
    ("css-b1", "cmd-05", "1 09:00", "EVSE", None),
    ("css-a1", "cmd-06", "1 10:00", "EVSE", None),
    ("css-a1", "cmd-07", "1 11:00", "EVSE", None),
    ("css-a1", "cmd-08", "1 12:00", "EVSE", None),
    ("css-a2", "cmd-09", "2 12:00", "EVSE", None),
    ("css-b2", "cmd-10", "2 09:00", "EVSE", None),
    ("css-b2", "cmd-11", "2 10:00", "EVSE", None),
    ("css-b1", "cmd-12", "1 11:00", "EVSE", None),
    ("css-c1", "cmd-13", "1 18:00", "EVSE", None),
    ("css-c1", "cmd-14", "1 19:00", "EVSE", None),
    ("css-e1", "cmd-15", "1 21:30", "EVSE", None),
    ("css-c1", "cmd-16", "1 21:00", "EVSE", None),
    ("css-d1", "cmd-17", "2 20:00", "EVSE", None),
    ("css-a2", "cmd-18", "2 13:00", "VEHICLE", None),
    ("css-f1", "cmd-19", "2 21:00", "EVSE", None),
    ("css-f1", "cmd-20", "2 22:00", "EVSE", None),
    ("css-c2", "cmd-21", "2 18:00", "EVSE", None),
]

# evse, logged_at, internal_command_id, is_enabled_target, max_load_target_ma, load
COMMAND_LOGS = [
    ("evse_b", "1 10:00:02", "cmd-04", T, 32000, LOAD_2),
    ("evse_c", "1 18:00:02", "cmd-13", T, 32000, LOAD_2),
    ("evse_c", "1 18:01", "cmd-13", T, 32000, LOAD_2),  # a retry logged under the same id
    ("evse_c", "1 19:00:02", "cmd-14", T, 20000, LOAD_1),  # superseded by the next row
    ("evse_c", "1 19:00:02", "cmd-14", T, 16000, LOAD_2),
    ("evse_c", "1 21:00:02", "cmd-16", T, 32000, LOAD_2),
    ("evse_e", "1 21:30:02", "cmd-15", T, 16000, LOAD_2),
    ("evse_c", "2 18:00:02", "cmd-21", F, 0, LOAD_2),
    ("evse_d", "2 20:00:02", "cmd-17", F, 0, LOAD_2),
    ("evse_f", "2 21:00:02", "cmd-19", F, 0, LOAD_2),
    ("evse_f", "2 22:00:02", "cmd-20", T, 16000, LOAD_2),
    # never attached: no id, and an id no dispatcher log carries (both right after D18/D09)
    ("evse_a", "2 13:00:02", None, F, 0, LOAD_2),
    ("evse_a", "2 12:00:02", "cmd-orphan", F, 0, LOAD_2),
]


def _insert(conn: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    for number, row in enumerate(rows):
        row = {"_dlt_load_id": LOAD_2, "_dlt_id": f"{table}-{number}", **row}
        columns = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        conn.execute(
            f"insert into evenergy.{table} ({columns}) values ({marks})", list(row.values())
        )


def _status_log(row: tuple[Any, ...], load: str) -> dict[str, Any]:
    evse, sampled, charging, rate, enabled, max_ma, voltage, late = row
    sampled_at = at(sampled)
    return {
        "evse_id": evse,
        "sampled_at": sampled_at,
        "logged_at": sampled_at + timedelta(seconds=late),
        "url": f"https://api.example/v2/evses/{evse}/status_logs/{sampled_at.isoformat()}/",
        "is_plugged_in": True,
        "is_charging": charging,
        "charge_rate_watts": rate,
        "is_enabled": enabled,
        "max_current_rating_milliamps": max_ma,
        "voltage_millivolts": voltage,
        "_dlt_load_id": load,
    }


def load_raw_fixture(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the raw tables and insert the hand-built rows (duplicates included)."""
    conn.execute(RAW_DDL)
    evses = [
        {"id": i, "cpid": c, "make_name": mk, "model_name": md, "user_id": "user1"}
        for i, c, mk, md in EVSES
    ]
    evses.append({"id": "evse_a", "cpid": "CP-A", "make_name": "Zappy", "_dlt_load_id": LOAD_1})
    _insert(conn, "evses", evses)
    logs = [_status_log(r, LOAD_2) for r in STATUS_LOGS] + [_status_log(STALE_STATUS_LOG, LOAD_1)]
    _insert(conn, "status_logs", logs)
    sessions = [
        {"id": i, "evse_id": e, "vehicle_id": v, "start": at(s), "end": at(x), "mode": m}
        for i, e, v, s, x, m in SUB_SESSIONS
    ]
    # an earlier load of css-a1 while it was still ongoing
    sessions.append(
        {
            "id": "css-a1",
            "evse_id": "evse_a",
            "start": at("1 09:00"),
            "end": None,
            "_dlt_load_id": LOAD_1,
        }
    )
    _insert(conn, "charging_sub_sessions", sessions)
    dispatches = [
        {
            "charging_sub_session_id": s,
            "internal_command_id": c,
            "logged_at": at(t),
            "device_type": d,
            "reason_not_sent": r,
        }
        for s, c, t, d, r in DISPATCHER_LOGS
    ]
    dispatches.append({**dispatches[5], "_dlt_load_id": LOAD_1})  # cmd-06 loaded twice
    _insert(conn, "dispatcher_logs", dispatches)
    commands = [
        {
            "evse_id": e,
            "logged_at": at(t),
            "internal_command_id": c,
            "is_enabled_target": en,
            "max_load_target_milliamps": ma,
            "always_enabled": False,
            "_dlt_load_id": load,
        }
        for e, t, c, en, ma, load in COMMAND_LOGS
    ]
    _insert(conn, "evse_command_logs", commands)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB file of its own holding the hand-built raw tables (nothing built)."""
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    load_raw_fixture(conn)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def built_shared(built_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the built fixture warehouse, shared by the session: read only."""
    conn = duckdb.connect(str(built_path))
    yield conn
    conn.close()


@pytest.fixture
def built(
    built_shared: duckdb.DuckDBPyConnection, built_path: Path, tmp_path: Path
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The fixture warehouse with every model built with the default parameters: a copy of
    the session's build, the test's own to change. Same file name: dbt-duckdb's views name
    the file's catalog."""
    built_shared.execute("checkpoint")
    copy = tmp_path / "copy" / built_path.name
    copy.parent.mkdir()
    shutil.copyfile(built_path, copy)
    conn = duckdb.connect(str(copy))
    yield conn
    conn.close()


def rows_by_key(
    conn: duckdb.DuckDBPyConnection, sql: str, key_columns: int = 1
) -> dict[Any, dict[str, Any]]:
    """Run ``sql`` and index its rows by their first ``key_columns`` columns."""
    result = conn.execute(sql)
    names = [d[0] for d in result.description]
    indexed = {}
    for row in result.fetchall():
        record = dict(zip(names, row, strict=True))
        key = row[0] if key_columns == 1 else tuple(row[:key_columns])
        assert key not in indexed, f"duplicate key {key}"
        indexed[key] = record
    return indexed
