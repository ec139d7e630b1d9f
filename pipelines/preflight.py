"""Checks a command makes before it touches the warehouse, so that a wrong path is told
as one line naming the setting, before a lock file, a DuckDB or dlt error gets in first.

`pipelines.errors.explain` still catches what slips past (a disk that fills during the
load, a file damaged past its header): these checks only make the common cases precise.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.errors import (
    WAREHOUSE_SETTING,
    RunFailed,
    SettingError,
    damaged_warehouse,
    remember_warehouse,
)

# Every DuckDB database file starts with an 8-byte checksum, then this magic.
_DUCKDB_MAGIC = b"DUCK"
_MAGIC_OFFSET = 8


def check_warehouse(path: Path, *, write: bool, must_exist: bool) -> None:
    """Refuse, with the fix in the message, a warehouse path that cannot work.

    Args:
        path: the warehouse file.
        write: the command writes it (or creates it and its lock beside it).
        must_exist: the command only reads it, and there is nothing to read without it.

    Raises:
        SettingError: the path is a directory, or cannot be created or written.
        RunFailed: the file is missing (`must_exist`) or is not a DuckDB database.
    """
    remember_warehouse(path)
    if path.is_dir():
        raise SettingError(
            f"the warehouse {path} is a directory: set {WAREHOUSE_SETTING} to a file in it, "
            f"e.g. {path / 'warehouse.duckdb'}"
        )
    if not path.exists():
        if must_exist:
            raise RunFailed(f"no warehouse at {path}: run `evenergy-etl run` first")
        if write:
            _check_creatable(path)
        return
    if not os.access(path, os.R_OK) or (write and not os.access(path, os.W_OK)):
        raise SettingError(
            f"cannot {'write' if write else 'read'} the warehouse {path}: give this user "
            f"(uid {os.getuid()}) access to it, or set {WAREHOUSE_SETTING}"
        )
    if write and not os.access(path.parent, os.W_OK | os.X_OK):
        raise _unwritable_directory(path.parent, path)  # DuckDB writes its .wal beside it
    _check_header(path)


def _check_creatable(path: Path) -> None:
    """The nearest existing directory above the warehouse must let this user create it."""
    existing = path.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise SettingError(f"cannot create the warehouse {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _unwritable_directory(existing, path)


def _unwritable_directory(directory: Path, path: Path) -> SettingError:
    return SettingError(
        f"cannot write the warehouse directory {directory} (for {path.name}): make it "
        f"writable by this user (uid {os.getuid()}) or set {WAREHOUSE_SETTING}"
    )


def _check_header(path: Path) -> None:
    with path.open("rb") as file:
        header = file.read(_MAGIC_OFFSET + len(_DUCKDB_MAGIC))
    if header[_MAGIC_OFFSET:] != _DUCKDB_MAGIC:
        raise damaged_warehouse(path, "not a DuckDB database")
