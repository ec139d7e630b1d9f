"""The published copy: a read-only database for analysts, replaced whole after each good run.

The working warehouse is the job's own: DuckDB lets one process write a file, and a reader
on it would block the next night's load. Analysts get `<stem>_published.duckdb` beside it,
holding every raw table and every model, views materialized as tables (a view in the copy
would name the working file's catalog, which does not exist under the copy's name), with
personal data reduced (`pipelines.personal_data`).

A publish writes a new file under a hidden name in the same directory and renames it over
the previous copy with one rename(2). A session open on the old copy keeps reading its file
(the inode lives while it is open); a new session opens the new build; nobody ever sees a
half-built copy. The caller publishes only after the models and their checks passed.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.config import memory_limit
from pipelines.errors import RunFailed, raise_setting
from pipelines.personal_data import include_personal_data, reduced_select

log = logging.getLogger(__name__)

SCHEMAS = ("evenergy", "analytics")
_ALIAS = "published_incoming"
_INCOMING_MARK = ".incoming-"


@dataclass(frozen=True)
class Published:
    """What one publish wrote.

    Attributes:
        path: the published copy.
        tables: tables written (raw, dlt's own and models).
        rows: rows written, all tables.
        seconds: wall time, from the first table to the rename.
    """

    path: Path
    tables: int
    rows: int
    seconds: float


def published_path(database: Path) -> Path:
    """`<dir>/<stem>_published.duckdb` beside the working warehouse `database`.

    Its catalog (the file's stem) never clashes with the schemas `evenergy` or `analytics`.
    """
    return database.with_name(f"{database.stem}_published.duckdb")


def publish(database: Path, include_personal: bool | None = None) -> Published:
    """Copy the built warehouse into a new file and rename it over the published copy.

    Args:
        database: the working warehouse (models built and checked).
        include_personal: keep personal data as it is; default `[export] include_personal_data`.

    Returns:
        What was written.

    Raises:
        RunFailed: when the copy cannot be written or cannot replace the previous one; the
            previous copy is then unchanged.
    """
    target = published_path(database)
    keep = include_personal_data() if include_personal is None else include_personal
    _remove_incoming(target)
    incoming = target.with_name(f".{target.name}{_INCOMING_MARK}{uuid.uuid4().hex[:12]}")
    started = time.perf_counter()
    try:
        tables, rows = _write_copy(database, incoming, keep)
        _fsync(incoming)
        _replace(incoming, target)
    except BaseException:
        incoming.unlink(missing_ok=True)
        incoming.with_name(incoming.name + ".wal").unlink(missing_ok=True)
        raise
    published = Published(target, tables, rows, time.perf_counter() - started)
    log.info(
        "publish: %d tables, %d rows to %s in %.1f s",
        published.tables,
        published.rows,
        target,
        published.seconds,
    )
    return published


def _write_copy(database: Path, incoming: Path, include_personal: bool) -> tuple[int, int]:
    cap = memory_limit()  # the load's cap (pipelines/config.py)
    try:
        with duckdb.connect(str(database)) as conn:
            conn.execute(f"set memory_limit = '{cap}'")
            # rows need not keep the warehouse's order: copying in parallel, with less memory
            conn.execute("set preserve_insertion_order = false")
            conn.execute(f"attach {_quote(str(incoming))} as {_ALIAS}")
            try:
                relations = _relations(conn)
                rows = sum(_copy_table(conn, s, t, include_personal) for s, t in relations)
            finally:
                conn.execute(f"detach {_ALIAS}")  # checkpoints: the file is complete
    except duckdb.Error as err:
        remedy = raise_setting("memory_limit", cap) if "Out of Memory" in str(err) else ""
        raise RunFailed(
            f"publishing the warehouse failed, the published copy is unchanged: "
            f"{str(err).splitlines()[0]}{remedy}"
        ) from err
    return len(relations), rows


def _relations(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = conn.execute(
        """
        select table_schema, table_name
        from information_schema.tables
        where table_catalog = current_database() and table_schema in (?, ?)
        order by table_schema, table_name
        """,
        list(SCHEMAS),
    ).fetchall()
    return [(str(schema), str(table)) for schema, table in rows]


def _copy_table(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, include_personal: bool
) -> int:
    source = f'"{schema}"."{table}"'
    select = reduced_select(conn, source, include_personal=include_personal)
    conn.execute(f'create schema if not exists {_ALIAS}."{schema}"')
    conn.execute(f'create table {_ALIAS}."{schema}"."{table}" as {select}')
    counted = conn.execute(f'select count(*) from {_ALIAS}."{schema}"."{table}"').fetchall()
    return int(counted[0][0])


def _replace(incoming: Path, target: Path) -> None:
    # A WAL beside the target belongs to the old file: DuckDB would replay it into the new one.
    target.with_name(target.name + ".wal").unlink(missing_ok=True)
    try:
        os.replace(incoming, target)
    except OSError as err:
        raise RunFailed(
            f"cannot replace the published copy {target}: {err.strerror}; make it a file "
            "this job may replace (or remove it), then run `evenergy-etl models` again"
        ) from err
    _fsync_directory(target.parent)


def _remove_incoming(target: Path) -> None:
    # left behind by a publish that was killed; a failing publish removes its own
    for stale in target.parent.glob(f".{target.name}{_INCOMING_MARK}*"):
        stale.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(path: Path) -> None:
    # the rename itself is durable only once the directory is synced
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
