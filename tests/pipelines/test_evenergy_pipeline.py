"""The pipeline against the simulator over real HTTP: exact row sets, incremental runs,
late rows, new EVSEs, minimum requests, state that survives a lost working directory."""

from __future__ import annotations

import math
import shutil
from datetime import datetime, timedelta

import duckdb

from pipelines.evenergy.parsing import parse_timestamp
from pipelines.evenergy.settings import MANAGED_MODES
from pipelines.evenergy.tables import raw_tables_ddl
from tests.pipelines.conftest import START, Harness
from tests.pipelines.expected import assert_warehouse_matches, expected_rows, warehouse_rows


def _minimum_requests(
    harness: Harness, new_status_rows: dict[str, int] | None = None
) -> dict[str, int]:
    """Fewest requests a run can make: the listing pages, and one request per page of 100 per
    partition (at least one: a partition cannot be known to be unchanged without asking)."""
    world, now = harness.simulator.world, harness.simulator.clock.now()
    evses = world.evses(now)
    ongoing_managed = [
        s for s in world.sub_sessions(now) if s["end"] is None and s["mode"] in MANAGED_MODES
    ]
    status = sum(max(1, math.ceil((new_status_rows or {}).get(e["id"], 0) / 100)) for e in evses)
    return {
        "evses": math.ceil(len(evses) / 100) or 1,
        "status_logs": status,
        "evse_command_logs": len(evses),
        "charging_sub_sessions": 2,  # ongoing listing + ended listing, one page each here
        "dispatcher_logs": len(ongoing_managed),
    }


def test_first_run_loads_exactly_what_the_simulator_exposes(harness: Harness):
    outcome = harness.run()
    assert not outcome.report.partial, outcome.report.errors
    assert_warehouse_matches(harness.database, expected_rows(harness.simulator, START))


def _late_rows(harness: Harness, first: datetime, second: datetime) -> set[tuple[str, datetime]]:
    """Ground truth: rows visible at `second` but not at `first` although sampled before the
    newest row of their EVSE that was visible at `first` (out-of-order uploads)."""
    world, late = harness.simulator.world, set()
    for evse in world.evses(first):
        before = {parse_timestamp(r["sampled_at"]) for r in world.status_logs(evse["id"], first)}
        for row in world.status_logs(evse["id"], second):
            sampled_at = parse_timestamp(row["sampled_at"])
            if before and sampled_at not in before and sampled_at < max(before):
                late.add((evse["id"], sampled_at))
    return late


def _moment_with_late_rows(harness: Harness, gap: timedelta) -> datetime:
    """The first whole hour after which the next `gap` brings out-of-order late rows."""
    for hours in range(24, 72):
        moment = START + timedelta(hours=hours)
        if _late_rows(harness, moment, moment + gap):
            return moment
    raise AssertionError("the simulated fleet has no out-of-order uploads to test with")


def test_second_run_loads_new_and_late_rows_once(harness: Harness):
    gap = timedelta(hours=20)
    first = _moment_with_late_rows(harness, gap)
    harness.simulator.clock.set(first)
    harness.run()
    harness.simulator.clock.set(first + gap)

    outcome = harness.run()

    assert not outcome.report.partial, outcome.report.errors
    assert_warehouse_matches(harness.database, expected_rows(harness.simulator, START))
    loaded = {(row[0], row[1]) for row in warehouse_rows(harness.database)["status_logs"]}
    assert _late_rows(harness, first, first + gap) <= loaded


def test_without_the_lookback_late_rows_are_lost(harness: Harness):
    """The control for the test above: the late rows are real, and the lookback is what
    catches them."""
    gap = timedelta(hours=20)
    first = _moment_with_late_rows(harness, gap)
    harness.simulator.clock.set(first)
    harness.run(lookback="0s")
    harness.simulator.clock.set(first + gap)
    harness.run(lookback="0s")

    loaded = {(row[0], row[1]) for row in warehouse_rows(harness.database)["status_logs"]}
    assert _late_rows(harness, first, first + gap) - loaded


