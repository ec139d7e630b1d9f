"""Query filters of every list endpoint, compared with filters applied to the ground truth."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipelines.simulator.world.times import parse_timestamp


def _ts(text):
    return parse_timestamp(text)


def test_status_log_sampled_at_filters(sim, client):
    spec = sim.world.specs[2]
    truth = sim.world.status_logs(spec.id, sim.clock.now())
    lo, hi = truth[150]["sampled_at"], truth[40]["sampled_at"]
    rows, _ = client.walk(
        f"/evses/{spec.id}/status_logs",
        {"sampled_at__gte": lo, "sampled_at__lte": hi, "page_size": 30},
    )
    assert rows == [r for r in truth if lo <= r["sampled_at"] <= hi]
    assert len(rows) == 111


def test_timestamp_filters_accept_offsets_and_no_fraction(sim, client):
    spec = sim.world.specs[2]
    truth = sim.world.status_logs(spec.id, sim.clock.now())
    cut = sim.clock.now() - timedelta(hours=6)
    as_offset = cut.astimezone().replace(microsecond=0).isoformat()
    as_z = cut.strftime("%Y-%m-%dT%H:%M:%SZ")
    for value in (as_offset, as_z, cut.isoformat()):
        rows, _ = client.walk(
            f"/evses/{spec.id}/status_logs", {"sampled_at__gte": value, "page_size": 100}
        )
        assert rows == [r for r in truth if _ts(r["sampled_at"]) >= _ts(as_z)]
        assert rows


def test_command_log_logged_at_filters(sim, client):
    spec = sim.world.specs[0]
    truth = sim.world.command_logs(spec.id, sim.clock.now())
    lo, hi = truth[-3]["logged_at"], truth[1]["logged_at"]
    rows, _ = client.walk(
        f"/evses/{spec.id}/command_logs",
        {"logged_at__gte": lo, "logged_at__lte": hi, "page_size": 2},
    )
    assert rows == truth[1:-2]


def test_dispatcher_log_filters(sim, client):
    now = sim.clock.now()
    sub = next(
        s for s in sim.world.sessions() if len(s.attempts) >= 5 and s.start_us <= sim.clock.now_us()
    )
    truth = sim.world.dispatcher_logs(sub.id, now)
    lo, hi = truth[-2]["logged_at"], truth[1]["logged_at"]
    r = client.get(
        "/dispatcher_logs",
        params={"charging_sub_session_id": sub.id, "logged_at__gte": lo, "logged_at__lte": hi},
    )
    assert r.json() == truth[1:-1]


@pytest.mark.parametrize("name", ["mode", "is_finished", "evse_id", "vehicle_id", "start", "end"])
def test_sub_session_filters(sim, client, name):
    truth = sim.world.sub_sessions(sim.clock.now())
    middle = truth[len(truth) // 2]
    finished = [r for r in truth if r["end"] is not None]
    evse_url = next(r["evse"] for r in truth[len(truth) // 2 :] if r["evse"])
    cases = {
        "mode": ({"mode": "SMART"}, lambda r: r["mode"] == "SMART"),
        "is_finished": ({"is_finished": "false"}, lambda r: r["end"] is None),
        "evse_id": ({"evse_id": evse_url.rsplit("/", 1)[1]}, lambda r: r["evse"] == evse_url),
        "vehicle_id": (
            {"vehicle_id": middle["vehicle"].rsplit("/", 1)[1]},
            lambda r: r["vehicle"] == middle["vehicle"],
        ),
        "start": (
            {"start__gt": truth[-5]["start"], "start__lt": middle["start"]},
            lambda r: truth[-5]["start"] < r["start"] < middle["start"],
        ),
        "end": (
            {"end__gt": finished[-3]["end"], "end__lt": finished[2]["end"]},
            lambda r: r["end"] is not None and finished[-3]["end"] < r["end"] < finished[2]["end"],
        ),
    }
    query, keep = cases[name]
    rows, _ = client.walk("/charging_sub_sessions", {**query, "page_size": 4})
    expected = [r for r in truth if keep(r)]
    assert rows == expected
    assert 0 < len(expected) < len(truth)


def test_is_finished_true_and_false_partition(sim, client):
    done, _ = client.walk("/charging_sub_sessions", {"is_finished": "true", "page_size": 100})
    ongoing, _ = client.walk("/charging_sub_sessions", {"is_finished": "False", "page_size": 100})
    assert all(r["end"] is not None for r in done) and all(r["end"] is None for r in ongoing)
    assert len(done) + len(ongoing) == len(sim.world.sub_sessions(sim.clock.now()))
    assert ongoing


def test_cpid_filter(sim, client):
    spec = sim.world.specs[3]
    rows = client.get("/evses", params={"cpid": spec.cpid}).json()
    assert [r["id"] for r in rows] == [spec.id]
    assert client.get("/evses", params={"cpid": "NOPE"}).json() == []


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/charging_sub_sessions", {"is_finished": "maybe"}),
        ("/charging_sub_sessions", {"start__gt": "not-a-date"}),
        ("/charging_sub_sessions", {"mode": "TURBO"}),
        ("/dispatcher_logs", {"charging_sub_session_id": "csub", "logged_at__gte": "x"}),
    ],
)
def test_bad_filter_values_are_400(client, path, params):
    r = client.get(path, params=params)
    assert r.status_code == 400
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["status"] == 400


def test_bad_status_log_filter_is_400(sim, client):
    spec = sim.world.specs[0]
    r = client.get(f"/evses/{spec.id}/status_logs", params={"sampled_at__lte": "2026-13-45"})
    assert r.status_code == 400


def test_expand_model_and_make(sim, client):
    plain = client.get("/evses", params={"page_size": 1}).json()[0]
    assert plain["model"].startswith(sim.base_url + "/evse_models/emod")
    model = client.get("/evses", params={"page_size": 1, "expand": "model"}).json()[0]["model"]
    assert model["url"] == plain["model"] and model["make"].startswith(sim.base_url)
    full = client.get("/evses", params={"page_size": 1, "expand": "model.make"}).json()[0]
    make = full["model"]["make"]
    assert set(make) >= {"id", "url", "name", "display_name", "is_beta"}
    assert make["url"] == model["make"] and make["id"].startswith("emak")
    assert client.get(plain["model"]).json()["id"] == model["id"]
