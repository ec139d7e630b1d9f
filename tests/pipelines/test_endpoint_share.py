"""Every endpoint read per partition gets its share of each load package's requests: a
backlog of status logs too large for the run does not keep command and dispatcher logs
waiting until it is read through (at 10,000 EVSEs they waited for days).

The fleet is built so that status logs alone would spend the whole run: two days of status
logs for twelve EVSEs (six pages each, 72 in all) against a rate limit of 60, spent in load
packages of 30 requests. Read one endpoint after the other, command and dispatcher logs get
no request at all.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb

from pipelines.evenergy.endpoints import (
    COMMAND_LOGS_ENDPOINT,
    DISPATCHER_LOGS_ENDPOINT,
    STATUS_LOGS_ENDPOINT,
)
from pipelines.evenergy_pipeline import DATASET_NAME
from pipelines.simulator import SimulatorServer
from tests.pipelines.conftest import START, Harness, simulator_config

RATE_LIMIT = 60  # requests in the run, of the 72 that status logs alone need
BATCH_REQUESTS = 30  # requests a load package: each partition read is up to six


def _rows(harness: Harness, table: str) -> int:
    with duckdb.connect(str(harness.database), read_only=True) as conn:
        return conn.sql(f"select count(*) from {DATASET_NAME}.{table}").fetchone()[0]  # type: ignore[index]


def test_a_status_log_backlog_leaves_requests_for_the_other_endpoints(tmp_path: Path) -> None:
    config = simulator_config(now=START + timedelta(days=2))
    with SimulatorServer(config) as simulator:
        simulator.faults.configure(rate_limit=RATE_LIMIT, rate_window_seconds=3600)
        harness = Harness(simulator, tmp_path)
        outcome = harness.run(
            max_duration="60s", batch_requests=BATCH_REQUESTS, concurrency=1
        )  # no overshoot
        assert outcome.report.partial, "the budget should stop the run"
        by_label = outcome.budget.requests_by_label
        status = by_label[STATUS_LOGS_ENDPOINT.name]
        assert status >= RATE_LIMIT // 4, f"status logs read too little: {dict(by_label)}"
        for table in (COMMAND_LOGS_ENDPOINT.name, DISPATCHER_LOGS_ENDPOINT.name):
            # each package shares its requests between the three: about a third each (the
            # twelve EVSEs' command logs are a page each)
            assert by_label[table] >= RATE_LIMIT // 8, f"{table} starved: {dict(by_label)}"
            assert _rows(harness, table) > 0, f"{table}: no row loaded"
