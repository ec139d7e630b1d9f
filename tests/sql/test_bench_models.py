"""pipelines.bench.models at a tiny size: the raw contract, and the checks pass on its data."""

from __future__ import annotations

import duckdb

from pipelines.bench.models import bench_models
from tests.sql.conftest import RAW_DDL

TABLES = ("evses", "status_logs", "charging_sub_sessions", "dispatcher_logs", "evse_command_logs")


def _schema(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute(f"describe evenergy.{table}").fetchall()]


def test_bench_generates_the_raw_contract_and_builds(tmp_path):
    figures = bench_models(20_000, 1_000, 50, db_path=tmp_path / "bench.duckdb")
    assert figures["status_logs"] == 20_000 and figures["dispatches"] == 1_000
    assert figures["row_counts"]["dispatch_effectiveness"] == 1_000
    assert min(figures[k] for k in ("generate_seconds", "build_seconds", "check_seconds")) >= 0
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
