"""Plans drawn before the physics runs: plug-in episodes, their mode segments, on-the-go
charging of the car away from home, and offline spells of flaky chargers.

All times are microseconds since the epoch. Home episodes are mostly evening-to-morning with
an occasional daytime top-up; each is split into charging sub-sessions by mode.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pipelines.simulator.world.times import US_PER_DAY, US_PER_HOUR, US_PER_MINUTE

SMART = "SMART"
BOOST = "BOOST"
UNMANAGED_HOME = "UNMANAGED_HOME"
UNMANAGED_OTG = "UNMANAGED_OTG"
MANAGED_OTG = "MANAGED_OTG"
MANAGED_MODES = frozenset({SMART, MANAGED_OTG})
MAX_SEGMENT_US = 20 * US_PER_HOUR
"""No sub-session lasts longer than this (an evening-to-morning episode is at most ~16 h)."""


@dataclass(slots=True)
class SegmentPlan:
    """One mode segment of a plug-in episode: it becomes one charging sub-session."""

    mode: str
    start_us: int
    end_us: int


@dataclass(slots=True)
class EpisodePlan:
    """A car plugged in from ``plug_in_us`` to ``plug_out_us``, split into mode segments.

    ``power_w`` is only set for on-the-go episodes (the public charger's power); ``dc`` marks
    a rapid DC charger, which is not limited by the car's on-board AC charger.
    """

    plug_in_us: int
    plug_out_us: int
    arrival_soc: float
    segments: list[SegmentPlan] = field(default_factory=list)
    power_w: int = 0
    dc: bool = False


def _day_starts(first_us: int, horizon_us: int) -> range:
    """Midnights (UTC) from the day containing first_us up to the horizon.

    Args:
        first_us: First instant of interest.
        horizon_us: Last instant of interest.

    Returns:
        A range of day-start timestamps.
    """
    return range(first_us - first_us % US_PER_DAY, horizon_us, US_PER_DAY)


def _segments(rng: random.Random, start: int, end: int) -> list[SegmentPlan]:
    """Split a home episode into sub-session segments by mode.

    Args:
        rng: The charger's random source.
        start: Plug-in time.
        end: Plug-out time.

    Returns:
        Contiguous segments covering [start, end).
    """
    duration = end - start
    r = rng.random()
    if r < 0.62:
        if duration > 3 * US_PER_HOUR and rng.random() < 0.25:
            b = start + int(duration * rng.uniform(0.2, 0.6))
            b_end = b + int(rng.uniform(30, 90) * US_PER_MINUTE)
            return [
                SegmentPlan(SMART, start, b),
                SegmentPlan(BOOST, b, b_end),
                SegmentPlan(SMART, b_end, end),
            ]
        return [SegmentPlan(SMART, start, end)]
    if r < 0.77:
        b_end = start + int(rng.uniform(45, 120) * US_PER_MINUTE)
        if b_end + 30 * US_PER_MINUTE >= end:
            return [SegmentPlan(BOOST, start, end)]
        return [SegmentPlan(BOOST, start, b_end), SegmentPlan(SMART, b_end, end)]
    return [SegmentPlan(UNMANAGED_HOME, start, end)]


def plan_home_episodes(rng: random.Random, joined_us: int, horizon_us: int) -> list[EpisodePlan]:
    """Draw the home plug-in episodes of one charger (about 0-2 a day).

    Args:
        rng: The charger's random source.
        joined_us: When the charger joined (no episode starts before).
        horizon_us: End of the history (no episode starts after).

    Returns:
        Non-overlapping episodes in time order.
    """
    episodes: list[EpisodePlan] = []
    for day in _day_starts(joined_us, horizon_us):
        if rng.random() < 0.3:
            start = day + int(rng.uniform(9.5, 13.5) * US_PER_HOUR)
            end = start + int(rng.uniform(1.0, 3.5) * US_PER_HOUR)
            episodes.append(EpisodePlan(start, end, rng.uniform(0.3, 0.9)))
        if rng.random() < 0.75:
            start = day + int(rng.uniform(17.0, 21.5) * US_PER_HOUR)
            end = day + US_PER_DAY + int(rng.uniform(6.0, 8.5) * US_PER_HOUR)
            episodes.append(EpisodePlan(start, end, rng.uniform(0.15, 0.9)))
    kept = [e for e in episodes if joined_us + 10 * US_PER_MINUTE < e.plug_in_us < horizon_us]
    for episode in kept:
        episode.segments = _segments(rng, episode.plug_in_us, episode.plug_out_us)
    return kept


def plan_otg_episodes(
    rng: random.Random, joined_us: int, horizon_us: int, home: list[EpisodePlan]
) -> list[EpisodePlan]:
    """Draw on-the-go (public charger) episodes of the charger owner's car.

    Args:
        rng: The charger's random source.
        joined_us: When the owner joined.
        horizon_us: End of the history.
        home: The home episodes (on-the-go charging never overlaps them).

    Returns:
        Single-segment episodes with ``evse`` unset, in time order.
    """
    out: list[EpisodePlan] = []
    for day in _day_starts(joined_us, horizon_us):
        if rng.random() >= 0.15:
            continue
        start = day + int(rng.uniform(10.0, 15.0) * US_PER_HOUR)
        end = start + int(rng.uniform(20, 150) * US_PER_MINUTE)
        mode = MANAGED_OTG if rng.random() < 0.4 else UNMANAGED_OTG
        dc = rng.random() < 0.35
        power = 50_000 if dc else rng.choice([7_400, 11_000, 22_000])
        soc = rng.uniform(0.1, 0.6)
        clash = any(h.plug_in_us < end and start < h.plug_out_us for h in home)
        if clash or not joined_us < start < horizon_us:
            continue
        out.append(EpisodePlan(start, end, soc, [SegmentPlan(mode, start, end)], power, dc))
    return out


def plan_offline_spells(
    rng: random.Random, joined_us: int, horizon_us: int
) -> list[tuple[int, int, int]]:
    """Draw the offline spells of a flaky charger (about one a day).

    Rows sampled during a spell are buffered and uploaded together, 5 to 115 minutes after
    the charger comes back online.

    Args:
        rng: The charger's random source.
        joined_us: When the charger joined.
        horizon_us: End of the history.

    Returns:
        ``(offline_from, online_again, upload_at)`` triples in time order.
    """
    spells = []
    for day in _day_starts(joined_us, horizon_us):
        if rng.random() < 0.8:
            start = day + int(rng.uniform(0, 20) * US_PER_HOUR)
            end = start + int(rng.uniform(30, 180) * US_PER_MINUTE)
            upload = end + int(rng.uniform(5, 115) * US_PER_MINUTE)
            if start > joined_us:
                spells.append((start, end, upload))
    return spells
