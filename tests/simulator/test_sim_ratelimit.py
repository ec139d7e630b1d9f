"""Rolling-window rate limit: headers, 429 problem, Retry-After, budget accounting."""

from __future__ import annotations

import time

import pytest
import requests

from pipelines.simulator.http.problems import RATE_LIMIT_TYPE
from pipelines.simulator.http.ratelimit import RateLimiter


@pytest.fixture
def limited(make_sim):
    return make_sim(rate_limit=3, rate_window_seconds=60)


def test_headers_and_429(limited, make_client):
    client = make_client(limited)
    remaining = []
    for _ in range(3):
        r = client.get("/evses")
        assert r.status_code == 200
        assert r.headers["X-RateLimit-Limit"] == "3"
        remaining.append(int(r.headers["X-RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    r = client.get("/evses")
    assert r.status_code == 429
    assert r.headers["Content-Type"] == "application/problem+json"
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= 60
    doc = r.json()
    assert doc["type"] == RATE_LIMIT_TYPE and doc["status"] == 429
    assert doc["detail"] == f"Request was rate limited. Try again in {retry} seconds"
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert r.headers["EvEnergy-Version"] == "2"
    # the token endpoint and the admin endpoints are not limited
    assert (
        requests.post(
            limited.token_url,
            data={"grant_type": "client_credentials"},
            auth=("sim-client", "sim-secret"),
            timeout=5,
        ).status_code
        == 200
    )
    assert requests.get(f"{limited.admin_url}/state", timeout=5).status_code == 200
    assert limited.requests_by_endpoint() == {"evses": 4}


def test_errors_consume_budget_and_window_rolls(limited, make_client):
    limited.faults.rate_window_seconds = 0.5
    r = requests.get(f"{limited.base_url}/evses", timeout=5)  # 401 still counts
    assert r.status_code == 401 and r.headers["X-RateLimit-Remaining"] == "2"
    client = make_client(limited)
    assert client.get("/evses").headers["X-RateLimit-Remaining"] == "1"
    assert client.get("/evses").headers["X-RateLimit-Remaining"] == "0"
    assert client.get("/evses").status_code == 429
    assert client.get("/evses").status_code == 429  # a 429 does not consume budget
    time.sleep(0.55)
    r = client.get("/evses")
    assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == "2"


def test_rate_limit_override_by_faults(sim, client):
    assert client.get("/evses").headers["X-RateLimit-Remaining"] == "1000000000"
    sim.faults.rate_limit = 1
    assert client.get("/evses").status_code == 200
    assert client.get("/evses").status_code == 429
    sim.faults.clear()
    assert client.get("/evses").status_code == 200


def test_retry_after_counts_from_oldest_request():
    now = [100.0]
    limiter = RateLimiter(max_retry_after=3600, clock=lambda: now[0])
    assert limiter.acquire(2, 10).allowed
    now[0] = 104.2
    assert limiter.acquire(2, 10).remaining == 0
    refused = limiter.acquire(2, 10)
    assert not refused.allowed and refused.retry_after == 6  # oldest leaves at 110
    now[0] = 110.01
    assert limiter.acquire(2, 10).allowed
    capped = RateLimiter(max_retry_after=5, clock=lambda: now[0])
    capped.acquire(1, 3600)
    assert capped.acquire(1, 3600).retry_after == 5
