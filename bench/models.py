"""Benchmark the SQL models on synthetic raw tables of a chosen size.

Generates the raw ``evenergy`` tables inside DuckDB (``range``, ``hash``, ``random``), with
the loader's exact column names and types: every EVSE samples about every 5 minutes, sub-
sessions last 2-8 hours, dispatches fall inside sub-sessions (10 per sub-session) and every
sent EVSE-bound dispatch has its command log. About 0.1 % of status logs arrive twice (a later
load), as the loader's lookback makes them. Then times the dbt build (models and tests):
``bench_models`` a full build at a given size, ``bench_nightly`` the nightly incremental
build of one new day on top of a given history.

``time_synthetic_models`` and ``time_nightly_models`` run them inside a worker process
(``bench.process.RUNNERS``).

``bench_lake`` compares the lake with the file on the same synthetic tables (``LAKE_DOC``).

``model_scenarios`` are the models scenarios of a benchmark run, each measured in a child
process: ``bench_models`` at the reference and the large size, the nightly build on a short
and a long history, and the lake against the file at the reference size (not in ``--quick``).

``python -m bench.models [N_STATUS_LOGS [N_DISPATCHES]]`` runs a small size;
``python -m bench.models lake [--status-logs N --dispatches N --evses N]`` the lake against
the file alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from bench.config import BenchSizes
from bench.process import guarded, models_record, peak_rss_mb
from pipelines import lake
from pipelines.evenergy.tables import raw_tables_ddl
from pipelines.lake_models import publish
from pipelines.models import DEFAULT_PARAMS, build_database, lookback
from pipelines.project import environment
from pipelines.transform import invoke, work_dir
from pipelines.warehouse import RAW_SCHEMA

logger = logging.getLogger(__name__)

MEMORY_LIMIT = "4GB"
HISTORY_MEMORY_LIMIT = "6GB"
DISPATCHES_PER_SUB_SESSION = 10

_RAW_DDL = raw_tables_ddl()  # the raw tables exactly as the load declares them

# the rows, inserted by column name into the tables above
_GENERATE = """
insert into evenergy.evses by name
select
    'evse' || lpad(cast(e as varchar), 26, '0') as id,
    'https://api.ev.energy/v2/evses/evse' || lpad(cast(e as varchar), 26, '0') as url,
    'CP' || cast(e as varchar) as cpid,
    'emod' || cast(e % 12 as varchar) as model_id,
    'model ' || cast(e % 12 as varchar) as model_name,
    'emak' || cast(e % 6 as varchar) as make_id,
    ['Zappi', 'Wallbox', 'Ohme', 'EO', 'Hypervolt', 'Easee'][e % 6 + 1] as make_name,
    'user' || cast(e as varchar) as user_id,
    'SMART' as lock_mode,
    'COMMISSIONED' as lifecycle_state,
    51.0 + random() as location__latitude,
    -1.0 + random() as location__longitude,
    cast(null as varchar) as ct_clamp,
    cast(null as varchar) as latest_status_log,
    '1717200000.000001' as _dlt_load_id,
    cast(e as varchar) as _dlt_id,
from range(getvariable('n_evses')) as evses(e);

