"""Every example query of sql/README.md runs against the built fixture warehouse and finds
what it claims."""

from __future__ import annotations

import re

import duckdb
import pytest

from pipelines.models import SQL_DIR

QUERIES = re.findall(r"```sql\n(.*?)```", (SQL_DIR / "README.md").read_text(), re.DOTALL)


def _run(conn: duckdb.DuckDBPyConnection, query: str) -> list[tuple]:
    # "last week" / "last 30 days" of the fixture, whose days are 2024-06-01 and 2024-06-02
    query = query.replace("current_date", "date '2024-06-03'")
    return conn.execute(query).fetchall()


def test_there_are_seven_examples():
    assert len(QUERIES) == 7


@pytest.mark.parametrize("number", range(len(QUERIES)))
def test_every_example_runs(built_shared, number):
    _run(built_shared, QUERIES[number])


def test_compliance_by_make_last_week(built_shared):
    rows = {r[0]: r[1:] for r in _run(built_shared, QUERIES[0])}
    assert rows["Acme"][:3] == (2, 0.0, 0.0)  # evse_f: ignored both commands
    assert rows["Ohme"][:3] == (5, 3 / 5, 1.0)  # evse_c and evse_d
    assert next(iter(rows)) == "Acme"  # the worst compliance first
    assert rows["Acme"][-1] is True  # day 2 is still provisional


def test_evses_whose_commands_never_take(built_shared):
    assert [r[0] for r in _run(built_shared, QUERIES[1])] == ["evse_f"]


def test_late_arrival_by_integration(built_shared):
    rows = {r[0]: r[1:] for r in _run(built_shared, QUERIES[2])}
    assert rows["Acme"][2] == 600.0  # evse_f uploads 10 minutes late
    assert rows["Wallbox"][4] == 7200.0  # one sample 2 hours late
    assert next(iter(rows)) == "Hypervolt"  # 3 hours late, the latest first


def test_fleet_reporting(built_shared):
    rows = _run(built_shared, QUERIES[3])
    assert [r[1:3] for r in rows] == [(5, 5), (7, 5)]  # evse_e and evse_g silent on day 2
    assert [r[4] for r in rows] == [False, True]


def test_failures_by_side(built_shared):
    rows = {r[:2]: r[2:4] for r in _run(built_shared, QUERIES[4])}
    # day 2's attempts are provisional: only day 1's count, where cars (full, capped) failed
    assert rows[("Ohme", "Home Pro")] == (0, 1)  # cmd-16
    assert rows[("EO", "Mini")] == (0, 1)  # cmd-15
    assert ("Acme", "Volt 1") not in rows  # its failures are all on provisional day 2


def test_freshness_and_runs(built_shared):
    fresh = {r[0]: r[1:] for r in _run(built_shared, QUERIES[5])}
    assert fresh["status_logs"][:2] == (48, "sampled_at")
    assert fresh["evses"][1] is None
    assert _run(built_shared, QUERIES[6]) == []  # the fixture has no run history
