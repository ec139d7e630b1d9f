"""Charging sub-session and dispatcher-log listings (the world-wide, non-EVSE endpoints)."""

from __future__ import annotations

import bisect
from collections.abc import Callable

from pipelines.simulator.http import params
from pipelines.simulator.http.answer import Answer, page_answer
from pipelines.simulator.http.pagination import select_page
from pipelines.simulator.http.params import Query
from pipelines.simulator.http.problems import ApiError, bad_pagination, bad_parameter
from pipelines.simulator.world import render
from pipelines.simulator.world.plans import MAX_SEGMENT_US
from pipelines.simulator.world.records import SubSessionRecord
from pipelines.simulator.world.render_session import sub_session
from pipelines.simulator.world.world import World

MODES = frozenset({"SMART", "BOOST", "UNMANAGED_HOME", "UNMANAGED_OTG", "MANAGED_OTG"})


def _matcher(query: Query, now_us: int) -> Callable[[SubSessionRecord], bool]:
    """Build the sub-session filter predicate from the query.

    Args:
        query: Parsed query string.
        now_us: The simulated clock.

    Returns:
        A predicate on sub-sessions (visibility by start is handled by the caller).

    Raises:
        ApiError: 400 for a bad filter value.
    """
    evse_id, vehicle_id = params.single(query, "evse_id"), params.single(query, "vehicle_id")
    mode, finished = params.single(query, "mode"), params.boolean(query, "is_finished")
    if mode is not None and mode not in MODES:
        raise bad_parameter("mode", mode)
    start_gt, start_lt = params.timestamp(query, "start__gt"), params.timestamp(query, "start__lt")
    end_gt, end_lt = params.timestamp(query, "end__gt"), params.timestamp(query, "end__lt")

    def match(rec: SubSessionRecord) -> bool:
        done = rec.end_us <= now_us
        return not (
            (evse_id is not None and (not rec.on_evse or rec.spec.id != evse_id))
            or (vehicle_id is not None and rec.spec.vehicle_id != vehicle_id)
            or (mode is not None and rec.mode != mode)
            or (finished is not None and done != finished)
            or (start_gt is not None and rec.start_us <= start_gt)
            or (start_lt is not None and rec.start_us >= start_lt)
            or ((end_gt is not None or end_lt is not None) and not done)
            or (end_gt is not None and rec.end_us <= end_gt)
            or (end_lt is not None and rec.end_us >= end_lt)
        )

    return match


def _oldest_start(query: Query, now_us: int) -> int | None:
    """A lower bound on the start of any matching sub-session, to stop scanning early.

    Args:
        query: Parsed query string.
        now_us: The simulated clock.

    Returns:
        Microseconds, or None when the filters give no bound.
    """
    bounds = []
    if (start_gt := params.timestamp(query, "start__gt")) is not None:
        bounds.append(start_gt)
    if (end_gt := params.timestamp(query, "end__gt")) is not None:
        bounds.append(end_gt - MAX_SEGMENT_US)
    if params.boolean(query, "is_finished") is False:
        bounds.append(now_us - MAX_SEGMENT_US)
    return max(bounds) if bounds else None


def sub_session_page(world: World, query: Query, now_us: int) -> Answer:
    """``GET /charging_sub_sessions``: newest start first, id cursor, filters.

    Args:
        world: The world.
        query: Parsed query string.
        now_us: The simulated clock.

    Returns:
        The page.

    Raises:
        ApiError: 400 for bad parameters or an unknown cursor.
    """
    size, (after, before) = params.page_size(query), params.cursors(query)
    match = _matcher(query, now_us)
    sessions = world.sessions()
    neg_starts = world.session_neg_starts()
    first = bisect.bisect_left(neg_starts, -now_us)
    oldest = _oldest_start(query, now_us)
    end = len(sessions) if oldest is None else bisect.bisect_right(neg_starts, -oldest)
    positions = []
    for name, cursor in (("page_after", after), ("page_before", before)):
        found = None if cursor is None else world.session_by_id(cursor)
        if cursor is not None and found is None:
            raise bad_pagination(name)
        positions.append(None if found is None else found[0])
    page = select_page(first, end, lambda p: match(sessions[p]), size, *positions)
    rows = [sub_session(sessions[p], world.base_url, now_us) for p in page.positions]
    return page_answer(rows, page.has_previous, page.has_next, "id", "id", "start")


def dispatcher_logs(world: World, query: Query, now_us: int) -> Answer:
    """``GET /dispatcher_logs``: one sub-session's attempts, newest first, not paginated.

    Args:
        world: The world.
        query: Parsed query string (``charging_sub_session_id`` is required).
        now_us: The simulated clock.

    Returns:
        Every matching dispatcher log.

    Raises:
        ApiError: 400 without ``charging_sub_session_id`` or with a bad filter.
    """
    sub_id = params.single(query, "charging_sub_session_id")
    if not sub_id:
        raise ApiError(
            400, "Missing parameter", "charging_sub_session_id is required.", "missing-parameter"
        )
    gte, lte = params.timestamp(query, "logged_at__gte"), params.timestamp(query, "logged_at__lte")
    found = world.session_by_id(sub_id)
    rows = []
    if found is not None and found[1].start_us <= now_us:
        for att in reversed(found[1].attempts):
            if (
                att.logged_us <= now_us
                and (gte is None or att.logged_us >= gte)
                and (lte is None or att.logged_us <= lte)
            ):
                rows.append(render.dispatcher_log(att, world.base_url))
    return Answer(rows, key_field="internal_command_id", time_field="logged_at")
