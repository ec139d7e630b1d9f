"""Hand-built analytics tables for the report, with the columns of the model contract.

The report reads only schema `analytics`; these fixtures create its eight models as plain
tables with the contract's columns (briefs/contract.md: dispatch_effectiveness, the daily
marts, evse_dispatch_effectiveness, evse_reporting_health, daily_fleet_reporting,
table_freshness, pipeline_runs), filled from a seeded generator with the cases the report must
get right built in: an EVSE with no make or model, a make whose compliance is never measurable
on a day (a null rate), an EVSE created part-way, one silent for a whole day, and a
provisional last day. The daily and per-EVSE marts are aggregated here from the fixture's own
dispatch facts, so a chart can be checked against the facts with a query of its own.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

DAY0 = dt.date(2026, 1, 5)

# (make, model, share of commands complied, share of complied that reach the target)
MODELS: tuple[tuple[str | None, str | None, float, float], ...] = (
    ("Wallbox", "Pulsar Plus", 0.92, 0.9),
    ("Wallbox", "Commander 2", 0.85, 0.8),
    ("myenergi", "zappi v2", 0.95, 0.93),
    ("Easee", "One", 0.7, 0.85),
    ("Ohme", "Home Pro", 0.88, 0.6),
    (None, None, 0.8, 0.8),
)

_COUNTS = ", ".join(
    f"{name} bigint"
    for name in (
        "count_attempts",
        "count_sent",
        "count_not_sent",
        "count_no_telemetry",
        "count_effective",
        "count_no_response",
        "count_no_target",
        "count_compliance_unknown",
        "count_complied",
        "count_not_complied",
        "count_target_no_telemetry",
        "count_target_held",
        "count_target_reached",
        "count_target_not_reached",
        "count_charger_failures",
        "count_vehicle_failures",
    )
)
_RATES = "effectiveness_rate double, compliance_rate double, target_success_rate double"

DDL = f"""
create schema if not exists analytics;
create table analytics.dispatch_effectiveness (
    charging_sub_session_id varchar, internal_command_id varchar, logged_at timestamptz,
    date date, evse_id varchar, device_type varchar, make_name varchar, model_name varchar,
    is_sent boolean, outcome varchar, response_seconds double, compliance varchar,
    compliance_seconds double, target_outcome varchar, target_response_seconds double,
    failure_side varchar, is_provisional boolean);
create table analytics.daily_dispatch_effectiveness (
    date date, device_type varchar, {_COUNTS}, {_RATES}, count_fleet_evses bigint,
    count_reporting_evses bigint, share_reporting double, is_provisional boolean);
create table analytics.daily_dispatch_effectiveness_by_make (
    date date, device_type varchar, make_name varchar, {_COUNTS}, {_RATES},
    is_provisional boolean);
create table analytics.evse_dispatch_effectiveness (
    evse_id varchar, cpid varchar, make_name varchar, model_name varchar, {_COUNTS}, {_RATES},
    first_attempt_at timestamptz, last_attempt_at timestamptz);
create table analytics.evse_reporting_health (
    evse_id varchar, date date, count_samples bigint, make_name varchar, model_name varchar,
    max_gap_seconds double, median_upload_delay_seconds double, is_provisional boolean);
create table analytics.daily_fleet_reporting (
    date date, count_fleet_evses bigint, count_reporting_evses bigint, share_reporting double,
    is_provisional boolean);
create table analytics.table_freshness (
    table_name varchar, count_rows bigint, freshness_column varchar, newest_at timestamptz,
    last_loaded_at timestamptz);
create table analytics.pipeline_runs (
    run_id varchar, started_at timestamptz, ended_at timestamptz, exit_code integer,
    outcome varchar, stop_reason varchar, requests bigint, rows_loaded bigint,
    rows_by_table varchar, load_ids varchar, models_seconds double, duration_seconds double);
