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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a `slow` test run first: `make test`'s two workers take them while the
    many short modules fill in after, instead of one worker finishing a long module alone."""
    slow = {item.module.__name__ for item in items if item.get_closest_marker("slow")}  # type: ignore[attr-defined]
    items.sort(key=lambda item: item.module.__name__ not in slow)  # type: ignore[attr-defined]
