"""Parquet exports of the models (and, on request, the raw tables) for analysts.

Layout: `DIR/<model>/date=YYYY-MM-DD/*.parquet` for a model with a date (a dispatch's date
is the UTC day of its `logged_at`), `DIR/<model>/data.parquet` otherwise; raw tables under
`DIR/raw/<table>/`. Atomic per table: each export is written into a new version directory
(`DIR/.versions/<stamp>/`), then `DIR/<model>` — a symlink — is swapped to it with one
rename, so a reader sees the old files or the new ones, never a half-written mix. The
previous version is kept for readers still listing it; older ones are removed.
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

log = logging.getLogger(__name__)

VERSIONS = ".versions"
KEEP_VERSIONS = 2
# Models whose rows have a day without a `date` column: the expression that gives it.
DATE_OF = {"dispatch_effectiveness": "cast(timezone('UTC', logged_at) as date)"}


@dataclass(frozen=True)
class ExportedTable:
    """One table written to Parquet."""

    name: str
    path: Path
    rows: int
    partitioned_by: str | None


@dataclass(frozen=True)
class _Source:
    name: str  # path under the export directory
    relation: str
    date: str | None  # expression of the partition day, None: one file


def export_models(
    conn: duckdb.DuckDBPyConnection, to_dir: Path, include_raw: bool = False
) -> list[ExportedTable]:
    """Write every `analytics` model (and the raw `evenergy` tables) to Parquet under `to_dir`.

    Raises:
        duckdb.Error: a COPY failed; every table keeps its previous export.
    """
    to_dir.mkdir(parents=True, exist_ok=True)
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    version = to_dir / VERSIONS / stamp
    try:
        exported = [_write(conn, source, version) for source in _sources(conn, include_raw)]
    except Exception:
        shutil.rmtree(version, ignore_errors=True)  # never swapped in: nobody reads it
        raise
    for table in exported:  # only once every table was written
        _swap(to_dir / table.name, table.path)
    _prune(to_dir / VERSIONS, keep=stamp)
    return [ExportedTable(t.name, to_dir / t.name, t.rows, t.partitioned_by) for t in exported]


def _sources(conn: duckdb.DuckDBPyConnection, include_raw: bool) -> list[_Source]:
    """The marts (tables) of `analytics`; staging views are the raw tables renamed."""
    rows = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where (table_schema = 'analytics' and table_type = 'BASE TABLE') "
        "or (? and table_schema = 'evenergy' and table_name not like '\\_dlt%' escape '\\') "
        "order by table_schema, table_name",
        [include_raw],
    ).fetchall()
    sources = []
    for schema, table in rows:
        columns = {
            c
            for (c,) in conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [schema, table],
            ).fetchall()
        }
        date = "date" if "date" in columns else DATE_OF.get(table)
        name = table if schema == "analytics" else f"raw/{table}"
        sources.append(
            _Source(name, f'"{schema}"."{table}"', date if schema == "analytics" else None)
        )
    return sources


def _write(conn: duckdb.DuckDBPyConnection, source: _Source, version: Path) -> ExportedTable:
    target = version / source.name
    target.mkdir(parents=True)
    (rows,) = conn.execute(f"select count(*) from {source.relation}").fetchone() or (0,)
    if source.date is None:
        conn.execute(f"copy {source.relation} to '{target / 'data.parquet'}' (format parquet)")
    else:
        select = "*" if source.date == "date" else f"*, {source.date} as date"
        conn.execute(
            f"copy (select {select} from {source.relation}) to '{target}' "
            "(format parquet, partition_by (date), overwrite_or_ignore)"
        )
    log.debug("exported %s: %d rows", source.name, rows)
    return ExportedTable(source.name, target, int(rows), "date" if source.date else None)


def _swap(link: Path, target: Path) -> None:
    """Point `link` at `target` with one atomic rename."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists() and not link.is_symlink():  # an export made before versions existed
        shutil.rmtree(link)
    staged = link.with_name(f".{link.name}.{uuid.uuid4().hex[:6]}")
    staged.symlink_to(os.path.relpath(target, link.parent))
    os.replace(staged, link)


def _prune(versions: Path, keep: str) -> None:
    """Remove all but the newest versions (the one just written and its predecessor)."""
    stamps = sorted(p.name for p in versions.iterdir() if p.is_dir())
    for old in stamps[:-KEEP_VERSIONS]:
        if old != keep:
            shutil.rmtree(versions / old, ignore_errors=True)
