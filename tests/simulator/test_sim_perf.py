"""Generation and serving speed stay within the budgets the benchmarks rely on."""

from __future__ import annotations

import time

import pytest

from pipelines.simulator import SimulatorConfig, World


@pytest.mark.slow
def test_large_world_generates_quickly():
    world = World(SimulatorConfig(n_evses=500, days=7.0, warm_up=False))
    began = time.perf_counter()
    world.generate_all()
    elapsed = time.perf_counter() - began
    rows = sum(len(world.history(s).status) for s in world.specs)
    assert rows > 900_000
    assert elapsed < 20, f"500 chargers x 7 days took {elapsed:.1f} s"


def test_serves_pages_fast_enough_for_the_suite(sim, client):
    """A floor, not the speed (`make bench` measures that): a quiet machine serves about 500
    pages a second, a loaded 2-core CI machine was seen at 111."""
    spec = sim.world.specs[0]
    url = f"/evses/{spec.id}/status_logs"
    client.get(url)  # generate the history first
    pages = 0
    began = time.perf_counter()
    while time.perf_counter() - began < 1.0:
        assert client.get(url, params={"page_size": 25}).status_code == 200
        pages += 1
    assert pages > 50, f"only {pages} pages/s"
