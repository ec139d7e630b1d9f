"""The rate-limit budget and the deadline stop a run cleanly: what was fetched is loaded,
watermarks are saved, later runs finish the job, and nothing is lost. (That the partitions
not reached go first next run is test_fairness.py's, on a fleet where the order matters.)"""

from __future__ import annotations

import time

import requests

from tests.pipelines.conftest import START, Harness
from tests.pipelines.expected import assert_warehouse_matches, expected_rows


def test_budget_stops_cleanly_and_later_runs_finish_the_job(harness: Harness):
    harness.simulator.faults.configure(rate_limit=75, rate_window_seconds=3600)
    outcomes = []
    for _ in range(8):
        # the window frees up in an hour, past the deadline: each run stops at the reserve
        outcomes.append(harness.run(rate_limit_reserve=5, max_duration="60s"))
        if not outcomes[-1].report.partial:
            break
        harness.simulator.reset_rate_limit()  # the next night: a fresh window

    first = outcomes[0]
    assert first.report.partial and "reserve is 5" in (first.report.stop_reason or "")
    assert first.budget.rate_limited == 0  # the reserve was kept: the API never said 429
    assert all(o.budget.requests_made <= 70 for o in outcomes), [
        o.budget.requests_made for o in outcomes
    ]
    assert not outcomes[-1].report.partial, f"still partial after {len(outcomes)} runs"
    assert_warehouse_matches(harness.database, expected_rows(harness.simulator, START))


def test_a_retry_after_beyond_the_deadline_stops_without_waiting(harness: Harness):
    """Another client of the same credentials has used the window up: the run's first
    request meets a 429 whose Retry-After (about an hour) is beyond the deadline."""
    harness.simulator.faults.configure(rate_limit=30, rate_window_seconds=3600)
    other_client = requests.Session()
    config = harness.simulator.world.config
    token = other_client.post(
        harness.simulator.token_url,
        data={"grant_type": "client_credentials"},
        auth=(config.client_id, config.client_secret),
    ).json()["access_token"]
    for _ in range(30):
        other_client.get(
            f"{harness.simulator.base_url}/evses", headers={"Authorization": f"Bearer {token}"}
        )

    started = time.monotonic()
    outcome = harness.run(rate_limit_reserve=0, max_duration="20s")

    assert time.monotonic() - started < 20
    assert outcome.report.partial
    assert "beyond the run's deadline" in (outcome.report.stop_reason or "")
    assert outcome.budget.rate_limited == 1
