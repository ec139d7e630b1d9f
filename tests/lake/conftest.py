"""Fixtures for the DuckLake tests: a real Postgres server once per session, a fresh catalog
(SQLite file or Postgres database) per test, and a harness loading the lake from the same
simulator as a DuckDB-file harness."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import duckdb
import pytest

from pipelines import lake
from pipelines.evenergy_pipeline import LoadOutcome, load_evenergy, make_pipeline
from pipelines.simulator import SimulatorServer
from tests.lake import postgres
from tests.pipelines.conftest import Harness, simulator_config

CATALOGS = ("sqlite", "postgres")
_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer]:
    """One Postgres for the session (installed when missing); skips only where it cannot be
    installed (not root, or not Debian)."""
    try:
        with postgres.running_server() as server:
            yield server
    except postgres.Unavailable as why:
        pytest.skip(f"no Postgres for the lake's catalog tests: {why}")


@dataclass
class LakeHarness:
    """A pipeline loading into a DuckLake (catalog `catalog_url`, data under `workdir`) from
    the simulator; settings are given as dlt's environment variables for each call only."""

    simulator: SimulatorServer
    workdir: Path
    catalog_url: str

    @property
    def settings(self) -> dict[str, str]:
        return {
            "PIPELINE__DESTINATION": "ducklake",
            "DESTINATION__DUCKLAKE__CREDENTIALS__CATALOG": self.catalog_url,
            "DESTINATION__DUCKLAKE__CREDENTIALS__STORAGE__BUCKET_URL": str(self.workdir / "data"),
        }

    def configured(self) -> AbstractContextManager[Any]:
        """The settings in the environment for a `with` block, as they were after it."""
        return mock.patch.dict(os.environ, self.settings)

    def run(self, **overrides: Any) -> LoadOutcome:
        file_side = Harness(self.simulator, self.workdir)
        with self.configured():
            pipeline = make_pipeline(str(self.workdir / "dlt"))
            return load_evenergy(pipeline, **file_side.source_args(**overrides))

    def lake(self) -> lake.Lake:
        with self.configured():
            return lake.resolve_lake()

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A read-only connection to the lake's last committed snapshot."""
        return lake.connect(self.lake(), read_only=True)


def catalog_url(kind: str, workdir: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, empty catalog of `kind`."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'catalog.sqlite'}"
    server: postgres.PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"lake_{os.getpid()}_{next(_databases)}")


@pytest.fixture(params=CATALOGS)
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh catalog: a SQLite file, then a database on the session's Postgres."""
    return catalog_url(request.param, tmp_path / "lake", request)


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(simulator_config()) as server:
        yield server
