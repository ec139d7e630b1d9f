"""Pagination walks equal the world's ground truth; Link headers; page_size bounds; order."""

from __future__ import annotations

import pytest

from pipelines.simulator.world.catalog import BATCH, FLAKY


def _parse_links(header):
    parts = [p.strip() for p in header.split(",")]
    return {p.split(";")[1].strip(): p.split(";")[0].strip("<> ") for p in parts}


def test_evses_walk_equals_truth(sim, client):
    rows, responses = client.walk("/evses", {"page_size": 5})
    assert rows == sim.world.evses(sim.clock.now())
    assert len(responses) == -(-len(rows) // 5)
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(i.startswith("evse") and len(i) == 30 for i in ids)


def test_status_logs_walk_equals_truth(sim, client):
    now = sim.clock.now()
    specs = [s for s in sim.world.specs if s.integration in (BATCH, FLAKY)][:1] + sim.world.specs[
        :2
    ]
    for spec in specs:
        rows, _ = client.walk(f"/evses/{spec.id}/status_logs", {"page_size": 100})
        truth = sim.world.status_logs(spec.id, now)
        assert len(truth) > 100
        assert rows == truth
        sampled = [r["sampled_at"] for r in rows]
        assert sampled == sorted(sampled, reverse=True) and len(set(sampled)) == len(sampled)


def test_command_logs_walk_equals_truth(sim, client):
    spec = sim.world.specs[0]
    rows, _ = client.walk(f"/evses/{spec.id}/command_logs", {"page_size": 3})
    assert rows == sim.world.command_logs(spec.id, sim.clock.now())
    assert len(rows) > 3
    logged = [r["logged_at"] for r in rows]
    assert logged == sorted(logged, reverse=True)


def test_sub_sessions_walk_equals_truth(sim, client):
    rows, _ = client.walk("/charging_sub_sessions", {"page_size": 7})
    truth = sim.world.sub_sessions(sim.clock.now())
    assert rows == truth
    assert len(rows) > 14
    starts = [(r["start"], r["id"]) for r in rows]
    assert starts == sorted(starts, reverse=True)


def test_link_header_shape(sim, client):
    first = client.get("/evses", params={"page_size": 4, "expand": "model"})
    links = _parse_links(first.headers["Link"])
    assert links['rel="previous"'] == "about:blank"
    nxt = links['rel="next"']
    assert nxt.startswith(sim.base_url + "/evses?")
    assert "page_size=4" in nxt and "expand=model" in nxt and "page_after=" in nxt
    second = client.get(nxt)
    links2 = _parse_links(second.headers["Link"])
    assert (
        "page_before=" in links2['rel="previous"'] and "page_after" not in links2['rel="previous"']
    )
    back = client.get(links2['rel="previous"'])
    assert back.json() == first.json()
    assert _parse_links(back.headers["Link"])['rel="previous"'] == "about:blank"


def test_last_page_next_is_about_blank(sim, client):
    _, responses = client.walk("/evses", {"page_size": 100})
    assert len(responses) == 1
    links = _parse_links(responses[0].headers["Link"])
    assert links == {'rel="previous"': "about:blank", 'rel="next"': "about:blank"}


def test_exact_multiple_of_page_size_has_no_empty_last_page(sim, client):
    spec = sim.world.specs[4]
    truth = sim.world.command_logs(spec.id, sim.clock.now())
    divisors = [d for d in range(2, len(truth)) if len(truth) % d == 0]
    for size in (len(truth), *divisors[:2]):
        rows, responses = client.walk(f"/evses/{spec.id}/command_logs", {"page_size": size})
        assert rows == truth
        assert all(r.json() for r in responses)
    evses = sim.world.evses(sim.clock.now())
    _, responses = client.walk("/evses", {"page_size": len(evses)})
    assert len(responses) == 1


def test_previous_walk_mirrors_next_walk(sim, client):
    spec = sim.world.specs[1]
    forward, responses = client.walk(f"/evses/{spec.id}/status_logs", {"page_size": 40})
    backward = []
    url = responses[-1].links["previous"]["url"]
    backward = responses[-1].json()
    while url != "about:blank":
        r = client.get(url)
        backward = r.json() + backward
        url = r.links["previous"]["url"]
    assert backward == forward


@pytest.mark.parametrize("size", ["0", "101", "abc", "-3", "2.5"])
def test_bad_page_size_is_400(client, size):
    r = client.get("/evses", params={"page_size": size})
    assert r.status_code == 400
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["title"] == "Invalid pagination parameter"


def test_page_size_bounds_accepted(sim, client):
    assert len(client.get("/evses", params={"page_size": 1}).json()) == 1
    assert len(client.get("/evses", params={"page_size": 100}).json()) == len(
        sim.world.evses(sim.clock.now())
    )
    assert len(client.get("/charging_sub_sessions").json()) == 25  # default page size


def test_bad_cursors_are_400(sim, client):
    spec = sim.world.specs[0]
    r = client.get(f"/evses/{spec.id}/status_logs", params={"page_after": "yesterday"})
    assert r.status_code == 400
    r = client.get("/charging_sub_sessions", params={"page_after": "csub" + "0" * 26})
    assert r.status_code == 400


def test_dispatcher_logs_not_paginated(sim, client):
    subs = [
        s for s in sim.world.sessions() if len(s.attempts) > 3 and s.start_us <= sim.clock.now_us()
    ]
    sub = subs[0]
    r = client.get("/dispatcher_logs", params={"charging_sub_session_id": sub.id})
    assert r.status_code == 200
    assert "Link" not in r.headers
    assert r.json() == sim.world.dispatcher_logs(sub.id, sim.clock.now())
    logged = [row["logged_at"] for row in r.json()]
    assert logged == sorted(logged, reverse=True) and len(logged) > 3
    missing = client.get("/dispatcher_logs")
    assert missing.status_code == 400
    assert missing.headers["Content-Type"] == "application/problem+json"


def test_unknown_ids_are_404(client):
    for path in (
        "/evses/evse00000000000000000000000000/status_logs",
        "/evses/evse00000000000000000000000000/command_logs",
        "/evses/evse00000000000000000000000000",
        "/charging_sub_sessions/csub00000000000000000000000000",
        "/no_such_endpoint",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.json()["title"] == "Not found"


def test_detail_endpoints_match_list_rows(sim, client):
    sub = client.get("/charging_sub_sessions", params={"page_size": 1}).json()[0]
    assert client.get(f"/charging_sub_sessions/{sub['id']}").json() == sub
    evse = client.get("/evses", params={"page_size": 1}).json()[0]
    assert client.get(f"/evses/{evse['id']}").json() == evse
    log = client.get(f"/evses/{evse['id']}/status_logs", params={"page_size": 1}).json()[0]
    assert evse["latest_status_log"] == log["url"]
    assert client.get(log["url"]).json() == log