insert into evenergy.status_logs by name
with samples as (
    select
        k % getvariable('n_evses') as e,
        k // getvariable('n_evses') as i,
        k,
        hash(k % getvariable('n_evses'), k // getvariable('n_evses') // 12) % 3 = 0
            as charging,
        hash(k) % 100 as roll,
    from range(getvariable('n_status_logs')) as samples(k)
)
select
    'evse' || lpad(cast(e as varchar), 26, '0') as evse_id,
    getvariable('t0') + to_seconds(i * 300 + e % 300 + hash(k) % 30) as sampled_at,
    getvariable('t0') + to_seconds(i * 300 + e % 300 + hash(k) % 30 + 20 + roll * roll)
        as logged_at,
    cast(null as varchar) as url,
    true as is_plugged_in,
    case when roll < 2 then null else charging end as is_charging,
    case when roll < 2 then null when charging then 3000 + hash(e, i // 12) % 4400 else 0 end
        as charge_rate_watts,
    cast(null as bigint) as export_power_watts,
    case when charging then 'C' else 'B' end as control_pilot_status,
    cast(i * 500 as bigint) as meter_reading_watt_hours,
    case when roll < 5 then null else charging or roll < 20 end as is_enabled,
    cast(6000 + hash(e, i // 12) % 26 * 1000 as bigint) as max_current_rating_milliamps,
    cast(32000 as bigint) as cable_current_rating_milliamps,
    cast(-60 - roll % 30 as bigint) as signal_strength_rssi_dbm,
    cast(null as bigint) as inlet_power_watts,
    case when roll < 10 then null else 225000 + hash(k) % 20000 end as voltage_millivolts,
    cast(null as bigint) as state_of_charge_percentage,
    case when charging then 'Charge' else 'Idle' end as mode,
    -- one load a day, named as dlt names them (the epoch second it started): a night's
    -- loads differ in the first 8 characters, which DuckDB's zone maps keep of a string
    cast(1717200000 + i // 288 * 86400 as varchar) || '.000001' as _dlt_load_id,
    cast(k as varchar) as _dlt_id,
from samples;

-- the loader's lookback re-reads recent samples: about 0.1 % arrive again in the next load
insert into evenergy.status_logs
select * replace (
    cast(cast(split_part(_dlt_load_id, '.', 1) as bigint) + 86400 as varchar) || '.000001'
        as _dlt_load_id,
    _dlt_id || 'r' as _dlt_id
)
from evenergy.status_logs
where hash(_dlt_id) % 1000 = 0;

insert into evenergy.charging_sub_sessions by name
with sessions as (
    select
        s,
        hash(s) % 20 = 0 as is_vehicle_only,
        getvariable('t0') + to_seconds(hash(s, 'start') % getvariable('span_seconds'))
            as started_at,
        7200 + hash(s, 'duration') % 21600 as duration_seconds,
    from range(getvariable('n_sub_sessions')) as sessions(s)
)
select
    'csub' || lpad(cast(s as varchar), 26, '0') as id,
    cast(null as varchar) as url,
    started_at as start,
    started_at + to_seconds(duration_seconds) as "end",
    case when is_vehicle_only then 'MANAGED_OTG' else 'SMART' end as mode,
    case
        when not is_vehicle_only
            then 'evse' || lpad(cast(s % getvariable('n_evses') as varchar), 26, '0')
    end as evse_id,
    'vhcl' || cast(s as varchar) as vehicle_id,
    cast(duration_seconds as bigint) as energy_delivered_watt_hours,
    cast(duration_seconds // 100 as bigint) as cost,
    'GBP' as currency,
    30.0 as percentage_added,
    cast(10 as bigint) as savings_cost,
    cast(100 as bigint) as savings_co2_grams,
    cast(0 as bigint) as incentive_earned,
    cast(1000 as bigint) as total_co2_grams,
    cast(150 as bigint) as co2_intensity_grams_per_kilowatt_hour,
    'moderate' as co2_intensity_classification,
    cast(25 as bigint) as cost_per_kilowatt_hour,
    cast(10 as bigint) as total_points,
    cast(0 as bigint) as total_points_missed,
    cast(duration_seconds // 60 as bigint) as duration_minutes,
    cast(duration_seconds as bigint) as grid_energy_delivered_watt_hours,
    cast(0 as bigint) as solar_energy_delivered_watt_hours,
    'OFF' as solar_mode_type,
    'Home' as location__name,
    'AB1 2CD' as location__postal_code,
    '1 Street' as location__address_1,
    'Europe/London' as location__timezone,
    51.5 as location__coordinates__latitude,
    -0.1 as location__coordinates__longitude,
    '1717200000.000001' as _dlt_load_id,
    cast(s as varchar) as _dlt_id,
from sessions;

insert into evenergy.dispatcher_logs by name
with dispatches as (
    select
        k,
        k % getvariable('n_sub_sessions') as s,
        k // getvariable('n_sub_sessions') as j,
    from range(getvariable('n_dispatches')) as dispatches(k)
)
select
    sub_sessions.id as charging_sub_session_id,
    cast(uuid() as varchar) as internal_command_id,
    sub_sessions.start + to_seconds(
        epoch(sub_sessions."end" - sub_sessions.start) * (dispatches.j + 0.5)
        / {dispatches_per_sub_session} + hash(dispatches.k) % 60
    ) as logged_at,
    case
        when sub_sessions.evse_id is null or hash(dispatches.s, 'device') % 10 = 0
            then 'VEHICLE'
        else 'EVSE'
    end as device_type,
    case when hash(dispatches.k, 'sent') % 20 = 0 then 'DEVICE_OFFLINE' end as reason_not_sent,
    sub_sessions.start as schedule_valid_period_start,
    sub_sessions.start - interval 5 minute as schedule_created_at,
    '1717200000.000001' as _dlt_load_id,
    cast(dispatches.k as varchar) as _dlt_id,
from dispatches
inner join evenergy.charging_sub_sessions as sub_sessions
    on sub_sessions._dlt_id = cast(dispatches.s as varchar);

insert into evenergy.evse_command_logs by name
select
    sub_sessions.evse_id,
    dispatcher_logs.logged_at + to_seconds(2 + hash(dispatcher_logs._dlt_id) % 1000 / 1000.0)
        as logged_at,
    cast(null as varchar) as url,
    dispatcher_logs.internal_command_id,
    hash(dispatcher_logs._dlt_id, 'enable') % 3 > 0 as is_enabled_target,
    cast(6000 + hash(dispatcher_logs._dlt_id, 'amps') % 27 * 1000 as bigint)
        as max_load_target_milliamps,
    false as always_enabled,
    'SCHEDULED_CHARGING' as reason,
    '1717200000.000001' as _dlt_load_id,
    dispatcher_logs._dlt_id,
from evenergy.dispatcher_logs
inner join evenergy.charging_sub_sessions as sub_sessions
    on dispatcher_logs.charging_sub_session_id = sub_sessions.id
where dispatcher_logs.device_type = 'EVSE' and dispatcher_logs.reason_not_sent is null;
"""


def bench_models(
    n_status_logs: int = 20_000_000,
    n_dispatches: int = 1_000_000,
    n_evses: int = 2_000,
    db_path: Path | None = None,
) -> dict[str, Any]:
    """Generate synthetic raw tables, then time a full dbt build (models and tests).

    Args:
        n_status_logs: status logs to generate (before the ~0.1 % re-loaded duplicates).
        n_dispatches: dispatcher logs to generate.
        n_evses: EVSEs the status logs and sub-sessions spread over.
        db_path: the DuckDB file to use (it is overwritten); a temporary file by default.

    Returns:
        Sizes, ``generate_seconds``, ``build_seconds`` (dbt build: models and tests, wall),
        ``build_cpu_seconds``, the tables' row counts and the process's peak resident memory.

    Raises:
        DataCheckError: when a data test fails on the synthetic data.
    """
    with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
        path = db_path or Path(tmp) / "bench.duckdb"
        _remove(path)
        with duckdb.connect(str(path), config={"memory_limit": MEMORY_LIMIT}) as conn:
            generate_seconds = _generate(conn, n_status_logs, n_dispatches, n_evses)
        timings = _build(path, full_refresh=True)
    return {
        "status_logs": n_status_logs,
        "dispatches": n_dispatches,
        "evses": n_evses,
        "generate_seconds": round(generate_seconds, 2),
        **timings,
        "max_rss_megabytes": peak_rss_mb(),
    }


# the raw tables and the time each row belongs to a day by
_DAY_COLUMNS = {
    "status_logs": "sampled_at",
    "dispatcher_logs": "logged_at",
    "evse_command_logs": "logged_at",
    "charging_sub_sessions": "start",
}


def _new_load_id(history_days: int) -> str:
    """The night's load id: after every load of the history and its re-read duplicates."""
    return f"{1717200000 + (history_days + 2) * 86400}.000001"


def bench_nightly(
    history_days: int, n_evses: int = 500, db_path: Path | None = None
) -> dict[str, Any]:
    """Time the nightly build of one new day on top of ``history_days`` days of history.

    Generates ``history_days + 1`` days (a sample every 5 minutes per EVSE, a dispatch per 20
    samples), holds the last day back, builds everything (a full refresh, timed too), then
    loads the last day under a new load id and times the incremental ``build_database``.

    Args:
        history_days: days already built before the night.
        n_evses: the fleet.
        db_path: the DuckDB file to use (overwritten); a temporary file by default.

    Returns:
        Sizes, ``full_build_seconds`` over the history, ``nightly_build_seconds`` of the new
        day and the nightly build's row counts.
    """
    n_status_logs = n_evses * 288 * (history_days + 1)
    import_seconds = _import_dbt()
    with tempfile.TemporaryDirectory(prefix="bench-nightly-") as tmp:
        path = db_path or Path(tmp) / "warehouse.duckdb"
        _remove(path)
        with duckdb.connect(str(path), config={"memory_limit": MEMORY_LIMIT}) as conn:
            generate_seconds = _generate(conn, n_status_logs, n_status_logs // 20, n_evses)
            cut = f"getvariable('t0') + interval {history_days} day"
            for table, column in _DAY_COLUMNS.items():
                conn.execute(
                    f"create table main.held_{table} as select * from evenergy.{table} "
                    f'where "{column}" >= {cut}'
                )
                conn.execute(f'delete from evenergy.{table} where "{column}" >= {cut}')
        # the history's full build is set-up, not the measurement: at 365 days x 500 EVSEs
        # (53 M status logs) evse_reporting_health's full refresh runs out of the 2 GB cap
        # (see sql/README.md), so the set-up alone gets more room; the night runs capped
        full = _build(path, full_refresh=True, memory_limit=HISTORY_MEMORY_LIMIT)
        # no config of its own: dbt-duckdb keeps the file open in this process
        with duckdb.connect(str(path)) as conn:
            for table in _DAY_COLUMNS:
                conn.execute(
                    f"insert into evenergy.{table} select * replace "
                    f"('{_new_load_id(history_days)}' as _dlt_load_id) from main.held_{table}"
                )
                conn.execute(f"drop table main.held_{table}")
        nightly = _build(path, full_refresh=False)
        startup = {"dbt_import_seconds": import_seconds, **_startup(path, nightly)}
    return {
        "history_days": history_days,
        "evses": n_evses,
        "status_logs": n_status_logs,
        "generate_seconds": round(generate_seconds, 2),
        "full_build_seconds": full["build_seconds"],
        "nightly_build_seconds": nightly["build_seconds"],
        "nightly_build_cpu_seconds": nightly["build_cpu_seconds"],
        "row_counts": nightly["row_counts"],
        **startup,
    }


def _import_dbt() -> float:
    """Seconds to import dbt and the DuckDB adapter (0 when this process already has)."""
    started = time.perf_counter()
    import dbt.adapters.duckdb
    import dbt.cli.main  # noqa: F401

    return round(time.perf_counter() - started, 2)


def _startup(path: Path, nightly: dict[str, Any]) -> dict[str, Any]:
    """dbt's cost per run on top of the SQL: the nightly build's wall time less its nodes',
    and ``dbt parse`` with the partial-parse cache the builds keep (same vars) and without."""
    results = json.loads((work_dir(path) / "target" / "run_results.json").read_text("utf-8"))
    nodes = sum(float(r["execution_time"]) for r in results["results"])
    variables = {**DEFAULT_PARAMS.variables(), "lookback_seconds": lookback().total_seconds()}
    parse = ["parse", "--vars", json.dumps({**variables, "build_state": True})]
    seconds = {}
    for key, extra in (
        ("parse_partial_seconds", ()),
        ("parse_full_seconds", ("--no-partial-parse",)),
    ):
        started = time.perf_counter()
        invoke(path, *parse, *extra)
        seconds[key] = round(time.perf_counter() - started, 2)
    return {
        "nightly_nodes_seconds": round(nodes, 2),
        "nightly_dbt_overhead_seconds": round(nightly["build_seconds"] - nodes, 2),
        **seconds,
    }


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def _build(path: Path, *, full_refresh: bool, memory_limit: str | None = None) -> dict[str, Any]:
    # CPU seconds (of every DuckDB thread) next to wall seconds, as a shared machine inflates
    # the latter
    cpu = time.process_time()
    limit = {"DESTINATION__DUCKDB__MODELS_MEMORY_LIMIT": memory_limit} if memory_limit else {}
    with environment(limit):
        build = build_database(path, full_refresh=full_refresh)
    return {
        "build_seconds": round(build.seconds, 2),
        "build_cpu_seconds": round(time.process_time() - cpu, 2),
        "row_counts": build.row_counts,
    }


def _generate(
    conn: duckdb.DuckDBPyConnection, n_status_logs: int, n_dispatches: int, n_evses: int
) -> float:
    started = time.perf_counter()
    per_evse = -(-n_status_logs // n_evses)
    variables = {
        "n_evses": n_evses,
        "n_status_logs": n_status_logs,
        "n_dispatches": n_dispatches,
        "n_sub_sessions": max(n_dispatches // DISPATCHES_PER_SUB_SESSION, 1),
        "span_seconds": max(per_evse * 300 - 8 * 3600, 1),
    }
    for name, value in variables.items():
        conn.execute(f"set variable {name} = {int(value)}")
    conn.execute("set variable t0 = timestamptz '2024-05-01 00:00:00+00'")
    conn.execute(_RAW_DDL)
    conn.execute(_GENERATE.format(dispatches_per_sub_session=DISPATCHES_PER_SUB_SESSION))
    seconds = time.perf_counter() - started
    logger.info(
        "generated %d status logs, %d dispatches in %.1f s", n_status_logs, n_dispatches, seconds
    )
    return seconds


def time_synthetic_models(payload: dict[str, Any]) -> dict[str, Any]:
    """Run `bench_models` at the requested size.

    Args:
        payload: `status_logs` and `dispatches`.

    Returns:
        `bench_models`' figures (generate, build and check seconds, mart row counts).
    """
    figures = bench_models(int(payload["status_logs"]), int(payload["dispatches"]))
    logger.info("models over %s status logs: %s", payload["status_logs"], figures)
    return dict(figures)


def time_nightly_models(payload: dict[str, Any]) -> dict[str, Any]:
    """Run `bench_nightly`: one new day on top of `history_days` days of `evses` chargers.

    Args:
        payload: `history_days` and `evses`.

    Returns:
        `bench_nightly`'s figures.
    """
    figures = bench_nightly(int(payload["history_days"]), int(payload["evses"]))
    logger.info("nightly models on %s days: %s", payload["history_days"], figures)
    return dict(figures)


def model_scenarios(sizes: BenchSizes, *, nightly_only: bool = False) -> dict[str, dict[str, Any]]:
    """`bench_models` at the reference size, then at the large size (unless `nightly_only`);
    then the nightly incremental build of one new day on a short and on a long history."""
    results: dict[str, dict[str, Any]] = {}
    runs = () if nightly_only else (
        ("models_reference", sizes.reference_status_logs, sizes.reference_dispatches),
        ("models_synthetic", sizes.models_status_logs, sizes.models_dispatches),
    )  # fmt: skip
    for key, status_logs, dispatches in runs:
        logger.info("models: %d status logs + %d dispatch attempts", status_logs, dispatches)
        payload = {"status_logs": status_logs, "dispatches": dispatches}
        results[key] = guarded(
            f"{_short(status_logs)} + {_short(dispatches)}",
            lambda label: models_record(label, "models_synthetic", payload),  # noqa: B023
        )
        results[key].update(payload)
    for key, days in zip(("models_nightly_short", "models_nightly_long"),
                         sizes.nightly_history_days, strict=True):  # fmt: skip
        logger.info(
            "models: nightly build of one day on %d days x %d EVSEs", days, sizes.nightly_evses
        )
        nightly = {"history_days": days, "evses": sizes.nightly_evses}
        results[key] = guarded(
            f"nightly on {days} d",
            lambda label: models_record(label, "models_nightly", nightly),  # noqa: B023
        )
    # the lake against the file at the reference size (bench_lake); not in --quick:
    # two more dbt builds (~50 s even at 200k status logs) would double the smoke test's time
    if not sizes.quick:
        lake_sizes = {
            "status_logs": sizes.reference_status_logs,
            "dispatches": sizes.reference_dispatches,
        }
        results["lake_vs_file"] = guarded(
            "lake / file", lambda label: models_record(label, "lake_vs_file", lake_sizes)
        )
    return results


def _short(count: int) -> str:
    """1_000_000 -> '1M', 250_000 -> '250k'."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if count >= size:
            return f"{count / size:g}{suffix}"
    return str(count)


def main() -> None:
    """Run a small benchmark and log its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("n_status_logs", type=int, nargs="?", default=500_000)
    parser.add_argument("n_dispatches", type=int, nargs="?")
    parser.add_argument("--evses", type=int, default=2_000)
    args = parser.parse_args()
    n_dispatches = args.n_dispatches or max(args.n_status_logs // 20, 1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    figures = bench_models(args.n_status_logs, n_dispatches, args.evses)
    logger.info("bench: %s", figures)
    for days in (7, 30):
        logger.info("nightly: %s", bench_nightly(days, n_evses=50))


# the lake against the file, as `python -m bench.models lake -h` describes it
LAKE_DOC = """\
The lake against the file: model build and a typical analyst query, as ratios, in one run.

Generates the synthetic raw tables of `bench_models` into a DuckDB file, copies them
into a DuckLake (a SQLite catalog and Parquet files in a temporary directory), then builds the
models on each (a full refresh: `dbt build`, models and tests; on the lake also the publish)
and runs daily compliance by make (`ANALYST_QUERY`) on each: on the file's working warehouse,
on the lake's published views. `lake / file` > 1 means the lake is slower.

`python -m bench.models lake [--status-logs N --dispatches N --evses N]` runs it alone;
`make bench` runs it as the `lake_vs_file` scenario (`model_scenarios`).
"""

# Daily compliance by make: the question the dispatch models exist for, as an analyst asks it
ANALYST_QUERY = """
select
    date,
    make_name,
    count(*) as count_attempts,
    avg(case when compliance = 'complied' then 1.0 else 0.0 end) as complied_share
from analytics.dispatch_effectiveness
where compliance <> 'not_sent'
group by all
order by all
"""
QUERY_REPEATS = 5


def bench_lake(
    n_status_logs: int = 1_000_000, n_dispatches: int = 50_000, n_evses: int = 500
) -> dict[str, Any]:
    """Build the models and run the analyst query on the file and on a lake of the same data.

    Returns:
        Sizes; per side (`file`, `lake`) `build_seconds` and `query_seconds` (the median of
        `QUERY_REPEATS`); `build_ratio` and `query_ratio` (lake / file); the query's row count.
    """
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as tmp:
        file = Path(tmp) / "warehouse.duckdb"
        with duckdb.connect(str(file), config={"memory_limit": MEMORY_LIMIT}) as conn:
            _generate(conn, n_status_logs, n_dispatches, n_evses)
        with _lake_settings(Path(tmp)):
            the_lake = lake.resolve_lake()
            copy_seconds = _copy_raw(file, the_lake)
            sides = {"file": _measure(file), "lake": _measure(the_lake)}
    if sides["file"]["query_rows"] != sides["lake"]["query_rows"]:
        raise RuntimeError(f"the analyst query differs: {sides}")
    result: dict[str, Any] = {
        "status_logs": n_status_logs,
        "dispatches": n_dispatches,
        "evses": n_evses,
        "lake_copy_seconds": round(copy_seconds, 2),
        **sides,
    }
    for figure in ("build", "query"):
        seconds = [sides[side][f"{figure}_seconds"] for side in ("lake", "file")]
        result[f"{figure}_ratio"] = round(seconds[0] / seconds[1], 2) if seconds[1] else None
    return result


def time_lake_vs_file(payload: dict[str, Any]) -> dict[str, Any]:
    """The bench worker's entry (`bench.process.RUNNERS["lake_vs_file"]`)."""
    return bench_lake(
        int(payload["status_logs"]), int(payload["dispatches"]), int(payload.get("evses", 500))
    )


def _measure(warehouse: lake.Warehouse) -> dict[str, Any]:
    started = time.perf_counter()
    build_database(warehouse, full_refresh=True)
    if isinstance(warehouse, lake.Lake):
        publish(warehouse)  # part of the lake's build: what readers then see
    build_seconds = time.perf_counter() - started
    timings, rows = [], 0
    with lake.connect_warehouse(warehouse, read_only=True) as conn:
        for _ in range(QUERY_REPEATS):
            began = time.perf_counter()
            rows = len(conn.execute(ANALYST_QUERY).fetchall())
            timings.append(time.perf_counter() - began)
    return {
        "build_seconds": round(build_seconds, 2),
        "query_seconds": round(statistics.median(timings), 4),
        "query_rows": rows,
    }


def _copy_raw(file: Path, the_lake: lake.Lake) -> float:
    """Copy the raw schema of `file` into the lake (one snapshot)."""
    started = time.perf_counter()
    with lake.connect(the_lake, read_only=False) as conn:
        conn.execute(f"attach '{file}' as source (read_only)")
        tables = conn.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = 'source' and table_schema = ?",
            [RAW_SCHEMA],
        ).fetchall()
        conn.execute(f"create schema if not exists {RAW_SCHEMA}")
        conn.execute("begin")
        for (table,) in tables:
            conn.execute(
                f'create table {RAW_SCHEMA}."{table}" as '
                f'select * from source.{RAW_SCHEMA}."{table}"'
            )
        conn.execute("commit")
    return time.perf_counter() - started


@contextmanager
def _lake_settings(directory: Path) -> Iterator[None]:
    """dlt's ducklake settings for a lake in `directory`, as the environment gives them."""
    settings = {
        "DESTINATION__DUCKLAKE__CREDENTIALS__CATALOG": f"sqlite:///{directory / 'catalog.sqlite'}",
        "DESTINATION__DUCKLAKE__CREDENTIALS__STORAGE__BUCKET_URL": str(directory / "data"),
    }
    with environment(settings):
        yield


def lake_main(argv: list[str] | None = None) -> None:
    """`python -m bench.models lake`: run the comparison once and log its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.models lake", description=LAKE_DOC)
    parser.add_argument("--status-logs", type=int, default=1_000_000)
    parser.add_argument("--dispatches", type=int, default=50_000)
    parser.add_argument("--evses", type=int, default=500)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    result = bench_lake(args.status_logs, args.dispatches, args.evses)
    for side in ("file", "lake"):
        figures = result[side]
        logger.info(
            "%s: build %.1f s, query %.3f s (%d rows)",
            side,
            figures["build_seconds"],
            figures["query_seconds"],
            figures["query_rows"],
        )
    logger.info("lake / file: build x%s, query x%s", result["build_ratio"], result["query_ratio"])


if __name__ == "__main__":
    if sys.argv[1:2] == ["lake"]:
        lake_main(sys.argv[2:])
    else:
        main()
