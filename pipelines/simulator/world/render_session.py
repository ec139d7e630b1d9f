"""Rendering of charging sub-sessions, whose figures depend on the clock while they run."""

from __future__ import annotations

from typing import Any

from pipelines.simulator.world.plans import SMART
from pipelines.simulator.world.records import SubSessionRecord
from pipelines.simulator.world.times import iso

_CO2_CLASSES = ((60, "very low"), (120, "low"), (200, "moderate"), (260, "high"))
_REFERENCE_PRICE = 28  # pence/kWh of an unmanaged home charge, for savings


def _co2_class(intensity: int) -> str:
    """Classify a carbon intensity (g/kWh)."""
    for bound, name in _CO2_CLASSES:
        if intensity < bound:
            return name
    return "very high"


def _place(rec: SubSessionRecord) -> dict[str, Any]:
    """Render the sub-session's location."""
    name, coords, postal_code, address = rec.place
    return {
        "name": name,
        "coordinates": {"latitude": coords[0], "longitude": coords[1]} if coords else None,
        "postal_code": postal_code,
        "address_1": address,
        "timezone": "Europe/London",
    }


def sub_session(rec: SubSessionRecord, base: str, now_us: int) -> dict[str, Any]:
    """Render a charging sub-session as seen at ``now_us``.

    A sub-session that has not ended by ``now_us`` has ``end: null`` and figures (energy,
    cost, duration...) delivered so far.

    Args:
        rec: The sub-session.
        base: API base URL.
        now_us: The simulated clock.

    Returns:
        The ChargingSubSession resource.
    """
    url = f"{base}/charging_sub_sessions/{rec.id}"
    return {
        "id": rec.id,
        "url": url,
        "start": iso(rec.start_us),
        "end": iso(rec.end_us) if rec.end_us <= now_us else None,
        "mode": rec.mode,
        "vehicle": f"{base}/vehicles/{rec.spec.vehicle_id}",
        "evse": f"{base}/evses/{rec.spec.id}" if rec.on_evse else None,
        **_figures(rec, now_us),
        "location": _place(rec),
        "labels": list(rec.labels),
        "energy_usage": f"{url}/energy_usage",
        "schedules": f"{url}/schedules",
        "assessment": f"{url}/assessment",
        "flags": f"{url}/flags",
        "debug_metadata": f"{url}/debug_metadata",
        "tariff": f"{base}/tariffs/{rec.tariff_id}" if rec.tariff_id else None,
        "carbon_feed": f"{base}/carbon_feeds/{rec.carbon_feed_id}" if rec.carbon_feed_id else None,
        "grid_feeds": [],
        "solar_mode_type": rec.solar_mode_type,
    }


def _figures(rec: SubSessionRecord, now_us: int) -> dict[str, Any]:
    """Energy, cost, carbon and points delivered so far (final once the sub-session ended).

    Args:
        rec: The sub-session.
        now_us: The simulated clock.

    Returns:
        The figure fields of the resource.
    """
    wh_f, charging_us = rec.delivered_at(now_us)
    wh = int(wh_f)
    kwh = wh / 1000
    smart = rec.mode == SMART
    price, co2 = rec.price_pence_per_kwh, rec.co2_g_per_kwh
    return {
        "energy_delivered_watt_hours": wh,
        "cost": round(kwh * price),
        "currency": "GBP",
        "percentage_added": round(100 * wh / rec.battery_wh, 1),
        "savings_cost": max(0, round(kwh * (_REFERENCE_PRICE - price))) if rec.on_evse else None,
        "savings_co2_grams": round(kwh * max(0, 220 - co2)) if smart else 0,
        "incentive_earned": round(kwh * 2) if smart else None,
        "total_co2_grams": round(kwh * co2),
        "co2_intensity_grams_per_kilowatt_hour": co2,
        "co2_intensity_classification": _co2_class(co2),
        "cost_per_kilowatt_hour": price,
        "total_points": round(kwh * 10) if smart else 0,
        "total_points_missed": None if smart else round(kwh * 10),
        "duration_minutes": round(charging_us / 60_000_000),
        "grid_energy_delivered_watt_hours": wh,
        "solar_energy_delivered_watt_hours": 0,
    }
