"""The fleet: static description of every charger and the car that uses it.

Drawn from one RNG seeded by the world seed, so the fleet is identical for a given seed.
Models, integrations and mid-period joins are assigned in balanced proportions (each present
at least once when the fleet is large enough), then shuffled.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pipelines.simulator.world.catalog import (
    FULL_CURRENT_MA,
    INTEGRATION_WEIGHTS,
    INTEGRATIONS,
    MODELS,
    EvseModel,
)
from pipelines.simulator.world.ids import resource_id
from pipelines.simulator.world.times import US_PER_DAY

JOINER_SHARE = 0.10
_STREETS = ("High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue", "Green Way")
_POSTCODE_AREAS = ("SW1A", "M1", "B2", "LS6", "BS8", "EH3", "CF10", "NE1")


@dataclass(frozen=True, slots=True)
class EvseSpec:
    """One charger of the fleet, its install site and its car."""

    index: int
    id: str
    cpid: str
    model: EvseModel
    integration: str
    joined_us: int
    joins_mid_period: bool
    user_id: str
    vehicle_id: str
    ct_clamp_id: str | None
    lock_mode: str | None
    location: tuple[float, float] | None
    lifecycle_state: str
    postal_code: str
    address_1: str
    reports_soc: bool
    reports_export: bool
    initially_enabled: bool
    car_max_ma: int
    battery_wh: int
    outage_us: tuple[int, int] | None = None
    """A whole UTC day [start, end) whose status logs never arrive (the charger is offline)."""


def _balanced(rng: random.Random, n: int, weights: Sequence[float]) -> list[int]:
    """Assign n items to categories in proportion to weights, each at least once if n allows.

    Args:
        rng: The random source used to shuffle.
        n: Number of items.
        weights: Relative weight of each category.

    Returns:
        A shuffled list of n category indexes.
    """
    total = sum(weights)
    counts = [max(1, round(n * w / total)) if n >= len(weights) else 0 for w in weights]
    out = [cat for cat, count in enumerate(counts) for _ in range(count)]
    while len(out) < n:
        out.append(rng.choices(range(len(weights)), weights)[0])
    while len(out) > n:
        out.remove(max(range(len(counts)), key=lambda c: out.count(c)))
    rng.shuffle(out)
    return out


def _joiners(rng: random.Random, n: int) -> set[int]:
    """Pick which charger indexes join mid-period (about 10%, at least one if n >= 5).

    Args:
        rng: The random source.
        n: Fleet size.

    Returns:
        The set of indexes that join after the start of the history.
    """
    count = max(1, round(n * JOINER_SHARE)) if n >= 5 else 0
    return set(rng.sample(range(n), count))


def build_fleet(
    seed: int, n: int, start_us: int, horizon_us: int, offline_evses: int = 0
) -> list[EvseSpec]:
    """Draw the whole fleet.

    Args:
        seed: The world seed.
        n: Number of chargers.
        start_us: Start of the history.
        horizon_us: End of the history.
        offline_evses: How many chargers are offline for one whole UTC day (`_with_outages`).

    Returns:
        The chargers, by index (not sorted by id).
    """
    rng = random.Random(f"{seed}:fleet")
    models = _balanced(rng, n, [1.0] * len(MODELS))
    integrations = _balanced(rng, n, INTEGRATION_WEIGHTS)
    joiners = _joiners(rng, n)
    span = horizon_us - start_us
    specs = []
    for index in range(n):
        joins = index in joiners
        joined = start_us + int(span * rng.uniform(0.1, 0.9)) if joins else start_us
        created = joined if joins else start_us - int(rng.uniform(1, 400) * US_PER_DAY)
        specs.append(
            _spec(
                rng,
                index,
                MODELS[models[index]],
                INTEGRATIONS[integrations[index]],
                joined,
                joins,
                created,
            )
        )
    return _with_outages(seed, specs, offline_evses, horizon_us)


def _with_outages(seed: int, specs: list[EvseSpec], count: int, horizon_us: int) -> list[EvseSpec]:
    """Give `count` chargers (drawn from the seed) a whole UTC day with no status log.

    The day is a full day after the charger's first day and before the last day of the
    history, so the charger reports before and after it: a silent day, not a charger that
    left. An RNG of its own keeps the rest of the fleet what it is without outages.

    Args:
        seed: The world seed.
        specs: The fleet.
        count: How many chargers go silent (at most those with such a day).
        horizon_us: End of the history.

    Returns:
        The fleet, the chosen chargers with their `outage_us`.
    """
    if count <= 0:
        return specs
    rng = random.Random(f"{seed}:outages")
    days = {
        spec.index: list(range(spec.joined_us // US_PER_DAY + 1, horizon_us // US_PER_DAY - 1))
        for spec in specs
    }
    candidates = [index for index, choices in days.items() if choices]
    out = list(specs)
    for index in sorted(rng.sample(candidates, min(count, len(candidates)))):
        day = rng.choice(days[index]) * US_PER_DAY
        out[index] = replace(specs[index], outage_us=(day, day + US_PER_DAY))
    return out


def _location(rng: random.Random) -> tuple[float, float] | None:
    """A point in Great Britain (None for about 5% of chargers: not geocoded yet)."""
    if rng.random() < 0.05:
        return None
    return round(rng.uniform(50.5, 55.5), 6), round(rng.uniform(-3.5, 0.5), 6)


def _postcode(rng: random.Random) -> str:
    """A UK-looking postcode."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    area = rng.choice(_POSTCODE_AREAS)
    return f"{area} {rng.randrange(1, 10)}{rng.choice(letters)}{rng.choice(letters)}"


def _spec(
    rng: random.Random,
    index: int,
    model: EvseModel,
    integration: str,
    joined: int,
    joins: bool,
    created: int,
) -> EvseSpec:
    """Draw one charger's static attributes.

    Args:
        rng: The fleet random source.
        index: The charger index.
        model: Its model.
        integration: Its integration name.
        joined: When it becomes visible.
        joins: Whether it joins after the start of the history.
        created: Timestamp embedded in its ids.

    Returns:
        The charger description.
    """
    location = _location(rng)
    return EvseSpec(
        index=index,
        id=resource_id("evse", rng, created),
        cpid=f"{model.make.cpid_prefix}{100000 + index * 7 + rng.randrange(7)}",
        model=model,
        integration=integration,
        joined_us=joined,
        joins_mid_period=joins,
        user_id=resource_id("user", rng, created),
        vehicle_id=resource_id("vhcl", rng, created),
        ct_clamp_id=resource_id("ctcl", rng, created) if rng.random() < 0.3 else None,
        lock_mode=rng.choices(["UNLOCKED", "SMART", "LOCKED", None], [85, 8, 2, 5])[0],
        location=location,
        lifecycle_state=rng.choices(["COMMISSIONED", "INSTALLED", "ENROLLED"], [90, 5, 5])[0],
        postal_code=_postcode(rng),
        address_1=f"{rng.randrange(1, 200)} {rng.choice(_STREETS)}",
        reports_soc=rng.random() < 0.3,
        reports_export=rng.random() < 0.1,
        initially_enabled=rng.random() < 0.7,
        car_max_ma=FULL_CURRENT_MA if rng.random() < 0.7 else 16_000,
        battery_wh=rng.choice([40_000, 52_000, 64_000, 77_000, 100_000]),
    )
