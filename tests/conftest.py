"""Fixtures shared across test folders. A folder's own conftest holds what only it uses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.built_fixture import build_fixture_warehouse


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse file holding the hand-built fixture's raw tables (with a home location) and
    its models, built once a session: tests read copies (`database`), never this file."""
    return build_fixture_warehouse(tmp_path_factory.mktemp("template") / "warehouse.duckdb")


@pytest.fixture
def database(template: Path, tmp_path: Path) -> Path:
    """A copy of the built template of this test's own (building it takes a second)."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(template, path)
    return path
