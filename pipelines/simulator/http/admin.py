"""The ``/_sim`` admin endpoints: drive a simulator running in another process.

- ``GET  /_sim/state``: clock, counters by endpoint, faults, configuration summary.
- ``POST /_sim/clock``: ``{"now": iso}`` or ``{"advance_seconds": n}``.
- ``POST /_sim/faults``: fault switches (``{"clear": true, ...}`` clears first).
- ``POST /_sim/reset_counters``: zero the request counters.
- ``POST /_sim/reset_rate_limit``: forget the requests of the rate-limit window.
- ``GET  /_sim/truth/dispatches``: ground truth of dispatch attempts (``?now=iso`` to cut).

No auth, no rate limit, not counted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson

from pipelines.simulator.world.times import from_us, iso, parse_timestamp

if TYPE_CHECKING:
    from pipelines.simulator.http.server import SimulatorServer

AdminAnswer = tuple[int, Any]


def _state(sim: SimulatorServer) -> dict[str, Any]:
    """The simulator's state."""
    return {
        "now": iso(sim.clock.now_us()),
        "request_count": sim.request_count,
        "token_request_count": sim.token_request_count,
        "requests_by_endpoint": sim.requests_by_endpoint(),
        "faults": sim.faults.to_dict(),
        "config": sim.config.summary(),
        "base_url": sim.base_url,
        "token_url": sim.token_url,
    }


def _clock(sim: SimulatorServer, payload: dict[str, Any]) -> AdminAnswer:
    """Set or advance the clock."""
    if "now" in payload:
        sim.clock.set(from_us(parse_timestamp(str(payload["now"]))))
    elif "advance_seconds" in payload:
        sim.clock.advance(timedelta(seconds=float(payload["advance_seconds"])))
    else:
        return 400, {"error": "expected 'now' or 'advance_seconds'"}
    return 200, {"now": iso(sim.clock.now_us())}


def _faults(sim: SimulatorServer, payload: dict[str, Any]) -> AdminAnswer:
    """Configure the fault switches."""
    settings = dict(payload)
    if settings.pop("clear", False):
        sim.faults.clear()
    sim.faults.configure(**settings)
    return 200, sim.faults.to_dict()


def handle_admin(
    sim: SimulatorServer, method: str, path: str, query: str, body: bytes
) -> AdminAnswer:
    """Answer an admin request.

    Args:
        sim: The simulator.
        method: ``GET`` or ``POST``.
        path: The path, starting with ``/_sim``.
        query: The raw query string.
        body: The request body (JSON for POST).

    Returns:
        ``(status, JSON-ready body)``.
    """
    route = (method, path.rstrip("/"))
    try:
        payload = orjson.loads(body) if method == "POST" and body.strip() else {}
        if not isinstance(payload, dict):
            return 400, {"error": "expected a JSON object"}
        if route == ("GET", "/_sim/state"):
            return 200, _state(sim)
        if route == ("POST", "/_sim/clock"):
            return _clock(sim, payload)
        if route == ("POST", "/_sim/faults"):
            return _faults(sim, payload)
        if route == ("POST", "/_sim/reset_counters"):
            sim.reset_counters()
            return 200, {"request_count": 0}
        if route == ("POST", "/_sim/reset_rate_limit"):
            sim.reset_rate_limit()
            return 200, {"reset": True}
        if route == ("GET", "/_sim/truth/dispatches"):
            now = parse_qs(query).get("now")
            moment = from_us(parse_timestamp(now[-1])) if now else None
            return 200, sim.world.dispatch_truth(moment)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        return 400, {"error": str(exc)}
    return 404, {"error": f"no admin endpoint {method} {path}"}
