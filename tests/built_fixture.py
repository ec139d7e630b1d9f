"""The hand-built fixture (tests/sql/conftest.py) as a built warehouse FILE, for the tests of
what reads a whole warehouse file (export, publish): built once per module, copied per test."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.models import build_database
from tests.sql.conftest import load_raw_fixture

# every EVSE of the fixture gets this home location (six decimals, as the API sends it)
LATITUDE, LONGITUDE = 51.123456, -0.987654


def build_fixture_warehouse(path: Path) -> Path:
    """Load the fixture's raw rows into `path`, give the EVSEs a location, build the models."""
    with duckdb.connect(str(path)) as conn:
        load_raw_fixture(conn)
        conn.execute(
            f"update evenergy.evses set location__latitude = {LATITUDE}, "
            f"location__longitude = {LONGITUDE}"
        )
    build_database(path)
    return path
