"""The request budget: reserve, deadline, Retry-After."""

import logging
import threading
import time

import pytest

from pipelines.evenergy.budget import RequestBudget
from pipelines.evenergy.errors import DeadlineReached, RateLimitBudgetExhausted


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_at_the_reserve_a_window_beyond_the_deadline_stops_the_run_for_good():
    clock = FakeClock()
    budget = RequestBudget(reserve=10, max_duration_seconds=600, clock=clock)
    budget.observe({"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "12"})
    budget.acquire("a")
    budget.acquire("a")
    with pytest.raises(RateLimitBudgetExhausted, match="reserve is 10"):
        budget.acquire("a")  # the window frees up in an hour, the deadline is in 10 minutes
    budget.observe({"X-RateLimit-Remaining": "500"})
    with pytest.raises(RateLimitBudgetExhausted):  # a stopped run does not restart
        budget.acquire("a")
    assert budget.requests_made == 2
    assert budget.requests_by_label == {"a": 2}


def test_at_the_reserve_the_run_waits_for_its_oldest_request_to_leave_the_window():
    budget = RequestBudget(reserve=1, max_duration_seconds=30, window_seconds=0.3)
    budget.observe({"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "3"})
    started = time.monotonic()
    for _ in range(4):
        budget.acquire("a")
        budget.release()
    waited = time.monotonic() - started
    assert 0.3 <= waited < 5
    assert budget.requests_made == 4


def test_workers_waiting_at_the_reserve_log_one_line_a_window_not_one_each(caplog):
    """Every worker waiting for every request made cron's log a wall of identical lines."""
    budget = RequestBudget(reserve=1, max_duration_seconds=30, window_seconds=0.5)
    budget.observe({"X-RateLimit-Limit": "4", "X-RateLimit-Remaining": "4"})

    def request() -> None:
        budget.acquire("a")
        budget.release()

    with caplog.at_level(logging.INFO, logger="pipelines.evenergy.budget"):
        for _ in range(3):
            request()
        workers = [threading.Thread(target=request) for _ in range(6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert budget.reserve_waits >= 6
    assert 1 <= len(lines) <= 3, lines  # the 6 requests span about 2 windows
    assert lines[0].startswith("at the rate-limit reserve")


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


def test_requests_sent_count_against_the_window_before_they_are_answered():
    budget = RequestBudget(reserve=8, max_duration_seconds=600, clock=FakeClock())
    budget.observe({"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "10"})
    budget.acquire("a")
    budget.acquire("a")  # neither answered yet: 10 - 2 is the reserve
    with pytest.raises(RateLimitBudgetExhausted, match="8 requests left"):
        budget.acquire("a")
    assert budget.requests_made == 2


def test_an_answer_leaves_out_the_requests_still_in_flight():
    """The API counted an answer's `X-RateLimit-Remaining` before the requests still in
    flight reached it: those come off the answer's count, or the run overshoots its reserve."""
    budget = RequestBudget(reserve=8, max_duration_seconds=600, clock=FakeClock())
    for _ in range(3):
        budget.acquire("a")
    budget.release()  # the first answer is back, two requests are still on their way
    budget.observe({"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "10"})
    assert budget.remaining == 8
    with pytest.raises(RateLimitBudgetExhausted, match="8 requests left"):
        budget.acquire("a")
    budget.release()
    budget.release()
    assert budget.requests_made == 3
