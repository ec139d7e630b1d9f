"""Fixtures shared across test folders. A folder's own conftest holds what only it uses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.built_fixture import build_fixture_warehouse, with_home_location


@pytest.fixture(scope="session")
def built_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture warehouse with every model built and tested with the default parameters,
    once per session (a dbt build costs seconds). Do not change it: copy it (``built`` in
    tests/sql/conftest.py, ``template``)."""
    return build_fixture_warehouse(tmp_path_factory.mktemp("built") / "warehouse.duckdb")


@pytest.fixture(scope="session")
def template(built_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`built_path` with a home location for every EVSE, once a session (a copy, not a second
    build): tests read copies (`database`), never this file. Same file name: dbt-duckdb's
    views name the file's catalog."""
    return with_home_location(built_path, tmp_path_factory.mktemp("template") / built_path.name)


@pytest.fixture
def database(template: Path, tmp_path: Path) -> Path:
    """A copy of the built template of this test's own (building it takes a second)."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(template, path)
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a `slow` test run first: `make test`'s two workers take them while the
    many short modules fill in after, instead of one worker finishing a long module alone."""
    slow = {item.module.__name__ for item in items if item.get_closest_marker("slow")}  # type: ignore[attr-defined]
    items.sort(key=lambda item: item.module.__name__ not in slow)  # type: ignore[attr-defined]