"""

_SUMS = """
    count(*) as count_attempts,
    count(*) filter (where is_sent) as count_sent,
    count(*) filter (where outcome = 'not_sent') as count_not_sent,
    count(*) filter (where outcome = 'no_telemetry') as count_no_telemetry,
    count(*) filter (where outcome = 'effective') as count_effective,
    count(*) filter (where outcome = 'no_response') as count_no_response,
    count(*) filter (where compliance = 'no_target') as count_no_target,
    count(*) filter (where compliance = 'unknown') as count_compliance_unknown,
    count(*) filter (where compliance = 'complied') as count_complied,
    count(*) filter (where compliance = 'not_complied') as count_not_complied,
    count(*) filter (where target_outcome = 'no_telemetry') as count_target_no_telemetry,
    count(*) filter (where target_outcome = 'held') as count_target_held,
    count(*) filter (where target_outcome = 'reached') as count_target_reached,
    count(*) filter (where target_outcome = 'not_reached') as count_target_not_reached,
    count(*) filter (where failure_side = 'charger') as count_charger_failures,
    count(*) filter (where failure_side = 'vehicle') as count_vehicle_failures,
    count_effective / nullif(count_effective + count_no_response, 0) as effectiveness_rate,
    count_complied / nullif(count_complied + count_not_complied, 0) as compliance_rate,
    (count_target_reached + count_target_held)
        / nullif(count_target_reached + count_target_held + count_target_not_reached, 0)
        as target_success_rate
"""

MARTS = f"""
insert into analytics.daily_dispatch_effectiveness by name
select date, device_type, {_SUMS}, bool_or(is_provisional) as is_provisional
from analytics.dispatch_effectiveness group by date, device_type;
update analytics.daily_dispatch_effectiveness d
set count_fleet_evses = f.count_fleet_evses, count_reporting_evses = f.count_reporting_evses,
    share_reporting = f.share_reporting
from analytics.daily_fleet_reporting f where f.date = d.date;
insert into analytics.daily_dispatch_effectiveness_by_make by name
select date, device_type, coalesce(make_name, '(unknown)') as make_name, {_SUMS},
    bool_or(is_provisional) as is_provisional
from analytics.dispatch_effectiveness group by all;
insert into analytics.evse_dispatch_effectiveness by name
select evse_id, 'CP-' || evse_id as cpid, any_value(make_name) as make_name,
    any_value(model_name) as model_name, {_SUMS},
    min(logged_at) as first_attempt_at, max(logged_at) as last_attempt_at
