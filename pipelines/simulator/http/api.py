"""The API's endpoints, independent of HTTP: routing a path to a handler that answers from
the world at the simulated ``now``. Charger-level endpoints live here; world-wide listings
are in :mod:`pipelines.simulator.http.queries`."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipelines.simulator.http import params
from pipelines.simulator.http.answer import Answer, page_answer
from pipelines.simulator.http.pagination import PageSlice, descending_bounds, select_page
from pipelines.simulator.http.params import Query
from pipelines.simulator.http.problems import bad_parameter, not_found
from pipelines.simulator.http.queries import dispatcher_logs, sub_session_page
from pipelines.simulator.world import render
from pipelines.simulator.world.catalog import MAKES_BY_ID, MODELS_BY_ID
from pipelines.simulator.world.fleet import EvseSpec
from pipelines.simulator.world.render_session import sub_session
from pipelines.simulator.world.times import parse_timestamp
from pipelines.simulator.world.world import World

Handler = Callable[[World, Query, int], Answer]


@dataclass(frozen=True, slots=True)
class Route:
    """A resolved path: endpoint name (for counters), required scope, handler."""

    endpoint: str
    scope: str | None
    handler: Handler


def _spec_or_404(world: World, evse_id: str, now_us: int) -> EvseSpec:
    """The visible charger with this id, or a 404."""
    spec = world.visible_spec(evse_id, now_us)
    if spec is None:
        raise not_found(f"No EVSE found with id {evse_id}.")
    return spec


def _list_evses(world: World, query: Query, now_us: int) -> Answer:
    """``GET /evses``: by id ascending, id cursor, ``cpid`` filter."""
    size, (after, before) = params.page_size(query), params.cursors(query)
    cpid, expand = params.single(query, "cpid"), params.expand(query)
    specs, ids = world.sorted_specs, world.sorted_ids

    def ok(p: int) -> bool:
        spec = specs[p]
        return spec.joined_us <= now_us and (cpid is None or spec.cpid == cpid)

    after_pos = None if after is None else bisect.bisect_right(ids, after) - 1
    before_pos = None if before is None else bisect.bisect_left(ids, before)
    page = select_page(0, len(specs), ok, size, after_pos, before_pos)
    rows = [world.render_evse(specs[p], now_us, expand) for p in page.positions]
    return page_answer(rows, page.has_previous, page.has_next, "id", "id", None)


def _list_status_logs(world: World, query: Query, now_us: int, evse_id: str) -> Answer:
    """``GET /evses/{id}/status_logs``: newest ``sampled_at`` first, timestamp cursor."""
    spec = _spec_or_404(world, evse_id, now_us)
    tb = world.history(spec).status
    logged = tb.logged
    top, page = _newest_first(
        query, now_us, "sampled_at", tb.sampled, lambda i: logged[i] <= now_us
    )
    url = world.evse_url(spec)
    rows = [render.status_log(tb, top - 1 - p, url, spec) for p in page.positions]
    return page_answer(
        rows, page.has_previous, page.has_next, "sampled_at", "sampled_at", "sampled_at"
    )


def _list_command_logs(world: World, query: Query, now_us: int, evse_id: str) -> Answer:
    """``GET /evses/{id}/command_logs``: newest ``logged_at`` first, timestamp cursor."""
    spec = _spec_or_404(world, evse_id, now_us)
    history = world.history(spec)
    top, page = _newest_first(query, now_us, "logged_at", history.command_logged, lambda i: True)
    url = world.evse_url(spec)
    rows = [render.command_log(history.commands[top - 1 - p], url) for p in page.positions]
    return page_answer(
        rows, page.has_previous, page.has_next, "logged_at", "logged_at", "logged_at"
    )


def _newest_first(
    query: Query, now_us: int, field: str, times: Sequence[int], visible: Callable[[int], bool]
) -> tuple[int, PageSlice]:
    """One page of an EVSE's log, newest first, filtered on ``field`` (``__gte``/``__lte``)
    and paged by timestamp cursors; ``visible(i)`` says whether row ``i`` is out yet.

    Returns:
        ``(top, page)``: the page's positions count back from row ``top - 1``.
    """
    size, (after, before) = params.page_size(query), params.cursors(query)
    gte, lte = params.timestamp(query, f"{field}__gte"), params.timestamp(query, f"{field}__lte")
    top, end, a_pos, b_pos = descending_bounds(
        times,
        gte,
        now_us if lte is None else min(lte, now_us),
        params.timestamp_cursor(after, "page_after"),
        params.timestamp_cursor(before, "page_before"),
    )
    last = top - 1
    return top, select_page(0, end, lambda p: visible(last - p), size, a_pos, b_pos)


def _evse_detail(world: World, query: Query, now_us: int, evse_id: str) -> Answer:
    """``GET /evses/{id}``."""
    spec = _spec_or_404(world, evse_id, now_us)
    return Answer(world.render_evse(spec, now_us, params.expand(query)))


def _status_log_detail(world: World, now_us: int, evse_id: str, sampled: str) -> Answer:
    """``GET /evses/{id}/status_logs/{sampled_at}``."""
    spec = _spec_or_404(world, evse_id, now_us)
    try:
        sampled_us = parse_timestamp(sampled)
    except ValueError:
        raise bad_parameter("sampled_at", sampled) from None
    tb = world.history(spec).status
    i = tb.find(sampled_us)
    if i is None or tb.logged[i] > now_us:
        raise not_found(f"No status log sampled at {sampled}.")
    return Answer(render.status_log(tb, i, world.evse_url(spec), spec))


def _sub_session_detail(world: World, now_us: int, sub_id: str) -> Answer:
    """``GET /charging_sub_sessions/{id}``."""
    found = world.session_by_id(sub_id)
    if found is None or found[1].start_us > now_us:
        raise not_found(f"No charging sub-session found with id {sub_id}.")
    return Answer(sub_session(found[1], world.base_url, now_us))


def _catalog_detail(world: World, query: Query, kind: str, item_id: str) -> Answer:
    """``GET /evse_models/{id}`` and ``GET /evse_makes/{id}``."""
    if kind == "evse_models" and item_id in MODELS_BY_ID:
        expand_make = "make" in params.expand(query)
        return Answer(render.model(MODELS_BY_ID[item_id], world.base_url, expand_make))
    if kind == "evse_makes" and item_id in MAKES_BY_ID:
        return Answer(render.make(MAKES_BY_ID[item_id], world.base_url))
    raise not_found()


def _unknown(world: World, query: Query, now_us: int) -> Answer:
    """Any other path: 404."""
    raise not_found("No such endpoint.")


def _evse_route(parts: list[str]) -> Route | None:
    """Resolve ``/evses/{id}`` and below."""
    evse_id, n = parts[1], len(parts)
    if n == 2:
        return Route("evse", "evse:read", lambda w, q, t: _evse_detail(w, q, t, evse_id))
    if parts[2] == "status_logs" and n == 3:
        return Route(
            "status_logs", "evse:read", lambda w, q, t: _list_status_logs(w, q, t, evse_id)
        )
    if parts[2] == "status_logs" and n == 4:
        return Route(
            "status_log", "evse:read", lambda w, q, t: _status_log_detail(w, t, evse_id, parts[3])
        )
    if parts[2] == "command_logs" and n == 3:
        return Route(
            "command_logs", "debug:read", lambda w, q, t: _list_command_logs(w, q, t, evse_id)
        )
    return None


def route(path: str) -> Route:
    """Resolve an API path (below ``/v2``) to its endpoint.

    Args:
        path: The path without the ``/v2`` prefix and without the query string.

    Returns:
        The route; an unknown path routes to a 404 handler (endpoint ``unknown``).
    """
    parts = [p for p in path.split("/") if p]
    head, n = (parts[0] if parts else ""), len(parts)
    found: Route | None = None
    if head == "evses":
        found = Route("evses", "evse:read", _list_evses) if n == 1 else _evse_route(parts)
    elif head == "charging_sub_sessions" and n == 1:
        found = Route("charging_sub_sessions", "charging_session:read", sub_session_page)
    elif head == "charging_sub_sessions" and n == 2:
        found = Route(
            "charging_sub_session",
            "charging_session:read",
            lambda w, q, t: _sub_session_detail(w, t, parts[1]),
        )
    elif head == "dispatcher_logs" and n == 1:
        found = Route("dispatcher_logs", "debug:read", dispatcher_logs)
    elif head in ("evse_models", "evse_makes") and n == 2:
        found = Route(head, None, lambda w, q, t: _catalog_detail(w, q, head, parts[1]))
    return found or Route("unknown", None, _unknown)
