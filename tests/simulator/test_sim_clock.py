"""Visibility follows the simulated clock; late rows; joiners; admin endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from pipelines.simulator.world.catalog import BATCH, FLAKY, MAX_LOG_LAG
from pipelines.simulator.world.times import from_us, iso, parse_timestamp


def _sampled(rows):
    return {r["sampled_at"] for r in rows}


@pytest.mark.parametrize("integration", [BATCH, FLAKY])
def test_late_rows_appear_older_than_newest_visible(sim, client, integration):
    spec = next(s for s in sim.world.specs if s.integration == integration)
    tb = sim.world.history(spec).status
    # a moment when a backlog is pending: some row sampled before the newest visible one
    # is still unlogged, and gets logged within the next hours
    for i in range(len(tb) - 1, 0, -1):
        lag = tb.logged[i] - tb.sampled[i]
        if lag > 3600 * 10**6 and tb.logged[i] <= sim.world.horizon_us:
            moment = tb.logged[i] - 1
            break
    else:
        pytest.fail("no late row found")
    sim.clock.set(from_us(moment))
    before, _ = client.walk(f"/evses/{spec.id}/status_logs", {"page_size": 100})
    newest = max(r["sampled_at"] for r in before)
    sim.clock.advance(timedelta(hours=1))
    after, _ = client.walk(f"/evses/{spec.id}/status_logs", {"page_size": 100})
    assert _sampled(before) < _sampled(after)
    arrived = _sampled(after) - _sampled(before)
    hours_old = [s for s in arrived if s < iso(moment - 3600 * 10**6)]
    assert hours_old, "a batch or a backlog brings rows sampled hours before they appear"
    if integration == FLAKY:
        late = [s for s in arrived if s < newest]
        assert late, "the backlog arrives with sampled_at older than the newest visible row"
    assert after == sim.world.status_logs(spec.id, sim.clock.now())


def test_lag_never_exceeds_max_log_lag(sim):
    bound = int(MAX_LOG_LAG.total_seconds() * 10**6)
    for spec in sim.world.specs:
        tb = sim.world.history(spec).status
        assert all(0 < tb.logged[i] - tb.sampled[i] <= bound for i in range(len(tb)))


def test_joiner_invisible_before_joining(sim, client):
    spec = next(s for s in sim.world.specs if s.joins_mid_period)
    sim.clock.set(from_us(spec.joined_us - 10**6))
    ids = {r["id"] for r in client.walk("/evses", {"page_size": 100})[0]}
    assert spec.id not in ids
    assert client.get(f"/evses/{spec.id}/status_logs").status_code == 404
    sim.clock.set(from_us(spec.joined_us + int(MAX_LOG_LAG.total_seconds() * 10**6)))
    ids = {r["id"] for r in client.walk("/evses", {"page_size": 100})[0]}
    assert spec.id in ids
    rows = client.get(f"/evses/{spec.id}/status_logs", params={"page_size": 100}).json()
    assert rows and min(r["sampled_at"] for r in rows) >= iso(spec.joined_us)
    commands = client.get(f"/evses/{spec.id}/command_logs").json()
    assert commands[-1]["reason"] == "COMMISSIONING"


def test_sub_session_end_appears_when_clock_passes_it(sim, client):
    now = sim.clock.now_us()
    record = next(
        s
        for s in sim.world.sessions()
        if s.start_us <= now < s.end_us and s.end_us < sim.world.horizon_us
    )
    first = client.get(f"/charging_sub_sessions/{record.id}").json()
    assert first["end"] is None
    sim.clock.set(from_us(record.end_us + 10**6))
    later = client.get(f"/charging_sub_sessions/{record.id}").json()
    assert later["end"] == iso(record.end_us)
    assert later["energy_delivered_watt_hours"] >= first["energy_delivered_watt_hours"]
    sim.clock.set(from_us(record.start_us - 10**6))
    assert client.get(f"/charging_sub_sessions/{record.id}").status_code == 404


def test_clock_cannot_pass_horizon(sim):
    with pytest.raises(ValueError):
        sim.clock.set(sim.clock.horizon + timedelta(seconds=1))
    with pytest.raises(ValueError):
        sim.clock.advance(timedelta(days=30))
    assert sim.clock.set(sim.clock.horizon) == sim.clock.horizon


def test_admin_state_clock_and_counters(sim, client):
    client.get("/evses")
    client.get(f"/evses/{sim.world.specs[0].id}/status_logs")
    state = requests.get(f"{sim.admin_url}/state", timeout=5).json()
    assert state["requests_by_endpoint"] == {"evses": 1, "status_logs": 1}
    assert state["request_count"] == 2 and state["token_request_count"] == 1
    assert state["config"]["seed"] == sim.config.seed
    assert state["now"] == iso(sim.clock.now_us())
    r = requests.post(f"{sim.admin_url}/clock", json={"advance_seconds": 3600}, timeout=5)
    assert r.status_code == 200
    assert r.json()["now"] == iso(sim.clock.now_us())
    target = sim.config.start + timedelta(hours=5)
    r = requests.post(f"{sim.admin_url}/clock", json={"now": target.isoformat()}, timeout=5)
    assert r.status_code == 200 and sim.clock.now() == target
    r = requests.post(f"{sim.admin_url}/clock", json={"now": "2099-01-01T00:00:00Z"}, timeout=5)
    assert r.status_code == 400
    assert requests.post(f"{sim.admin_url}/reset_counters", timeout=5).status_code == 200
    assert sim.request_count == 0 and sim.requests_by_endpoint() == {}


def test_admin_truth_dispatches(sim):
    everything = requests.get(f"{sim.admin_url}/truth/dispatches", timeout=5).json()
    assert everything == sim.world.dispatch_truth()
    cut = iso(sim.clock.now_us())
    visible = requests.get(
        f"{sim.admin_url}/truth/dispatches", params={"now": cut}, timeout=5
    ).json()
    assert 0 < len(visible) < len(everything)
    assert all(d["logged_at"] <= cut for d in visible)


def test_lookback_of_max_log_lag_recovers_every_late_row(sim, client):
    specs = [s for s in sim.world.specs if s.integration in (BATCH, FLAKY)]
    sim.clock.set(sim.config.start + timedelta(hours=12))
    seen = {s.id: {} for s in specs}
    for _ in range(40):
        for spec in (s for s in specs if s.joined_us <= sim.clock.now_us()):
            known = seen[spec.id]
            params = {"page_size": 100}
            if known:
                watermark = max(parse_timestamp(k) for k in known)
                lookback = int(MAX_LOG_LAG.total_seconds() * 10**6)
                params["sampled_at__gte"] = iso(watermark - lookback)
            rows, _ = client.walk(f"/evses/{spec.id}/status_logs", params)
            known.update({r["sampled_at"]: r for r in rows})
        sim.clock.advance(timedelta(hours=1))
    for spec in specs:
        truth = sim.world.status_logs(spec.id, sim.clock.now() - timedelta(hours=1))
        assert sorted(seen[spec.id], reverse=True) == [r["sampled_at"] for r in truth]


def test_a_clock_that_follows_the_wall_clock_runs_from_where_it_was_set():
    from datetime import UTC, datetime

    from pipelines.simulator.world.clock import Clock

    wall = [1000.0]
    start = datetime(2026, 11, 1, tzinfo=UTC)
    clock = Clock(
        start + timedelta(hours=1), start, start + timedelta(hours=2), True, lambda: wall[0]
    )
    wall[0] += 90
    assert clock.now() == start + timedelta(hours=1, seconds=90)
    clock.set(start)  # re-anchored: runs on from the new value
    wall[0] += 30
    assert clock.now() == start + timedelta(seconds=30)
    assert clock.advance(timedelta(minutes=10)) == start + timedelta(minutes=10, seconds=30)
    wall[0] += 10 * 3600
    assert clock.now() == start + timedelta(hours=2)  # never past the horizon
    still = Clock(start, start, start + timedelta(hours=2), wall_clock=lambda: wall[0])
    wall[0] += 600
    assert still.now() == start  # by default it moves only when told


def test_every_answer_dates_itself_by_the_simulated_clock(sim, client):
    """The `Date` header is the API's clock (the pipeline reads its moment from it)."""
    from email.utils import parsedate_to_datetime

    from tests.simulator.conftest import post_token

    sim.clock.set(from_us(sim.world.horizon_us - 3_600 * 10**6))
    for answer in (client.get("/evses"), post_token(sim)):
        assert parsedate_to_datetime(answer.headers["Date"]) == sim.clock.now().replace(
            microsecond=0
        )
    sim.clock.advance(timedelta(minutes=5))
    assert parsedate_to_datetime(client.get("/evses").headers["Date"]) == sim.clock.now().replace(
        microsecond=0
    )
