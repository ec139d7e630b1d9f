"""Fixtures for the pipeline's integration tests: the simulator over real HTTP on loopback,
and a dlt pipeline with its own DuckDB file and working directory per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines.evenergy.parsing import format_timestamp
from pipelines.evenergy_pipeline import LoadOutcome, load_evenergy, make_pipeline
from pipelines.simulator import SimulatorConfig, SimulatorServer

START = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class Harness:
    """A simulator and a pipeline pointed at it."""

    simulator: SimulatorServer
    workdir: Path

    @property
    def database(self) -> Path:
        return self.workdir / "warehouse.duckdb"

    @property
    def pipelines_dir(self) -> Path:
        return self.workdir / "dlt"

    def source_args(self, **overrides: Any) -> dict[str, Any]:
        config = self.simulator.world.config
        return {
            "base_url": self.simulator.base_url,
            "token_url": self.simulator.token_url,
            "credentials": {"client_id": config.client_id, "client_secret": config.client_secret},
            "initial_start": format_timestamp(START),
            "rate_limit_reserve": 0,
            **overrides,
        }

    def run(self, **overrides: Any) -> LoadOutcome:
        pipeline = make_pipeline(str(self.pipelines_dir), str(self.database))
        return load_evenergy(pipeline, **self.source_args(**overrides))


def simulator_config(**overrides: Any) -> SimulatorConfig:
    settings: dict[str, Any] = {
        "seed": 7,
        "n_evses": 12,
        "start": START,
        "days": 4.0,
        "now": START + timedelta(days=2),
        "rate_limit": None,
    }
    return SimulatorConfig(**{**settings, **overrides})


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with SimulatorServer(simulator_config()) as simulator:
        yield Harness(simulator, tmp_path)


@pytest.fixture(scope="session")
def clean_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default world loaded once with no fault at all: the reference that faulty and
    killed runs must end up equal to (read only)."""
    with SimulatorServer(simulator_config()) as simulator:
        harness = Harness(simulator, tmp_path_factory.mktemp("clean"))
        assert not harness.run().report.partial
        return harness.database
