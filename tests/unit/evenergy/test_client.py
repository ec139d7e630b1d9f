"""The client's own retry policy, errors and paging, over real HTTP to a fake server."""

import json

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


def _client(fake, budget=None):
    tokens = TokenSource(fake.url + "/o/token/", "cid", "secret")
    retry = RetryPolicy(max_attempts=3, base_delay_seconds=0.001, max_delay_seconds=0.01)
    return EvEnergyClient(fake.url + "/v2", tokens, budget or RequestBudget(), retry)


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
    limited = (429, {**PROBLEM, "Retry-After": "1"}, b'{"title": "Too Many Requests"}')
    budget = RequestBudget()
    with FakeHttp(Script([limited, _page([1])])) as fake:
        assert list(_client(fake, budget).pages("evses", {}, "evses")) == [[1]]
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
