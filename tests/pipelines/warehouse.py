"""Whole-warehouse comparison: every column of every raw table, row for row."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

# Resource URLs carry the simulator's host and port, which differ between two simulators.
_ORIGIN = re.compile(r"^https?://127\.0\.0\.1:\d+")


def _portable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(_ORIGIN.sub("<origin>", v) if isinstance(v, str) else v for v in row)


RAW_TABLES = (
    "evses",
    "status_logs",
    "evse_command_logs",
    "charging_sub_sessions",
    "dispatcher_logs",
)


def snapshot(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Each raw table's rows (dlt's bookkeeping columns left out), sorted."""
    with duckdb.connect(str(database), read_only=True) as conn:
        result = {}
        for table in RAW_TABLES:
            columns = [
                name
                for (name,) in conn.execute(
                    "select column_name from information_schema.columns where table_schema = "
                    "'evenergy' and table_name = ? and column_name not like '\\_dlt%' escape '\\' "
                    "order by column_name",
                    [table],
                ).fetchall()
            ]
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = [
                _portable(r)
                for r in conn.execute(f"select {quoted} from evenergy.{table}").fetchall()
            ]
            result[table] = sorted(rows, key=repr)
        return result


def differences(actual: Path, expected: Path) -> dict[str, tuple[int, int]]:
    """Per table, (rows missing from `actual`, rows `actual` has in excess); empty if equal."""
    got, want = snapshot(actual), snapshot(expected)
    diff = {}
    for table in RAW_TABLES:
        missing = len(set(want[table]) - set(got[table]))
        excess = len(got[table]) - len(want[table]) + missing
        if missing or excess or len(got[table]) != len(set(got[table])):
            diff[table] = (missing, excess)
    return diff
