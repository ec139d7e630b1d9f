"""Generation of one charger's full history (status logs, commands, sub-sessions, dispatch).

Each charger draws from its own RNG seeded by ``(seed, index)``, so a history is the same
whatever order histories are generated in, and generating it lazily is safe.
"""

from __future__ import annotations

import random

from pipelines.simulator.world.catalog import FLAKY
from pipelines.simulator.world.dispatch import Dispatcher
from pipelines.simulator.world.fleet import EvseSpec
from pipelines.simulator.world.ids import resource_id
from pipelines.simulator.world.lag import lag_model
from pipelines.simulator.world.physics import NO_LIMIT, WATTS_PER_MA, Simulation
from pipelines.simulator.world.plans import (
    SMART,
    EpisodePlan,
    SegmentPlan,
    plan_home_episodes,
    plan_offline_spells,
    plan_otg_episodes,
)
from pipelines.simulator.world.records import History, StatusTable, SubSessionRecord

_PUBLIC_SITES = (
    "Tesco Extra",
    "Supercharge Hub",
    "Motorway Services",
    "Retail Park",
    "Leisure Centre",
    "Station Car Park",
)


Place = tuple[str, tuple[float, float] | None, str | None, str | None]


def _where_and_price(
    rng: random.Random, spec: EvseSpec, mode: str, on_evse: bool
) -> tuple[Place, int, tuple[str, ...]]:
    """Draw where a sub-session happens, its price (pence/kWh) and its labels.

    Args:
        rng: The charger's random source.
        spec: The charger (its home address).
        mode: The sub-session mode.
        on_evse: Home charging (True) or on-the-go public charging (False).

    Returns:
        ``(place, price, labels)``; place is ``(name, coordinates, postcode, address)``.
    """
    if on_evse:
        place: Place = ("Home", spec.location, spec.postal_code, spec.address_1)
        price = rng.randint(7, 12) if mode == SMART else rng.randint(22, 30)
        return place, price, ("OFF_PEAK",) if mode == SMART else ("PRIMARY",)
    coords = (round(rng.uniform(50.5, 55.5), 6), round(rng.uniform(-3.5, 0.5), 6))
    postcode = None if rng.random() < 0.3 else spec.postal_code.split()[0] + " 1AA"
    place = (rng.choice(_PUBLIC_SITES), coords, postcode, None)
    return place, rng.randint(45, 79), ("AWAY",)


def _sub_session(
    rng: random.Random,
    spec: EvseSpec,
    segment: SegmentPlan,
    feeds: tuple[str, str],
    on_evse: bool,
) -> SubSessionRecord:
    """Draw a sub-session's static attributes (prices, carbon, place, labels).

    Args:
        rng: The charger's random source.
        spec: The charger (and its car).
        segment: The mode segment the sub-session covers.
        feeds: The charger owner's tariff id and carbon feed id.
        on_evse: False for on-the-go charging (no charger of the fleet involved).

    Returns:
        The sub-session record, with an empty energy curve.
    """
    mode = segment.mode
    place, price, labels = _where_and_price(rng, spec, mode, on_evse)
    return SubSessionRecord(
        id=resource_id("csub", rng, segment.start_us),
        mode=mode,
        start_us=segment.start_us,
        end_us=segment.end_us,
        spec=spec,
        on_evse=on_evse,
        battery_wh=spec.battery_wh,
        price_pence_per_kwh=price,
        co2_g_per_kwh=rng.randint(40, 150) if mode == SMART else rng.randint(100, 300),
        tariff_id=feeds[0] if on_evse else None,
        carbon_feed_id=feeds[1] if rng.random() < 0.8 else None,
        solar_mode_type=None if rng.random() < 0.85 else rng.choice(["OFF", "SOLAR_AND_GRID"]),
        labels=labels if rng.random() < 0.9 else (),
        place=place,
    )


def _run_otg(
    rng: random.Random,
    spec: EvseSpec,
    episode: EpisodePlan,
    record: SubSessionRecord,
    horizon_us: int,
) -> None:
    """Simulate one on-the-go episode on a public charger (no status logs, vehicle commands).

    Args:
        rng: The charger's random source.
        spec: The charger whose owner's car charges away from home.
        episode: The on-the-go episode.
        record: Its sub-session.
        horizon_us: End of the history.
    """
    sim = Simulation(spec, rng, horizon_us)
    sim.t = episode.plug_in_us
    sim.enabled, sim.charger_ma = True, int(episode.power_w / WATTS_PER_MA)
    sim.car_ma = NO_LIMIT if episode.dc else spec.car_max_ma
    Dispatcher(sim)
    sim.add_episode(episode, [record])
    sim.run()


def generate_history(spec: EvseSpec, seed: int, horizon_us: int, interval_us: int) -> History:
    """Generate everything about one charger and its car.

    Args:
        spec: The charger.
        seed: The world seed.
        horizon_us: End of the history.
        interval_us: Status-log cadence.

    Returns:
        The charger's history.
    """
    rng = random.Random(f"{seed}:evse:{spec.index}")
    home = plan_home_episodes(rng, spec.joined_us, horizon_us)
    otg = plan_otg_episodes(rng, spec.joined_us, horizon_us, home)
    spells = (
        plan_offline_spells(rng, spec.joined_us, horizon_us) if spec.integration == FLAKY else []
    )
    feeds = (resource_id("tari", rng, spec.joined_us), resource_id("cabf", rng, spec.joined_us))
    table = StatusTable()
    lag = lag_model(spec.integration, rng, spec.joined_us, spells)
    sim = Simulation(spec, rng, horizon_us, table, lag, interval_us)
    sim.offline_spells = spells
    dispatcher = Dispatcher(sim)
    if spec.joins_mid_period:
        dispatcher.commission()
    dispatcher.schedule_refreshes()
    subs: list[SubSessionRecord] = []
    for episode in home:
        records = [_sub_session(rng, spec, seg, feeds, True) for seg in episode.segments]
        sim.add_episode(episode, records)
        subs.extend(records)
    sim.run()
    if spec.outage_us is not None:  # after the run: the outage changes no other draw
        table.drop_sampled_between(*spec.outage_us)
    for episode in otg:
        record = _sub_session(rng, spec, episode.segments[0], feeds, False)
        _run_otg(rng, spec, episode, record, horizon_us)
        subs.append(record)
    return History(spec, table, sim.commands, subs)
