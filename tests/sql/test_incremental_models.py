"""Incremental builds on five simulated nights with late uploads equal a full refresh.

The simulator's batch integrations upload status logs hours late and out of order, so each
night's load merges samples into windows an earlier build already classified; the
incremental models must recompute exactly the rows those samples (and new dispatches,
sub-sessions and command logs) can change.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import duckdb
import pytest

from pipelines.models import build_database
from pipelines.simulator import SimulatorConfig, SimulatorServer
from pipelines.transform import STATE_TABLE
from tests.pipelines.conftest import START, Harness

# uneven hours: the builds cut the days, windows and upload delays at different places
NIGHTS = [START + timedelta(days=d, hours=h) for d, h in ((1, 1), (2, 1), (3, 4), (3, 11), (4, 2))]
# every table the incremental models feed; int_*_changes hold each build's own work list
COMPARED = (
    "analytics_intermediate.int_dispatch_attempts",
    "analytics_intermediate.int_dispatch_window_samples",
    "analytics.dispatch_effectiveness",
    "analytics.daily_dispatch_effectiveness",
    "analytics.daily_dispatch_effectiveness_by_make",
    "analytics.evse_dispatch_effectiveness",
    "analytics.evse_reporting_health",
    "analytics.daily_fleet_reporting",
)


def _rows(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return conn.execute(f"select * from {table} order by all").fetchall()


@pytest.mark.slow
def test_five_nights_of_incremental_builds_equal_a_full_refresh(tmp_path):
    config = SimulatorConfig(
        seed=11, n_evses=20, start=START, days=4.5, now=NIGHTS[0], rate_limit=None
    )
    incremental: list[bool] = []
    recomputed: list[int] = []
    with SimulatorServer(config) as simulator:
        harness = Harness(simulator, tmp_path / "nightly")
        for night in NIGHTS:
            simulator.clock.set(night)
            outcome = harness.run()
            assert not outcome.report.partial, outcome.report.errors
            build_database(harness.database)
            with duckdb.connect(str(harness.database)) as conn:
                since = conn.execute(f"select since_load_id from {STATE_TABLE}").fetchall()
                incremental.append(since[0][0] is not None)
                recomputed.append(
                    conn.execute(
                        "select count(*) from analytics_intermediate.int_dispatch_changes"
                    ).fetchall()[0][0]
                )
    assert incremental == [False, True, True, True, True]

    full = tmp_path / "full" / "warehouse.duckdb"
    full.parent.mkdir()
    with duckdb.connect(str(harness.database)) as conn:
        conn.execute("checkpoint")  # dbt-duckdb may still hold the file open: flush its WAL
    shutil.copyfile(harness.database, full)
    build_database(full, full_refresh=True)
    with (
        duckdb.connect(str(harness.database)) as nightly,
        duckdb.connect(str(full)) as rebuilt,
    ):
        # the nights really merged late uploads into windows and days already built
        late = nightly.execute(
            "select count(*) from evenergy.status_logs where logged_at - sampled_at > interval 2 hour"
        ).fetchall()[0][0]
        assert late > 100
        attempts = rebuilt.execute("select count(*) from analytics.dispatch_effectiveness")
        total = attempts.fetchall()[0][0]
        assert total > 100
        # and the last builds recomputed only part of the history
        assert 0 < recomputed[-1] < total / 2, (recomputed, total)
        for table in COMPARED:
            expected = _rows(rebuilt, table)
            assert expected, table
            assert _rows(nightly, table) == expected, table
