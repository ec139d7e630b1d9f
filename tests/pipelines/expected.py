"""Expected warehouse contents computed from the simulator's ground truth, independently of
the pipeline, and the warehouse's actual contents, as comparable row sets."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.evenergy.parsing import id_from_url, parse_timestamp
from pipelines.evenergy.settings import MANAGED_MODES
from pipelines.simulator import SimulatorServer

STATUS_COLUMNS = (
    "sampled_at",
    "logged_at",
    "is_plugged_in",
    "is_charging",
    "charge_rate_watts",
    "is_enabled",
    "max_current_rating_milliamps",
    "voltage_millivolts",
)
DISPATCH_COLUMNS = ("internal_command_id", "logged_at", "device_type", "reason_not_sent")
COMMAND_COLUMNS = (
    "logged_at",
    "internal_command_id",
    "is_enabled_target",
    "max_load_target_milliamps",
)


def _ts(value: Any) -> Any:
    return parse_timestamp(value) if isinstance(value, str) else value


def _row(row: dict[str, Any], columns: tuple[str, ...], *prefix: Any) -> tuple[Any, ...]:
    return (*prefix, *(_ts(row.get(c)) if c.endswith("_at") else row.get(c) for c in columns))


def expected_rows(simulator: SimulatorServer, since: datetime) -> dict[str, set[tuple[Any, ...]]]:
    """What a complete load up to the simulator's clock must hold, per table."""
    world, now = simulator.world, simulator.clock.now()
    evse_ids = [e["id"] for e in world.evses(now)]
    sub_sessions = world.sub_sessions(now)
    managed = [s["id"] for s in sub_sessions if s["mode"] in MANAGED_MODES]
    return {
        "evses": {(evse_id,) for evse_id in evse_ids},
        "status_logs": {
            _row(r, STATUS_COLUMNS, e)
            for e in evse_ids
            for r in world.status_logs(e, now)
            if _ts(r["sampled_at"]) >= since
        },
        "evse_command_logs": {
            _row(r, COMMAND_COLUMNS, e)
            for e in evse_ids
            for r in world.command_logs(e, now)
            if _ts(r["logged_at"]) >= since
        },
        "charging_sub_sessions": {
            (s["id"], _ts(s["start"]), _ts(s["end"]), s["evse"] and id_from_url(s["evse"]))
            for s in sub_sessions
        },
        "dispatcher_logs": {
            _row(r, DISPATCH_COLUMNS, s) for s in managed for r in world.dispatcher_logs(s, now)
        },
    }


_QUERIES = {
    "evses": "select id from evenergy.evses",
    "status_logs": f"select evse_id, {', '.join(STATUS_COLUMNS)} from evenergy.status_logs",
    "evse_command_logs": f"select evse_id, {', '.join(COMMAND_COLUMNS)} from evenergy.evse_command_logs",
    "charging_sub_sessions": 'select id, start, "end", evse_id from evenergy.charging_sub_sessions',
    "dispatcher_logs": f"select charging_sub_session_id, {', '.join(DISPATCH_COLUMNS)} from evenergy.dispatcher_logs",
}


def warehouse_rows(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each raw table (a list: duplicates would show)."""
    with duckdb.connect(str(database), read_only=True) as conn:
        conn.execute("set timezone = 'UTC'")
        return {table: conn.execute(sql).fetchall() for table, sql in _QUERIES.items()}


def assert_warehouse_matches(database: Path, expected: dict[str, set[tuple[Any, ...]]]) -> None:
    """The warehouse holds exactly the expected rows, each once."""
    actual = warehouse_rows(database)
    for table, rows in expected.items():
        got = actual[table]
        assert len(got) == len(set(got)), f"{table}: duplicate rows"
        missing, extra = rows - set(got), set(got) - rows
        assert not missing and not extra, (
            f"{table}: {len(missing)} missing (e.g. {sorted(missing, key=str)[:2]}), "
            f"{len(extra)} unexpected (e.g. {sorted(extra, key=str)[:2]})"
        )
