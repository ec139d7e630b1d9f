"""Determinism of the world and coherence of its physics, checked on the ground truth."""

from __future__ import annotations

from collections import Counter

import pytest

from pipelines.simulator import SimulatorConfig, World
from pipelines.simulator.world.catalog import LEGACY
from pipelines.simulator.world.times import from_us, parse_timestamp

CONFIG = SimulatorConfig(seed=3, n_evses=40, days=4.0, warm_up=False)


@pytest.fixture(scope="module")
def world():
    w = World(CONFIG)
    w.generate_all()
    return w


@pytest.fixture(scope="module")
def horizon(world):
    return from_us(world.horizon_us)


@pytest.fixture(scope="module")
def logs(world, horizon):
    """Every status log by charger id, oldest first."""
    return {s.id: world.status_logs(s.id, horizon)[::-1] for s in world.specs}


def test_same_seed_same_world_in_any_order(world, horizon):
    other = World(CONFIG)
    for spec in reversed(other.specs):  # generation order must not matter
        other.history(spec)
    assert other.evses(horizon) == world.evses(horizon)
    assert other.sub_sessions(horizon) == world.sub_sessions(horizon)
    assert other.dispatch_truth() == world.dispatch_truth()
    for spec in world.specs[:5]:
        assert other.status_logs(spec.id, horizon) == world.status_logs(spec.id, horizon)
        assert other.command_logs(spec.id, horizon) == world.command_logs(spec.id, horizon)


def test_different_seed_different_world(world, horizon):
    other = World(SimulatorConfig(seed=4, n_evses=40, days=4.0))
    assert [e["id"] for e in other.evses(horizon)] != [e["id"] for e in world.evses(horizon)]
    assert other.sub_sessions(horizon) != world.sub_sessions(horizon)


def test_same_seed_servers_render_identical_pages(make_sim, make_client):
    pages = []
    for _ in range(2):
        sim = make_sim(seed=99)
        client = make_client(sim)
        evses = client.get("/evses", params={"page_size": 3}).text
        logs = client.get(f"/evses/{sim.world.specs[0].id}/status_logs").text
        subs = client.get("/charging_sub_sessions", params={"page_size": 50}).text
        pages.append([p.replace(sim.base_url, "BASE") for p in (evses, logs, subs)])
    assert pages[0] == pages[1]


def test_fleet_mix(world):
    assert {s.integration for s in world.specs} == {"realtime", "polling", "batch", "flaky", LEGACY}
    assert len({s.model.name for s in world.specs}) == 6
    assert sum(s.joins_mid_period for s in world.specs) == 4


def test_full_car_draws_nothing_from_enabled_charger(logs):
    full_rows = charging_rows = 0
    for rows in logs.values():
        for row in rows:
            if (
                row["state_of_charge_percentage"] == 100
                and row["is_enabled"]
                and row["is_plugged_in"]
            ):
                full_rows += 1
                assert row["charge_rate_watts"] in (0, None)
                assert row["is_charging"] in (False, None)
            if row["is_charging"] and row["charge_rate_watts"] is not None:
                charging_rows += 1
                assert row["is_plugged_in"] in (True, None)
                assert 6_000 * 0.227 * 0.99 <= row["charge_rate_watts"] <= 32_000 * 0.233 * 1.01
            if row["is_plugged_in"] is False:
                assert row["is_charging"] in (False, None)
    assert full_rows > 20 and charging_rows > 500


def test_nulls_mean_unknown(world, logs):
    rows = [r for s in world.specs[:10] for r in logs[s.id]]
    for field in ("is_charging", "charge_rate_watts", "is_plugged_in"):
        share = sum(r[field] is None for r in rows) / len(rows)
        assert 0.005 < share < 0.05, field
    legacy = next(s for s in world.specs if s.integration == LEGACY)
    legacy_rows = logs[legacy.id]
    assert legacy_rows and all(
        r["is_enabled"] is None and r["max_current_rating_milliamps"] is None for r in legacy_rows
    )


def test_meter_is_monotonic(logs):
    for rows in logs.values():
        meters = [r["meter_reading_watt_hours"] for r in rows]
        assert meters == sorted(meters)


def test_applied_commands_change_configured_state(world, logs):
    checked = 0
    truth = [d for d in world.dispatch_truth() if d["applied"] and d["device_type"] == "EVSE"]
    for d in truth:
        spec = world.specs_by_id[d["evse_id"]]
        if spec.integration == LEGACY:
            continue
        row = next((r for r in logs[spec.id] if r["sampled_at"] > d["applied_at"]), None)
        if row is None:
            continue
        assert row["is_enabled"] == d["is_enabled_target"]
        if d["max_load_target_milliamps"] is not None:
            assert row["max_current_rating_milliamps"] == d["max_load_target_milliamps"]
        checked += 1
    assert checked > 100


