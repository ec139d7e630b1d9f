"""Rendering of stored rows into API-shaped, JSON-ready dicts (ISO timestamps, absolute URLs).

Only the rows of the page being served are rendered. ``base`` is the API base URL, e.g.
``http://127.0.0.1:54321/v2``.
"""

from __future__ import annotations

from typing import Any

from pipelines.simulator.world.catalog import LEGACY, EvseMake, EvseModel
from pipelines.simulator.world.fleet import EvseSpec
from pipelines.simulator.world.records import (
    NULL_BOOL,
    NULL_INT,
    CommandRecord,
    DispatchRecord,
    StatusTable,
)
from pipelines.simulator.world.times import iso, iso_or_none


def make(make_: EvseMake, base: str) -> dict[str, Any]:
    """Render an EVSE make.

    Args:
        make_: The make.
        base: API base URL.

    Returns:
        The EVSEMake resource.
    """
    return {
        "id": make_.id,
        "url": f"{base}/evse_makes/{make_.id}",
        "name": make_.name,
        "display_name": make_.display_name,
        "icon": None,
        "onboarding_url": None,
        "is_beta": make_.is_beta,
        "evse_models": f"{base}/evse_models/?make_id={make_.id}",
    }


def model(model_: EvseModel, base: str, expand_make: bool) -> dict[str, Any]:
    """Render an EVSE model.

    Args:
        model_: The model.
        base: API base URL.
        expand_make: Inline the make instead of linking it.

    Returns:
        The EVSEModel resource.
    """
    return {
        "id": model_.id,
        "url": f"{base}/evse_models/{model_.id}",
        "name": model_.name,
        "make": make(model_.make, base) if expand_make else f"{base}/evse_makes/{model_.make.id}",
        "display_name": model_.display_name,
        "onboarding_url": None,
    }


def evse(
    spec: EvseSpec, base: str, latest: str | dict[str, Any] | None, expand: frozenset[str]
) -> dict[str, Any]:
    """Render an EVSE.

    Args:
        spec: The charger.
        base: API base URL.
        latest: URL (or expanded dict) of its latest visible status log, or None.
        expand: Requested expansions (``model``, ``model.make``; ``latest_status_log`` is
            handled by the caller through ``latest``).

    Returns:
        The EVSE resource.
    """
    url = f"{base}/evses/{spec.id}"
    if "model.make" in expand or "model" in expand:
        model_value: Any = model(spec.model, base, "model.make" in expand)
    else:
        model_value = f"{base}/evse_models/{spec.model.id}"
    location = spec.location
    return {
        "id": spec.id,
        "url": url,
        "cpid": spec.cpid,
        "model": model_value,
        "user": f"{base}/users/{spec.user_id}",
        "latest_status_log": latest,
        "ct_clamp": f"{base}/ct_clamps/{spec.ct_clamp_id}" if spec.ct_clamp_id else None,
        "lock_mode": spec.lock_mode,
        "location": {"latitude": location[0], "longitude": location[1]} if location else None,
        "lifecycle_state": spec.lifecycle_state,
        "charging_sub_sessions": f"{base}/charging_sub_sessions?evse_id={spec.id}",
    }


def _bool(value: int) -> bool | None:
    """Decode a stored nullable boolean."""
    return None if value == NULL_BOOL else value == 1


def _pilot_and_mode(
    plugged: int, charging: int, rate: int, enabled: int
) -> tuple[str | None, str | None]:
    """Derive the control-pilot state and the operating mode of a stored row."""
    if charging == 1 or rate > 0:
        return "C", "Charge"
    if plugged == 1:
        return "B", ("Delay" if enabled == 0 else "Idle")
    if plugged == 0:
        return "A", "Idle"
    return None, None


def status_log(tb: StatusTable, i: int, evse_url: str, spec: EvseSpec) -> dict[str, Any]:
    """Render one status log.

    Args:
        tb: The charger's status table.
        i: Row index.
        evse_url: The charger's URL.
        spec: The charger.

    Returns:
        The EVSEStatusLog resource.
    """
    sampled = iso(tb.sampled[i])
    plugged, charging, rate = tb.plugged[i], tb.charging[i], tb.rate[i]
    enabled, voltage, soc = tb.enabled[i], tb.voltage[i], tb.soc[i]
    pilot, mode = _pilot_and_mode(plugged, charging, rate, enabled)
    legacy = spec.integration == LEGACY
    return {
        "url": f"{evse_url}/status_logs/{sampled}/",
        "sampled_at": sampled,
        "logged_at": iso(tb.logged[i]),
        "evse": evse_url,
        "is_plugged_in": _bool(plugged),
        "is_charging": _bool(charging),
        "charge_rate_watts": None if rate == NULL_INT else rate,
        "export_power_watts": 0 if spec.reports_export else None,
        "control_pilot_status": pilot,
        "meter_reading_watt_hours": tb.meter[i],
        "is_enabled": None if legacy else enabled == 1,
        "max_current_rating_milliamps": None if legacy else tb.max_ma[i],
        "cable_current_rating_milliamps": 32_000,
        "signal_strength_rssi_dbm": tb.rssi[i],
        "inlet_power_watts": tb.inlet[i],
        "voltage_millivolts": None if voltage == NULL_INT else voltage,
        "state_of_charge_percentage": None if soc == NULL_BOOL else soc,
        "mode": mode,
    }


def command_log(cmd: CommandRecord, evse_url: str) -> dict[str, Any]:
    """Render one command log.

    Args:
        cmd: The command.
        evse_url: The charger's URL.

    Returns:
        The EVSECommandLog resource.
    """
    logged = iso(cmd.logged_us)
    return {
        "url": f"{evse_url}/command_logs/{logged}/",
        "logged_at": logged,
        "evse": evse_url,
        "max_load_target_milliamps": cmd.max_load_target_ma,
        "is_enabled_target": cmd.is_enabled_target,
        "always_enabled": False,
        "reason": cmd.reason,
        "internal_command_id": cmd.internal_command_id,
    }


def dispatcher_log(att: DispatchRecord, base: str) -> dict[str, Any]:
    """Render one dispatcher log.

    Args:
        att: The dispatch attempt.
        base: API base URL.

    Returns:
        The DispatcherLog resource.
    """
    return {
        "logged_at": iso(att.logged_us),
        "charging_sub_session": f"{base}/charging_sub_sessions/{att.sub_session_id}",
        "schedule_valid_period_start": iso(att.schedule_valid_us),
        "schedule_created_at": iso(att.schedule_created_us),
        "internal_command_id": att.internal_command_id,
        "device_type": att.device_type,
        "reason_not_sent": att.reason_not_sent,
    }


def dispatch_truth(att: DispatchRecord) -> dict[str, Any]:
    """Render the ground truth of one dispatch attempt.

    Args:
        att: The dispatch attempt.

    Returns:
        What was asked, whether it was sent, and whether (and when) the device applied it.
    """
    return {
        "charging_sub_session_id": att.sub_session_id,
        "internal_command_id": att.internal_command_id,
        "logged_at": iso(att.logged_us),
        "device_type": att.device_type,
        "sent": att.reason_not_sent is None,
        "reason_not_sent": att.reason_not_sent,
        "applied": att.applied,
        "applied_at": iso_or_none(att.applied_us),
        "is_enabled_target": att.is_enabled_target,
        "max_load_target_milliamps": att.max_load_target_ma,
        "noop": att.noop,
        "evse_id": att.evse_id,
        "vehicle_id": att.vehicle_id,
        "command_logged_at": iso_or_none(att.command_logged_us),
    }
