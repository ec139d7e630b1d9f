"""Export the ``analytics`` marts (and optionally the raw tables) to Parquet, atomically.

Layout under the export directory ``DIR``::

    DIR/.versions/<UTC time>-<id>/<model>/date=YYYY-MM-DD/data_0.parquet   (models with a day)
    DIR/.versions/<UTC time>-<id>/<model>/data.parquet                     (the others)
    DIR/.versions/<UTC time>-<id>/raw/<table>/data.parquet                 (include_raw)
    DIR/current  -> .versions/<the latest complete export>
    DIR/<model>  -> current/<model>        DIR/raw -> current/raw

Every export is written into a fresh hidden directory inside ``DIR``, renamed into
``.versions/`` once complete, and published by swapping the ``current`` symlink with one
``rename``: a reader of ``DIR/<model>/**/*.parquet`` sees the previous export or the new one,
never a mix. A failed export removes its own directory and leaves ``current`` alone. The two
newest versions are kept, so a reader that resolved ``current`` just before a swap can finish.
Only marts are exported (views among them too, materialized): staging models (``stg_*``) rename
the raw tables, which ``include_raw`` exports as they were loaded; staging is left out by name,
because the published copy holds it as tables. Two exports must not run into one ``DIR`` at once.

A model partitioned by day also stores ``date`` in its files, so a reader without hive
partitioning sees the same columns as the model in the warehouse and the published copy.
Personal data is reduced as in the published copy (``pipelines.personal_data``) unless
``[export] include_personal_data`` is true. ``export_warehouse`` reads the published copy when
there is one (on a lake, the views of the last published build): the last build whose checks
passed.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lake import Lake, Warehouse, connect_warehouse
from pipelines.personal_data import include_personal_data, reduced_select
from pipelines.publish import published_path

logger = logging.getLogger(__name__)

MODEL_SCHEMA = "analytics"
RAW_SCHEMA = "evenergy"
RAW_DIR = "raw"
VERSIONS_DIR = ".versions"
CURRENT_LINK = "current"
KEEP_VERSIONS = 2
PARTITION_COLUMN = "date"
STAGING_PREFIX = "stg_"
# models without a ``date`` column, partitioned by the UTC day of this timestamp instead (the
# column is then added; the models carry ``date`` themselves once built by dbt)
DATE_SOURCES = {"dispatch_effectiveness": "logged_at"}
_INCOMING_PREFIX = ".incoming-"


@dataclass(frozen=True)
class ExportedTable:
    """One exported table.

    Attributes:
        name: the model name, or ``raw/<table>`` for a raw ``evenergy`` table.
        path: its directory through the stable links (``DIR/<model>``, ``DIR/raw/<table>``).
        rows: rows written.
        partitioned_by: ``date`` when written as ``date=YYYY-MM-DD/`` folders, else None.
    """

    name: str
    path: Path
    rows: int
    partitioned_by: str | None


@dataclass(frozen=True)
class _Source:
    schema: str
    table: str
    name: str
    relative_dir: Path


class ExportError(Exception):
    """A table could not be exported; the previous export is still the current one."""


def export_warehouse(
    database: Warehouse, to_dir: Path, include_raw: bool = False
) -> list[ExportedTable]:
    """Export from the published copy of ``database`` when it exists, else from ``database``;
    from a lake, its last published models (its ``analytics`` views, ``pipelines.lake_models``).

    Args:
        database: the working warehouse, or the lake.
        to_dir: the export directory.
        include_raw: also export the raw tables.

    Returns:
        As ``export_models``.
    """
    source: Warehouse = database
    if isinstance(database, Path) and published_path(database).is_file():
        source = published_path(database)
    logger.info("export: reading %s", source.describe() if isinstance(source, Lake) else source)
    with connect_warehouse(source, read_only=True) as conn:
        return export_models(conn, to_dir, include_raw=include_raw)


def export_models(
    conn: duckdb.DuckDBPyConnection,
    to_dir: Path,
    include_raw: bool = False,
    include_personal: bool | None = None,
) -> list[ExportedTable]:
    """Write every ``analytics`` mart to Parquet under ``to_dir`` and publish it atomically.

    Args:
        conn: a connection to the built warehouse or its published copy.
        to_dir: the export directory (created when missing).
        include_raw: also export the raw ``evenergy`` tables (not dlt's own ``_dlt_*``).
        include_personal: keep personal data; default ``[export] include_personal_data``.

    Returns:
        One entry per table written, by name.

    Raises:
        ExportError: when there is nothing to export or a table fails to write; nothing is
            published then.
    """
    to_dir = to_dir.resolve()
    keep = include_personal_data() if include_personal is None else include_personal
    sources = _sources(conn, include_raw)
    if not sources:
        raise ExportError(f"no tables in schema {MODEL_SCHEMA}: build the models first")
    to_dir.mkdir(parents=True, exist_ok=True)
    _remove_incoming(to_dir)
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]
    incoming = to_dir / f"{_INCOMING_PREFIX}{version}"
    incoming.mkdir()
    try:
        written = [_write(conn, source, incoming, keep) for source in sources]
        (to_dir / VERSIONS_DIR).mkdir(exist_ok=True)
        incoming.rename(to_dir / VERSIONS_DIR / version)
    except BaseException:
        shutil.rmtree(incoming, ignore_errors=True)
        raise
    _publish(to_dir, version, {s.relative_dir.parts[0] for s in sources})
    _prune(to_dir)
    logger.info("exported %d tables to %s (version %s)", len(written), to_dir, version)
    return [
        ExportedTable(s.name, to_dir / s.relative_dir, rows, partition)
        for s, (rows, partition) in zip(sources, written, strict=True)
    ]


def _sources(conn: duckdb.DuckDBPyConnection, include_raw: bool) -> list[_Source]:
    rows = conn.execute(
        """
        select table_schema, table_name
        from information_schema.tables
        where table_catalog = current_database()
            and (table_type = 'BASE TABLE' or table_schema = ?)
            and table_schema in (?, ?)
        order by table_schema = ?, table_name
        """,
        [MODEL_SCHEMA, MODEL_SCHEMA, RAW_SCHEMA, RAW_SCHEMA],
    ).fetchall()
    sources = []
    for schema, table in rows:
        if schema == MODEL_SCHEMA and table.startswith(STAGING_PREFIX):
            continue  # the raw tables renamed; the published copy holds them as tables
        if schema == MODEL_SCHEMA:
            sources.append(_Source(schema, table, table, Path(table)))
        elif include_raw and not table.startswith("_"):  # dlt's state, the run history
            sources.append(_Source(schema, table, f"{RAW_DIR}/{table}", Path(RAW_DIR) / table))
    return sources


def _write(
    conn: duckdb.DuckDBPyConnection, source: _Source, into: Path, include_personal: bool
) -> tuple[int, str | None]:
    relation = f'"{source.schema}"."{source.table}"'
    query, partition = _select(conn, source, relation, include_personal)
    target = into / source.relative_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    if partition:
        # write_partition_columns: the day is a stored column too, not only a folder name
        options = f"format parquet, partition_by ({partition}), write_partition_columns true"
        copy = f"copy ({query}) to {_quote(target)} ({options})"
    else:
        target.mkdir()
        copy = f"copy ({query}) to {_quote(target / 'data.parquet')} (format parquet)"
    try:
        rows = int(conn.execute(copy).fetchall()[0][0])
    except duckdb.Error as err:
        raise ExportError(f"exporting {source.name} failed: {err}") from err
    target.mkdir(exist_ok=True)  # an empty table partitioned by day writes no folder at all
    logger.info("exported %s: %d rows", source.name, rows)
    return rows, partition


def _select(
    conn: duckdb.DuckDBPyConnection, source: _Source, relation: str, include_personal: bool
) -> tuple[str, str | None]:
    everything = reduced_select(conn, relation, include_personal=include_personal)
    if source.schema != MODEL_SCHEMA:
        return everything, None
    columns = {row[0] for row in conn.execute(f"describe {relation}").fetchall()}
    if PARTITION_COLUMN in columns:
        return everything, PARTITION_COLUMN
    day_of = DATE_SOURCES.get(source.table)
    if day_of in columns:
        day = f"cast(timezone('UTC', {day_of}) as date) as {PARTITION_COLUMN}"
        return f"select *, {day} from ({everything})", PARTITION_COLUMN
    return everything, None


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _publish(to_dir: Path, version: str, entries: set[str]) -> None:
    _link(to_dir / CURRENT_LINK, Path(VERSIONS_DIR) / version, version)
    for entry in sorted(entries):  # stable paths that follow ``current``
        stable = to_dir / entry
        if stable.exists() and not stable.is_symlink():
            logger.warning("%s is not a link to %s/%s; left alone", stable, CURRENT_LINK, entry)
        elif not stable.is_symlink() or Path(os.readlink(stable)) != Path(CURRENT_LINK) / entry:
            _link(stable, Path(CURRENT_LINK) / entry, version)


def _link(link: Path, target: Path, version: str) -> None:
    """Point ``link`` at ``target`` (relative) with one rename(2): atomic for readers."""
    staged = link.with_name(f".{link.name}-{version}")
    staged.symlink_to(target, target_is_directory=True)
    os.replace(staged, link)


def _prune(to_dir: Path) -> None:
    current = (to_dir / CURRENT_LINK).resolve()
    versions = sorted(
        (to_dir / VERSIONS_DIR).iterdir(), key=lambda p: (p.stat().st_mtime, p.name), reverse=True
    )
    for old in versions[KEEP_VERSIONS:]:
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)


def _remove_incoming(to_dir: Path) -> None:
    # left behind by an export that was killed; a failing export removes its own
    for stale in to_dir.glob(f"{_INCOMING_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in to_dir.glob(".*-*"):
        if stale.is_symlink():  # a link staged for a swap that never happened
            stale.unlink()
