"""The models on a DuckLake: dbt builds them aside, and one commit shows them to readers.

dbt-duckdb commits each model (and each incremental step) on its own, and on a lake every
commit is a snapshot that readers see at once: built in place, a build failing its tests
would leave readers a mix of new and old models. So on the lake dbt builds into build schemas
(`analytics__build`, and dbt's `analytics__build_intermediate` for the intermediate models),
incremental there from one build to the next; readers read `analytics` and
`analytics_intermediate`, whose every relation is a view of the build's relation pinned to a
snapshot (`select * from analytics__build.<model> at (version => n)`). `publish` repoints
every view at the build's snapshot in one transaction, after every model built and every
test passed: zero copy (the views read the build's Parquet files), one snapshot, and a build
that fails leaves the views on the last good one, while dbt rewrites the build schemas.

The views name the build relations without the catalog, so an analyst may attach the lake
under any name; dbt's own staging views name the catalog (`"ducklake"."evenergy"...`), so
`analytics.stg_*` need the lake attached as `ducklake_name`. A snapshot a view pins must not
be expired (`ducklake_expire_snapshots`): expire only snapshots older than the last publish.

The views reduce personal data as the file's published copy does (`pipelines.personal_data`),
so `analytics` reads the same on both. The raw tables are the lake's own, unreduced: whoever
holds the catalog's and the storage's credentials can read them, so analysts who must not see
personal data get a lake of their own (or the Parquet export), not these credentials.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import duckdb

from pipelines.lake import Lake, connect, offline_settings
from pipelines.personal_data import include_personal_data, reduced_select

log = logging.getLogger(__name__)

MODEL_SCHEMA = "analytics"  # what readers (the export, the report, analysts) query
BUILD_SUFFIX = "__build"
BUILD_SCHEMA = MODEL_SCHEMA + BUILD_SUFFIX  # dbt's target schema on the lake
_ATTACH = re.compile(r"ATTACH IF NOT EXISTS '((?:[^']|'')*)' AS (\w+) \((.*)\)$", re.DOTALL)
_OPTION = re.compile(r"(\w+) ('(?:[^']|'')*'|[^,]+)(?:, |$)")


def published_schema(build_schema: str) -> str:
    """The schema readers see for a build schema: `analytics__build_x` -> `analytics_x`."""
    return MODEL_SCHEMA + build_schema.removeprefix(BUILD_SCHEMA)


def dbt_output(lake: Lake, settings: dict[str, Any]) -> dict[str, Any]:
    """The dbt-duckdb profile output that builds the models into the lake's build schemas.

    An in-memory DuckDB with the lake attached (the ATTACH dlt runs) and made the default
    catalog for unqualified names (`SET schema`), so the models' `main._evenergy_model_build`
    is the lake's, as the runner's connection sees it; the packaged extensions, offline.

    Args:
        lake: the lake.
        settings: further DuckDB settings (the memory limit).
    """
    match = _ATTACH.match(lake.attach_sql())
    if match is None:  # dlt changed its statement: fail loudly rather than attach elsewhere
        raise RuntimeError(f"unexpected ATTACH statement for {lake.describe()}")
    path, alias, options = match.group(1).replace("''", "'"), match.group(2), match.group(3)
    return {
        "type": "duckdb",
        "path": ":memory:",
        "database": alias,
        "schema": BUILD_SCHEMA,
        "threads": 1,
        "config_options": offline_settings(),
        "attach": [
            {
                "path": path,
                "alias": alias,
                "is_ducklake": True,
                # already quoted: dbt-duckdb passes quoted values through
                "options": {key.lower(): value for key, value in _OPTION.findall(options)},
            }
        ],
        "settings": {**settings, "schema": f"{alias}.main"},
    }


def publish(lake: Lake, include_personal: bool | None = None) -> int:
    """Point every reader view at the lake's current snapshot, in one transaction.

    Args:
        lake: the lake.
        include_personal: keep personal data as it is; default `[export]
            include_personal_data` (the views reduce it as the file's published copy does).

    Returns:
        The snapshot the views now read.
    """
    keep = include_personal_data() if include_personal is None else include_personal
    with connect(lake, read_only=False) as conn:
        conn.execute("begin")
        try:
            snapshot = _current_snapshot(conn, lake)
            built = _relations(conn, lake, f"{BUILD_SCHEMA}%")
            for schema in sorted({published_schema(s) for s, _ in built}):
                conn.execute(f'create schema if not exists "{schema}"')
            for schema, name in built:
                # the columns are the snapshot's: it is the current one
                select = reduced_select(conn, f'"{schema}"."{name}"', include_personal=keep)
                conn.execute(
                    f'create or replace view "{published_schema(schema)}"."{name}" as '
                    f"{select} at (version => {snapshot})"
                )
            kept = {(published_schema(s), n) for s, n in built}
            for schema, name in _relations(conn, lake, f"{MODEL_SCHEMA}%"):
                if BUILD_SUFFIX not in schema and (schema, name) not in kept:
                    conn.execute(f'drop view if exists "{schema}"."{name}"')
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
    log.info("models: published on the lake at snapshot %d (%d relations)", snapshot, len(built))
    return snapshot


def published_snapshot(conn: duckdb.DuckDBPyConnection) -> int | None:
    """The snapshot the reader views pin (None before the first publish)."""
    rows = conn.execute(
        "select sql from duckdb_views() where database_name = current_database() "
        "and schema_name = ? limit 1",
        [MODEL_SCHEMA],
    ).fetchall()
    found = re.search(r"VERSION => (\d+)", str(rows[0][0])) if rows else None
    return int(found.group(1)) if found else None


def _current_snapshot(conn: duckdb.DuckDBPyConnection, lake: Lake) -> int:
    row = conn.execute("select id from ducklake_current_snapshot(?)", [lake.name]).fetchone()
    assert row is not None
    return int(row[0])


def _relations(conn: duckdb.DuckDBPyConnection, lake: Lake, pattern: str) -> list[tuple[str, str]]:
    """(schema, name) of every table and view of the lake in schemas matching `pattern`."""
    rows = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = ? and table_schema like ? order by 1, 2",
        [lake.name, pattern],
    ).fetchall()
    return [(str(schema), str(name)) for schema, name in rows]