def test_new_evse_is_backfilled(harness: Harness):
    world, day = harness.simulator.world, timedelta(days=1)
    ids = lambda moment: {e["id"] for e in world.evses(moment)}  # noqa: E731

    def joiners_with_logs(moment: datetime) -> set[str]:
        later = moment + day
        return {e for e in ids(later) - ids(moment) if world.status_logs(e, later)}

    first = next(
        (
            START + timedelta(hours=h)
            for h in range(6, 72)
            if joiners_with_logs(START + timedelta(hours=h))
        ),
        None,
    )
    assert first is not None, "the simulated fleet should grow at some point"
    harness.simulator.clock.set(first)
    harness.run()
    harness.simulator.clock.set(first + day)
    joined = joiners_with_logs(first)

    harness.run()

    assert_warehouse_matches(harness.database, expected_rows(harness.simulator, START))
    with duckdb.connect(str(harness.database), read_only=True) as conn:
        for evse_id in joined:
            (count,) = conn.execute(
                "select count(*) from evenergy.status_logs where evse_id = ?", [evse_id]
            ).fetchone()
            assert count == len(world.status_logs(evse_id, first + day)) > 0


def test_run_with_nothing_new_makes_only_the_minimum_requests(harness: Harness):
    harness.run()
    harness.simulator.clock.advance(timedelta(seconds=1))  # the API's clock moved
    outcome = harness.run()
    assert outcome.budget_requests() == _minimum_requests(harness)
    assert_warehouse_matches(harness.database, expected_rows(harness.simulator, START))


def test_a_run_at_the_moment_the_last_one_read_makes_no_request(harness: Harness):
    """The API's clock (its `Date`) has not moved since the last run read everything:
    nothing can be new, and nothing is read twice (issue 12: re-reads of live edges were
    most of the excess at 10,000 EVSEs)."""
    first = harness.run()
    outcome = harness.run()
    assert sum(first.budget_requests().values()) > 0
    assert sum(outcome.budget_requests().values()) == 0, outcome.budget_requests()
    assert not outcome.report.partial, outcome.report.errors
    progress = outcome.report.progress
    assert progress["status_logs"].complete == progress["status_logs"].total > 0
    assert_warehouse_matches(harness.database, expected_rows(harness.simulator, START))


def test_watermarks_survive_a_lost_working_directory(harness: Harness):
    harness.run()
    harness.simulator.clock.advance(timedelta(seconds=1))
    shutil.rmtree(harness.pipelines_dir)

    outcome = harness.run()  # dlt restores its state from the warehouse

    assert outcome.budget_requests() == _minimum_requests(harness)
    assert_warehouse_matches(harness.database, expected_rows(harness.simulator, START))


def test_timestamps_land_as_timestamptz_and_null_columns_exist(harness: Harness):
    harness.run()
    with duckdb.connect(str(harness.database), read_only=True) as conn:
        types = dict(
            conn.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'evenergy' and table_name = 'dispatcher_logs'"
            ).fetchall()
        )
    assert types["logged_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["reason_not_sent"] == "VARCHAR"


def test_loaded_tables_match_the_declared_raw_contract(harness: Harness):
    """The fixtures and the model benchmark build raw tables from `raw_tables_ddl`: the
    load must create exactly those columns and types (and may add none for known fields)."""
    harness.run()
    query = (  # bookkeeping tables (dlt's, the run history) start with an underscore
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'evenergy' and table_name not like '\\_%' escape '\\'"
    )
    with duckdb.connect() as contract:
        contract.execute(raw_tables_ddl())
        declared = set(contract.execute(query).fetchall())
    with duckdb.connect(str(harness.database), read_only=True) as conn:
        loaded = set(conn.execute(query).fetchall())
    assert declared == loaded
