"""The request budget: reserve, deadline, Retry-After."""

import pytest

from pipelines.evenergy.budget import RequestBudget
from pipelines.evenergy.errors import DeadlineReached, RateLimitBudgetExhausted


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_stops_at_the_reserve_and_stays_stopped():
    budget = RequestBudget(reserve=10)
    budget.observe({"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "12"})
    budget.acquire("a")
    budget.acquire("a")
    with pytest.raises(RateLimitBudgetExhausted):
        budget.acquire("a")
    budget.observe({"X-RateLimit-Remaining": "500"})
    with pytest.raises(RateLimitBudgetExhausted):  # a stopped run does not restart
        budget.acquire("a")
    assert budget.requests_made == 2
    assert budget.requests_by_label == {"a": 2}


def test_deadline_stops_requests():
    clock = FakeClock()
    budget = RequestBudget(max_duration_seconds=60, clock=clock)
    budget.acquire()
    clock.now = 61
    with pytest.raises(DeadlineReached):
        budget.acquire()


def test_a_retry_after_beyond_the_deadline_stops_instead_of_waiting():
    clock = FakeClock()
    budget = RequestBudget(max_duration_seconds=600, clock=clock)
    with pytest.raises(DeadlineReached):
        budget.wait_out_rate_limit(3600)
    assert isinstance(budget.stop_reason, DeadlineReached)


def test_a_short_retry_after_is_waited_out():
    budget = RequestBudget(max_duration_seconds=600)
    budget.wait_out_rate_limit(0.05)
    budget.acquire()  # still allowed
    assert budget.rate_limited == 1
