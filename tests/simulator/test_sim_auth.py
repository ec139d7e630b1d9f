"""Token endpoint, bearer auth, API version and Accept negotiation."""

from __future__ import annotations

import time

import requests

from tests.simulator.conftest import post_token

PROBLEM = "application/problem+json"


def test_token_with_basic_auth(sim):
    r = post_token(sim)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 36000
    assert set(body["scope"].split()) == {"evse:read", "charging_session:read", "debug:read"}
    assert len(body["access_token"]) >= 20
    assert sim.token_request_count == 1
    assert sim.request_count == 0


def test_token_with_credentials_in_form(sim):
    r = requests.post(
        sim.token_url,
        timeout=5,
        data={
            "grant_type": "client_credentials",
            "client_id": "sim-client",
            "client_secret": "sim-secret",
        },
    )
    assert r.status_code == 200
    assert r.json()["access_token"]


def test_token_bad_client_and_bad_grant(sim):
    r = post_token(sim, secret="wrong")
    assert (r.status_code, r.json()) == (401, {"error": "invalid_client"})
    r = post_token(sim, grant_type="password")
    assert (r.status_code, r.json()) == (400, {"error": "unsupported_grant_type"})


def test_missing_and_unknown_token_answer_401_problem(sim):
    for headers in ({}, {"Authorization": "Bearer nope"}):
        r = requests.get(f"{sim.base_url}/evses", headers=headers, timeout=5)
        assert r.status_code == 401
        assert r.headers["Content-Type"] == PROBLEM
        assert r.headers["EvEnergy-Version"] == "2"
        assert "X-RateLimit-Limit" in r.headers and "X-RateLimit-Remaining" in r.headers
        doc = r.json()
        assert doc["status"] == 401 and doc["title"] and doc["detail"] and doc["type"]


def test_token_expires_on_wall_clock(sim, client):
    sim.faults.token_lifetime_seconds = 0.4
    short = requests.Session()
    r = post_token(sim)
    assert r.json()["expires_in"] == 1
    short.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    assert short.get(f"{sim.base_url}/evses", timeout=5).status_code == 200
    sim.clock.advance(sim.clock.horizon - sim.clock.now())  # simulated time does not expire it
    assert short.get(f"{sim.base_url}/evses", timeout=5).status_code == 200
    time.sleep(0.5)
    r = short.get(f"{sim.base_url}/evses", timeout=5)
    assert r.status_code == 401
    assert client.get("/evses").status_code == 200  # the long-lived token still works


def test_scope_subset_forbids_other_endpoints(sim):
    r = post_token(sim, scope="evse:read")
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert requests.get(f"{sim.base_url}/evses", headers=headers, timeout=5).status_code == 200
    r = requests.get(f"{sim.base_url}/charging_sub_sessions", headers=headers, timeout=5)
    assert r.status_code == 403


def test_version_header(client):
    assert client.get("/evses", headers={"EvEnergy-Version": "2"}).status_code == 200
    r = client.get("/evses")
    assert r.status_code == 200 and r.headers["EvEnergy-Version"] == "2"
    r = client.get("/evses", headers={"EvEnergy-Version": "3.0"})
    assert r.status_code == 400
    assert r.headers["Content-Type"] == PROBLEM
    assert r.json()["title"] == "Unsupported version"


def test_accept_header(client):
    assert client.get("/evses", headers={"Accept": "text/html"}).status_code == 406
    assert client.get("/evses", headers={"Accept": "application/json;q=0"}).status_code == 406
    for accept in ("*/*", "application/json", "text/html, application/*;q=0.5"):
        assert client.get("/evses", headers={"Accept": accept}).status_code == 200
