"""The hand-built fixture (tests/sql/conftest.py) as built warehouse FILES: with its models
built (`build_fixture_warehouse`), and a copy of that whose EVSEs have a home location
(`with_home_location`), for the tests of what reads a whole warehouse file (export, publish).
Each is made once a session (tests/conftest.py) and copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from pipelines.models import build_database
from tests.sql.conftest import load_raw_fixture

# every EVSE of the fixture gets this home location (six decimals, as the API sends it)
LATITUDE, LONGITUDE = 51.123456, -0.987654


def build_fixture_warehouse(path: Path) -> Path:
    """Load the fixture's raw rows into `path` and build the models."""
    with duckdb.connect(str(path)) as conn:
        load_raw_fixture(conn)
    build_database(path)
    return path


def with_home_location(built: Path, path: Path) -> Path:
    """Copy the built fixture `built` to `path` and give its EVSEs a location.

    The models need no second build (seconds): the location is read only by the staging view
    `stg_evses`, so a copy of the built models reads as if built after the update.
    """
    with duckdb.connect(str(built)) as conn:
        conn.execute("checkpoint")  # a session connection may hold writes in the WAL
    shutil.copyfile(built, path)
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            f"update evenergy.evses set location__latitude = {LATITUDE}, "
            f"location__longitude = {LONGITUDE}"
        )
    return path
