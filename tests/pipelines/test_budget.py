"""The rate-limit budget and the deadline stop a run cleanly: what was fetched is loaded,
watermarks are saved, the partitions not reached go first next run, and nothing is lost."""

from __future__ import annotations

import time
from itertools import pairwise

import requests

from pipelines.evenergy_pipeline import make_pipeline
from tests.pipelines.conftest import START, Harness
from tests.pipelines.expected import assert_warehouse_matches, expected_rows


def _partitions(harness: Harness) -> dict[str, dict]:
    state = make_pipeline(str(harness.pipelines_dir), str(harness.database)).state
    return state["sources"]["evenergy"]["resources"]["status_logs"]["partitions"]


def test_budget_stops_cleanly_and_later_runs_finish_the_job(harness: Harness):
    harness.simulator.faults.configure(rate_limit=75, rate_window_seconds=3600)
    outcomes, reached = [], []
    for _ in range(8):
        # the window frees up in an hour, past the deadline: each run stops at the reserve
        outcomes.append(harness.run(rate_limit_reserve=5, max_duration="60s"))
        reached.append(dict(_partitions(harness)))
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

    # No partition starves: the EVSEs a run left unread are all started before any EVSE
    # already up to date is read again. Reads run concurrently (2 x concurrency submitted
    # ahead), so at most that many unread ones may still be cut short by the budget.
    in_flight = 2 * 4
    for before, after in pairwise(reached):
        unread = set(_ids(harness)) - set(before)
        reread = {e for e in before if after[e]["done_at"] != before[e]["done_at"]}
        still_unread = unread - set(after)
        if reread:
            assert len(still_unread) <= in_flight, (len(unread), len(reread), len(still_unread))


def _ids(harness: Harness) -> list[str]:
    return [e["id"] for e in harness.simulator.world.evses(harness.simulator.clock.now())]


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