from analytics.dispatch_effectiveness group by evse_id;
"""


@dataclass(frozen=True)
class FixtureSize:
    """How big a fixture warehouse is: EVSEs, days and dispatches per EVSE per day."""

    evses: int = 12
    days: int = 5
    dispatches_per_day: int = 3


def build_fixture_warehouse(
    database: Path, size: FixtureSize = FixtureSize(), seed: int = 7
) -> Path:
    """Create a DuckDB file whose schema `analytics` holds the contract's models, filled.

    Args:
        database: the file to create (must not exist).
        size: fleet size, days and dispatch rate.
        seed: the generator's seed (the same seed gives the same warehouse).

    Returns:
        `database`.
    """
    rng = random.Random(seed)
    evses = [_evse(index) for index in range(size.evses)]
    last_day = DAY0 + dt.timedelta(days=size.days - 1)
    with duckdb.connect(str(database)) as conn:
        conn.execute(DDL)
        conn.register("health", _health(evses, size, rng))
        conn.execute("insert into analytics.evse_reporting_health by name select * from health")
        conn.execute(
            """insert into analytics.daily_fleet_reporting by name
            select date, count(*) as count_fleet_evses,
                count(*) filter (where count_samples > 0) as count_reporting_evses,
                count_reporting_evses / count(*) as share_reporting,
                bool_or(is_provisional) as is_provisional
            from analytics.evse_reporting_health group by date"""
        )
        conn.register("dispatches", _dispatches(evses, size, rng))
        conn.execute(
            "insert into analytics.dispatch_effectiveness by name select * from dispatches"
        )
        conn.execute(MARTS)
        _header_rows(conn, last_day)
    return database


def _evse(index: int) -> tuple[str, str | None, str | None, float, float]:
    make, model, comply, reach = MODELS[index % len(MODELS)]
    return (f"evse-{index:04d}", make, model, comply, reach)


def _first_day(index: int, size: FixtureSize) -> int:
    """EVSE 1 joins the fleet part-way (on the middle day); the others on day 0."""
    return size.days // 2 if index == 1 else 0


def _health(evses: list, size: FixtureSize, rng: random.Random) -> pa.Table:
    rows: list[dict] = []
    for index, (evse_id, make, model, _, _) in enumerate(evses):
        for day in range(_first_day(index, size), size.days):
            silent = (index == 2 and day == 1) or rng.random() < 0.08  # EVSE 2: offline day 1
            rows.append(
                {
                    "evse_id": evse_id,
                    "date": DAY0 + dt.timedelta(days=day),
                    "count_samples": 0 if silent else rng.randint(200, 288),
                    "make_name": make,
                    "model_name": model,
                    "max_gap_seconds": None if silent else rng.uniform(300, 4000),
                    "median_upload_delay_seconds": None if silent else rng.uniform(5, 90),
                    "is_provisional": day == size.days - 1,
                }
            )
    return pa.Table.from_pylist(rows)


def _dispatches(evses: list, size: FixtureSize, rng: random.Random) -> pa.Table:
    rows: list[dict] = []
    for index, (evse_id, make, model, comply, reach) in enumerate(evses):
        for day in range(_first_day(index, size), size.days):
            for k in range(size.dispatches_per_day):
                logged_at = dt.datetime.combine(DAY0 + dt.timedelta(days=day), dt.time(), dt.UTC)
                logged_at += dt.timedelta(minutes=rng.randint(0, 1439))
                row = _dispatch(rng, comply, reach)
                # Ohme on day 0: never measurable for compliance, so its rate is null there.
                if make == "Ohme" and day == 0:
                    row.update(
                        compliance="no_target",
                        target_outcome="no_target",
                        failure_side=None,
                        compliance_seconds=None,
                    )
                row.update(
                    charging_sub_session_id=f"{evse_id}-s{day}",
                    internal_command_id=f"{evse_id}-{day}-{k}",
                    logged_at=logged_at,
                    date=logged_at.date(),
                    evse_id=evse_id,
                    device_type="evse" if k % 3 else "vehicle",
                    make_name=make,
                    model_name=model,
                    is_provisional=day == size.days - 1,
                )
                rows.append(row)
    return pa.Table.from_pylist(rows)


def _dispatch(rng: random.Random, comply: float, reach: float) -> dict:
    """One dispatch's measures; failure_side follows sql/README.md's definition."""
    if rng.random() < 0.05:
        return {
            "is_sent": False,
            "outcome": "not_sent",
            "compliance": "not_sent",
            "target_outcome": "not_sent",
            "failure_side": None,
            "response_seconds": None,
            "compliance_seconds": None,
            "target_response_seconds": None,
        }
    complied = rng.random() < comply
    reached = complied and rng.random() < reach
    effective = rng.random() < (0.9 if complied else 0.3)
    return {
        "is_sent": True,
        "outcome": "effective" if effective else "no_response",
        "response_seconds": rng.uniform(20, 600) if effective else None,
        "compliance": "complied" if complied else "not_complied",
        "compliance_seconds": rng.lognormvariate(4.5, 0.6) if complied else None,
        # a charger already at the target "holds" it; both count as target success
        "target_outcome": ("held" if rng.random() < 0.3 else "reached")
        if reached
        else "not_reached",
        "target_response_seconds": rng.uniform(60, 900) if reached else None,
        "failure_side": None if reached else "charger" if not complied else "vehicle",
    }


def _header_rows(conn: duckdb.DuckDBPyConnection, last_day: dt.date) -> None:
    through = dt.datetime.combine(last_day, dt.time(23, 55), dt.UTC)
    loaded = through + dt.timedelta(hours=3)
    conn.executemany(
        "insert into analytics.table_freshness values (?, ?, ?, ?, ?)",
        [
            ("charging_sub_sessions", 900, "started_at", through, loaded),
            ("dispatcher_logs", 1200, "logged_at", through, loaded),
            ("evses", 40, None, None, loaded),
            ("status_logs", 250_000, "sampled_at", through, loaded),
        ],
    )
    conn.executemany(
        "insert into analytics.pipeline_runs (run_id, started_at, ended_at, exit_code, outcome,"
        " stop_reason, requests, rows_loaded, duration_seconds) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                "run-1",
                loaded - dt.timedelta(days=1),
                loaded - dt.timedelta(days=1, minutes=-20),
                0,
                "complete",
                None,
                310,
                50_000,
                1200.0,
            ),
            (
                "run-2",
                loaded,
                loaded + dt.timedelta(minutes=42),
                3,
                "partial",
                "deadline reached",
                980,
                61_000,
                2520.0,
            ),
        ],
    )
