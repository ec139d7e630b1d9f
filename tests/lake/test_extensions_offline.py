"""DuckLake and its catalog extensions load from the packaged wheels, never the network."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines import lake

EXTENSIONS = ("ducklake", "sqlite_scanner", "postgres_scanner")


def test_each_extension_loads_from_the_packages():
    directory = lake.extension_directory()
    assert directory is not None, "the duckdb-extension-* packages should be installed"
    with duckdb.connect() as conn:
        for key, value in lake.offline_settings().items():
            conn.execute(f"set {key} = ?", [value])
        for name in EXTENSIONS:
            conn.execute(f"load {name}")
        loaded = dict(
            conn.execute(
                "select extension_name, install_path from duckdb_extensions() where loaded"
            ).fetchall()
        )
    for name in EXTENSIONS:
        assert Path(loaded[name]).is_relative_to(directory), loaded[name]


def test_without_the_directory_the_extension_is_missing(tmp_path: Path):
    """The control: with auto-install off and an empty directory, nothing else provides it."""
    with duckdb.connect() as conn:
        conn.execute("set extension_directory = ?", [str(tmp_path)])
        conn.execute("set autoinstall_known_extensions = false")
        with pytest.raises(duckdb.Error):
            conn.execute("load ducklake")
