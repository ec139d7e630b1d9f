"""The client's own retry policy, errors and paging, over real HTTP to a fake server."""

import json
import statistics
from dataclasses import dataclass
from itertools import pairwise

import pytest

from pipelines.evenergy.auth import TokenSource
from pipelines.evenergy.budget import RequestBudget
from pipelines.evenergy.client import EvEnergyClient, RetryPolicy
from pipelines.evenergy.errors import ApiProblem, ApiUnavailable, MalformedPage, PaginationLoop
from tests.unit.fake_http import FakeHttp

JSON = {"Content-Type": "application/json"}
PROBLEM = {"Content-Type": "application/problem+json"}


class Script:
    """Token endpoint plus a queue of API replies."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.tokens = 0

    def __call__(self, request):
        if request.path.startswith("/o/token/"):
            self.tokens += 1
            body = {"access_token": f"t{self.tokens}", "token_type": "Bearer", "expires_in": 36000}
            return 200, JSON, json.dumps(body).encode()
        reply = self.replies.pop(0)
        return reply(request) if callable(reply) else reply


def _client(fake, budget=None, retry=None):
    tokens = TokenSource(fake.url + "/o/token/", "cid", "secret")
    retry = retry or RetryPolicy(max_attempts=3, base_delay_seconds=0.001, max_delay_seconds=0.01)
    return EvEnergyClient(fake.url + "/v2", tokens, budget or RequestBudget(), retry)


def _api_gaps(fake):
    """Seconds between consecutive API requests, as the server received them."""
    times = [r.received_at for r in fake.requests if r.path.startswith("/v2")]
    return [later - earlier for earlier, later in pairwise(times)]


def _page(rows, next_url="about:blank"):
    headers = {
        **JSON,
        "Link": f'<about:blank>; rel="previous", <{next_url}>; rel="next"',
        "X-RateLimit-Limit": "1000",
        "X-RateLimit-Remaining": "990",
    }
    return 200, headers, json.dumps(rows).encode()


def test_pages_follow_next_links_and_stop_at_about_blank():
    script = Script([])
    with FakeHttp(script) as fake:
        script.replies = [_page([1, 2], fake.url + "/v2/evses?page_after=2"), _page([3])]
        pages = list(_client(fake).pages("evses", {"page_size": 2}, "evses"))
    assert pages == [[1, 2], [3]]
    api = [r for r in fake.requests if r.path.startswith("/v2")]
    assert [r.path for r in api] == ["/v2/evses?page_size=2", "/v2/evses?page_after=2"]
    assert all(r.headers["EvEnergy-Version"] == "2" for r in api)
    assert all(r.headers["Authorization"] == "Bearer t1" for r in api)


def test_5xx_and_dropped_bodies_are_retried():
    script = Script(
        [(503, PROBLEM, b'{"title": "Unavailable"}'), (200, JSON, b"[1, 2"), _page([1])]
    )
    with FakeHttp(script) as fake:
        assert list(_client(fake).pages("evses", {}, "evses")) == [[1]]


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 6.0), (12, 6.0)]
)
def test_backoff_is_full_jitter_under_a_doubling_capped_ceiling(attempt, ceiling):
    policy = RetryPolicy(base_delay_seconds=0.5, max_delay_seconds=6.0)
    delays = [policy.delay(attempt) for _ in range(2000)]
    assert all(0 <= d <= ceiling for d in delays), max(delays)  # bound: base x 2^(n-1), capped
    assert max(delays) > 0.95 * ceiling  # the ceiling is reached, so the delays grow with it
    # full jitter: spread uniformly over [0, ceiling], not a constant nor a narrow band
    assert statistics.fmean(delays) == pytest.approx(ceiling / 2, rel=0.05)
    assert statistics.pstdev(delays) == pytest.approx(ceiling / 12**0.5, rel=0.08)


@dataclass(frozen=True)
class _LinearDelays(RetryPolicy):
    """Known delays, so that the waits seen by the server can be checked against them."""

    def delay(self, attempt: int) -> float:
        return 0.05 * attempt


def test_the_client_waits_the_policys_delay_before_each_retry():
    script = Script(
        [(503, PROBLEM, b"{}"), (200, JSON, b"[1, 2"), (502, PROBLEM, b"{}"), _page([1])]
    )
    with FakeHttp(script) as fake:
        client = _client(fake, retry=_LinearDelays(max_attempts=4))
        assert list(client.pages("evses", {}, "evses")) == [[1]]
    gaps = _api_gaps(fake)
    assert len(gaps) == 3
    for attempt, gap in enumerate(gaps, start=1):
        assert 0.05 * attempt <= gap < 0.05 * attempt + 1.0, gaps


def test_retries_are_bounded():
    script = Script([(502, PROBLEM, b"{}")] * 3)
    with FakeHttp(script) as fake, pytest.raises(ApiUnavailable, match="HTTP 502 after 3 attempts"):
        list(_client(fake).pages("evses", {}, "evses"))


def test_401_refreshes_the_token_once():
    script = Script([(401, PROBLEM, b'{"title": "Unauthorized", "detail": "expired"}'), _page([1])])
    with FakeHttp(script) as fake:
        assert list(_client(fake).pages("evses", {}, "evses")) == [[1]]
    assert script.tokens == 2


def test_a_second_401_is_an_error():
    unauthorized = (
        401,
        PROBLEM,
        b'{"status": 401, "title": "Unauthorized", "detail": "bad token"}',
    )
    with (
        FakeHttp(Script([unauthorized, unauthorized])) as fake,
        pytest.raises(ApiProblem) as failure,
    ):
        list(_client(fake).pages("evses", {}, "evses"))
    assert failure.value.status == 401


def test_4xx_problem_is_reported_with_title_and_detail_and_not_retried():
    body = {"type": "x", "status": 404, "title": "Not found", "detail": "Resource does not exist."}
    script = Script([(404, PROBLEM, json.dumps(body).encode())])
    with FakeHttp(script) as fake, pytest.raises(ApiProblem) as failure:
        list(_client(fake).pages("evses/evseX/status_logs", {}, "status_logs"))
    assert (
        str(failure.value)
        == "HTTP 404 Not found: Resource does not exist. (/v2/evses/evseX/status_logs)"
    )
    assert len([r for r in fake.requests if r.path.startswith("/v2")]) == 1


def test_429_waits_retry_after_then_continues():
    limited = (429, {**PROBLEM, "Retry-After": "2"}, b'{"title": "Too Many Requests"}')
    budget = RequestBudget()
    with FakeHttp(Script([limited, _page([1])])) as fake:
        assert list(_client(fake, budget).pages("evses", {}, "evses")) == [[1]]
    # the retry comes Retry-After seconds after the 429: neither at once nor a fixed wait
    [gap] = _api_gaps(fake)
    assert 2.0 <= gap < 3.5, gap
    assert budget.rate_limited == 1
    assert budget.remaining == 990


def test_a_body_that_is_not_a_list_is_retried_then_malformed():
    not_a_list = (200, JSON, b'{"detail": "oops"}')
    with FakeHttp(Script([not_a_list, _page([1])])) as fake:
        assert list(_client(fake).pages("evses", {}, "evses")) == [[1]]
    with (
        FakeHttp(Script([not_a_list] * 3)) as fake,
        pytest.raises(MalformedPage, match="expected a JSON array, got dict after 3 attempts"),
    ):
        list(_client(fake).pages("evses", {}, "evses"))


def test_a_repeating_next_link_is_a_loop():
    script = Script([])
    with FakeHttp(script) as fake:
        loop = fake.url + "/v2/evses?page_after=a"
        script.replies = [_page([1], loop), _page([2], loop), _page([3], loop)]
        with pytest.raises(PaginationLoop):
            list(_client(fake).pages("evses", {}, "evses"))
