"""Integration lag models: when a status log sampled at ``t`` is logged by ev.energy.

Each model is called with non-decreasing sample times and answers ``logged_at`` (always
strictly after ``sampled_at`` and at most :data:`~pipelines.simulator.world.catalog.MAX_LOG_LAG`
later). See :data:`~pipelines.simulator.world.catalog.INTEGRATIONS` for the lag of each one.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable

from pipelines.simulator.world.catalog import BATCH, FLAKY, LEGACY, POLLING, REALTIME
from pipelines.simulator.world.times import US_PER_HOUR, US_PER_MINUTE, US_PER_SECOND

LagModel = Callable[[int], int]


def _realtime(rng: random.Random) -> LagModel:
    """Realtime: logged 1-30 s after sampling.

    Args:
        rng: The charger's random source.

    Returns:
        The lag model.
    """
    uniform = rng.uniform
    return lambda t: t + int(uniform(1, 30) * US_PER_SECOND)


def _polling(rng: random.Random, joined_us: int) -> LagModel:
    """Polling: the cloud polls every 5-9 minutes; a poll logs every sample since the last.

    Args:
        rng: The charger's random source.
        joined_us: When the charger joined.

    Returns:
        The lag model (lag between 1 s and 10 min).
    """
    period = int(rng.uniform(5, 9) * US_PER_MINUTE)
    first = joined_us + int(rng.uniform(0, 1) * period)
    uniform = rng.uniform

    def logged(t: int) -> int:
        ticks = max(0, -(-(t - first) // period))
        return first + ticks * period + int(uniform(1, 60) * US_PER_SECOND)

    return logged


def _batch(rng: random.Random, joined_us: int) -> LagModel:
    """Batch: the charger uploads everything every 2-4 hours.

    Args:
        rng: The charger's random source.
        joined_us: When the charger joined.

    Returns:
        The lag model (every row of an upload shares its ``logged_at``; lag up to 4 h).
    """
    state = [joined_us + int(rng.uniform(0.5, 4) * US_PER_HOUR)]
    uniform = rng.uniform

    def logged(t: int) -> int:
        while state[0] <= t:
            state[0] += int(uniform(2, 4) * US_PER_HOUR)
        return state[0]

    return logged


def _flaky(rng: random.Random, spells: list[tuple[int, int, int]]) -> LagModel:
    """Flaky: realtime, except rows sampled during an offline spell, uploaded after it.

    Rows sampled after reconnection arrive live, before the backlog is uploaded: rows really
    arrive out of ``sampled_at`` order.

    Args:
        rng: The charger's random source.
        spells: ``(offline_from, online_again, upload_at)`` triples in time order.

    Returns:
        The lag model.
    """
    live = _realtime(rng)
    starts = [s[0] for s in spells]

    def logged(t: int) -> int:
        i = bisect.bisect_right(starts, t) - 1
        if i >= 0 and t < spells[i][1]:
            return spells[i][2]
        return live(t)

    return logged


def lag_model(
    integration: str, rng: random.Random, joined_us: int, spells: list[tuple[int, int, int]]
) -> LagModel:
    """Build the lag model of an integration.

    Args:
        integration: One of the integration names.
        rng: The charger's random source.
        joined_us: When the charger joined.
        spells: Offline spells (only used by ``flaky``).

    Returns:
        A function from ``sampled_at`` to ``logged_at`` (microseconds).

    Raises:
        ValueError: For an unknown integration.
    """
    if integration == REALTIME:
        return _realtime(rng)
    if integration in (POLLING, LEGACY):
        return _polling(rng, joined_us)
    if integration == BATCH:
        return _batch(rng, joined_us)
    if integration == FLAKY:
        return _flaky(rng, spells)
    raise ValueError(f"unknown integration {integration!r}")
