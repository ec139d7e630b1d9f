"""Every fault switch shows up, is deterministic, stops after max_faults, and is settable over
HTTP."""

from __future__ import annotations

import time

import orjson
import pytest
import requests

from tests.simulator.conftest import post_token


def _evse_logs(sim):
    return f"/evses/{sim.world.specs[0].id}/status_logs"


def test_server_errors(sim, client):
    sim.faults.error_5xx_rate = 1.0
    r = client.get("/evses")
    assert r.status_code in (500, 502, 503)
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["status"] == r.status_code
    assert sim.faults.injected == {"error_5xx": 1}


def test_malformed_not_json(sim, client):
    sim.faults.configure(malformed_rate=1.0, malformed_kinds=["not_json"])
    r = client.get(_evse_logs(sim))
    assert r.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(r.content)


def test_malformed_not_list(sim, client):
    sim.faults.configure(malformed_rate=1.0, malformed_kinds=["not_list"])
    body = client.get("/evses").json()
    assert isinstance(body, dict)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("status_logs", "sampled_at"),
        ("evses", "id"),
        ("charging_sub_sessions", "id"),
        ("command_logs", "logged_at"),
    ],
)
def test_malformed_missing_key(sim, client, path, field):
    sim.faults.configure(malformed_rate=1.0, malformed_kinds=["missing_key"])
    url = {
        "status_logs": _evse_logs(sim),
        "evses": "/evses",
        "charging_sub_sessions": "/charging_sub_sessions",
        "command_logs": f"/evses/{sim.world.specs[0].id}/command_logs",
    }[path]
    rows = client.get(url).json()
    assert sum(field not in row for row in rows) == 1


def test_malformed_missing_key_on_dispatcher_logs(sim, client):
    sub = next(s for s in sim.world.sessions() if s.attempts and s.start_us < sim.clock.now_us())
    sim.faults.configure(malformed_rate=1.0, malformed_kinds=["missing_key"])
    rows = client.get("/dispatcher_logs", params={"charging_sub_session_id": sub.id}).json()
    assert sum("internal_command_id" not in row for row in rows) == 1


def test_malformed_bad_timestamp(sim, client):
    sim.faults.configure(malformed_rate=1.0, malformed_kinds=["bad_timestamp"])
    rows = client.get(_evse_logs(sim)).json()
    assert [r["sampled_at"] for r in rows].count("not-a-date") == 1
    # the cursor of the page is still right: the next page follows the real last row
    sim.faults.clear()
    truth = sim.world.status_logs(sim.world.specs[0].id, sim.clock.now())
    assert len(rows) == 25 and rows[-1] == truth[24]


def test_slow(sim, client):
    sim.faults.configure(slow_rate=1.0, slow_seconds=0.3)
    began = time.perf_counter()
    assert client.get("/evses").status_code == 200
    assert time.perf_counter() - began >= 0.3


def test_drop_closes_connection_without_answer_or_budget(make_sim, make_client):
    sim = make_sim(rate_limit=10)
    client = make_client(sim)
    sim.faults.drop_rate = 1.0
    with pytest.raises(requests.ConnectionError):
        client.get("/evses")
    sim.faults.clear()
    r = client.get("/evses")
    assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == "9"
    assert sim.requests_by_endpoint() == {"evses": 2}


def test_faulted_answers_consume_budget(make_sim, make_client):
    sim = make_sim(rate_limit=10)
    client = make_client(sim)
    sim.faults.error_5xx_rate = 1.0
    assert client.get("/evses").headers["X-RateLimit-Remaining"] == "9"


def test_link_loop(sim, client):
    sim.faults.link_loop_rate = 1.0
    r = client.get("/evses", params={"page_size": 2})
    assert r.links["next"]["url"] == r.url
    assert client.get(r.links["next"]["url"]).json() == r.json()


def test_max_faults_then_clean(sim, client):
    sim.faults.configure(error_5xx_rate=1.0, max_faults=2)
    statuses = [client.get("/evses").status_code for _ in range(4)]
    assert statuses[2:] == [200, 200] and all(s >= 500 for s in statuses[:2])
    assert sim.faults.total_injected == 2


def test_faults_are_deterministic_for_a_seed(sim, client):
    def run():
        sim.faults.configure(
            fault_seed=11, error_5xx_rate=0.3, malformed_rate=0.3, malformed_kinds=["not_list"]
        )
        return [
            (min(r.status_code, 500), isinstance(r.json(), list))
            for r in (client.get("/evses") for _ in range(30))
        ]

    first, second = run(), run()
    assert first == second
    assert set(first) == {(200, True), (200, False), (500, False)}  # clean, malformed, 5xx


def test_faults_over_http(sim, client):
    r = requests.post(
        f"{sim.admin_url}/faults",
        timeout=5,
        json={"error_5xx_rate": 1, "token_lifetime_seconds": 5},
    )
    assert r.status_code == 200 and r.json()["error_5xx_rate"] == 1.0
    assert sim.faults.token_lifetime_seconds == 5.0
    assert client.get("/evses").status_code >= 500
    r = requests.post(f"{sim.admin_url}/faults", json={"clear": True}, timeout=5)
    assert r.json()["error_5xx_rate"] == 0.0 and r.json()["injected"] == {}
    assert client.get("/evses").status_code == 200
    bad = requests.post(f"{sim.admin_url}/faults", json={"explode": 1}, timeout=5)
    assert bad.status_code == 400
    bad = requests.post(f"{sim.admin_url}/faults", json={"malformed_kinds": ["x"]}, timeout=5)
    assert bad.status_code == 400


def test_faults_never_hit_token_endpoint(sim):
    sim.faults.configure(error_5xx_rate=1.0, drop_rate=1.0)
    r = post_token(sim)
    assert r.status_code == 200
