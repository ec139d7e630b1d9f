"""bench.models at a tiny size: the raw contract, the tests pass on its data, and
the nightly benchmark builds its new day incrementally."""

from __future__ import annotations

import duckdb

from bench.models import bench_models, bench_nightly
from pipelines.transform import STATE_TABLE
from tests.sql.conftest import RAW_DDL

TABLES = ("evses", "status_logs", "charging_sub_sessions", "dispatcher_logs", "evse_command_logs")


def _schema(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute(f"describe evenergy.{table}").fetchall()]


def test_bench_generates_the_raw_contract_and_builds(tmp_path):
    figures = bench_models(20_000, 1_000, 50, db_path=tmp_path / "bench.duckdb")
    assert figures["status_logs"] == 20_000 and figures["dispatches"] == 1_000
    assert figures["row_counts"]["dispatch_effectiveness"] == 1_000
    assert min(figures[k] for k in ("generate_seconds", "build_seconds")) >= 0
    with duckdb.connect() as contract:
        contract.execute(RAW_DDL)
        expected = {t: _schema(contract, t) for t in TABLES}
    with duckdb.connect(str(tmp_path / "bench.duckdb")) as conn:
        assert {t: _schema(conn, t) for t in TABLES} == expected
        outcomes = dict(
            conn.execute(
                "select outcome, count(*) from analytics.dispatch_effectiveness group by all"
            ).fetchall()
        )
        # about 20 % of the dispatches land on a sample every 5 minutes that flips
        assert {"not_sent", "effective", "no_response"} <= outcomes.keys()
        duplicates = conn.execute(
            "select count(*) - count(distinct (evse_id, sampled_at)) from evenergy.status_logs"
        ).fetchall()
        assert duplicates[0][0] > 0  # re-loaded samples for staging to deduplicate


def test_bench_nightly_adds_one_day_incrementally(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    figures = bench_nightly(3, n_evses=4, db_path=path)
    assert figures["status_logs"] == 4 * 288 * 4
    assert figures["nightly_build_seconds"] > 0
    with duckdb.connect(str(path)) as conn:
        assert conn.execute(f"select since_load_id from {STATE_TABLE}").fetchall() != [(None,)]
        days = conn.execute(
            "select count(distinct date) from analytics.evse_reporting_health"
        ).fetchall()
        assert days == [(4,)]  # the history and the new day
        dispatches = conn.execute("select count(*) from evenergy.dispatcher_logs").fetchall()
    assert figures["row_counts"]["dispatch_effectiveness"] == dispatches[0][0]
