"""Fixed reference data of the simulated API: EVSE makes and models, integrations, limits.

The catalog does not depend on the world seed, so model and make ids are stable across
worlds. One model (``VX-1 Lite``) is unreliable: it ignores about 40% of the commands it
receives; every other model ignores about 3%.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from pipelines.simulator.world.ids import resource_id
from pipelines.simulator.world.times import US_PER_HOUR

MAX_LOG_LAG: Final = timedelta(hours=5)
"""Upper bound of ``logged_at - sampled_at`` for every row of every integration.

The worst case is a ``flaky`` charger: an offline spell of up to 3 h whose buffered rows are
uploaded less than 2 h after it reconnects. A client that re-reads a lookback window of at
least this length (and deduplicates) never misses a late row.
"""
MAX_LOG_LAG_US: Final = 5 * US_PER_HOUR

REALTIME: Final = "realtime"
POLLING: Final = "polling"
BATCH: Final = "batch"
FLAKY: Final = "flaky"
LEGACY: Final = "legacy"
INTEGRATIONS: Final = (REALTIME, POLLING, BATCH, FLAKY, LEGACY)
"""How chargers report. realtime: lag 1-30 s; polling: polled every 5-9 min (lag 1-10 min);
batch: uploads every 2-4 h; flaky: realtime with offline spells whose rows arrive late and out
of order; legacy: polled like ``polling`` but never reports ``is_enabled`` nor
``max_current_rating_milliamps`` (always null)."""
INTEGRATION_WEIGHTS: Final = (0.40, 0.20, 0.15, 0.15, 0.10)

FULL_CURRENT_MA: Final = 32_000
THROTTLE_CURRENTS_MA: Final = (16_000, 6_000)
NOMINAL_VOLTAGE_MV: Final = 230_000


@dataclass(frozen=True)
class EvseMake:
    """A charger manufacturer."""

    id: str
    name: str
    display_name: str | None
    is_beta: bool
    cpid_prefix: str


@dataclass(frozen=True)
class EvseModel:
    """A charger model, with how often it ignores the commands it receives."""

    id: str
    name: str
    display_name: str | None
    make: EvseMake
    ignore_rate: float


def _build_catalog() -> tuple[tuple[EvseMake, ...], tuple[EvseModel, ...]]:
    """Build the makes and models from a fixed seed.

    Returns:
        The makes and the models.
    """
    rng = random.Random("evse-catalog-v1")
    created = 1_709_251_200 * 1_000_000  # 2024-03-01: catalog entries predate every world
    specs = [
        ("Voltaro", "VLT", False, [("VX-1", 0.03), ("VX-1 Lite", 0.40)]),
        ("Chargewell", "CHW", False, [("Home 7", 0.03), ("Home 22", 0.03)]),
        ("Ampora", "AMP", False, [("AP-Smart", 0.03)]),
        ("Zappit", "ZAP", True, [("ZP One", 0.03)]),
    ]
    makes: list[EvseMake] = []
    models: list[EvseModel] = []
    for make_name, prefix, beta, model_specs in specs:
        make = EvseMake(resource_id("emak", rng, created), make_name, make_name, beta, prefix)
        makes.append(make)
        for model_name, ignore_rate in model_specs:
            model_id = resource_id("emod", rng, created)
            models.append(EvseModel(model_id, model_name, model_name, make, ignore_rate))
    return tuple(makes), tuple(models)


MAKES, MODELS = _build_catalog()
MODELS_BY_ID: Final = {model.id: model for model in MODELS}
MAKES_BY_ID: Final = {make.id: make for make in MAKES}