def test_dispatch_outcomes(world):
    truth = world.dispatch_truth()
    sent = [d for d in truth if d["sent"]]
    assert 0.02 < 1 - len(sent) / len(truth) < 0.12
    assert all(d["reason_not_sent"] for d in truth if not d["sent"])
    assert all(not d["applied"] and d["applied_at"] is None for d in truth if not d["sent"])
    assert 0.08 < sum(d["noop"] for d in truth) / len(truth) < 0.25
    ignored = Counter()
    total = Counter()
    for d in sent:
        if d["device_type"] == "EVSE":
            model = world.specs_by_id[d["evse_id"]].model.name
            total[model] += 1
            ignored[model] += not d["applied"]
    assert ignored["VX-1 Lite"] / total["VX-1 Lite"] > 0.25
    others = sum(v for k, v in ignored.items() if k != "VX-1 Lite")
    assert 0 < others / sum(v for k, v in total.items() if k != "VX-1 Lite") < 0.08
    assert {"EVSE", "VEHICLE"} == {d["device_type"] for d in truth}


def test_command_logs_match_sent_evse_dispatches(world, horizon):
    truth = world.dispatch_truth()
    for spec in world.specs:
        commands = {c["internal_command_id"]: c for c in world.command_logs(spec.id, horizon)}
        for d in (d for d in truth if d["evse_id"] == spec.id):
            cmd = commands.get(d["internal_command_id"])
            if d["sent"] and d["device_type"] == "EVSE":
                assert cmd is not None and cmd["logged_at"] == d["command_logged_at"]
                assert cmd["is_enabled_target"] == d["is_enabled_target"]
                assert cmd["max_load_target_milliamps"] == d["max_load_target_milliamps"]
                assert d["logged_at"] < cmd["logged_at"]
            else:
                assert cmd is None
    reasons = Counter(c["reason"] for s in world.specs for c in world.command_logs(s.id, horizon))
    assert {
        "START_CHARGE",
        "STOP_CHARGE",
        "SCHEDULED_CHARGING",
        "REFRESH_SCHEDULES",
        "COMMISSIONING",
    } <= set(reasons)


def test_vehicle_only_sub_sessions(world, horizon):
    subs = world.sub_sessions(horizon)
    otg = [s for s in subs if s["evse"] is None]
    assert otg and {s["mode"] for s in otg} == {"UNMANAGED_OTG", "MANAGED_OTG"}
    assert all(s["vehicle"] for s in subs)
    managed = [s for s in otg if s["mode"] == "MANAGED_OTG"]
    devices = {
        d["device_type"]
        for s in managed
        for d in world.dispatch_truth()
        if d["charging_sub_session_id"] == s["id"]
    }
    assert devices == {"VEHICLE"}
    assert {"SMART", "BOOST", "UNMANAGED_HOME"} <= {s["mode"] for s in subs}


def test_sub_session_energy_matches_meter(world, horizon, logs):
    checked = 0
    for spec in world.specs[:15]:
        subs = [
            s
            for s in world.sub_sessions(horizon)
            if s["evse"] and s["evse"].endswith(spec.id) and s["end"]
        ]
        for sub in subs:
            inside = [
                r["meter_reading_watt_hours"]
                for r in logs[spec.id]
                if sub["start"] <= r["sampled_at"] <= sub["end"]
            ]
            if len(inside) < 2:
                continue
            metered = inside[-1] - inside[0]
            assert metered <= sub["energy_delivered_watt_hours"] + 2
            assert sub["energy_delivered_watt_hours"] - metered <= 32 * 233 * 2 * 5 / 60 + 2
            checked += 1
    assert checked > 20


def test_an_offline_evse_is_silent_for_one_whole_utc_day_and_nothing_else_changes(
    world, horizon, logs
):
    """`offline_evses` removes exactly one UTC day of one charger's status logs, a day after
    its first and before the history's last, drawn from the seed; every other row, command
    and dispatch is the world without outages."""
    offline = World(SimulatorConfig(seed=3, n_evses=40, days=4.0, warm_up=False, offline_evses=1))
    silent = [spec for spec in offline.specs if spec.outage_us is not None]
    assert len(silent) == 1
    start, end = silent[0].outage_us
    assert end - start == 86_400_000_000 and start % 86_400_000_000 == 0
    for spec in offline.specs:
        rows = offline.status_logs(spec.id, horizon)[::-1]
        if spec is silent[0]:
            kept = [r for r in logs[spec.id] if not start <= _sampled(r) < end]
            assert len(kept) < len(logs[spec.id]) and rows == kept
            assert _sampled(rows[0]) < start and _sampled(rows[-1]) >= end
        else:
            assert rows == logs[spec.id]
        assert offline.command_logs(spec.id, horizon) == world.command_logs(spec.id, horizon)
    assert offline.dispatch_truth() == world.dispatch_truth()
    again = World(SimulatorConfig(seed=3, n_evses=40, days=4.0, warm_up=False, offline_evses=1))
    assert [s.outage_us for s in again.specs] == [s.outage_us for s in offline.specs]


def _sampled(row):
    return parse_timestamp(row["sampled_at"])
